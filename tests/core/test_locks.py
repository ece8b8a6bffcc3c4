"""Scheduled commands run once across instances: a PostgreSQL advisory lock (a no-op on SQLite)."""

from __future__ import annotations

import pytest

from marketplace import locks

GUARDED = [["challenges", "close-due"], ["analytics", "refresh"], ["payments", "reconcile"],
           ["notifications", "digest"], ["reminders", "send"]]


def test_the_lock_is_exclusive_on_postgresql_and_free_on_sqlite(app):
    with app.app_context():
        with locks.run_once("test.job") as first:
            assert first
            with locks.run_once("test.job") as second, locks.run_once("test.other") as other:
                assert second is (app.config["BACKEND"] == "sqlite") and other
        with locks.run_once("test.job") as after:
            assert after  # released on exit


@pytest.mark.parametrize("command", GUARDED, ids=lambda c: " ".join(c))
def test_a_scheduled_command_skips_while_another_instance_runs_it(app, command, monkeypatch):
    from marketplace.challenges import services

    ran = []
    monkeypatch.setattr(services, "close_due", lambda: ran.append("close-due") or [])
    runner = app.test_cli_runner()
    with app.app_context(), locks.run_once(".".join(command)) as held:
        assert held
        result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
    if app.config["BACKEND"] == "postgresql":
        assert "already running on another instance; skipped" in result.output
        assert ran == []
    else:
        assert "skipped" not in result.output


def test_close_due_runs_when_nobody_else_does(app, monkeypatch):
    from marketplace.challenges import services

    ran = []
    monkeypatch.setattr(services, "close_due", lambda: ran.append(1) or [])
    result = app.test_cli_runner().invoke(args=["challenges", "close-due"])
    assert result.exit_code == 0 and ran == [1] and "Closed 0 challenge(s)." in result.output
