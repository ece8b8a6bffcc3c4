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


def _age(app, name: str, minutes: int) -> None:
    from marketplace.analytics.models import AnalyticsSnapshot

    with app.app_context():
        row = db.session.get(AnalyticsSnapshot, name)
        row.computed_at = datetime.now(UTC) - timedelta(minutes=minutes)
        db.session.commit()


def test_a_stale_snapshot_is_served_while_one_background_refresh_renews_it(app, client, monkeypatch, make_org,
                                                                           make_user, challenge_factory):
    from marketplace.analytics import cache, stats

    monkeypatch.setitem(app.config, "ANALYTICS_CACHE_SECONDS", 300)
    computed, started = [], []
    real = stats.public_stats
    monkeypatch.setattr(stats, "public_stats", lambda: computed.append(1) or real())
    monkeypatch.setattr(cache, "start_in_background", started.append)
    monkeypatch.setattr(cache, "_refreshing", set())  # refreshes left pending by other tests
    org = make_org("sh-icc")
    manager = make_user(roles=[("center_manager", org)])
    first = client.get("/api/v1/stats").get_json()  # no snapshot yet: this one request computes it
    assert first["challenges_posted"] == 0 and len(computed) == 1
    challenge_factory(org, manager, status="open")
    _age(app, "stats", 6)
    answers = [client.get("/api/v1/stats").get_json() for _ in range(5)] + [client.get("/stats")]
    assert all(a["challenges_posted"] == 0 for a in answers[:5]) and answers[5].status_code == 200
    assert len(computed) == 1 and len(started) == 1  # no request recomputed; one refresh was started
    started[0]()  # the background refresh runs
    assert len(computed) == 2
    fresh = client.get("/api/v1/stats").get_json()
    assert fresh["challenges_posted"] == 1 and fresh["as_of"] > first["as_of"]
    _age(app, "stats", 6)
    client.get("/api/v1/stats")
    assert len(started) == 2  # once finished, the next stale read may start another


def test_the_background_refresh_skips_when_another_instance_holds_the_lock(app, client, monkeypatch):
    from marketplace import locks
    from marketplace.analytics import cache, stats

    monkeypatch.setitem(app.config, "ANALYTICS_CACHE_SECONDS", 300)
    computed, started = [], []
    real = stats.public_stats
    monkeypatch.setattr(stats, "public_stats", lambda: computed.append(1) or real())
    monkeypatch.setattr(cache, "start_in_background", started.append)
    monkeypatch.setattr(cache, "_refreshing", set())  # refreshes left pending by other tests
    client.get("/api/v1/stats")
    _age(app, "stats", 6)
    client.get("/api/v1/stats")
    with app.app_context(), locks.run_once("analytics-snapshot:stats") as held:
        assert held
        started[0]()
    # PostgreSQL: another instance held the lock, so this one did not recompute; SQLite has no such lock.
    assert len(computed) == (1 if app.config["BACKEND"] == "postgresql" else 2)
