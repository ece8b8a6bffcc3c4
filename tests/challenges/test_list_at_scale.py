"""The public list at scale: keyset cursors, the page cap, the cached total, and HTTP caching of public pages."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.challenges.models import Challenge
from marketplace.extensions import db


@pytest.fixture
def seven(app, center):
    """Seven open challenges whose sort keys tie in pairs (the id must break the ties)."""
    ids = [center.open_challenge() for _ in range(7)]
    base = datetime(2027, 1, 1, tzinfo=UTC)
    with app.app_context():
        for index, challenge_id in enumerate(ids):
            challenge = db.session.get(Challenge, challenge_id)
            challenge.published_at = base + timedelta(days=index // 2)
            challenge.deadline = datetime.now(UTC) + timedelta(days=30 + index // 2)
            challenge.award_minor = 1_000_000 * (1 + index // 2)
        db.session.commit()
    return ids


def walk(client, sort: str, per_page: int = 3) -> list[int]:
    """Every id by following next_cursor from page 1."""
    seen, url = [], f"/api/v1/challenges?sort={sort}&per_page={per_page}"
    body = client.get(url).get_json()
    for page in range(2, 10):
        seen += [item["id"] for item in body["items"]]
        if not body["next_cursor"]:
            return seen
        body = client.get(f"{url}&cursor={body['next_cursor']}&page={page}").get_json()
    raise AssertionError("the cursor never ended")


@pytest.mark.parametrize("sort", ["newest", "deadline", "award"])
def test_following_the_cursor_lists_every_challenge_once_in_order(client, seven, sort):
    by_offset = [item["id"] for item in client.get(f"/api/v1/challenges?sort={sort}&per_page=7").get_json()["items"]]
    expected = {"newest": sorted(seven, key=lambda i: (seven.index(i) // 2, i), reverse=True),
                "deadline": sorted(seven, key=lambda i: (seven.index(i) // 2, i)),
                "award": sorted(seven, key=lambda i: (seven.index(i) // 2, i), reverse=True)}[sort]
    assert by_offset == expected
    assert walk(client, sort) == expected


def test_cursor_and_page_numbers_agree_and_the_last_page_has_no_cursor(client, seven):
    first = client.get("/api/v1/challenges?per_page=3").get_json()
    second = client.get("/api/v1/challenges?per_page=3&page=2").get_json()
    by_cursor = client.get(f"/api/v1/challenges?per_page=3&page=2&cursor={first['next_cursor']}").get_json()
    assert [i["id"] for i in by_cursor["items"]] == [i["id"] for i in second["items"]]
    assert by_cursor["page"] == 2 and by_cursor["total"] == 7 and by_cursor["total_is_estimate"] is False
    last = client.get("/api/v1/challenges?per_page=3&page=3").get_json()
    assert len(last["items"]) == 1 and last["next_cursor"] is None


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(("sort", "cursor"), [
    ("newest", "garbage"), ("newest", "%25%25"), ("newest", _b64([])), ("newest", _b64({"a": 1})),
    ("newest", _b64(["award", 1, 1])), ("newest", _b64(["newest", "2027", 1])), ("newest", _b64(["newest", None, 1])),
    ("newest", _b64(["newest", "2027-01-01T00:00:00", 1])),
    ("newest", _b64(["newest", "2027-01-01T00:00:00+00:00", 10**20])),
    ("award", _b64(["award", 10**30, 1])), ("award", _b64(["award", "1", 1])),
])
def test_a_forged_cursor_is_a_422_not_a_500(client, seven, sort, cursor):
    response = client.get(f"/api/v1/challenges?sort={sort}&cursor={cursor}")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "cursor" in response.get_json()["errors"]


def test_deep_page_numbers_are_capped_with_a_hint(client, seven):
    response = client.get("/api/v1/challenges?page=51")
    assert response.status_code == 422 and "page" in response.get_json()["errors"]
    assert client.get("/api/v1/challenges?page=50").get_json()["items"] == []
    page = client.get("/challenges?page=51", headers={"Accept-Language": "de"})
    assert page.status_code == 422 and "Nur die ersten 50 Seiten" in page.get_data(as_text=True)


def test_the_browse_page_links_to_the_next_page_by_cursor(client, seven):
    html = client.get("/challenges?sort=newest").get_data(as_text=True)
    assert "cursor=" not in html  # 7 challenges fit on one page of 20
    with client.application.app_context():
        first = client.get("/api/v1/challenges?sort=newest&per_page=20").get_json()
    assert first["next_cursor"] is None


def test_the_total_is_counted_once_per_filter_and_marked_as_cached(app, client, center, seven, monkeypatch):
    from marketplace.challenges import listing

    monkeypatch.setitem(app.config, "LIST_COUNT_SECONDS", 60)
    monkeypatch.setattr(listing, "_counts", {})
    first = client.get("/api/v1/challenges").get_json()
    assert first["total"] == 7 and first["total_is_estimate"] is False
    center.open_challenge()
    cached = client.get("/api/v1/challenges").get_json()
    assert cached["total"] == 7 and cached["total_is_estimate"] is True and len(cached["items"]) == 8
    other_filter = client.get("/api/v1/challenges?field=semiconductors").get_json()
    assert other_filter["total_is_estimate"] is False


def test_the_list_does_not_load_the_wide_columns(app, client, seven):
    from sqlalchemy import event

    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get("/api/v1/challenges").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    listing_sql = [s for s in statements if "FROM challenges" in s and "ORDER BY" in s]
    assert listing_sql and all("quote" not in s and "clearance_note" not in s for s in listing_sql)


# --- HTTP caching --------------------------------------------------------------------------------

PUBLIC_PATHS = ["/", "/challenges", "/api/v1/challenges", "/stats", "/api/v1/stats"]


@pytest.mark.parametrize("path", PUBLIC_PATHS + ["detail", "api-detail"])
def test_anonymous_public_pages_are_cacheable_and_answer_304(app, client, seven, path, monkeypatch):
    monkeypatch.setitem(app.config, "ANALYTICS_CACHE_SECONDS", 300)  # /stats: the snapshot, not live figures
    path = {"detail": f"/challenges/{seven[0]}", "api-detail": f"/api/v1/challenges/{seven[0]}"}.get(path, path)
    response = client.get(path)
    assert response.status_code == 200 and response.headers.get("ETag")
    assert response.cache_control.public and response.cache_control.max_age == 60
    assert "Set-Cookie" not in response.headers and "Accept-Language" in response.headers["Vary"]
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_stats_send_last_modified_and_honour_if_modified_since(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ANALYTICS_CACHE_SECONDS", 300)
    response = client.get("/api/v1/stats")
    assert response.last_modified is not None
    later = response.headers["Last-Modified"]
    assert client.get("/api/v1/stats", headers={"If-Modified-Since": later}).status_code == 304


def test_signed_in_users_get_private_answers(client, seven, make_user, login, api_token):
    user = make_user()
    token = api_token(user)
    api = client.get("/api/v1/challenges", headers=token)
    assert api.status_code == 200 and api.cache_control.private and not api.cache_control.public
    assert "ETag" not in api.headers
    login(user)
    for path in ("/", "/challenges", f"/challenges/{seven[0]}"):
        page = client.get(path)
        assert page.status_code == 200 and page.cache_control.private and not page.cache_control.public
        etag = page.headers.get("ETag")
        assert etag is None or client.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_anonymous_pages_carry_no_csrf_token_and_the_language_switch_still_works(client):
    html = client.get("/").get_data(as_text=True)
    assert 'name="csrf_token" value="visitor"' in html
    response = client.post("/language", data={"locale": "de", "next": "/challenges", "csrf_token": "visitor"})
    assert response.status_code == 302
    assert 'lang="de"' in client.get("/challenges").get_data(as_text=True)


def test_error_answers_are_not_shared(client):
    response = client.get("/api/v1/challenges?sort=sideways")
    assert response.status_code == 422 and not response.cache_control.public
