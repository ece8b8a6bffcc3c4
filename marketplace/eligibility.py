"""Who may take part in a challenge and be paid by it: the country rules, in one home.

    sanctioned_countries()                        the platform sanctions list (SANCTIONED_COUNTRIES)
    country_refusals(countries, excluded=..., sanctioned=...)   the pure rule: every (code, country) refused
    participation_problem(challenge, user)        why a solver may not take part, or None (proposals, agreements,
                                                  alerts, the challenge page ask it through
                                                  `Challenge.participation_refusal`)
    payout_refusal(countries, excluded)           why a recipient may not be paid, or None (payouts ask it)
    payout_refusal_message(name, refusal)         that reason in words

Two callers, two wordings, one rule. It imports no other package of the marketplace (a challenge is read
through its `excluded_countries` only), so challenges, proposals, solvers and payments may all depend on it
without a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

SANCTIONED = "sanctioned_country"
EXCLUDED = "excluded_country"


@dataclass(frozen=True)
class CountryRefusal:
    code: str  # SANCTIONED | EXCLUDED
    country: str


def sanctioned_countries() -> set[str]:
    return set(current_app.config.get("SANCTIONED_COUNTRIES") or ())


def country_refusals(countries: Iterable[str | None], *, excluded: Iterable[str],
                     sanctioned: Iterable[str]) -> list[CountryRefusal]:
    """Every refusal, country by country in alphabetical order, a country's sanctions before its exclusion."""
    excluded_set = {c.upper() for c in excluded}
    sanctioned_set = set(sanctioned)
    found = []
    for country in sorted({c for c in countries if c}):
        if country in sanctioned_set:
            found.append(CountryRefusal(SANCTIONED, country))
        if country in excluded_set:
            found.append(CountryRefusal(EXCLUDED, country))
    return found


def participation_problem(challenge, user) -> str | None:
    """Why `user` may not take part (excluded or sanctioned country), or None.

    The center's own exclusion is named first: it is the more specific reason for a solver."""
    refusals = country_refusals([getattr(user, "country", None)], excluded=challenge.excluded_countries or (),
                                sanctioned=sanctioned_countries())
    if not refusals:
        return None
    refusal = next((r for r in refusals if r.code == EXCLUDED), refusals[0])
    if refusal.code == EXCLUDED:
        return str(_l("Residents of %(country)s cannot take part in this challenge (excluded by the center).",
                      country=refusal.country))
    return str(_l("Residents of %(country)s cannot take part: the platform's sanctions list applies.",
                  country=refusal.country))


def payout_refusal(countries: Iterable[str | None], excluded: Iterable[str]) -> CountryRefusal | None:
    """The first country reason a recipient (account and residence `countries`) may not be paid, or None.

    Sanctions come first: they bind the platform whatever the challenge says."""
    refusals = country_refusals(countries, excluded=excluded, sanctioned=sanctioned_countries())
    return refusals[0] if refusals else None


def payout_refusal_message(name: str, refusal: CountryRefusal) -> str:
    if refusal.code == SANCTIONED:
        return str(_l("%(name)s is connected to %(country)s, which is under sanctions: the award cannot be paid.",
                      name=name, country=refusal.country))
    return str(_l("%(name)s is connected to %(country)s, which this challenge excludes: the award cannot be paid.",
                  name=name, country=refusal.country))
