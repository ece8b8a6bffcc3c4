"""What a challenge may say: texts per language, criteria, deadline, countries, price and requirements.

The checks raise ValidationFailed with the field they are about; the `apply_*` helpers write
checked data onto a challenge. Used by the authoring services (services.py) and amendments
(amendments.py), which decide who may change what and when.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from flask_babel import lazy_gettext as _l

from marketplace.challenges.models import Challenge, ChallengeText, Criterion
from marketplace.content_locales import is_content_locale
from marketplace.countries import is_country
from marketplace.db import utcnow
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.pricing import services as pricing

IP_TERMS = ("assignment", "exclusive_licence", "non_exclusive_licence", "solver_keeps")
TEXT_FIELDS = ("title", "summary", "description")
MAX_LENGTHS = {"title": 200, "summary": 2000, "description": 50_000}


def fail(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def check_texts(data: dict, default_locale: str) -> dict[str, dict[str, str]]:
    """Return {locale: {title, summary, description}}; default_locale present and non-empty."""
    if not is_content_locale(default_locale):
        raise fail("default_locale", _l("Unknown locale."))
    by_locale: dict[str, dict[str, str]] = {}
    for field in TEXT_FIELDS:
        texts = data.get(field) or {}
        for locale, text in texts.items():
            if len(text) > MAX_LENGTHS[field]:
                raise fail(field, _l("Use at most %(n)d characters.", n=MAX_LENGTHS[field]))
            by_locale.setdefault(locale, {})[field] = text
    if not (data.get("title") or {}).get(default_locale, "").strip():
        raise fail("title", _l("Give the title in the default language (%(locale)s).", locale=default_locale))
    if not (data.get("summary") or {}).get(default_locale, "").strip():
        raise fail("summary", _l("Give the summary in the default language (%(locale)s).", locale=default_locale))
    for locale, fields in by_locale.items():
        if not fields.get("title", "").strip():
            raise fail("title", _l("Every language needs a title (missing for %(locale)s).", locale=locale))
    return by_locale


def check_criteria(criteria: list[dict], default_locale: str) -> None:
    if not criteria:
        raise fail("criteria", _l("Add at least one judging criterion."))
    if len(criteria) > 12:
        raise fail("criteria", _l("Use at most 12 criteria."))
    for criterion in criteria:
        if not str(criterion["name"].get(default_locale, "")).strip():
            raise fail("criteria", _l("Every criterion needs a name in the default language."))
        if not 1 <= criterion["weight"] <= 100:
            raise fail("criteria", _l("Each weight lies between 1 and 100."))
    total = sum(c["weight"] for c in criteria)
    if total != 100:
        raise fail("criteria", _l("The weights add up to %(total)d; they must add up to 100.", total=total))


def check_deadline(deadline: datetime) -> datetime:
    if deadline.tzinfo is None:
        raise fail("deadline", _l("Give the deadline with its time zone."))
    if deadline <= utcnow():
        raise fail("deadline", _l("The deadline must be in the future."))
    return deadline


def localize_deadline(naive: datetime, timezone: str) -> datetime:
    """A deadline entered in the author's time zone, as an aware datetime."""
    try:
        return naive.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return naive.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))


def check_countries(codes: list[str]) -> list[str]:
    bad = [c for c in codes if not is_country(c)]
    if bad:
        raise fail("eligibility", _l("Unknown country codes: %(codes)s", codes=", ".join(bad)))
    return sorted({c.upper() for c in codes})


def apply_texts(challenge: Challenge, by_locale: dict[str, dict[str, str]]) -> None:
    existing = {t.locale: t for t in challenge.texts}
    for locale, fields in by_locale.items():
        row = existing.pop(locale, None) or ChallengeText(locale=locale)
        row.title = fields.get("title", row.title or "").strip()
        row.summary = fields.get("summary", row.summary or "").strip()
        row.description = fields.get("description", row.description or "").strip()
        if row not in challenge.texts:
            challenge.texts.append(row)
    for stale in existing.values():
        challenge.texts.remove(stale)


def apply_criteria(challenge: Challenge, criteria: list[dict]) -> None:
    """Replace the current stage's criteria."""
    stage_id = challenge.current_stage_id
    for old in challenge.criteria:
        challenge.all_criteria.remove(old)
    db.session.flush()
    for position, item in enumerate(criteria):
        challenge.all_criteria.append(Criterion(stage_id=stage_id, position=position, weight=item["weight"],
                                                name=item["name"]))


def price(challenge: Challenge) -> None:
    """Compute the award from the benchmarks and store the quote it came from."""
    result = pricing.quote(challenge_type=challenge.challenge_type, field=challenge.field,
                           currency=challenge.award_currency, premium_pct=challenge.premium_pct)
    challenge.award_minor = result.award.minor + challenge.milestone_pools_minor  # what escrow must hold
    challenge.quote = result.as_dict()


def requirements_of(program, codes: list[str]):
    if not codes:
        return []
    if program is None:
        raise fail("requirement_codes", _l("Requirement codes need a program."))
    by_code = {r.code: r for r in program.requirements}
    unknown = [c for c in codes if c not in by_code]
    if unknown:
        raise fail("requirement_codes", _l("Unknown requirement codes: %(codes)s", codes=", ".join(unknown)))
    return [by_code[c] for c in dict.fromkeys(codes)]
