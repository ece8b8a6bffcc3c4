"""Awards: the center's decision, winners' shares, IP assignment (payouts live in payments).

    models.py           award decisions, awards and their recipients
    money_split.py      (pure) an award split among proposals in integer minor units, no cent lost
    decisions.py        the decision service: awards with shares, or no award
    decision_api.py     the decision through the API (blueprint `award_decisions_api`)
    next_steps.py       what a winning solver does next: the one rule pages, notices and mail ask
    winner_notices.py   telling a winner each next step, once
    ip_assignment.py    the IP assignment a winner accepts before payment
    api.py, presenters.py   the awards API
    routes.py           the winner's IP assignment page (blueprint `awards`)
    decision_routes.py  the staff's decision page, a tab of the review pages (blueprint `awards`)
    forms.py            the acceptance and decision forms
"""


def register(app, api) -> None:
    from marketplace import panels
    from marketplace.awards import api as awards_api
    from marketplace.awards import decision_api, decision_routes, next_steps, routes  # noqa: F401 - decision_routes adds to routes.bp

    panels.add("proposal_page", "award_step", lambda proposal, user, locale: {
        "award_step": next_steps.for_proposal(proposal, user, locale)})
    app.register_blueprint(routes.bp)
    api.register_blueprint(awards_api.blp)
    api.register_blueprint(decision_api.blp)


def register_notification_kinds() -> None:
    """The in-app notification kinds of this package (marketplace.wiring calls it)."""
    from marketplace.awards import decisions, winner_notices

    decisions.register_notifications()
    winner_notices.register_notification_kind()
