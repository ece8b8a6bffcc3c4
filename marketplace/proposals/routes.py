"""Proposal pages: write, submit, revise, withdraw; team; attachments; the solver's dashboard."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import panels
from marketplace.challenges import agreements
from marketplace.challenges.agreement_models import AgreementAcceptance
from marketplace.challenges.models import Challenge
from marketplace.challenges.routes import render_detail
from marketplace.challenges.services import get_visible as get_visible_challenge
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id, select_timezone
from marketplace.page_actions import run_action
from marketplace.proposals import attachments, forms, journey, services, teams
from marketplace.proposals.content import content_for
from marketplace.proposals.downloads import send_attachment
from marketplace.proposals.models import Proposal
from marketplace.stages.readers import carry_on_from, proposal_stage

bp = Blueprint("proposals", __name__, template_folder="templates")


@bp.route("/challenges/<int:challenge_id>/proposals/new", methods=["GET", "POST"])
@login_required
def new(challenge_id: int):
    challenge = get_visible_challenge(challenge_id, current_user)
    refusal = challenge.participation_refusal(current_user)
    if refusal:
        flash(refusal, "error")
        return render_detail(challenge, 403)
    if not agreements.has_accepted(challenge, current_user):
        flash(_("Accept the challenge agreement first."), "error")
        return redirect(url_for("challenges.detail", challenge_id=challenge.id))
    if request.method == "POST" and "from_proposal_id" in request.form:
        return _start_from_earlier(challenge)
    form = forms.ProposalForm()
    if request.method == "GET":
        form.locale.data = current_user.locale
        return _new_page(form, challenge)

    def create():
        proposal = services.create_proposal(challenge, current_user, {
            "title": form.title.data, "abstract": form.abstract.data or "", "body": form.body.data or "",
            "locale": form.locale.data, "team_emails": form.emails()})
        _attach_first_file(proposal, form.file.data)
        return proposal

    return run_action(create, form=form,
                      success=_("Your draft is saved. Add files, then submit it before the deadline."),
                      redirect_to=lambda proposal: url_for("proposals.view", proposal_id=proposal.id),
                      refused=lambda refusal: _new_page(form, challenge, refusal.status))


def _new_page(form: forms.ProposalForm, challenge: Challenge, status: int = 200):
    _locale, title = challenge.localized("title", current_locale_id())
    return render_template("proposals/new.html", form=form, challenge=challenge, challenge_title=title), status


def _start_from_earlier(challenge: Challenge):
    """A finalist's one button: this stage's draft from their proposal that advanced (text, team and files carried
    over by services.create_proposal, which also decides whether that proposal may be the start)."""
    raw = request.form.get("from_proposal_id", "").strip()
    # Not a row id: handed on as it is, for the service to refuse (never read as "start afresh").
    earlier_id = int(raw) if raw.isascii() and raw.isdigit() and int(raw) < 2**31 else raw
    earlier = db.session.get(Proposal, earlier_id) if isinstance(earlier_id, int) else None
    mine = earlier is not None and earlier.is_author(current_user)
    # Someone else's proposal lends no title; the service refuses it with its own message.
    return run_action(
        lambda: services.create_proposal(challenge, current_user, {
            "title": earlier.title if mine else "-", "from_proposal_id": earlier_id}),
        success=lambda proposal: _(
            "Your stage %(k)d draft starts from your stage %(before)d proposal, with its team and files. Revise it "
            "for this stage, then submit it before the deadline.", k=proposal.stage.position,
            before=proposal.stage.position - 1),
        redirect_to=lambda proposal: url_for("proposals.view", proposal_id=proposal.id),
        refused=lambda refusal: render_detail(challenge, refusal.status))


def _attach_first_file(proposal: Proposal, upload) -> None:
    """The new-proposal form may carry a file: it is stored with the draft, or neither is (one transaction)."""
    if upload and upload.filename:
        attachments.add_attachment(proposal, current_user, upload.stream, upload.filename)


def _page(proposal: Proposal, status: int = 200, **forms_in_use):
    _locale, challenge_title = proposal.challenge.localized("title", current_locale_id())
    edit = forms_in_use.get("edit") or forms.EditForm(obj=proposal)
    accepted = [m for m in proposal.members if m.status == "accepted"]
    return render_template(
        "proposals/view.html", proposal=proposal, challenge=proposal.challenge, challenge_title=challenge_title,
        edit=edit, upload=forms_in_use.get("upload") or forms.UploadForm(), action=forms.ActionForm(),
        invite=forms_in_use.get("invite") or forms.InviteForm(), invitation=forms.InvitationForm(),
        shares=forms_in_use.get("shares") or forms.share_form_for(accepted),
        is_author=proposal.is_author(current_user), is_lead=proposal.lead_id == current_user.id,
        invited=proposal.is_invited(current_user), versions=proposal.versions,
        refusal=proposal.challenge.participation_refusal(current_user) or proposal.author_conflict(),
        member=next((m for m in proposal.members if m.user_id == current_user.id), None),
        receipt=_receipt_or_none(proposal),
        timezone=select_timezone(), shown=content_for(proposal, current_user),
        stage=proposal_stage(proposal), carry_on=carry_on_from(proposal.challenge, current_user),
        **panels.values("proposal_page", proposal, current_user, current_locale_id()),  # the award's next step
    ), status


def _receipt_or_none(proposal: Proposal):
    """The receipt panel is shown to whoever may fetch the receipt (services.receipt_of decides)."""
    try:
        return services.receipt_of(proposal, current_user)
    except NotFound:
        return None


@bp.get("/proposals/<int:proposal_id>")
@login_required
def view(proposal_id: int):
    return _page(services.get_visible(proposal_id, current_user))


def _act(proposal_id: int, action, success, **extra_forms):
    """Run one service action for a POST button; show the page again with the refusal if it fails.

    `success` is the message, or a function of the proposal that words it (after the action).
    """
    proposal = services.get_visible(proposal_id, current_user)
    return run_action(
        lambda: action(proposal), success=lambda _result: success(proposal) if callable(success) else success,
        redirect_to=url_for("proposals.view", proposal_id=proposal_id),
        refused=lambda refusal: _page(services.get_visible(proposal_id, current_user), refusal.status,
                                      **extra_forms))


@bp.get("/proposals/<int:proposal_id>/receipt.txt")
@login_required
def receipt(proposal_id: int):
    """The submission receipt as a plain-text download: the proposal's authors only, 404 for everyone else."""
    found = services.receipt_of(db.session.get(Proposal, proposal_id), current_user)
    _locale, challenge_title = found.proposal.challenge.localized("title", current_locale_id())
    response = make_response(render_template("proposals/receipt.txt", receipt=found, challenge_title=challenge_title,
                                             timezone=select_timezone()))
    response.mimetype = "text/plain"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="innobridge-receipt-proposal-{proposal_id}-v{found.version.number}.txt"')
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/proposals/<int:proposal_id>/edit")
@login_required
def edit(proposal_id: int):
    form = forms.EditForm()
    if not form.validate_on_submit():
        return _page(services.get_visible(proposal_id, current_user), 422, edit=form)
    data = {"title": form.title.data, "abstract": form.abstract.data or "", "body": form.body.data or "",
            "locale": form.locale.data}
    return _act(proposal_id, lambda p: services.update_proposal(p, current_user, data), _saved, edit=form)


