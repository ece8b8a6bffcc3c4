"""What the review rules read about people: expert profiles as conflict-of-interest `Person`s and affinity documents.

People appear under several identity keys, because other people's records name them in different ways: a research
entry lists co-authors by name or e-mail, an exclusion names an account. The keys are

    user:<id>    email:<address>    orcid:<iD>    name:<folded name>

Names are folded (NFKC, accents removed, case-folded, spaces collapsed); one-word Latin names are not used as keys,
since "Chen" alone would match half a department. Two people who share a full name are treated as one: a false
conflict costs one candidate reviewer, a missed one costs the fairness of a review.

Organisations are keyed by their e-mail/web domain (``domain:tum.de``), by their folded name (``inst:...``) and, for
center staff, by the organization id (``org:<id>``). An e-mail address's domain counts as an affiliation too, so a
reviewer at tum.de conflicts with an author whose profile lists the Technical University of Munich with that domain.

Advisor links: profiles have no advisor field; a research entry of kind "thesis" lists the advisor among its
co-authors, so thesis co-authors are treated as advisors (and the author as their advisee), without a time limit.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.reviews.conflicts.rules import Affiliation, EmailAddress, Person, Work, email_domain
from marketplace.solvers.models import ExpertProfile

RECENT_RESEARCH_YEARS = 5  # research entries older than this say little about today's expertise
_ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PARENTHESES = re.compile(r"[(（]([^)）]*)[)）]")


def fold(text: str) -> str:
    """NFKC, accents removed, case-folded, single spaces: "María  GARCÍA" -> "maria garcia"."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or ""))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().replace(".", " ").split())


def _usable_name(name: str) -> bool:
    if _HAN.search(name):
        return len(name.replace(" ", "")) >= 2
    return len(name.split()) >= 2 and len(name) >= 5


def name_variants(display_name: str) -> set[str]:
    """The folded full name, plus what stands inside and outside parentheses: "Li Wei (李伟)" -> li wei, 李伟."""
    variants = {fold(display_name)}
    inside = _PARENTHESES.findall(display_name or "")
    variants |= {fold(part) for part in inside}
    variants.add(fold(_PARENTHESES.sub(" ", display_name or "")))
    return {name for name in variants if name and _usable_name(name)}


def reference_key(text: str) -> str | None:
    """The identity key of a person as someone else's record names them (co-author, advisor): e-mail, ORCID or name."""
    text = (text or "").strip()
    if "@" in text:
        return "email:" + text.lower()
    if _ORCID.match(text.upper()):
        return "orcid:" + text.upper()
    name = fold(text)
    return "name:" + name if name and _usable_name(name) else None


def identity_keys(user: User, profile: ExpertProfile | None) -> frozenset[str]:
    keys = {f"user:{user.id}", "email:" + user.email.lower()}
    keys |= {"name:" + name for name in name_variants(user.display_name)}
    if profile is not None and profile.orcid:
        keys.add("orcid:" + profile.orcid.upper())
    return frozenset(keys)


def institution_key(name: str) -> str | None:
    folded = fold(name)
    return "inst:" + folded if folded else None


def domain_key(domain: str | None) -> str | None:
    registrable = email_domain("x@" + domain) if domain else None
    return "domain:" + registrable if registrable else None


def _month_start(value: str | None) -> dt.date | None:
    if not value:
        return None
    year, month = (int(part) for part in value.split("-")[:2])
    return dt.date(year, month, 1)


