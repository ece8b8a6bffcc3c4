"""The application's own store of anonymous public answers (http_cache.PageStore)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from tests.helpers import counting_queries


@pytest.fixture
def published(app, make_org, make_user, challenge_factory):  # noqa: F811 - the imported fixture
    org = make_org()
    manager = make_user(roles=[("center_manager", org)])
    return challenge_factory(org, manager, status="open"), manager


def _retitle(app, challenge_id: int, title: str) -> None:
    """A committed change through the session, as every service makes one."""
    from marketplace.challenges.models import ChallengeText

    with app.app_context():
        for text in db.session.scalars(select(ChallengeText).filter_by(challenge_id=challenge_id)):
            text.title = title
        db.session.commit()


@pytest.mark.parametrize("path", ["/challenges?lang=en", "/challenges/{id}?lang=en", "/api/v1/challenges",
                                  "/api/v1/challenges/{id}", "/?lang=en"])
def test_a_second_visitor_gets_the_stored_answer_without_touching_the_database(app, client, published, path):
    challenge, _manager = published
    url = path.format(id=challenge.id)
    first = client.get(url)
    assert first.status_code == 200
    with counting_queries(app) as statements:
        second = client.get(url)
    assert second.status_code == 200 and second.get_data() == first.get_data()
    assert second.mimetype == first.mimetype and second.headers.get("ETag") == first.headers.get("ETag")
    if "/challenges/" in url:  # the view is still counted, which is the only write
        assert len(statements) == 1 and "challenge_views" in statements[0]
    else:
        assert statements == []


def test_a_committed_change_is_seen_at_once(app, client, published):
    challenge, _manager = published
    assert "Quantum readout" not in client.get(f"/challenges/{challenge.id}?lang=en").get_data(as_text=True)
    _retitle(app, challenge.id, "Quantum readout")
    assert "Quantum readout" in client.get(f"/challenges/{challenge.id}?lang=en").get_data(as_text=True)
    assert "Quantum readout" in client.get("/challenges?lang=en").get_data(as_text=True)


def test_each_language_and_query_has_its_own_answer(client, published):
    english = client.get("/challenges?lang=en").get_data(as_text=True)
    chinese = client.get("/challenges?lang=zh_Hans").get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="zh-Hans"' in chinese
    german = client.get("/challenges", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="de"' in german


def test_signed_in_users_never_get_a_stored_answer(app, client, published, login, make_user):
    challenge, _manager = published
    client.get(f"/challenges/{challenge.id}?lang=en")  # a visitor's answer is stored
    page = login(make_user()).get(f"/challenges/{challenge.id}?lang=en")
    assert "Sign out" in page.get_data(as_text=True) and "My dashboard" in page.get_data(as_text=True)
    assert "private" in page.headers["Cache-Control"]


def test_views_served_from_the_store_are_counted(app, client, published):
    from marketplace.analytics.models import ChallengeView

    challenge, _manager = published
    for _ in range(3):
        client.get(f"/challenges/{challenge.id}")
    with app.app_context():
        assert db.session.scalar(select(ChallengeView.views).filter_by(challenge_id=challenge.id)) == 3


def test_the_store_can_be_turned_off(app, client, published, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_PAGE_CACHE", False)
    client.get("/challenges?lang=en")
    with counting_queries(app) as statements:
        client.get("/challenges?lang=en")
    assert statements


def test_with_redis_every_instance_shares_the_answers_and_the_generation(app, published):
    """Two application objects (two workers or instances) on one Redis: one stores, the other serves."""
    from redis import Redis

    from marketplace.http_cache import RedisPageStore

    url = "redis://127.0.0.1:6379/9"
    try:
        Redis.from_url(url).ping()
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"Redis is part of the test machine: {error}")
    first, second = RedisPageStore(url), RedisPageStore(url)
    from flask import Response

    with app.test_request_context():
        generation = first.generation()
        first.put(f"{generation}|/x", Response("stored once", mimetype="text/plain"), None, 30)
        served = second.get(f"{second.generation()}|/x")
        assert served is not None and served.get_data(as_text=True) == "stored once"
        second.new_generation()
        assert first.generation() == generation + 1
