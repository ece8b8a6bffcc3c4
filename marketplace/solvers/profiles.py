"""Expert profiles: the one service that checks and saves a profile (for the page and the API),
and the views of a profile for each kind of reader.

Private fields leave this module only through `full_view`, and `view_for` hands that only to the
owner and platform admins (`may_see_private`); everyone else (the solver page, the public API, the
staff's expert database) gets `public_view`, which never reads a private field.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.labels import RESEARCH_KIND_LABELS
from marketplace.solvers import experts
from marketplace.solvers.models import VISIBILITY_FIELDS, ExpertProfile, ResearchEntry
from marketplace.solvers.orcid import normalise_orcid
from marketplace.solvers.vocabulary import normalise_tags

MAX_HEADLINE = 200
MAX_AFFILIATION = 200
MAX_LONG_TEXT = 20_000
MAX_TITLE = 500
MAX_LINK = 500
MAX_COAUTHORS = 50
MAX_RESEARCH = 200
MAX_AFFILIATIONS = 30
MAX_LANGUAGES = 20
FIRST_YEAR = 1950



TEXT_LIMITS = {"headline": MAX_HEADLINE, "affiliation": MAX_AFFILIATION, "bio": MAX_LONG_TEXT,
               "latest_progress": MAX_LONG_TEXT}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def awards_won(user) -> list:
    """The awards this solver has won (their own part of each), newest first, for the public solver
    page: items {"challenge_id", "title", "awarded_at", "amount"}, in one query. Cancelled awards are
    left out; the page shows the section only when the solver made "awards" public."""
    from sqlalchemy.orm import selectinload

    from marketplace.awards.models import Award, AwardRecipient
    from marketplace.challenges.models import Challenge
    from marketplace.i18n import current_locale_id
    from marketplace.money import Money

    rows = db.session.execute(
        select(AwardRecipient, Award, Challenge)
        .join(Award, Award.id == AwardRecipient.award_id).join(Challenge, Challenge.id == Award.challenge_id)
        .where(AwardRecipient.user_id == user.id, Award.status != "cancelled")
        .options(selectinload(Challenge.texts)).order_by(Award.created_at.desc(), Award.id.desc())).all()
    locale = current_locale_id()
    return [{"challenge_id": challenge.id, "title": challenge.localized("title", locale)[1],
             "awarded_at": award.created_at.isoformat(),
             "amount": Money(recipient.amount_minor, award.currency).as_dict()}
            for recipient, award, challenge in rows]


# --- reading ---------------------------------------------------------------------------------------

def get_profile(user) -> ExpertProfile | None:
    return db.session.scalar(select(ExpertProfile).where(ExpertProfile.user_id == user.id))


def public_profile(user_id: int) -> ExpertProfile:
    """The profile the solver page and the public API show: an active account's (a deactivated one is gone)."""
    profile = db.session.scalar(select(ExpertProfile).join(User, User.id == ExpertProfile.user_id)
                                .where(ExpertProfile.user_id == user_id, User.active.is_(True))
                                .options(selectinload(ExpertProfile.research)))
    if profile is None:
        raise NotFound(_l("No such solver."))
    return profile


def blank_profile(user) -> ExpertProfile:
    """An unsaved, empty profile (kept out of the session: its user is set by id only)."""
    return ExpertProfile(user_id=user.id, headline="", bio="", expertise=[], affiliation="", affiliation_history=[],
                         orcid=None, latest_progress="", early_career=False, languages=[], visibility={})


# --- checking --------------------------------------------------------------------------------------

