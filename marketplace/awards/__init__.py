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

The decision page for staff is part of the review staff pages (`reviews.staff_routes`), next to the ranking.
"""


def register(app, api) -> None:
    from marketplace.awards import api as awards_api
    from marketplace.awards import decision_api, decisions, routes

    app.register_blueprint(routes.bp)
    api.register_blueprint(awards_api.blp)
    api.register_blueprint(decision_api.blp)
    decisions.register_notifications()
