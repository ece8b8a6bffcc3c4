"""page_actions.run_action: the one way an HTML route runs a form action."""

from __future__ import annotations

from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db
from marketplace.page_actions import Refusal, run_action


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField(validators=[DataRequired()])


def _post(app, data: dict):
    return app.test_request_context("/", method="POST", data=data)


def _calls(seen: list):
    """Records which session methods ran, in order."""
    return {"commit": lambda: seen.append("commit"), "rollback": lambda: seen.append("rollback")}


def test_done_commits_flashes_and_redirects(app, monkeypatch):
    seen: list[str] = []
    with _post(app, {"name": "Ada"}):
        for name, fake in _calls(seen).items():
            monkeypatch.setattr(db.session, name, fake)
        response = run_action(lambda: 7, form=NameForm(), success=lambda result: f"Saved {result}.",
                              redirect_to=lambda result: f"/things/{result}",
                              after_commit=lambda result: seen.append(f"after {result}"))
        assert (response.status_code, response.location) == (302, "/things/7")
        assert seen == ["commit", "after 7"]
        assert get_flashed_messages(with_categories=True) == [("success", "Saved 7.")]


def test_a_refusal_rolls_back_marks_the_field_and_shows_the_page_again(app, monkeypatch):
    seen: list[str] = []

    def refuse():
        raise ValidationFailed("Not that name.", errors={"name": ["Taken."], "other": ["Elsewhere."]})

    with _post(app, {"name": "Ada"}):
        for name, fake in _calls(seen).items():
            monkeypatch.setattr(db.session, name, fake)
        form = NameForm()
        shown: list[Refusal] = []
        body = run_action(refuse, form=form, success="never", redirect_to="/never",
                          refused=lambda refusal: shown.append(refusal) or ("page", refusal.status))
        assert body == ("page", 422) and seen == ["rollback"]
        assert form.name.errors == ["Taken."] and form.form_errors == ["Elsewhere."]
        assert shown[0].problems == ["name: Taken.", "other: Elsewhere."]
        assert get_flashed_messages(with_categories=True) == [("error", "Not that name.")]


def test_an_invalid_form_never_calls_the_service(app):
    called: list[int] = []
    with _post(app, {"name": ""}):
        body = run_action(lambda: called.append(1), form=NameForm(), invalid_status=400, success="never",
                          redirect_to="/never", refused=lambda refusal: ("page", refusal.status, refusal.error))
        assert body == ("page", 400, None) and called == []


def test_a_recorded_refusal_replaces_the_rollback_and_a_url_sends_back(app, monkeypatch):
    seen: list[str] = []
    with _post(app, {}):
        for name, fake in _calls(seen).items():
            monkeypatch.setattr(db.session, name, fake)

        def refuse():
            raise Conflict("Too late.")

        response = run_action(refuse, success="never", redirect_to="/back",
                              record_refusal=lambda error: seen.append(f"recorded {error.status}"))
        assert (response.status_code, response.location) == (302, "/back")
        assert seen == ["recorded 409"]
        assert get_flashed_messages(with_categories=True) == [("error", "Too late.")]


def test_a_custom_show_replaces_the_flash(app, monkeypatch):
    monkeypatch.setattr(db.session, "rollback", lambda: None)
    placed: list[str] = []

    def refuse():
        raise Conflict("Already followed.")

    with _post(app, {}):
        run_action(refuse, success="never", redirect_to="/back", show=lambda error: placed.append(str(error.detail)))
        assert placed == ["Already followed."] and get_flashed_messages() == []