class _Problems:
    """Collects every problem of a submitted profile, so one answer lists them all."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def absorb(self, error: ValidationFailed) -> None:
        for field, messages in error.errors.items():
            for message in messages:
                self.add(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.values()))[0]
            raise ValidationFailed(_l("Some fields are not valid: %(first)s", first=first), errors=self.errors)


def _clean_link(raw: str | None, field: str, problems: _Problems) -> str | None:
    link = (raw or "").strip()
    if not link:
        return None
    if _DOI.match(link):  # a bare DOI, as people often paste it
        link = "https://doi.org/" + link
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in link):
        problems.add(field, _l("A link must be a full web address starting with https:// (or a DOI like 10.1000/xyz)."))
        return None
    if len(link) > MAX_LINK:
        problems.add(field, _l("A link may have at most %(max)d characters.", max=MAX_LINK))
        return None
    return link


def _clean_research(entries, problems: _Problems) -> list[dict]:
    if len(entries) > MAX_RESEARCH:
        problems.add("research_history", _l("At most %(max)d entries.", max=MAX_RESEARCH))
        return []
    cleaned = []
    last_year = date.today().year + 5
    for i, entry in enumerate(entries):
        where = f"research_history.{i}"
        year = entry.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= last_year:
            problems.add(f"{where}.year", _l("The year must lie between %(first)d and %(last)d.",
                                             first=FIRST_YEAR, last=last_year))
        kind = str(entry.get("kind") or "").strip().lower()
        if kind not in RESEARCH_KIND_LABELS:
            problems.add(f"{where}.kind",
                         _l("The kind must be one of: %(kinds)s.", kinds=", ".join(RESEARCH_KIND_LABELS)))
        title = " ".join(str(entry.get("title") or "").split())
        if not title:
            problems.add(f"{where}.title", _l("Give the title."))
        elif len(title) > MAX_TITLE:
            problems.add(f"{where}.title", _l("A title may have at most %(max)d characters.", max=MAX_TITLE))
        link = _clean_link(entry.get("link"), f"{where}.link", problems)
        coauthors = [" ".join(str(name).split()) for name in entry.get("coauthors") or ()]
        coauthors = list(dict.fromkeys(name for name in coauthors if name))
        if len(coauthors) > MAX_COAUTHORS or any(len(name) > 200 for name in coauthors):
            problems.add(f"{where}.coauthors", _l("At most %(max)d co-authors of up to 200 characters each.",
                                                  max=MAX_COAUTHORS))
        cleaned.append({"year": year, "kind": kind, "title": title, "link": link, "coauthors": coauthors})
    # Newest first, as the profile shows them (stable: same-year entries keep their order).
    return sorted(cleaned, key=lambda e: -(e["year"] if isinstance(e["year"], int) else 0))


def _month(value, field: str, problems: _Problems) -> str | None:
    match = _MONTH.match(str(value or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 2100:
        problems.add(field, _l("Write the month as YYYY-MM, for example 2021-09."))
        return None
    return match.group(0)


def _clean_affiliations(entries, problems: _Problems) -> list[dict]:
    if len(entries) > MAX_AFFILIATIONS:
        problems.add("affiliation_history", _l("At most %(max)d entries.", max=MAX_AFFILIATIONS))
        return []
    cleaned = []
    for i, entry in enumerate(entries):
        where = f"affiliation_history.{i}"
        name = " ".join(str(entry.get("name") or "").split())
        if not name or len(name) > MAX_AFFILIATION:
            problems.add(f"{where}.name", _l("Give the institution's name (at most %(max)d characters).",
                                             max=MAX_AFFILIATION))
        domain = str(entry.get("domain") or "").strip().lower().removeprefix("https://").removeprefix("http://")
        domain = domain.removeprefix("www.").rstrip("/") or None
        if domain and (len(domain) > 253 or not _DOMAIN.match(domain)):
            problems.add(f"{where}.domain", _l("Give the institution's web domain, like tum.de, or leave it empty."))
        start = _month(entry.get("start"), f"{where}.start", problems)
        end = None if entry.get("end") in (None, "") else _month(entry.get("end"), f"{where}.end", problems)
        if start and end and end < start:
            problems.add(f"{where}.end", _l("The end cannot come before the start."))
        cleaned.append({"name": name, "domain": domain, "start": start, "end": end})
    return sorted(cleaned, key=lambda e: e["start"] or "", reverse=True)


def _clean_languages(codes, problems: _Problems) -> list[str]:
    cleaned: list[str] = []
    for raw in codes:
        code = str(raw).strip().replace("-", "_")
        if not code:
            continue
        try:
            cleaned.append(str(Locale.parse(code)))
        except (UnknownLocaleError, ValueError, TypeError):
            problems.add("languages", _l("“%(code)s” is not a language code (use codes like en, de, zh, pt_BR).",
                                         code=str(raw)[:35]))
    cleaned = list(dict.fromkeys(cleaned))
    if len(cleaned) > MAX_LANGUAGES:
        problems.add("languages", _l("List at most %(max)d languages.", max=MAX_LANGUAGES))
    return cleaned


def _clean_visibility(given: dict, stored: dict, problems: _Problems) -> dict:
    merged = dict(stored or {})
    for field, value in (given or {}).items():
        if field not in VISIBILITY_FIELDS or value not in ("public", "private"):
            problems.add("visibility", _l("Visibility is public or private, for these fields: %(fields)s.",
                                          fields=", ".join(VISIBILITY_FIELDS)))
            continue
        merged[field] = value
    return merged


def clean_profile(data: dict, stored: ExpertProfile) -> dict:
    """The submitted fields, checked and normalised; fields not submitted are left out."""
    problems = _Problems()
    clean: dict = {}
    for field, limit in TEXT_LIMITS.items():
        if field in data:
            text = str(data[field] or "").strip()
            if field in ("headline", "affiliation"):
                text = " ".join(text.split())
            if len(text) > limit:
                problems.add(field, _l("At most %(max)d characters.", max=limit))
            clean[field] = text
    if "expertise" in data:
        try:
            clean["expertise"] = normalise_tags(data["expertise"] or [])
        except ValidationFailed as error:
            problems.absorb(error)
    if "orcid" in data:
        try:
            clean["orcid"] = normalise_orcid(data["orcid"])
        except ValidationFailed as error:
            problems.absorb(error)
    if "early_career" in data:
        clean["early_career"] = bool(data["early_career"])
    if "research_history" in data:
        clean["research_history"] = _clean_research(data["research_history"] or [], problems)
    if "affiliation_history" in data:
        clean["affiliation_history"] = _clean_affiliations(data["affiliation_history"] or [], problems)
    if "languages" in data:
        clean["languages"] = _clean_languages(data["languages"] or [], problems)
    if "visibility" in data:
        clean["visibility"] = _clean_visibility(data["visibility"], stored.visibility, problems)
    problems.raise_if_any()
    return clean


# --- saving ----------------------------------------------------------------------------------------

def _research_rows(profile: ExpertProfile) -> list[dict]:
    return [{"year": e.year, "kind": e.kind, "title": e.title, "link": e.link, "coauthors": list(e.coauthors or [])}
            for e in profile.research]


def save_profile(user, data: dict, *, actor) -> ExpertProfile:
    """Create or update `user`'s expert profile from API-shaped `data`; only the user may do it.

    Fields not in `data` keep their stored values. Audited with the names of the changed fields
    (never their content: the audit log is read by officers, and some fields may be private).
    """
    if actor is None or getattr(actor, "id", None) != user.id:
        raise Forbidden(_l("Only the solver can change their own profile."))
    profile = get_profile(user)
    is_new = profile is None
    if is_new:
        profile = blank_profile(user)
    clean = clean_profile(data, profile)

    changed = []
    for field, value in clean.items():
        if field == "research_history":
            if value != _research_rows(profile) or is_new:
                profile.research = [ResearchEntry(**entry) for entry in value]
                changed.append(field)
        elif getattr(profile, field) != value:
            setattr(profile, field, value)  # a new list or dict: the JSON column sees the change
            changed.append(field)
    if is_new:
        db.session.add(profile)
    elif changed:
        profile.updated_at = utcnow()  # also when only the research entries (another table) changed
    if changed or is_new:
        db.session.flush()
        experts.reindex_profile(profile, user)
        record("expert_profile.created" if is_new else "expert_profile.updated", "expert_profile", profile.id,
               actor=actor, fields=sorted(changed))
    return profile


# --- views -----------------------------------------------------------------------------------------

def _research_view(profile: ExpertProfile, *, with_coauthors: bool) -> list[dict]:
    rows = []
    for entry in profile.research:
        row = {"year": entry.year, "kind": entry.kind, "title": entry.title, "link": entry.link}
        if with_coauthors:
            row["coauthors"] = list(entry.coauthors or [])
        rows.append(row)
    return rows


def _field_value(profile: ExpertProfile, field: str, *, with_coauthors: bool):
    if field == "research_history":
        return _research_view(profile, with_coauthors=with_coauthors)
    if field == "awards":
        return None  # not a stored field: see awards_won()
    return getattr(profile, field)


def full_view(profile: ExpertProfile, user) -> dict:
    """Every field, with `visibility` and the list of `private_fields`: for the owner and platform admins."""
    view = {"user_id": user.id, "display_name": user.display_name, "country": user.country}
    for field in VISIBILITY_FIELDS:
        if field != "awards":
            view[field] = _field_value(profile, field, with_coauthors=True)
    view["affiliation_history"] = list(profile.affiliation_history or [])
    view["visibility"] = {field: ("public" if profile.is_public(field) else "private") for field in VISIBILITY_FIELDS}
    view["private_fields"] = [field for field in VISIBILITY_FIELDS if not profile.is_public(field)]
    view["updated_at"] = profile.updated_at
    return view


def sees_every_private_field(viewer) -> bool:
    """Platform admins see every solver's private fields (and a search may match them for them alone)."""
    return bool(viewer and viewer.is_authenticated and viewer.is_admin)