def _saved(proposal: Proposal) -> str:
    """After a submission a save is not a submission: say which version the reviewers keep seeing."""
    if proposal.status == "submitted":
        return _("Saved. Reviewers see version %(n)d until you resubmit.", n=proposal.version)
    return _("Saved.")


@bp.post("/proposals/<int:proposal_id>/submit")
@login_required
def submit(proposal_id: int):
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    return _act(proposal_id, lambda p: services.submit(p, current_user),
                _("Submitted. We sent you a receipt with the time and the fingerprints of your files."))


@bp.post("/proposals/<int:proposal_id>/discard")
@login_required
def discard(proposal_id: int):
    """Unsubmitted changes (text and files) go; the working copy is the last submitted version again."""
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    return _act(proposal_id, lambda p: services.discard_changes(p, current_user),
                lambda p: _("Your changes were discarded; the proposal is back at version %(n)d.", n=p.version))


@bp.post("/proposals/<int:proposal_id>/withdraw")
@login_required
def withdraw(proposal_id: int):
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    return _act(proposal_id, lambda p: services.withdraw(p, current_user), _("Your proposal was withdrawn."))


@bp.post("/proposals/<int:proposal_id>/attachments")
@login_required
def upload(proposal_id: int):
    form = forms.UploadForm()
    if not form.validate_on_submit():
        return _page(services.get_visible(proposal_id, current_user), 422, upload=form)
    file = form.file.data
    return _act(proposal_id, lambda p: attachments.add_attachment(p, current_user, file.stream, file.filename),
                _("The file was uploaded. Its SHA-256 fingerprint is your receipt."), upload=form)


