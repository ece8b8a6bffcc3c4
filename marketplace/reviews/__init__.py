"""Peer review: conflict-aware optimal reviewer assignment, blind rubric scoring, calibrated ranking, awards."""


def register(app, api) -> None:
    from marketplace.awards import decision_api
    from marketplace.reviews import api as reviews_api
    from marketplace.reviews import (  # noqa: F401
        appeal_routes,
        appeals,
        appeals_api,
        coi,
        panels,
        ranking_service,
        routes,
        scoring,
        staff_routes,
    )

    app.register_blueprint(routes.bp)
    app.register_blueprint(appeal_routes.bp)
    api.register_blueprint(reviews_api.blp)
    api.register_blueprint(decision_api.blp)
    api.register_blueprint(appeals_api.blp)
    appeals.register_notifications()
    app.jinja_env.globals.update(
        proposal_review_panel=panels.proposal_review_panel,
        review_status_label=scoring.review_status_label,
        recommendation_label=scoring.recommendation_label,
        conflict_reason_label=coi.reason_label,
        rank_band_label=lambda code: ranking_service.label(ranking_service.RANK_BAND_LABELS, code),
        is_reviewer=lambda: _is_reviewer(app),
        proposal_appeals_panel=appeal_routes.proposal_appeals_panel,
        appeal_status_label=appeals.outcome_label,
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
