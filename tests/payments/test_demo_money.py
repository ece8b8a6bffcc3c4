"""`demo seed` leaves money in every state a finance officer should see: funded, paid, awaiting approval."""

from __future__ import annotations

from marketplace.extensions import db


def test_demo_seed_has_a_paid_award_and_one_awaiting_the_second_approval(app, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from marketplace.accounts.models import Organization
        from marketplace.awards.models import Award
        from marketplace.challenges.models import Challenge
        from marketplace.payments import ledger

        sensor_awards = db.session.scalars(
            db.select(Award).join(Challenge, Challenge.id == Award.challenge_id)
            .join(Organization, Organization.id == Challenge.organization_id)
            .where(Organization.slug == "sh-ssc").order_by(Award.amount_minor.desc())).all()
        assert [a.status for a in sensor_awards] == ["paid", "release_requested"]
        assert all(r.ip_accepted_at is not None for a in sensor_awards for r in a.recipients)
        assert db.session.scalar(db.select(db.func.count()).select_from(Challenge).where(Challenge.funded)) >= 3
        assert ledger.unbalanced_transactions() == [] and ledger.overdrawn_accounts() == []
