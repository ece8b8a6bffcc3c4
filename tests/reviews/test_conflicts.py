"""Conflict-of-interest rules: each rule at its boundary, and the indexed search equals the pairwise rules."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.reviews.conflicts.rules import (
    Affiliation,
    ConflictPolicy,
    EmailAddress,
    Person,
    ProposalParties,
    Work,
    conflict_reasons,
    email_domain,
    find_conflicts,
)

TODAY = dt.date(2027, 3, 15)
POLICY = ConflictPolicy(today=TODAY)


def person(key, **kw):
    return Person(identities=frozenset({key}), **kw)


def reasons(reviewer, *authors, policy=POLICY, **kw):
    return conflict_reasons(ProposalParties("prop", tuple(authors), **kw), reviewer, policy)


def test_no_shared_facts_no_conflict():
    assert reasons(person("u:1", country="DE"), person("u:2", country="CN")) == ()


def test_same_person_and_same_team():
    assert reasons(person("u:1"), person("u:1")) == ("same_person",)
    assert reasons(person("u:1", teams=frozenset({"t:9"})), person("u:2"), team="t:9") == ("same_team",)
    assert reasons(person("u:1", teams=frozenset({"t:9"})), person("u:2", teams=frozenset({"t:9"}))) == ("same_team",)


@pytest.mark.parametrize(("end", "conflict"), [
    (None, True),  # current
    (dt.date(2026, 3, 15), True),  # exactly 12 months ago
    (dt.date(2026, 3, 14), False),  # left more than 12 months ago
])
def test_same_organization_now_or_within_12_months(end, conflict):
    reviewer = person("u:1", affiliations=(Affiliation("org:fudan", dt.date(2015, 1, 1), end),))
    author = person("u:2", affiliations=(Affiliation("org:fudan"),))
    assert (reasons(reviewer, author) == ("same_organization",)) is conflict


def test_future_affiliation_is_not_yet_a_conflict():
    reviewer = person("u:1", affiliations=(Affiliation("org:x", start=dt.date(2027, 9, 1)),))
    assert reasons(reviewer, person("u:2", affiliations=(Affiliation("org:x"),))) == ()


def test_same_email_domain_collapses_subdomains_and_ignores_free_mail():
    assert email_domain("li@mail.tsinghua.edu.cn") == "tsinghua.edu.cn"
    assert email_domain("ann@cs.ox.ac.uk") == "ox.ac.uk"
    assert email_domain("bob@lab.example.com") == "example.com"
    assert email_domain("wang@qq.com") is None and email_domain("x@GMAIL.com") is None
    assert email_domain("not-an-address") is None

    reviewer = person("u:1", emails=(EmailAddress("a@mails.tsinghua.edu.cn"),))
    author = person("u:2", emails=(EmailAddress("b@tsinghua.edu.cn"),))
    assert reasons(reviewer, author) == ("same_email_domain",)
    gmail = person("u:3", emails=(EmailAddress("c@gmail.com"),))
    assert reasons(person("u:4", emails=(EmailAddress("d@gmail.com"),)), gmail) == ()


def test_old_email_counts_for_12_months():
    recent = person("u:1", emails=(EmailAddress("a@siemens.com", until=dt.date(2026, 6, 1)),
                                   EmailAddress("a@bosch.de")))
    old = person("u:1", emails=(EmailAddress("a@siemens.com", until=dt.date(2025, 6, 1)),))
    author = person("u:2", emails=(EmailAddress("b@siemens.com"),))
    assert reasons(recent, author) == ("same_email_domain",)
    assert reasons(old, author) == ()


@pytest.mark.parametrize(("year", "month", "conflict"), [
    (2023, None, True),  # year only: counted as late that year, within 48 months
    (2023, 3, True),  # exactly 48 months ago (month granularity)
    (2023, 2, False),
    (2022, None, False),
])
def test_coauthorship_within_48_months(year, month, conflict):
    reviewer = person("u:1", works=(Work(year, ("u:1", "u:2", "u:7"), month=month),))
    assert (reasons(reviewer, person("u:2")) == ("coauthor",)) is conflict
    # The author's record works the same way.
    author = person("u:2", works=(Work(year, ("u:2", "u:1"), month=month),))
    assert (reasons(person("u:1"), author) == ("coauthor",)) is conflict


def test_works_with_more_than_ten_authors_are_ignored():
    ten = tuple(f"u:{i}" for i in range(1, 11))
    eleven = tuple(f"u:{i}" for i in range(1, 12))
    assert reasons(person("u:1", works=(Work(2026, ten),)), person("u:2")) == ("coauthor",)
    assert reasons(person("u:1", works=(Work(2026, eleven),)), person("u:2")) == ()


def test_advisor_and_advisee_either_way():
    assert reasons(person("u:1", advisees=frozenset({"u:2"})), person("u:2")) == ("advisor",)
    assert reasons(person("u:1"), person("u:2", advisors=frozenset({"u:1"}))) == ("advisor",)


def test_declared_by_reviewer_or_by_solver():
    assert reasons(person("u:1", declared_conflicts=frozenset({"u:2"})), person("u:2")) == ("declared_by_reviewer",)
    assert reasons(person("u:1"), person("u:2", declared_conflicts=frozenset({"u:1"}))) == ("declared_by_solver",)
    assert reasons(person("u:1"), person("u:2"), excluded_by_solver=frozenset({"u:1"})) == ("declared_by_solver",)
    prop = ProposalParties("prop", (person("u:2"),))
    assert conflict_reasons(prop, person("u:1"), POLICY, reviewer_declared_proposal=True) == ("declared_by_reviewer",)


def test_a_solver_may_exclude_at_most_three_people():
    with pytest.raises(ValueError, match="at most 3"):
        ProposalParties("prop", (), excluded_by_solver=frozenset({"u:1", "u:2", "u:3", "u:4"}))


def test_same_country_only_when_the_challenge_asks():
    reviewer, author = person("u:1", country="cn"), person("u:2", country="CN")
    assert reasons(reviewer, author) == ()
    assert reasons(reviewer, author, policy=ConflictPolicy(today=TODAY, same_country=True)) == ("same_country",)


def test_every_reason_is_reported():
    reviewer = person("u:1", affiliations=(Affiliation("org:a"),), emails=(EmailAddress("x@a.org"),),
                      works=(Work(2026, ("u:1", "u:2")),))
    author = person("u:2", affiliations=(Affiliation("org:a"),), emails=(EmailAddress("y@a.org"),))
    assert reasons(reviewer, author) == ("coauthor", "same_email_domain", "same_organization")


def test_solvers_of_the_challenge_review_none_of_it():
    alice, bob, carol = person("u:1"), person("u:2"), person("u:3")
    proposals = [ProposalParties(10, (alice,)), ProposalParties(11, (bob,))]
    found = find_conflicts(proposals, [("r-alice", alice), ("r-carol", carol)], POLICY)
    assert found == {(10, "r-alice"): ("same_person",), (11, "r-alice"): ("solver_in_challenge",)}


def test_declared_on_a_proposal_by_the_reviewer():
    found = find_conflicts([ProposalParties(10, (person("u:2"),))], [("r1", person("u:1"))], POLICY,
                           declared_by_reviewers=[(10, "r1")])
    assert found == {(10, "r1"): ("declared_by_reviewer",)}


# -- find_conflicts (indexed) must agree with conflict_reasons (pairwise) on any population -------------------

KEYS = [f"u:{i}" for i in range(8)]
keys = st.frozensets(st.sampled_from(KEYS), max_size=2)
dates = st.none() | st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31))
people = st.builds(
    Person,
    identities=st.frozensets(st.sampled_from(KEYS), min_size=1, max_size=2),
    emails=st.lists(st.builds(EmailAddress, st.sampled_from(["a@x.edu.cn", "b@y.com", "c@qq.com", "d@z.de"]), dates),
                    max_size=2).map(tuple),
    affiliations=st.lists(st.builds(Affiliation, st.sampled_from(["o1", "o2", "o3"]), dates, dates),
                          max_size=2).map(tuple),
    works=st.lists(st.builds(Work, st.integers(2020, 2027), st.lists(st.sampled_from(KEYS), max_size=4).map(tuple),
                             st.none() | st.integers(1, 12)), max_size=2).map(tuple),
    advisors=keys, advisees=keys, declared_conflicts=keys,
    teams=st.frozensets(st.sampled_from(["t1", "t2"]), max_size=1),
    country=st.sampled_from([None, "CN", "DE"]),
)


@settings(max_examples=200, deadline=None)
@given(reviewers=st.lists(people, min_size=1, max_size=4),
       proposals=st.lists(st.tuples(st.lists(people, min_size=1, max_size=2), st.sampled_from([None, "t1"]),
                                    st.frozensets(st.sampled_from(KEYS), max_size=2)), min_size=1, max_size=3),
       same_country=st.booleans(), declared=st.sets(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=2))
def test_indexed_search_equals_pairwise_rules(reviewers, proposals, same_country, declared):
    policy = ConflictPolicy(today=TODAY, same_country=same_country)
    parties = [ProposalParties(i, tuple(authors), team, excluded) for i, (authors, team, excluded)
               in enumerate(proposals)]
    found = find_conflicts(parties, list(enumerate(reviewers)), policy, declared_by_reviewers=declared)

    solver_keys = {k for prop in parties for a in prop.authors for k in a.identities}
    expected = {}
    for prop in parties:
        for rid, reviewer in enumerate(reviewers):
            codes = set(conflict_reasons(prop, reviewer, policy,
                                         reviewer_declared_proposal=(prop.proposal_id, rid) in declared))
            if reviewer.identities & solver_keys and "same_person" not in codes:
                codes.add("solver_in_challenge")
            if codes:
                expected[(prop.proposal_id, rid)] = tuple(sorted(codes))
    assert found == expected