def _month_end(value: str | None) -> dt.date | None:
    if not value:
        return None
    year, month = (int(part) for part in value.split("-")[:2])
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _affiliations(user: User, profile: ExpertProfile | None) -> list[Affiliation]:
    found: list[Affiliation] = []
    for grant in user.roles:  # center staff belong to their organization
        if grant.organization_id is not None:
            found.append(Affiliation(f"org:{grant.organization_id}"))
            if grant.organization is not None and (key := institution_key(grant.organization.name)):
                found.append(Affiliation(key))
    if (key := domain_key(email_domain(user.email))) is not None:
        found.append(Affiliation(key))
    if profile is None:
        return found
    if profile.affiliation and (key := institution_key(profile.affiliation)):
        found.append(Affiliation(key))
    for entry in profile.affiliation_history or ():
        start, end = _month_start(entry.get("start")), _month_end(entry.get("end"))
        for key in (institution_key(entry.get("name") or ""), domain_key(entry.get("domain"))):
            if key:
                found.append(Affiliation(key, start=start, end=end))
    return found


def person_for(user: User, profile: ExpertProfile | None, *, teams: Iterable[str] = ()) -> Person:
    """The conflict-of-interest view of one user."""
    own = f"user:{user.id}"
    works: list[Work] = []
    advisors: set[str] = set()
    for entry in profile.research if profile is not None else ():
        keys = tuple(k for k in (reference_key(c) for c in entry.coauthors or ()) if k)
        works.append(Work(year=entry.year, authors=(own, *keys)))
        if entry.kind == "thesis":
            advisors.update(keys)
    return Person(identities=identity_keys(user, profile), emails=(EmailAddress(user.email),),
                  affiliations=tuple(_affiliations(user, profile)), works=tuple(works),
                  advisors=frozenset(advisors), teams=frozenset(teams), country=user.country)


def institution_of(user: User, profile: ExpertProfile | None) -> str | None:
    """The one institution a reviewer counts for under "at most one reviewer per institution per proposal"."""
    if profile is not None:
        for entry in profile.affiliation_history or ():
            if entry.get("end") is None and (key := domain_key(entry.get("domain"))):
                return key
    if (key := domain_key(email_domain(user.email))) is not None:
        return key
    if profile is not None and profile.affiliation:
        return institution_key(profile.affiliation)
    org_ids = sorted(g.organization_id for g in user.roles if g.organization_id is not None)
    return f"org:{org_ids[0]}" if org_ids else None


def reviewer_documents(profile: ExpertProfile | None, *, this_year: int | None = None,
                       public_only: bool = False) -> list[str]:
    """A reviewer's expertise as separate documents: the profile text, the expertise tags, each recent work.

    `public_only`: only the fields the person made public (for suggestions from the expert database, whose
    ranking must not reveal private fields to the center's staff)."""
    from marketplace.solvers.vocabulary import tag_label

    if profile is None:
        return []

    def shown(field: str) -> bool:
        return not public_only or profile.is_public(field)

    this_year = this_year or dt.date.today().year
    documents = [" ".join(part for field, part in (("headline", profile.headline), ("bio", profile.bio),
                                                   ("latest_progress", profile.latest_progress))
                          if part and shown(field))]
    tags = " ".join(tag_label(tag) for tag in profile.expertise or ()) if shown("expertise") else ""
    if tags:
        documents.append(tags)
    if shown("research_history"):
        documents += [entry.title for entry in profile.research if entry.year >= this_year - RECENT_RESEARCH_YEARS]
    return [d for d in documents if d.strip()]


@dataclass(frozen=True)
class Directory:
    """Users and their expert profiles (research loaded), fetched together once."""

    users: dict[int, User]
    profiles: dict[int, ExpertProfile]

    def person(self, user_id: int, *, teams: Iterable[str] = ()) -> Person:
        return person_for(self.users[user_id], self.profiles.get(user_id), teams=teams)

    def profile(self, user_id: int) -> ExpertProfile | None:
        return self.profiles.get(user_id)


def load_directory(user_ids: Iterable[int]) -> Directory:
    """Three queries whatever the number of users: users (with roles), profiles, research entries."""
    ids = sorted(set(user_ids))
    if not ids:
        return Directory({}, {})
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    profiles = {p.user_id: p for p in db.session.scalars(
        select(ExpertProfile).where(ExpertProfile.user_id.in_(ids)).options(selectinload(ExpertProfile.research)))}
    return Directory(users, profiles)
