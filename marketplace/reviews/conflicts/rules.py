"""Conflict-of-interest rules between reviewers and proposals, as plain data in, reason codes out.

Every conflict is a hard constraint for the assignment; the reason codes are shown to staff, so each rule that fires
is reported, not just the first. People are identified by ``identities``: any keys under which they can appear in
someone else's record (user id such as "user:12", ORCID "orcid:0000-...", a normalised name if the caller trusts
names). Author lists, advisor links and declared exclusions use the same keys.

Rules (issue 5):
- same person, or a member of the proposal's team;
- a solver of another proposal in the same challenge never reviews it;
- same organization or same e-mail domain, now or within the last 12 months (generic mail providers excluded);
- co-authorship within the last 48 months, ignoring works with more than 10 authors;
- advisor or advisee;
- declared by the reviewer (for a person or a proposal) or by a solver (up to 3 people per proposal);
- same country, only when the challenge asks for it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

SAME_PERSON = "same_person"
SAME_TEAM = "same_team"
SOLVER_IN_CHALLENGE = "solver_in_challenge"
SAME_ORGANIZATION = "same_organization"
SAME_EMAIL_DOMAIN = "same_email_domain"
COAUTHOR = "coauthor"
ADVISOR = "advisor"
DECLARED_BY_REVIEWER = "declared_by_reviewer"
DECLARED_BY_SOLVER = "declared_by_solver"
SAME_COUNTRY = "same_country"

AFFILIATION_MONTHS = 12
COAUTHOR_MONTHS = 48
MAX_AUTHORS = 10  # larger author lists (consortia) say nothing about working closely together
MAX_SOLVER_EXCLUSIONS = 3

# Free mail providers: sharing one says nothing about an organisation.
GENERIC_EMAIL_DOMAINS = frozenset("""
gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk live.com msn.com yahoo.com yahoo.co.uk yahoo.co.jp
yahoo.fr yahoo.de ymail.com icloud.com me.com mac.com aol.com proton.me protonmail.com pm.me tutanota.com gmx.de
gmx.net gmx.com web.de t-online.de freenet.de mail.com email.com zoho.com yandex.ru yandex.com mail.ru rambler.ru
orange.fr free.fr laposte.net wanadoo.fr sfr.fr libero.it naver.com daum.net hanmail.net kakao.com
qq.com 163.com 126.com yeah.net sina.com sina.cn sohu.com foxmail.com aliyun.com 139.com 189.cn tom.com 21cn.com
""".split())

# Second-level labels under which institutions register (tsinghua.edu.cn, ox.ac.uk): keep three labels there.
_SECOND_LEVEL = frozenset("ac co com edu gov net org or ne go re lg mil nic res".split())


@dataclass(frozen=True)
class Affiliation:
    organization: Hashable  # a stable key: organization id or normalised name
    start: dt.date | None = None
    end: dt.date | None = None  # None = current


@dataclass(frozen=True)
class EmailAddress:
    address: str
    until: dt.date | None = None  # None = current


@dataclass(frozen=True)
class Work:
    year: int
    authors: tuple[str, ...]  # identity keys
    month: int | None = None


@dataclass(frozen=True)
class Person:
    identities: frozenset[str]  # non-empty; the first-class key (e.g. "user:12") plus ORCID etc.
    emails: tuple[EmailAddress, ...] = ()
    affiliations: tuple[Affiliation, ...] = ()
    works: tuple[Work, ...] = ()
    advisors: frozenset[str] = frozenset()  # identity keys of this person's advisors
    advisees: frozenset[str] = frozenset()
    declared_conflicts: frozenset[str] = frozenset()  # people this person declared a conflict with
    teams: frozenset[Hashable] = frozenset()
    country: str | None = None


@dataclass(frozen=True)
class ProposalParties:
    proposal_id: Hashable
    authors: tuple[Person, ...]
    team: Hashable | None = None
    excluded_by_solver: frozenset[str] = frozenset()  # identity keys the solver asked to exclude (at most 3)

    def __post_init__(self) -> None:
        if len(self.excluded_by_solver) > MAX_SOLVER_EXCLUSIONS:
            raise ValueError(f"a solver may exclude at most {MAX_SOLVER_EXCLUSIONS} people")


@dataclass(frozen=True)
class ConflictPolicy:
    today: dt.date
    same_country: bool = False  # only when the challenge asks for it
    affiliation_months: int = AFFILIATION_MONTHS
    coauthor_months: int = COAUTHOR_MONTHS
    max_authors: int = MAX_AUTHORS


@dataclass(frozen=True)
class _Profile:
    """What the rules compare, precomputed once per person."""

    identities: frozenset[str]
    organizations: frozenset[Hashable]
    domains: frozenset[str]
    coauthors: frozenset[str]
    mentors: frozenset[str]  # advisors and advisees alike
    declared: frozenset[str]
    teams: frozenset[Hashable]
    country: str | None = field(default=None)


def email_domain(address: str) -> str | None:
    """The organisation's registrable domain of an address, or None for a generic provider or a malformed address.

    Sub-domains collapse (mail.tsinghua.edu.cn -> tsinghua.edu.cn, cs.ox.ac.uk -> ox.ac.uk) without a public-suffix
    list: two labels, or three when the second-to-last is a common institutional second level (edu.cn, ac.uk).
    """
    _, at, domain = address.strip().lower().rpartition("@")
    labels = [label for label in domain.rstrip(".").split(".") if label]
    if not at or len(labels) < 2:
        return None
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    registrable = ".".join(labels[-keep:])
    return None if registrable in GENERIC_EMAIL_DOMAINS or ".".join(labels) in GENERIC_EMAIL_DOMAINS else registrable


def _months_before(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def _profile(person: Person, policy: ConflictPolicy) -> _Profile:
    if not person.identities:
        raise ValueError("a person needs at least one identity key")
    since = _months_before(policy.today, policy.affiliation_months)
    organizations = frozenset(a.organization for a in person.affiliations
                              if (a.end is None or a.end >= since) and (a.start is None or a.start <= policy.today))
    domains = frozenset(d for e in person.emails if e.until is None or e.until >= since
                        if (d := email_domain(e.address)) is not None)
    # A work dated by year only counts from the end of that year: when unsure, assume it is recent.
    coauthor_since = _months_before(policy.today, policy.coauthor_months)
    coauthors = frozenset(
        author for work in person.works
        if len(work.authors) <= policy.max_authors
        and dt.date(work.year, work.month or 12, 28) >= coauthor_since.replace(day=1)
        for author in work.authors) - person.identities
    return _Profile(identities=person.identities, organizations=organizations, domains=domains, coauthors=coauthors,
                    mentors=person.advisors | person.advisees, declared=person.declared_conflicts,
                    teams=person.teams, country=(person.country or "").upper() or None)


def conflict_reasons(proposal: ProposalParties, reviewer: Person, policy: ConflictPolicy, *,
                     reviewer_declared_proposal: bool = False) -> tuple[str, ...]:
    """Sorted reason codes why ``reviewer`` must not review ``proposal`` (empty when there is no conflict).

    Arguments come in the package's pair order, (proposal, reviewer), as in ``find_conflicts``.

    Checks one pair; for a whole challenge use ``find_conflicts``, which also applies the rule that a solver of any
    proposal in the challenge reviews none of it.
    """
    authors = [_profile(author, policy) for author in proposal.authors]
    return tuple(sorted(_proposal_reasons(proposal, authors, _profile(reviewer, policy), policy,
                                          declared=reviewer_declared_proposal)))


def _pair_reasons(rev: _Profile, author: _Profile, policy: ConflictPolicy) -> set[str]:
    reasons = set()
    if rev.identities & author.identities:
        reasons.add(SAME_PERSON)
    if rev.teams & author.teams:
        reasons.add(SAME_TEAM)
    if rev.organizations & author.organizations:
        reasons.add(SAME_ORGANIZATION)
    if rev.domains & author.domains:
        reasons.add(SAME_EMAIL_DOMAIN)
    # Either side's research history may list the other: a reviewer's record can be more complete than the author's.
    if rev.coauthors & author.identities or author.coauthors & rev.identities:
        reasons.add(COAUTHOR)
    if rev.mentors & author.identities or author.mentors & rev.identities:
        reasons.add(ADVISOR)
    if rev.declared & author.identities:
        reasons.add(DECLARED_BY_REVIEWER)
    if author.declared & rev.identities:
        reasons.add(DECLARED_BY_SOLVER)
    if policy.same_country and rev.country is not None and rev.country == author.country:
        reasons.add(SAME_COUNTRY)
    return reasons


def find_conflicts(
    proposals: Sequence[ProposalParties],
    reviewers: Sequence[tuple[Hashable, Person]],
    policy: ConflictPolicy,
    *,
    declared_by_reviewers: Iterable[tuple[Hashable, Hashable]] = (),
) -> dict[tuple[Hashable, Hashable], tuple[str, ...]]:
    """All conflicting (proposal_id, reviewer_id) pairs of one challenge with their sorted reason codes.

    ``reviewers`` pairs each reviewer id with the person; ``declared_by_reviewers`` holds (proposal_id, reviewer_id)
    conflicts a reviewer declared on a proposal they saw. Pairs are found through inverted indexes (organisation,
    domain, identity, country, team -> reviewers), so the cost grows with the number of conflicts, not with
    proposals x reviewers.
    """
    index = _ReviewerIndex([(rid, _profile(person, policy)) for rid, person in reviewers])
    author_profiles = [[_profile(a, policy) for a in prop.authors] for prop in proposals]
    solver_keys = frozenset(k for profiles in author_profiles for prof in profiles for k in prof.identities)
    solvers = index.holding(solver_keys)
    declared = set(declared_by_reviewers)
    declared_on: dict[Hashable, set[int]] = defaultdict(set)
    for pid, rid in declared:
        if rid in index.position:
            declared_on[pid].add(index.position[rid])

    result: dict[tuple[Hashable, Hashable], tuple[str, ...]] = {}
    for prop, authors in zip(proposals, author_profiles, strict=True):
        suspects = solvers | index.suspects(prop, authors, policy) | declared_on.get(prop.proposal_id, set())
        for i in sorted(suspects):
            rid, rev = index.profiles[i]
            reasons = _proposal_reasons(prop, authors, rev, policy, declared=(prop.proposal_id, rid) in declared)
            if i in solvers and SAME_PERSON not in reasons:
                reasons.add(SOLVER_IN_CHALLENGE)
            if reasons:
                result[(prop.proposal_id, rid)] = tuple(sorted(reasons))
    return result


def _proposal_reasons(prop: ProposalParties, authors: list[_Profile], rev: _Profile, policy: ConflictPolicy, *,
                      declared: bool) -> set[str]:
    """The reasons of one (proposal, reviewer) pair: the proposal-level rules, then each author's."""
    reasons: set[str] = set()
    if declared:
        reasons.add(DECLARED_BY_REVIEWER)
    if prop.excluded_by_solver & rev.identities:
        reasons.add(DECLARED_BY_SOLVER)
    if prop.team is not None and prop.team in rev.teams:
        reasons.add(SAME_TEAM)
    for author in authors:
        reasons |= _pair_reasons(rev, author, policy)
    return reasons


