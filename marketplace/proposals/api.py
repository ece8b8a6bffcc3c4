"""Proposals API: create, edit, submit, withdraw, teams and attachments."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import PageArgs, login_required_api, one_page, page_of, step_on
from marketplace.challenges.services import get_visible as get_visible_challenge
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.proposals import attachments, journey, schemas, services, teams
from marketplace.proposals.downloads import send_attachment

blp = Blueprint("proposals_api", __name__, url_prefix="/api/v1", description="Proposals")


def _out(proposal, status: int = 200):
    return schemas.proposal_json(proposal, current_user), status


_step = step_on(lambda proposal_id: services.get_visible(proposal_id, current_user), _out)


@blp.post("/challenges/<int:challenge_id>/proposals")
@blp.arguments(schemas.ProposalIn)
@login_required_api
def create(data, challenge_id: int):
    challenge = get_visible_challenge(challenge_id, current_user)
    proposal = services.create_proposal(challenge, current_user, data)
    db.session.commit()
    return _out(proposal, 201)


@blp.get("/proposals/<int:proposal_id>")
@login_required_api
def get(proposal_id: int):
    return _out(services.get_visible(proposal_id, current_user))


@blp.patch("/proposals/<int:proposal_id>")
@blp.arguments(schemas.ProposalPatchIn)
@login_required_api
def update(data, proposal_id: int):
    """Saves the working copy; after a submission reviewers keep the last version until `submit` again."""
    return _step(proposal_id, lambda proposal: services.update_proposal(proposal, current_user, data))


@blp.post("/proposals/<int:proposal_id>/submit")
@login_required_api
def submit(proposal_id: int):
    """Submits a draft, or resubmits the unsubmitted changes as the next version: one version, one receipt.

    409 when a submitted proposal has no unsubmitted changes, after the deadline, or when the challenge is not open.
    """
    return _step(proposal_id, lambda proposal: services.submit(proposal, current_user))


@blp.post("/proposals/<int:proposal_id>/discard")
@login_required_api
def discard(proposal_id: int):
    """Back to the last submitted version: text and files (409 without unsubmitted changes or when read-only)."""
    return _step(proposal_id, lambda proposal: services.discard_changes(proposal, current_user))


@blp.post("/proposals/<int:proposal_id>/withdraw")
@login_required_api
def withdraw(proposal_id: int):
    return _step(proposal_id, lambda proposal: services.withdraw(proposal, current_user))


@blp.get("/proposals/<int:proposal_id>/versions")
@login_required_api
def versions(proposal_id: int):
    proposal = services.get_visible(proposal_id, current_user)
    items = [schemas.version_json(v) for v in proposal.versions]
    return one_page(items)


@blp.get("/proposals/<int:proposal_id>/receipt")
@blp.response(200, schemas.ReceiptOut)
@login_required_api
def receipt(proposal_id: int):
    """The submission receipt of the latest submitted version: the proposal's authors only (404 for anyone else).

    The page offers the same receipt as a plain-text download (`/proposals/{id}/receipt.txt`).
    """
    from marketplace.i18n import select_timezone
    from marketplace.proposals.models import Proposal

    found = services.receipt_of(db.session.get(Proposal, proposal_id), current_user)
    return schemas.receipt_json(found, select_timezone())


@blp.post("/proposals/<int:proposal_id>/attachments")
@login_required_api
def upload(proposal_id: int):
    proposal = services.get_visible(proposal_id, current_user)
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed(_l("Send the file as multipart form field \"file\"."),
                               errors={"file": [_l("Required.")]})
    attachment = attachments.add_attachment(proposal, current_user, upload.stream, upload.filename)
    db.session.commit()
    return schemas.attachment_json(attachment), 201


@blp.delete("/proposals/<int:proposal_id>/attachments/<int:attachment_id>")
@blp.response(204)
@login_required_api
def remove_attachment(proposal_id: int, attachment_id: int):
    proposal = services.get_visible(proposal_id, current_user)
    attachments.remove_attachment(proposal, current_user, attachment_id)
    db.session.commit()
    return "", 204


@blp.get("/attachments/<int:attachment_id>")
@login_required_api
def download(attachment_id: int):
    attachment = attachments.attachment_for_download(attachment_id, current_user)  # audited on its own
    return send_attachment(attachment)


@blp.post("/proposals/<int:proposal_id>/team/invitations")
@blp.arguments(schemas.InviteIn)
@login_required_api
def invite(data, proposal_id: int):
    return _step(proposal_id, lambda proposal: teams.invite(proposal, current_user, data["email"]), status=201)


@blp.post("/proposals/<int:proposal_id>/team/invitation")
@blp.arguments(schemas.InvitationAnswerIn)
@login_required_api
def answer_invitation(data, proposal_id: int):
    proposal = services.get_visible(proposal_id, current_user)
    teams.respond_to_invitation(proposal, current_user, accept=data["accept"])
    db.session.commit()
    if not data["accept"]:
        return {"status": "declined"}
    return _out(proposal)


@blp.put("/proposals/<int:proposal_id>/team/shares")
@blp.arguments(schemas.SharesIn)
@login_required_api
def set_shares(data, proposal_id: int):
    return _step(proposal_id, lambda proposal: teams.set_shares(proposal, current_user, data["shares"]))


@blp.post("/proposals/<int:proposal_id>/team/shares/agree")
@login_required_api
def agree_shares(proposal_id: int):
    return _step(proposal_id, lambda proposal: teams.agree_to_shares(proposal, current_user))


@blp.get("/me/proposals")
@blp.arguments(PageArgs, location="query")
@login_required_api
def my_proposals(args):
    """My proposals, each with `journey`: where it stands (see proposals.journey), with the award if any."""
    page = page_of(db.session, services.proposals_of(current_user), args["page"], args["per_page"])
    states = journey.journeys(page["items"])
    page["items"] = [{**schemas.proposal_json(p, current_user), "journey": states[p.id].as_dict()}
                     for p in page["items"]]
    return page


@blp.get("/challenges/<int:challenge_id>/proposals")
@blp.arguments(PageArgs, location="query")
@login_required_api
def challenge_proposals(args, challenge_id: int):
    """The challenge's staff list its proposals (drafts excluded: they are the solvers' own)."""
    from marketplace.proposals.models import Proposal

    challenge = get_visible_challenge(challenge_id, current_user)
    if not challenge.is_staff(current_user):
        raise NotFound(_l("No such challenge."))
    statement = (db.select(Proposal).where(Proposal.challenge_id == challenge.id,
                                           Proposal.shared_with_staff_clause())
                 .options(*services.LIST_LOADING).order_by(Proposal.id))
    return page_of(db.session, statement, args["page"], args["per_page"],
                   lambda p: schemas.proposal_json(p, current_user))

