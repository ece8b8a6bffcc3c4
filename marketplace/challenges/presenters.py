"""What a caller sees of a challenge, by who they are (visibility rules of the API contract)."""

from __future__ import annotations

from marketplace import panels
from marketplace.challenges import agreements
from marketplace.challenges.models import Challenge
from marketplace.challenges.page_helpers import deadline_note, decision_dates, eligibility_in_words
from marketplace.eligibility import sanctioned_countries
from marketplace.labels import ip_terms_explanation


def challenge_summary(challenge: Challenge, locale: str | None) -> dict:
    shown_locale, title = challenge.localized("title", locale)
    _, summary = challenge.localized("summary", shown_locale)
    return {
        "id": challenge.id,
        "status": challenge.shown_status,
        "funded": challenge.funded,
        "award": challenge.award.as_dict(),
        "deadline": challenge.deadline.isoformat(),
        "default_locale": challenge.default_locale,
        "available_locales": challenge.available_locales,
        "locale": shown_locale,
        "title": title,
        "summary": summary,
        "challenge_type": challenge.challenge_type,
        "field": challenge.field,
        "ip_terms": challenge.ip_terms,
        "target_trl": challenge.target_trl,
        "published_at": challenge.published_at.isoformat() if challenge.published_at else None,
        "seeker": None if challenge.seeker_anonymous else {
            "slug": challenge.organization.slug, "name": challenge.organization.name},
    }


def challenge_detail(challenge: Challenge, user, locale: str | None, *, accepted: bool | None = None) -> dict:
    staff = challenge.is_staff(user)
    accepted = agreements.has_accepted(challenge, user) if accepted is None else accepted
    body = challenge_summary(challenge, locale)
    decided_at = (decision_dates([challenge.id]).get(challenge.id)
                  if challenge.status in ("awarded", "no_award") else None)
    body.update({
        "premium_pct": format(challenge.premium_pct.normalize(), "f"),
        "benchmark": challenge.quote,
        "eligibility": {"excluded_countries": challenge.excluded_countries,
                        "sanctioned_countries": sorted(sanctioned_countries()),
                        "in_words": eligibility_in_words(challenge.excluded_countries, sorted(sanctioned_countries()),
                                                         invite_only=challenge.invite_only)},
        "ip_terms_text": ip_terms_explanation(challenge.ip_terms),
        "closed_at": challenge.closed_at.isoformat() if challenge.closed_at else None,
        "decided_at": decided_at.isoformat() if decided_at else None,
        "deadline_note": deadline_note(challenge.shown_status, challenge.deadline, challenge.closed_at, decided_at),
        # Public since v1.1: what proposals are judged on, before anyone accepts the agreement.
        "criteria": [{"id": c.id, "name": _pick_name(c.name, body["locale"], challenge.default_locale),
                      "weight": c.weight} for c in challenge.criteria],
        "agreement_version": challenge.agreement_version,
        "agreement_accepted": accepted,
        "invite_only": challenge.invite_only,
        "early_career_bonus_pct": format(challenge.early_career_bonus_pct.normalize(), "f"),
        "appeals": None if challenge.appeals_window_days is None else {"window_days": challenge.appeals_window_days},
        "current_stage_id": challenge.current_stage_id,
        "translations": _translation_marks(challenge),
    })
    body.update(panels.values("challenge_json", challenge, user, body["locale"], staff))  # stages, follow_on_of
    if staff and challenge.seeker_anonymous:
        body["seeker"] = {"slug": challenge.organization.slug, "name": challenge.organization.name,
                          "hidden_from_public": True}
    if staff or accepted:
        _, description = challenge.localized("description", body["locale"])
        body["description"] = description
    if staff:
        body.update({
            "texts": {f: challenge.text_map(f) for f in ("title", "summary", "description")},
            "criteria_names": [c.name for c in challenge.criteria],
            "organization": challenge.organization.slug,
            "clearance_note": challenge.clearance_note,
            "clearance_warnings": challenge.clearance_warnings or [],
            "requirement_codes_public": challenge.requirement_codes_public,
            "cleared_at": challenge.cleared_at.isoformat() if challenge.cleared_at else None,
        })
    return body


def _pick_name(names: dict, locale: str, default_locale: str) -> str:
    return names.get(locale) or names.get(default_locale) or next(iter(names.values()), "")


def _translation_marks(challenge: Challenge) -> dict[str, str]:
    """{locale: "translated" | "reviewed"}: how far each translated language was checked (the default is the
    original)."""
    from marketplace.challenges.translations import public_marks

    return public_marks(challenge)
