"""Peer review: conflict-aware optimal reviewer assignment, blind rubric scoring, calibrated ranking, appeals.

Pure rule modules (no database, no Flask) say "pure" in their docstring and are tested without a database; the
services around them read and write the database, flush and never commit; routes and API views commit once.
Every (proposal, reviewer) pair in this package is ordered (proposal_id, reviewer_id).

Who and what
    models.py           pools, conflicts of interest, reviews and their scores, appeals, score releases
    access.py           who may see what: review staff, managers, a proposal's authors
    settings.py         a challenge's review settings: defaults and the one change service (API and page)
    pool.py             the reviewer pool and the reviewer agreement
conflicts/              conflicts of interest
    rules.py            (pure) the conflict rules: people and proposals in, reason codes out
    identities.py       people from the database as rule inputs, under their identity keys
    service.py          who a proposal's authors and a challenge's solvers are; a challenge's conflicting pairs
    exclusions.py       the people a solver asks never to review their proposal
assignment/             who reviews which proposal
    problem.py          (pure) the problem, its validation and the result
    feasibility.py      (pure) why a problem has no solution, in words a manager can act on
    flow.py             (pure) the optimal assignment as a min-cost flow
    lp_check.py         (pure) the LP relaxation that checks the flow's optimality
    affinity.py         (pure) text analysis and TF-IDF affinity
    suggestions.py      experts to invite into a pool
    service.py          runs an assignment; replaces a reviewer who declared a conflict
Reviewing
    blind.py            pseudonyms, masked identities, clean attachments
    scoring.py          drafts, submission, what a reviewer may read, progress and reminders
    clarifications.py   reviewers' questions to the authors
ranking/                ranking the proposals
    statistics.py       (pure) calibrated ranking, flags, bootstrap bands
    bias_model.py       (pure) the reviewer-bias model and its bootstrap
    reliability.py      (pure) Krippendorff's alpha and its reading
    service.py          a challenge's ranking, with labels
    feedback.py         what the authors learn after the decision
Appeals
    score_release.py    the appeal window and the release of the provisional scores
    appeals.py          filing and answering appeals
Web
    routes.py           reviewer pages (blueprint `reviews`): dashboard, agreement, the review; authors' answers
                        and exclusions
    staff_routes.py     staff pages (blueprint `review_staff`): pool, settings, assignment, progress, ranking,
                        decision, appeals queue
    appeal_routes.py    solver and reviewer appeal pages (blueprint `appeals`)
    panels.py           the review and appeal panels of the proposal page (template globals)
    forms.py, presenters.py, schemas.py
    api.py, appeals_api.py   the review and appeals API

The award decision itself, the award split and the awards API live in `marketplace.awards`.
"""


def register(app, api) -> None:
    from marketplace.labels import (
        appeal_outcome_label,
        conflict_reason_label,
        rank_band_label,
        recommendation_label,
        review_status_label,
    )
    from marketplace.reminders.calendar import register_event_source
    from marketplace.reviews import api as reviews_api
    from marketplace.reviews import appeal_routes, appeals_api, panels, routes, staff_routes
    from marketplace.reviews.appeal_calendar import appeal_window_events

    app.register_blueprint(routes.bp)
    app.register_blueprint(staff_routes.bp)
    app.register_blueprint(appeal_routes.bp)
    api.register_blueprint(reviews_api.blp)
    api.register_blueprint(appeals_api.blp)
    register_event_source(appeal_window_events)
    app.jinja_env.globals.update(
        proposal_review_panel=panels.proposal_review_panel,
        review_status_label=review_status_label,
        recommendation_label=recommendation_label,
        conflict_reason_label=conflict_reason_label,
        rank_band_label=rank_band_label,
        is_reviewer=lambda: _is_reviewer(app),
        proposal_appeals_panel=appeal_routes.proposal_appeals_panel,
        appeal_status_label=appeal_outcome_label,
    )


def _is_reviewer(app) -> bool:
    """For the nav link: is the signed-in user in any reviewer pool? One EXISTS query per page view."""
    from flask_login import current_user
    from sqlalchemy import exists, select
    from sqlalchemy.exc import SQLAlchemyError

    from marketplace.extensions import db
    from marketplace.reviews.models import ChallengeReviewer

    if not current_user.is_authenticated:
        return False
    try:
        return bool(db.session.scalar(select(exists().where(ChallengeReviewer.user_id == current_user.id))))
    except SQLAlchemyError:  # an error page after a database failure must still render
        app.logger.warning("could not check reviewer pools", exc_info=True)
        return False


def register_notification_kinds() -> None:
    """The in-app notification kinds of this package (marketplace.wiring calls it)."""
    from marketplace.reviews import appeals

    appeals.register_notifications()
