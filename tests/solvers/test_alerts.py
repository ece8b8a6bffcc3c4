"""Interest alerts: what matches a published challenge, in-app notifications, mails in the follower's
language, the digest, and the interests / alert-settings / notifications API."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext

from marketplace.solvers.alerts import ChallengeText
from tests.helpers import outbox, rows

TEXTS = {
    "title": {"en": "Low-noise readout circuit for MEMS gyroscopes",
              "zh_Hans": "用于MEMS陀螺仪的低噪声读出电路",
              "de": "Rauscharme Ausleseschaltung für MEMS-Gyroskope"},
    "summary": {"en": "Design a readout chain below 2 nV/√Hz for inertial sensors.",
                "zh_Hans": "为惯性传感器设计噪声低于 2 nV/√Hz 的读出链路。",
                "de": "Entwerfen Sie eine Auslesekette unter 2 nV/√Hz für Inertialsensoren."},
    "description": {"en": "Full description.", "zh_Hans": "完整描述。", "de": "Vollständige Beschreibung."},
}
OTHER_TEXTS = {
    "title": {"en": "Wafer-level packaging for power devices", "zh_Hans": "功率器件的晶圆级封装"},
    "summary": {"en": "Thermal budget below 250 °C.", "zh_Hans": "热预算低于 250 °C。"},
    "description": {"en": "Full description.", "zh_Hans": "完整描述。"},
}


@pytest.fixture
def center(make_org, make_user):
    org = make_org("sh-icc")
    return org, make_user(roles=[("center_manager", org)], country="CN", locale="zh_Hans")


@pytest.fixture
def follow(app):
    """follow(user, kind, value): through the service, as the API would."""
    from marketplace.accounts.models import User
    from marketplace.extensions import db
    from marketplace.solvers import alerts

    def add(user, kind, value, *, digest=None):
        with app.test_request_context():
            row = db.session.get(User, user.id)
            alerts.follow(row, kind, value, actor=row)
            if digest is not None:
                alerts.set_digest(row, digest, actor=row)
            db.session.commit()
        return user

    return add


def notifications_of(app, user):
    from marketplace.extensions import db
    from marketplace.solvers.models import Notification

    with app.app_context():
        return db.session.scalars(db.select(Notification).where(Notification.user_id == user.id)
                                  .order_by(Notification.id)).all()


def mails_to(app, user):
    """Alert and digest mails to `user` (not the confirmation mail an unconfirmed account gets)."""
    return [mail for mail in outbox(app)
            if mail.recipient == user.email and mail.template in ("challenge_alert", "challenge_digest")]


# --- matching ------------------------------------------------------------------------------------------

def challenge_like(field: str, *texts: tuple[str, str]) -> ChallengeText:
    return ChallengeText(SimpleNamespace(field=field, texts=[SimpleNamespace(title=t, summary=s) for t, s in texts]))


@pytest.mark.parametrize(("kind", "value", "matches"), [
    ("field", "sensors", True),
    ("field", "semiconductors", False),
    ("tag", "sensors", True),  # a tag that names the field
    ("tag", "sensor", True),  # ... or its singular
    ("tag", "analog-design", True),  # "Analog design" in the title
    ("tag", "mems", True),  # "MEMS-based" in the summary
    ("tag", "lithography", False),
    ("keyword", "readout circuit", True),  # "Readout circuits": a final s is allowed
    ("keyword", "ai", True),  # the word "AI"
    ("keyword", "tai", False),  # never inside another word ("maintain")
    ("keyword", "c++", True),
    ("keyword", "gyroskop", False),  # German text is matched as words too
    ("keyword", "gyroskope", True),
    ("keyword", "传感器", True),  # Chinese: a substring of 气体传感器阵列
    ("keyword", "陀螺", False),
])
def test_what_a_challenge_matches(kind, value, matches):
    challenge = challenge_like(
        "sensors",
        ("Analog design of readout circuits", "MEMS-based AI accelerators that maintain accuracy; a C++ toolchain."),
        ("Ausleseschaltung für Gyroskope", ""),
        ("气体传感器阵列的读出电路", "低功耗"),
    )
    assert challenge.matches(kind, value) is matches


# --- publishing notifies followers -----------------------------------------------------------------------

def test_a_follower_is_notified_in_app_and_mailed_in_their_language(app, center, make_user, follow,
                                                                     challenge_factory):
    german = follow(make_user(country="DE", locale="de"), "tag", "mems")
    english = follow(make_user(country="GB", locale="en"), "keyword", "readout circuit")
    bystander = follow(make_user(country="FR", locale="fr"), "keyword", "lithography")
    challenge = challenge_factory(*center, field="sensors", **TEXTS)

    [note] = notifications_of(app, german)
    assert note.kind == "challenge_published" and note.mailed and note.read_at is None
    assert note.payload["challenge_id"] == challenge.id and note.payload["reasons"] == [["tag", "mems"]]

    [mail] = mails_to(app, german)
    assert mail.locale == "de"
    assert "Rauscharme Ausleseschaltung für MEMS-Gyroskope" in mail.body_text  # the German title
    assert f"/challenges/{challenge.id}" in mail.body_text
    with app.test_request_context(), force_locale("de"):
        german_subject = babel_gettext("A new challenge matches your interests")
    assert mail.subject == german_subject  # German once the catalog has it, English until then

    [english_mail] = mails_to(app, english)
    assert english_mail.locale == "en" and "Low-noise readout circuit for MEMS gyroscopes" in english_mail.body_text
    assert english_mail.subject == "A new challenge matches your interests"
    assert notifications_of(app, bystander) == [] and mails_to(app, bystander) == []


def test_a_field_follower_gets_the_challenge_title_in_chinese(app, center, make_user, follow, challenge_factory):
    chinese = follow(make_user(country="SG", locale="zh_Hans"), "field", "Sensors")
    challenge_factory(*center, field="sensors", **TEXTS)
    [mail] = mails_to(app, chinese)
    assert mail.locale == "zh_Hans" and "用于MEMS陀螺仪的低噪声读出电路" in mail.body_text


def test_excluded_and_unconfirmed_followers(app, center, make_user, follow, challenge_factory):
    excluded = follow(make_user(country="KP"), "tag", "mems")  # the challenge excludes KP
    unconfirmed = follow(make_user(country="DE", confirmed=False), "tag", "mems")
    challenge_factory(*center, field="sensors", **TEXTS)
    assert notifications_of(app, excluded) == [] and mails_to(app, excluded) == []
    [note] = notifications_of(app, unconfirmed)  # told in the app, but no mail to an unconfirmed address
    assert not note.mailed and mails_to(app, unconfirmed) == []


def test_one_notification_even_when_several_interests_match(app, center, make_user, follow, challenge_factory):
    user = make_user()
    follow(user, "tag", "mems")
    follow(user, "field", "sensors")
    follow(user, "keyword", "gyroscope")
    challenge_factory(*center, field="sensors", **TEXTS)
    [note] = notifications_of(app, user)
    assert note.payload["reasons"] == [["field", "sensors"], ["keyword", "gyroscope"], ["tag", "mems"]]
    assert len(mails_to(app, user)) == 1


def test_drafts_and_cleared_challenges_notify_nobody(app, center, make_user, follow, challenge_factory):
    user = follow(make_user(), "field", "sensors")
    challenge_factory(*center, status="funded", field="sensors", **TEXTS)
    assert notifications_of(app, user) == []


# --- the digest ------------------------------------------------------------------------------------------

def test_digest_users_get_no_mail_at_once_and_one_digest_later(app, center, make_user, follow, challenge_factory):
    digest = follow(make_user(country="DE", locale="de"), "field", "semiconductors", digest=True)
    first = challenge_factory(*center, field="semiconductors", **TEXTS)
    second = challenge_factory(*center, field="semiconductors", **OTHER_TEXTS)
    assert len(notifications_of(app, digest)) == 2
    assert mails_to(app, digest) == []

    result = app.test_cli_runner().invoke(args=["notifications", "digest"])
    assert result.exit_code == 0, result.output
    assert "1 digest(s) with 2 challenge alert(s) queued" in result.output
    [mail] = mails_to(app, digest)
    assert mail.template == "challenge_digest" and mail.locale == "de"
    assert "Rauscharme Ausleseschaltung" in mail.body_text and "Wafer-level packaging" in mail.body_text
    assert f"/challenges/{first.id}" in mail.body_text and f"/challenges/{second.id}" in mail.body_text
    assert all(note.mailed for note in notifications_of(app, digest))

    again = app.test_cli_runner().invoke(args=["notifications", "digest"])
    assert "0 digest(s)" in again.output and len(mails_to(app, digest)) == 1


def test_the_digest_holds_only_what_came_since_the_last_one(app, center, make_user, follow, challenge_factory):
    from marketplace.extensions import db
    from marketplace.solvers.models import AlertSettings

    digest = follow(make_user(), "field", "semiconductors", digest=True)
    challenge_factory(*center, field="semiconductors", **TEXTS)
    app.test_cli_runner().invoke(args=["notifications", "digest"])
    challenge_factory(*center, field="semiconductors", **OTHER_TEXTS)
    app.test_cli_runner().invoke(args=["notifications", "digest"])
    first, second = mails_to(app, digest)
    assert "Low-noise readout" in first.body_text and "Wafer-level" not in first.body_text
    assert "Wafer-level" in second.body_text and "Low-noise readout" not in second.body_text
    with app.app_context():
        assert db.session.get(AlertSettings, digest.id).last_digest_at is not None


# --- interests and alert settings API ---------------------------------------------------------------------

def test_interests_api(client, make_user, api_token):
    headers = api_token(make_user())
    created = client.post("/api/v1/me/interests", json={"kind": "tag", "value": " MEMS "}, headers=headers)
    assert created.status_code == 201 and created.get_json()["value"] == "mems"
    again = client.post("/api/v1/me/interests", json={"kind": "tag", "value": "mems"}, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == created.get_json()["id"]
    client.post("/api/v1/me/interests", json={"kind": "keyword", "value": "Readout  Circuit"}, headers=headers)
    client.post("/api/v1/me/interests", json={"kind": "field", "value": "sensors"}, headers=headers)
    listed = client.get("/api/v1/me/interests", headers=headers).get_json()
    assert [(i["kind"], i["value"]) for i in listed["items"]] == [
        ("field", "sensors"), ("keyword", "readout circuit"), ("tag", "mems")]
    assert listed["total"] == 3

    assert client.delete(f"/api/v1/me/interests/{created.get_json()['id']}", headers=headers).status_code == 204
    gone = client.delete("/api/v1/me/interests", query_string={"kind": "keyword", "value": "readout circuit"},
                         headers=headers)
    assert gone.status_code == 204
    assert [i["value"] for i in client.get("/api/v1/me/interests", headers=headers).get_json()["items"]] == ["sensors"]


def test_interests_are_private_to_their_owner(client, make_user, api_token):
    mine = client.post("/api/v1/me/interests", json={"kind": "tag", "value": "mems"},
                       headers=api_token(make_user())).get_json()
    other = api_token(make_user())
    assert client.delete(f"/api/v1/me/interests/{mine['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/me/interests", headers=other).get_json()["items"] == []
    assert client.get("/api/v1/me/interests").status_code == 401


@pytest.mark.parametrize("body", [{"kind": "author", "value": "x"}, {"kind": "keyword", "value": "a"},
                                  {"kind": "tag", "value": "x" * 41}, {"kind": "tag"}])
def test_bad_interests_are_refused(app, client, make_user, api_token, body):
    assert client.post("/api/v1/me/interests", json=body, headers=api_token(make_user())).status_code == 422
    assert rows(app, "interests") == 0


def test_alert_settings_api(client, make_user, api_token):
    headers = api_token(make_user())
    assert client.get("/api/v1/me/alert-settings", headers=headers).get_json() == {"digest": False,
                                                                                   "last_digest_at": None}
    assert client.put("/api/v1/me/alert-settings", json={"digest": True}, headers=headers).get_json()["digest"]
    assert client.get("/api/v1/me/alert-settings", headers=headers).get_json()["digest"] is True
    assert client.put("/api/v1/me/alert-settings", json={"digest": "often"}, headers=headers).status_code == 422


# --- notifications API ------------------------------------------------------------------------------------

@pytest.fixture
def noted(app, make_user):
    """A user with three challenge notifications (oldest first) and another user with one."""
    from marketplace.extensions import db
    from marketplace.solvers import notifications

    user, other = make_user(locale="de"), make_user()
    with app.app_context():
        for number in (1, 2, 3):
            notifications.add(user.id, "challenge_published", {
                "challenge_id": number, "title": {"en": f"Challenge {number}", "de": f"Aufgabe {number}"},
                "default_locale": "en", "field": "sensors", "reasons": [["field", "sensors"]]})
            db.session.flush()
        notifications.add(other.id, "challenge_published", {
            "challenge_id": 9, "title": {"en": "Other"}, "default_locale": "en", "field": "x", "reasons": []})
        db.session.commit()
    return user, other


def test_notifications_newest_first_with_unread_count(client, api_token, noted):
    user, _other = noted
    body = client.get("/api/v1/me/notifications", headers=api_token(user)).get_json()
    assert [item["data"]["challenge_id"] for item in body["items"]] == [3, 2, 1]
    assert body["total"] == 3 and body["unread"] == 3
    first = body["items"][0]
    assert first["link"] == "/challenges/3" and first["read"] is False and first["created_at"].endswith("+00:00")
    assert "Aufgabe 3" in first["text"]  # the title in the reader's language


def test_marking_notifications_read(client, api_token, noted):
    user, other = noted
    headers = api_token(user)
    ids = [item["id"] for item in client.get("/api/v1/me/notifications", headers=headers).get_json()["items"]]
    others = client.get("/api/v1/me/notifications", headers=api_token(other)).get_json()["items"][0]["id"]

    marked = client.post("/api/v1/me/notifications/read", json={"ids": [ids[0], others]}, headers=headers)
    assert marked.get_json() == {"updated": 1, "unread": 2}  # someone else's id changes nothing
    assert client.get("/api/v1/me/notifications", headers=api_token(other)).get_json()["unread"] == 1
    unread = client.get("/api/v1/me/notifications?unread=true", headers=headers).get_json()
    assert [item["id"] for item in unread["items"]] == ids[1:]

    assert client.post("/api/v1/me/notifications/read", json={"all": True}, headers=headers).get_json() == {
        "updated": 2, "unread": 0}
    assert client.post("/api/v1/me/notifications/read", json={}, headers=headers).status_code == 422
    assert client.get("/api/v1/me/notifications").status_code == 401


def test_notifications_are_paginated(client, api_token, noted):
    user, _other = noted
    body = client.get("/api/v1/me/notifications?per_page=2&page=2", headers=api_token(user)).get_json()
    assert [item["data"]["challenge_id"] for item in body["items"]] == [1]
    assert (body["page"], body["per_page"], body["total"]) == (2, 2, 3)
