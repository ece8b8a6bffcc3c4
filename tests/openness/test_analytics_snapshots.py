"""Platform-wide figures are served from a stored snapshot that `flask analytics refresh` renews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marketplace.extensions import db


def test_stats_come_from_the_snapshot_until_refreshed(app, client, monkeypatch, make_org, make_user,
                                                      challenge_factory):
    monkeypatch.setitem(app.config, "ANALYTICS_CACHE_SECONDS", 300)
    org = make_org("sh-icc")
    manager = make_user(roles=[("center_manager", org)])
    challenge_factory(org, manager, status="open")
    first = client.get("/api/v1/stats").get_json()
    assert first["challenges_posted"] == 1
    challenge_factory(org, manager, status="open")
    again = client.get("/api/v1/stats").get_json()
    assert again["challenges_posted"] == 1 and again["as_of"] == first["as_of"]  # still the snapshot
    result = app.test_cli_runner().invoke(args=["analytics", "refresh"])
    assert result.exit_code == 0 and "platform" in result.output and "stats" in result.output
    refreshed = client.get("/api/v1/stats").get_json()
    assert refreshed["challenges_posted"] == 2 and refreshed["as_of"] > first["as_of"]


def test_a_stale_snapshot_is_recomputed_by_the_request_that_finds_it(app, client, monkeypatch, make_org, make_user,
                                                                      challenge_factory):
    from marketplace.analytics.models import AnalyticsSnapshot

    monkeypatch.setitem(app.config, "ANALYTICS_CACHE_SECONDS", 300)
    org = make_org("sh-icc")
    manager = make_user(roles=[("center_manager", org)])
    assert client.get("/api/v1/stats").get_json()["challenges_posted"] == 0
    challenge_factory(org, manager, status="open")
    with app.app_context():
        row = db.session.get(AnalyticsSnapshot, "stats")
        row.computed_at = datetime.now(UTC) - timedelta(minutes=6)
        db.session.commit()
    assert client.get("/api/v1/stats").get_json()["challenges_posted"] == 1
