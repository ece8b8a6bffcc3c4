"""What a caller sees of a result record: the public view, plus drafts and consent states for its staff."""

from __future__ import annotations

from marketplace.results import follow_ons
from marketplace.results.models import ResultRecord
from marketplace.results.services import public_url
from marketplace.stages.readers import stages_reached

_ASK = object()


def result_summary(result: ResultRecord, locale: str | None, *, stage_reached=_ASK) -> dict:
    """`stage_reached`: given by the listing, which works it out for a whole page at once."""
    if stage_reached is _ASK:
        stage_reached = stages_reached([result])[result.id]
    shown_locale, title = result.localized("title", locale)
    _, abstract = result.localized("abstract", shown_locale)
    return {
        "id": result.id,
        "status": result.status,
        "url": public_url(f"/results/{result.id}"),
        "default_locale": result.default_locale,
        "available_locales": result.available_locales,
        "locale": shown_locale,
        "title": title,
        "abstract": abstract,
        "field": result.field,
        "organization": {"slug": result.organization.slug, "name": result.organization.name},
        "winners": [{"name": w.name} for w in result.named_winners],
        "open_for_licensing": result.open_for_licensing,
        "patent_application": result.patent_application,
        "published_at": result.published_at.isoformat() if result.published_at else None,
        # How far the winners went in a multi-stage challenge (None for one stage).
        "stage_reached": stage_reached,
    }


def result_detail(result: ResultRecord, user, locale: str | None) -> dict:
    body = result_summary(result, locale)
    _, licence_terms = result.localized("licence_terms", body["locale"])
    challenge = result.challenge
    body.update({
        "challenge": ({"id": challenge.id, "title": challenge.localized("title", body["locale"])[1],
                       "status": challenge.status, "url": public_url(f"/challenges/{challenge.id}")}
                      if challenge.can_view(user) else None),
        "ip": {"patent_application": result.patent_application, "licence_terms": licence_terms,
               "open_for_licensing": result.open_for_licensing,
               "licensing_contact": result.licensing_contact or None},
        "follow_ons": [{"id": c.id, "title": c.localized("title", body["locale"])[1], "status": c.status,
                        "url": public_url(f"/challenges/{c.id}")}
                       for c in follow_ons.follow_ons_of(result) if c.can_view(user)],
        "citation": {"bibtex": public_url(f"/api/v1/results/{result.id}/citation.bib"),
                     "csl_json": public_url(f"/api/v1/results/{result.id}/citation.json")},
    })
    if result.is_staff(user):
        body["texts"] = {f: result.text_map(f) for f in ("title", "abstract", "licence_terms")}
        body["winners_consent"] = [{"user_id": w.user_id, "name": w.user.display_name, "named": w.named,
                                    "consent": w.consent, "decided_at": w.decided_at and w.decided_at.isoformat()}
                                   for w in result.winners]
    mine = next((w for w in result.winners if user.is_authenticated and w.user_id == user.id), None)
    if mine is not None:
        body["my_consent"] = {"named": mine.named, "consent": mine.consent, "cited_name": mine.cited_name}
    return body