def may_see_private(owner, viewer) -> bool:
    """Private profile fields are the owner's and the platform admins' alone (never other centers' staff)."""
    return bool(viewer and viewer.is_authenticated and viewer.id == owner.id) or sees_every_private_field(viewer)


def view_for(profile: ExpertProfile, owner, viewer) -> dict:
    """The view of `owner`'s profile that `viewer` may see: every field, or the public ones only."""
    if may_see_private(owner, viewer):
        return full_view(profile, owner)
    return public_view(profile, owner, with_awards=False)  # as full_view: the expert database lists no awards


def public_view(profile: ExpertProfile, user, *, with_awards: bool = True) -> dict:
    """Only the fields the solver made public. Co-authors are left out (they may be e-mail
    addresses, kept for conflict-of-interest checks); the affiliation history follows `affiliation`."""
    view: dict = {"user_id": user.id, "display_name": user.display_name, "country": user.country}
    for field in VISIBILITY_FIELDS:
        if field != "awards" and profile.is_public(field):
            view[field] = _field_value(profile, field, with_coauthors=False)
    if profile.is_public("affiliation"):
        view["affiliation_history"] = list(profile.affiliation_history or [])
    if with_awards and profile.is_public("awards"):
        awards = awards_won(user)
        if awards:
            view["awards"] = awards
    return view
