"""GET /api/v1/experts and /staff/experts: text, expertise, country and career filters; staff only;
private fields shown to staff and marked."""

from __future__ import annotations

import pytest

from tests.solvers.conftest import VALID_ORCID


@pytest.fixture
def experts(make_user, profile_factory):
    """Four solvers with different expertise, countries and languages."""
    anna = profile_factory(make_user(name="Anna Schmidt", country="DE"), headline="Analog IC designer",
                           expertise=["analog-design", "mixed-signal"], affiliation="TUM",
                           bio="Low-noise readout for MEMS sensors.", orcid=VALID_ORCID, early_career=True,
                           visibility={"orcid": "private", "bio": "private"})
    kenji = profile_factory(make_user(name="Kenji Tanaka", country="JP"), headline="MEMS gyroscope engineer",
                            expertise=["mems", "inertial-sensing"], affiliation="University of Tokyo",
                            research_history=[{"year": 2023, "kind": "publication",
                                               "title": "Mode-matched MEMS gyroscopes with sensor fusion"}])
    liu = profile_factory(make_user(name="Liu Chen", country="CN", locale="zh_Hans"), headline="气体传感器与信号处理",
                          expertise=["gas-sensing", "signal-processing"], affiliation="复旦大学")
    james = profile_factory(make_user(name="James Okafor", country="GB"), headline="Lithography process engineer",
                            expertise=["lithography"], affiliation="Imperial College", early_career=False)
    return {"anna": anna, "kenji": kenji, "liu": liu, "james": james}


