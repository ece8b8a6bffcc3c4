"""Interface language: negotiation order, right-to-left Arabic, the switcher, locale-aware formatting."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime as babel_format_datetime
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.i18n import LANGUAGES, currency_digits, format_money, normalise_locale
from tests.factories import sign_in
from tests.helpers import csrf_token_from

CJK = re.compile(r"[\u4e00-\u9fff]")


def html_tag(response) -> dict[str, str]:
    match = re.search(rb"<html([^>]*)>", response.data)
    assert match, response.data[:200]
    return {k.decode(): v.decode() for k, v in re.findall(rb'(\w+)="([^"]*)"', match.group(1))}


def page_lang(client, path="/", **kwargs) -> str:
    return html_tag(client.get(path, **kwargs))["lang"]


def switch(client, locale: str, next_path: str = "/"):
    token = csrf_token_from(client.get("/"))
    return client.post("/language", data={"locale": locale, "next": next_path, "csrf_token": token})


def in_catalog(app, locale: str, message: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(message)


# --- normalisation (pure) --------------------------------------------------------------------

@pytest.mark.parametrize("given", ["zh", "zh-CN", "zh_CN", "zh-Hans", "zh_Hans", "zh-Hans-CN", "zh-SG", "zh-TW",
                                   "zh-Hant", "ZH-cn", "zh-hans"])
def test_every_chinese_variant_is_zh_hans(given):
    assert normalise_locale(given) == "zh_Hans"


@pytest.mark.parametrize(("given", "expected"), [
    ("de-AT", "de"), ("DE", "de"), ("en-GB", "en"), ("fr_CA", "fr"), ("es-419", "es"), ("ar-EG", "ar"),
    ("ja-JP", "ja"), ("ko-KR", "ko"), ("pt-BR", None), ("tlh", None), ("", None), (None, None), ("*", None),
    ("x" * 100, None), ("../../etc/passwd", None), ("de\n", "de"),
])
def test_normalise_locale(given, expected):
    assert normalise_locale(given) == expected


# --- negotiation order -----------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "lang"), [
    ("de-DE,de;q=0.9,en;q=0.5", "de"),
    ("zh-CN,zh;q=0.9", "zh-Hans"),
    ("zh-TW", "zh-Hans"),
    ("zh-Hans-CN", "zh-Hans"),
    ("pt-BR,ja;q=0.8", "ja"),  # the first offered language wins
    ("xx-YY, tlh;q=0.8", "en"),
    ("garbage;;;q=abc,,", "en"),
    ("", "en"),
])
def test_accept_language(client, accept, lang):
    assert page_lang(client, headers={"Accept-Language": accept}) == lang


@pytest.mark.parametrize(("query", "lang"), [
    ("zh", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh-Hans", "zh-Hans"), ("zh-Hans-CN", "zh-Hans"),
    ("zh-SG", "zh-Hans"), ("zh-TW", "zh-Hans"), ("ko", "ko"), ("garbage", "en"), ("", "en"),
])
def test_lang_query_parameter(client, query, lang):
    assert page_lang(client, f"/?lang={query}") == lang


def test_order_account_then_query_then_switcher_then_browser(client, app, make_user, login):
    german_browser = {"Accept-Language": "de"}
    assert page_lang(client, headers=german_browser) == "de"
    assert switch(client, "fr").status_code == 302
    assert page_lang(client, headers=german_browser) == "fr"  # the switcher beats the browser
    assert page_lang(client, "/?lang=ja", headers=german_browser) == "ja"  # ?lang= beats the switcher
    assert page_lang(client, "/?lang=nonsense", headers=german_browser) == "fr"

    login(make_user(locale="ko"))  # signing in brings the saved preference
    assert page_lang(client, headers=german_browser) == "ko"
    assert page_lang(client, "/?lang=ja", headers=german_browser) == "ko"  # the account beats everything


# --- right to left ---------------------------------------------------------------------------

@pytest.mark.parametrize("locale", list(LANGUAGES))
def test_direction_follows_the_language(client, locale):
    tag = html_tag(client.get(f"/?lang={locale}"))
    assert tag["lang"] == locale.replace("_", "-")
    assert tag["dir"] == ("rtl" if locale == "ar" else "ltr")


# --- the switcher ----------------------------------------------------------------------------

def test_switcher_is_on_every_page_with_every_language(client):
    for path in ("/", "/auth/login", "/auth/register", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        assert 'action="/language"' in page, path
        for code, (name, _dir) in LANGUAGES.items():
            assert f'value="{code}"' in page and name in page


def test_switcher_saves_the_choice_for_a_visitor_and_goes_back(client, app):
    response = switch(client, "zh_Hans", "/auth/login?x=1")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login?x=1"
    page = client.get("/auth/login?x=1")
    assert html_tag(page)["lang"] == "zh-Hans"
    sign_in = in_catalog(app, "zh_Hans", "Sign in")
    assert CJK.search(sign_in), "the zh_Hans catalog has no Chinese for 'Sign in'"
    assert sign_in in page.get_data(as_text=True)


def test_switcher_saves_the_choice_on_the_account(client, app, make_user, login):
    user = make_user(locale="en")
    login(user)
    switch(client, "ar")
    with app.app_context():
        assert db.session.get(User, user.id).locale == "ar"
    # A fresh session (another browser) gets the saved language after signing in.
    other = app.test_client()
    sign_in(other, user)
    assert html_tag(other.get("/"))["dir"] == "rtl"


def test_switcher_refuses_unknown_languages_and_foreign_next(client):
    response = switch(client, "tlh", "https://evil.example/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert page_lang(client) == "en"


def test_switcher_needs_the_csrf_token(client, app, make_user, login):
    user = make_user(locale="en")
    login(user)
    assert client.post("/language", data={"locale": "de"}).status_code == 400
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"


# --- formatting ------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "currency", "locale", "expected"), [
    ("1234.5", "EUR", "de", "1.234,50\xa0€"),
    (Decimal("1234.5"), "USD", "en", "$1,234.50"),
    ("1234.5", "CNY", "zh_Hans", "¥1,234.50"),
    ("150000", "JPY", "ja", "￥150,000"),
    ("150000", "JPY", "en", "¥150,000"),
    ("1234.5", "EUR", "fr", "1\u202f234,50\xa0€"),
    (0, "GBP", "en", "£0.00"),
])
def test_format_money_per_locale(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


def test_format_money_uses_the_interface_locale(app):
    with app.test_request_context("/?lang=de"):
        assert format_money("1234.5", "EUR") == "1.234,50\xa0€"


def test_currency_minor_digits():
    assert (currency_digits("JPY"), currency_digits("EUR"), currency_digits("USD"), currency_digits("KWD")) == (
        0, 2, 2, 3)


def test_dates_follow_the_users_locale_and_time_zone(client, app, make_user, login):
    user = make_user(locale="de")
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.timezone = "Asia/Shanghai"
        stored.created_at = datetime(2027, 3, 1, 20, 30, tzinfo=UTC)
        db.session.commit()
    login(user)
    page = client.get("/account").get_data(as_text=True)
    expected = babel_format_datetime(datetime(2027, 3, 1, 20, 30, tzinfo=UTC), "medium",
                                     tzinfo=ZoneInfo("Asia/Shanghai"), locale="de")
    assert "02.03.2027" in expected and "04:30" in expected  # the next morning in Shanghai
    assert expected in page
    assert "Asia/Shanghai" in page  # the footer says which zone times are in
