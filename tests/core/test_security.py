"""Security baseline: headers and CSP, cookies, sanitised Markdown, autoescaping, no debug in production."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace import create_app
from marketplace.text import render_markdown
from tests.factories import TEST_PASSWORD, sign_in
from tests.helpers import csrf_token_from

PAGES = ["/", "/auth/login", "/auth/register", "/auth/reset", "/no-such-page"]
API = ["/api/v1/openapi.json", "/api/v1/me", "/api/v1/does-not-exist"]


# --- headers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES + API)
def test_security_headers_on_pages_and_api(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/auth/login", "/auth/register", "/auth/reset"])
def test_pages_work_under_the_strict_csp(client, path):
    """No inline script or style, which the CSP would block in a browser."""
    page = client.get(path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page and "<style" not in page
    assert not re.search(r"\son[a-z]+=", page)


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


# --- cookies ---------------------------------------------------------------------------------

def test_session_cookie_is_httponly_and_samesite(client, make_user):
    response = sign_in(client, make_user())
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.fixture
def production_app(monkeypatch, tmp_path):
    """The app as `gunicorn wsgi:app` builds it from a production environment (even with FLASK_DEBUG set)."""
    for name in ("FLASK_ENV_MODE", "SESSION_COOKIE_SECURE", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FLASK_DEBUG", "1")
    application = create_app({"RATELIMIT_STORAGE_URI": "memory://"})

    @application.get("/boom")
    def boom():
        raise RuntimeError("secret internals: /srv/innobridge/config.py line 42")

    return application


def test_production_config_has_no_debug_mode_and_secure_cookies(production_app):
    assert production_app.debug is False and production_app.testing is False
    assert production_app.config["DEVELOPMENT"] is False
    page = production_app.test_client().get("/auth/login")
    cookie = next(v for v in page.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert os.stat(os.path.join(production_app.instance_path, "secret_key")).st_mode & 0o077 == 0


def test_production_errors_show_no_traceback(production_app):
    response = production_app.test_client().get("/boom")
    assert response.status_code == 500 and response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert "Something went wrong on our side" in body


def test_development_mode_allows_debug_only_when_asked(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FLASK_ENV_MODE", "development")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert create_app({"RATELIMIT_STORAGE_URI": "memory://"}).debug is True
    monkeypatch.setenv("FLASK_DEBUG", "0")
    assert create_app({"RATELIMIT_STORAGE_URI": "memory://"}).debug is False


# --- Markdown --------------------------------------------------------------------------------

class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_harmless(html: str) -> None:
    assert "<script" not in html.lower() and "<iframe" not in html.lower()
    parser = _Collector()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in {"script", "style", "iframe", "object", "embed", "img", "svg", "math", "form"}, html
        for name, value in attrs:
            assert not name.startswith("on"), html
            assert name in {"href", "title", "align", "rel"}, html
            if name == "href" and value:
                scheme = re.sub(r"[\x00-\x20]", "", value).lower().split(":", 1)
                assert len(scheme) == 1 or scheme[0] in {"http", "https", "mailto"}, html


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)" onclick="x()">a</a>',
    "![x](javascript:alert(1))",
    "![x](https://tracker.example/pixel.png)",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<svg onload=alert(1)>",
    "```\n<script>alert(1)</script>\n```",
    "| a | b |\n|---|---|\n| <b onmouseover=x>1</b> | 2 |",
])
def test_markdown_neutralises_known_attacks(source):
    # A refused link may stay visible as plain text; it must never become a tag or an attribute.
    assert_harmless(str(render_markdown(source)))


def test_markdown_keeps_ordinary_formatting():
    html = str(render_markdown("# Title\n\n**bold** and *it* with [a link](https://example.org) and `code`"))
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">a link</a>' in html
    assert "<code>code</code>" in html


DANGEROUS = st.sampled_from([
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "javascript:", "JAVASCRIPT:", "[a](", ")", "](",
    "![", "<a href=", '"', "'", "onload=", " onerror=", "<svg", "&#", "<", ">", "`", "\n", "\t", "*", "|",
    "&lt;script&gt;", "data:", "vbscript:", "<iframe src=", "<style>", "\x00",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(DANGEROUS | st.text(max_size=12), max_size=25).map("".join))
def test_markdown_output_is_harmless_for_any_input(source):
    assert_harmless(str(render_markdown(source)))


# --- autoescaping ----------------------------------------------------------------------------

def test_display_name_with_html_is_escaped_on_the_account_page(client, make_user, login):
    name = '<script>alert("x")</script><b onmouseover=alert(1)>Ada</b>'
    login(make_user(name=name))
    page = client.get("/account").get_data(as_text=True)
    assert "<script>alert" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;alert(" in page


# --- NUL characters (PostgreSQL text cannot store them) --------------------------------------

def test_nul_characters_are_refused_with_400_not_500(client, app, make_user, login):
    from marketplace.accounts.models import User
    from marketplace.extensions import db

    body = {"email": "ada@example.org", "password": TEST_PASSWORD, "display_name": "Ada\x00", "country": "GB"}
    api = client.post("/api/v1/auth/register", json=body)
    assert api.status_code == 400 and api.mimetype == "application/problem+json"
    nested = client.post("/api/v1/auth/tokens", json={"email": ["x\x00"], "password": "x"})
    assert nested.status_code == 400
    assert client.get("/api/v1/audit?entity=user\x00").status_code == 400
    assert client.get("/auth/confirm/abc%00def").status_code == 400

    form = {**body, "confirm": TEST_PASSWORD, "locale": "en", "csrf_token": csrf_token_from(client.get("/"))}
    page = client.post("/auth/register", data=form)
    assert page.status_code == 400 and page.mimetype == "text/html"
    user = make_user()
    login(user)
    settings = {"display_name": "\x00", "country": "DE", "locale": "en", "timezone": "UTC",
                "csrf_token": csrf_token_from(client.get("/account"))}
    assert client.post("/account", data=settings).status_code == 400
    with app.app_context():
        assert db.session.scalars(db.select(User.display_name)).all() == ["Test User"]
