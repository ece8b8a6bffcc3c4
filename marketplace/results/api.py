"""Open results API: the public database (search, cite, feed), the center's records, winners' consent, follow-ons."""

from __future__ import annotations

from flask import Response, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import login_required_api, one_page, step_on
from marketplace.challenges.presenters import challenge_detail
from marketplace.challenges.services import get_visible as get_visible_challenge
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.results import citations, follow_ons, listing, schemas, services
from marketplace.results.presenters import result_detail

blp = Blueprint("results_api", __name__, url_prefix="/api/v1", description="Open results")


def _locale() -> str:
    return request.args.get("locale") or current_locale_id()


def _out(result, status: int = 200):
    return result_detail(result, current_user, _locale()), status


_step = step_on(lambda result_id: services.get_visible(result_id, current_user), _out)


@blp.get("/results")
@blp.arguments(schemas.ResultListArgs, location="query")
def list_results(args):
    """Published results: full-text `q` over every locale, facets field/organization/licensing/patent."""
    g.content_locale = args.get("locale") or current_locale_id()
    return listing.public_page(args, g.content_locale)


@blp.post("/challenges/<int:challenge_id>/results")
@blp.arguments(schemas.ResultIn)
@login_required_api
def create_result(data, challenge_id: int):
    challenge = get_visible_challenge(challenge_id, current_user)
    result = services.create_result(challenge, current_user, data)
    db.session.commit()
    return _out(result, 201)


@blp.get("/results/<int:result_id>")
def get_result(result_id: int):
    return _out(services.get_visible(result_id, current_user))


@blp.patch("/results/<int:result_id>")
@blp.arguments(schemas.ResultIn)
@login_required_api
def update_result(data, result_id: int):
    return _step(result_id, lambda result: services.update_result(result, current_user, data))


@blp.post("/results/<int:result_id>/publish")
@login_required_api
def publish_result(result_id: int):
    return _step(result_id, lambda result: services.publish_result(result, current_user))


@blp.post("/results/<int:result_id>/withdraw")
@blp.arguments(schemas.WithdrawIn)
@login_required_api
def withdraw_result(data, result_id: int):
    return _step(result_id, lambda result: services.withdraw_result(result, current_user, reason=data["reason"]))


@blp.get("/results/<int:result_id>/consent")
@login_required_api
def get_consent(result_id: int):
    result = services.get_visible(result_id, current_user)
    winner = next((w for w in result.winners if w.user_id == current_user.id), None)
    if winner is None:
        raise NotFound(_l("No such result."))
    return _consent_json(result, winner)


@blp.post("/results/<int:result_id>/consent")
@blp.arguments(schemas.ConsentIn)
@login_required_api
def decide_consent(data, result_id: int):
    """A winner consents (or not) to be named on the result; `consent: false` later withdraws the name."""
    result = services.get_visible(result_id, current_user)
    winner = services.decide_consent(result, current_user, consent=data["consent"], cited_name=data.get("cited_name"))
    db.session.commit()
    return _consent_json(result, winner)


def _consent_json(result, winner) -> dict:
    return {"result_id": result.id, "user_id": winner.user_id, "named": winner.named, "consent": winner.consent,
            "cited_name": winner.cited_name or None,
            "decided_at": winner.decided_at.isoformat() if winner.decided_at else None,
            "shown": winner in result.named_winners and result.is_public}


@blp.get("/results/<int:result_id>/citation.bib")
def citation_bibtex(result_id: int):
    """BibTeX for a published result (application/x-bibtex)."""
    result = _published(result_id)
    return Response(citations.bibtex(result, _locale()), mimetype="application/x-bibtex",
                    headers={"Content-Disposition": f'inline; filename="{citations.cite_key(result)}.bib"'})


@blp.get("/results/<int:result_id>/citation.json")
def citation_csl(result_id: int):
    """CSL-JSON (a list with one item) for a published result."""
    result = _published(result_id)
    return Response(citations.csl_json(result, _locale()), mimetype="application/vnd.citationstyles.csl+json")


def _published(result_id: int):
    result = services.get_visible(result_id, current_user)
    if not result.is_public:
        raise NotFound(_l("No such result."))
    return result


@blp.get("/results/<int:result_id>/follow-ons")
def list_follow_ons(result_id: int):
    result = services.get_visible(result_id, current_user)
    items = result_detail(result, current_user, _locale())["follow_ons"]
    return one_page(items)


@blp.post("/results/<int:result_id>/follow-ons")
@blp.arguments(schemas.FollowOnIn)
@login_required_api
def start_follow_on(data, result_id: int):
    """A center manager starts a second-round challenge from the result: a draft that must pass clearance."""
    result = services.get_visible(result_id, current_user)
    if data.get("deadline") is not None and data["deadline"].tzinfo is None:
        from marketplace.challenges.authoring import localize_deadline

        data["deadline"] = localize_deadline(data["deadline"], current_user.timezone or "UTC")
    challenge = follow_ons.start_follow_on(result, current_user, data)
    db.session.commit()
    body = challenge_detail(challenge, current_user, _locale())
    body["follow_on_of"] = {"result_id": result.id, "challenge_id": result.challenge_id}
    return body, 201