def search(client, headers, **args):
    response = client.get("/api/v1/experts", query_string=args, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(body) -> list[str]:
    return [item["display_name"] for item in body["items"]]


# --- permission ----------------------------------------------------------------------------------------

def test_anonymous_callers_get_401(client):
    assert client.get("/api/v1/experts").status_code == 401


def test_a_solver_gets_403(client, make_user, api_token):
    response = client.get("/api/v1/experts", headers=api_token(make_user()))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("role", ["reviewer", "center_manager", "security_officer", "finance_officer", "admin"])
def test_every_staff_role_may_search(client, make_org, make_user, api_token, experts, role):
    user = make_user(roles=[(role, None if role == "admin" else make_org())])
    assert search(client, api_token(user))["total"] == 4


# --- searching -----------------------------------------------------------------------------------------

def test_text_search_is_stemmed_and_ranks_headline_matches_first(client, api_token, make_user, experts):
    # Kenji has MEMS in his headline and tags; Anna only in her (private) bio, which an admin's search matches.
    body = search(client, api_token(make_user(roles=[("admin", None)])), q="MEMS sensors")
    assert names(body) == ["Kenji Tanaka", "Anna Schmidt"]
    assert body["total"] == 2


def test_staff_searches_never_match_private_fields(client, api_token, staff, experts):
    body = search(client, api_token(staff), q="MEMS sensors")  # Anna's bio is private: she is not found by it
    assert names(body) == ["Kenji Tanaka"] and body["total"] == 1
    assert search(client, api_token(staff), q="readout")["total"] == 0


def test_every_word_must_match(client, api_token, staff, experts):
    assert names(search(client, api_token(staff), q="gyroscope fusion")) == ["Kenji Tanaka"]
    assert search(client, api_token(staff), q="gyroscope lithography")["total"] == 0


def test_names_and_affiliations_are_searchable(client, api_token, staff, experts):
    assert names(search(client, api_token(staff), q="okafor")) == ["James Okafor"]
    assert names(search(client, api_token(staff), q="imperial")) == ["James Okafor"]


def test_chinese_text_is_segmented(client, api_token, staff, experts):
    assert names(search(client, api_token(staff), q="传感器")) == ["Liu Chen"]
    assert names(search(client, api_token(staff), q="复旦")) == ["Liu Chen"]


def test_expertise_filter_matches_whole_tags(client, api_token, staff, experts):
    headers = api_token(staff)
    assert names(search(client, headers, expertise="MEMS")) == ["Kenji Tanaka"]
    assert search(client, headers, expertise="mem")["total"] == 0  # a tag is not a prefix
    assert names(search(client, headers, expertise="analog-design,mixed-signal")) == ["Anna Schmidt"]
    assert search(client, headers, expertise="analog-design,mems")["total"] == 0  # every tag must be held


def test_country_filter_takes_one_or_several_codes(client, api_token, staff, experts):
    headers = api_token(staff)
    assert names(search(client, headers, country="jp")) == ["Kenji Tanaka"]
    assert sorted(names(search(client, headers, country="CN,GB"))) == ["James Okafor", "Liu Chen"]


def test_filters_combine_with_text(client, api_token, staff, experts):
    headers = api_token(staff)
    assert names(search(client, headers, q="analog", country="DE")) == ["Anna Schmidt"]
    assert search(client, headers, q="analog", country="JP")["total"] == 0
    assert names(search(client, headers, early_career="true")) == ["Anna Schmidt"]
    assert search(client, headers, early_career="false")["total"] == 3


def test_results_are_paginated(client, api_token, staff, experts):
    headers = api_token(staff)
    first, second = search(client, headers, per_page=3, page=1), search(client, headers, per_page=3, page=2)
    assert (first["total"], first["per_page"], len(first["items"]), len(second["items"])) == (4, 3, 3, 1)
    assert not set(names(first)) & set(names(second))
    beyond = search(client, headers, per_page=3, page=5)
    assert (beyond["items"], beyond["total"]) == ([], 4)
    assert client.get("/api/v1/experts?per_page=101", headers=headers).status_code == 422


def test_admins_see_private_fields_marked(client, api_token, make_user, experts):
    admin = make_user(roles=[("admin", None)])
    item = search(client, api_token(admin), q="Schmidt")["items"][0]
    assert item["orcid"] == VALID_ORCID and "MEMS" in item["bio"]
    assert item["private_fields"] == ["bio", "orcid"]
    assert item["visibility"]["orcid"] == "private" and item["visibility"]["headline"] == "public"


@pytest.mark.parametrize("role", ["reviewer", "finance_officer", "center_manager", "security_officer"])
def test_other_centers_staff_see_only_public_fields(client, make_org, make_user, api_token, experts, role):
    user = make_user(roles=[(role, make_org())])
    item = search(client, api_token(user), q="Schmidt")["items"][0]
    assert item["headline"] == "Analog IC designer" and item["affiliation"] == "TUM"
    assert "bio" not in item and "orcid" not in item and VALID_ORCID not in str(item)
    assert "private_fields" not in item and "visibility" not in item  # not even a hint that something is hidden


def test_a_profile_edit_is_found_at_once(client, api_token, staff, experts):
    headers = api_token(staff)
    assert search(client, headers, q="photonics")["total"] == 0
    client.put("/api/v1/me/profile", json={"headline": "Now in silicon photonics"}, headers=api_token(experts["james"]))
    assert names(search(client, headers, q="photonics")) == ["James Okafor"]
    assert search(client, headers, q="lithography process")["total"] == 0


def test_reindex_command_rebuilds_the_terms(app, client, api_token, staff, experts):
    from marketplace.extensions import db
    from marketplace.solvers.models import ExpertTerm

    with app.app_context():
        db.session.execute(db.delete(ExpertTerm))
        db.session.commit()
    assert search(client, api_token(staff), q="gyroscope")["total"] == 0
    result = app.test_cli_runner().invoke(args=["experts", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 4 profile(s)" in result.output
    assert names(search(client, api_token(staff), q="gyroscope")) == ["Kenji Tanaka"]


# --- the staff page ------------------------------------------------------------------------------------

def test_staff_page_searches_and_hides_private_fields(client, login, staff, experts):
    login(staff)
    page = client.get("/staff/experts", query_string={"q": "analog"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Anna Schmidt" in html and "Kenji Tanaka" not in html
    assert VALID_ORCID not in html and "sv-private" not in html
    detail = client.get(f"/staff/experts/{experts['anna'].id}").get_data(as_text=True)
    assert "Analog IC designer" in detail
    assert "Low-noise readout for MEMS sensors." not in detail and VALID_ORCID not in detail


def test_admin_page_shows_and_marks_private_fields(client, login, make_user, experts):
    login(make_user(roles=[("admin", None)]))
    html = client.get("/staff/experts", query_string={"q": "analog"}).get_data(as_text=True)
    assert VALID_ORCID in html and "sv-private" in html
    detail = client.get(f"/staff/experts/{experts['anna'].id}").get_data(as_text=True)
    assert "Low-noise readout for MEMS sensors." in detail and "sv-private" in detail


def test_staff_page_filters_by_country_and_career(client, login, staff, experts):
    login(staff)
    html = client.get("/staff/experts", query_string={"country": "JP"}).get_data(as_text=True)
    assert "Kenji Tanaka" in html and "Anna Schmidt" not in html
    html = client.get("/staff/experts", query_string={"early_career": "yes"}).get_data(as_text=True)
    assert "Anna Schmidt" in html and "James Okafor" not in html


def test_staff_page_is_refused_to_solvers_and_asks_visitors_to_sign_in(client, login, make_user, experts):
    assert client.get("/staff/experts").status_code == 302
    login(make_user())
    assert client.get("/staff/experts").status_code == 403
    assert client.get(f"/staff/experts/{experts['anna'].id}").status_code == 403


def test_a_results_page_costs_the_same_queries_whatever_it_holds(app, client, api_token, staff, make_user,
                                                                  profile_factory):
    from sqlalchemy import event

    from marketplace.extensions import db

    headers = api_token(staff)

    def statements_for(**args) -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/api/v1/experts", query_string=args, headers=headers).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    for i in range(2):
        profile_factory(make_user(country="DE"), headline=f"Sensor designer {i}",
                        research_history=[{"year": 2020, "kind": "patent", "title": "A sensor"}])
    few = statements_for(q="sensor")
    for i in range(10):
        profile_factory(make_user(country="DE"), headline=f"Sensor designer {i}",
                        research_history=[{"year": 2020 + y, "kind": "patent", "title": "A sensor"} for y in range(3)])
    assert statements_for(q="sensor") == few