@bp.post("/proposals/<int:proposal_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(proposal_id: int, attachment_id: int):
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    return _act(proposal_id, lambda p: attachments.remove_attachment(p, current_user, attachment_id),
                _("The file was removed."))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment = attachments.attachment_for_download(attachment_id, current_user)  # audited on its own
    return send_attachment(attachment)


@bp.post("/proposals/<int:proposal_id>/team/invite")
@login_required
def invite(proposal_id: int):
    form = forms.InviteForm()
    if not form.validate_on_submit():
        return _page(services.get_visible(proposal_id, current_user), 422, invite=form)
    return _act(proposal_id, lambda p: teams.invite(p, current_user, form.email.data),
                _("The invitation was sent."), invite=form)


@bp.post("/proposals/<int:proposal_id>/team/invitation")
@login_required
def answer_invitation(proposal_id: int):
    form = forms.InvitationForm()
    if not form.validate_on_submit() or form.decision.data not in ("accept", "decline"):
        abort(400)
    accept = form.decision.data == "accept"
    response = _act(proposal_id, lambda p: teams.respond_to_invitation(p, current_user, accept=accept),
                    _("You joined the team.") if accept else _("You declined the invitation."))
    if not accept and response.status_code == 302:
        return redirect(url_for("proposals.dashboard"))
    return response


@bp.post("/proposals/<int:proposal_id>/team/shares")
@login_required
def set_shares(proposal_id: int):
    proposal = services.get_visible(proposal_id, current_user)
    accepted = [m for m in proposal.members if m.status == "accepted"]
    form = forms.share_form_for(accepted, formdata=request.form)
    if not form.validate_on_submit():
        return _page(proposal, 422, shares=form)
    values = {m.user_id: form[f"share_{m.user_id}"].data for m in accepted}
    return _act(proposal_id, lambda p: teams.set_shares(p, current_user, values),
                _("Shares proposed. Every member now confirms them."), shares=form)


@bp.post("/proposals/<int:proposal_id>/team/shares/agree")
@login_required
def agree_shares(proposal_id: int):
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    return _act(proposal_id, lambda p: teams.agree_to_shares(p, current_user), _("You agreed to the shares."))


@bp.get("/me/dashboard")
@login_required
def dashboard():
    """My challenges (agreed, submitted), my proposals with their versions, my notifications.

    Every list is loaded with eager options, so the page runs a fixed number of queries however
    many proposals a solver has.
    """
    proposals = db.session.scalars(services.proposals_of(current_user).options(
        selectinload(Proposal.versions), selectinload(Proposal.stage))).all()
    # A finalist's button to start the next stage: asked only for proposals that advanced (few).
    carry_ons = {p.challenge_id: carry_on_from(p.challenge, current_user) for p in proposals if p.advanced_at}
    agreed_ids = select(AgreementAcceptance.challenge_id).where(AgreementAcceptance.user_id == current_user.id)
    agreed = db.session.scalars(select(Challenge).where(Challenge.id.in_(agreed_ids)).order_by(Challenge.id.desc())
                                .options(selectinload(Challenge.texts))).all()
    notifications = _recent_notifications()
    locale = current_locale_id()
    from marketplace.challenges.page_helpers import decision_dates

    decided = decision_dates({c.id for c in [*agreed, *(p.challenge for p in proposals)]
                              if c.status in ("awarded", "no_award")})
    return render_template("proposals/dashboard.html", proposals=proposals, agreed=agreed, locale=locale,
                           notifications=notifications, decided=decided, journeys=journey.journeys(proposals),
                           carry_ons=carry_ons,
                           submitted_ids={p.challenge_id for p in proposals if p.status == "submitted"})


def _recent_notifications():
    from marketplace.solvers.models import Notification

    return db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                              .order_by(Notification.id.desc()).limit(10)).all()
