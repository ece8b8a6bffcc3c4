"""Countries are chosen from localized names everywhere and checked on the server."""

from __future__ import annotations

from marketplace.countries import country_choices, country_name, country_problems, is_country


def test_names_follow_the_viewers_language(app):
    with app.test_request_context():
        assert country_name("DE", "zh_Hans") == "德国"
        assert country_name("DE", "ar") == "ألمانيا"
        assert country_name("DE", "de") == "Deutschland"
        assert country_name("de", "en") == "Germany"
        assert country_name("XX", "en") == "XX"


def test_codes_are_real_iso_countries_only(app):
    with app.test_request_context():
        assert is_country("CN") and is_country("cn")
        assert not is_country("XX") and not is_country("") and not is_country(None) and not is_country("DEU")
        assert country_problems("XX") and not country_problems("FR")


def test_choices_are_sorted_by_the_localized_name(app):
    with app.test_request_context("/?lang=de"):
        names = [name for _code, name in country_choices(blank=None)]
        assert len(names) > 240
        assert names.index("Österreich") < names.index("Polen")  # the umlaut sorts with O
        assert country_choices()[0] == ("", "—")


def test_registration_offers_countries_in_the_visitors_language(client):
    page = client.get("/auth/register?lang=ja").get_data(as_text=True)
    assert '<option value="DE">ドイツ</option>' in page and '<option value="CN">中国</option>' in page