class _ReviewerIndex:
    """Inverted indexes from what a rule compares to reviewer positions, to find suspects without a full scan."""

    def __init__(self, profiles: list[tuple[Hashable, _Profile]]) -> None:
        self.profiles = profiles
        self.position = {rid: i for i, (rid, _) in enumerate(profiles)}
        self.by_org: dict[Hashable, set[int]] = defaultdict(set)
        self.by_domain: dict[str, set[int]] = defaultdict(set)
        self.by_identity: dict[str, set[int]] = defaultdict(set)  # the reviewer's own keys
        self.by_related: dict[str, set[int]] = defaultdict(set)  # keys the reviewer co-authored with, advised, declared
        self.by_team: dict[Hashable, set[int]] = defaultdict(set)
        self.by_country: dict[str, set[int]] = defaultdict(set)
        for i, (_, prof) in enumerate(profiles):
            for org in prof.organizations:
                self.by_org[org].add(i)
            for domain in prof.domains:
                self.by_domain[domain].add(i)
            for key in prof.identities:
                self.by_identity[key].add(i)
            for key in prof.coauthors | prof.mentors | prof.declared:
                self.by_related[key].add(i)
            for team in prof.teams:
                self.by_team[team].add(i)
            if prof.country:
                self.by_country[prof.country].add(i)

    def holding(self, keys: Iterable[str]) -> set[int]:
        """Reviewers known under any of these identity keys."""
        return {i for key in keys for i in self.by_identity.get(key, ())}

    def suspects(self, prop: ProposalParties, authors: list[_Profile], policy: ConflictPolicy) -> set[int]:
        """Reviewers who share anything a rule compares with the proposal or one of its authors."""
        found = self.holding(prop.excluded_by_solver)
        if prop.team is not None:
            found |= self.by_team.get(prop.team, set())
        for author in authors:
            found |= self._author_suspects(author, policy)
        return found

    def _author_suspects(self, author: _Profile, policy: ConflictPolicy) -> set[int]:
        found: set[int] = set()
        for org in author.organizations:
            found |= self.by_org.get(org, set())
        for domain in author.domains:
            found |= self.by_domain.get(domain, set())
        for key in author.identities:
            found |= self.by_identity.get(key, set()) | self.by_related.get(key, set())
        found |= self.holding(author.coauthors | author.mentors | author.declared)
        for team in author.teams:
            found |= self.by_team.get(team, set())
        if policy.same_country and author.country:
            found |= self.by_country.get(author.country, set())
        return found
