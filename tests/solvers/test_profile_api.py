"""PUT/GET /api/v1/me/profile: ORCID checksum, tag normalisation, partial updates, visibility, the public view."""

from __future__ import annotations

import pytest

from marketplace.solvers.orcid import check_digit, is_valid
from tests.helpers import rows
from tests.solvers.conftest import VALID_ORCID

FULL = {
    "headline": "Analog IC designer: low-noise readout circuits",
    "bio": "I design **readout chains** for MEMS sensors.",
    "expertise": ["analog-design", "mems"],
    "orcid": VALID_ORCID,
    "affiliation": "Technical University of Munich",
    "research_history": [
        {"year": 2021, "title": "A 1.8 nV/√Hz chopper amplifier", "kind": "publication",
         "link": "https://doi.org/10.1109/jssc.2021.1", "coauthors": ["J. Doe", "coauthor@uni.example"]},
        {"year": 2024, "title": "Chopper-stabilised readout", "kind": "patent", "link": None},
    ],
    "latest_progress": "Taping out a *65 nm* test chip.",
    "early_career": True,
}


def put(client, headers, body):
    return client.put("/api/v1/me/profile", json=body, headers=headers)


# --- ORCID -------------------------------------------------------------------------------------------

def test_orcid_check_digit_follows_iso_7064_mod_11_2():
    assert check_digit("000000021825009") == "7"
    assert check_digit("000000021694233") == "X"  # a check value of 10 is written X
    assert is_valid("0000-0002-1825-0097")
    assert not is_valid("0000-0002-1825-0098")


@pytest.mark.parametrize("given", ["0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097",
                                   "0000000218250097", " 0000 0002 1825 0097 "])
def test_a_valid_orcid_is_stored_in_its_canonical_form(client, make_user, api_token, given):
    headers = api_token(make_user())
    response = put(client, headers, {"orcid": given})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["orcid"] == "0000-0002-1825-0097"


def test_an_orcid_ending_in_x_is_valid(client, make_user, api_token):
    response = put(client, api_token(make_user()), {"orcid": "0000-0002-1694-233x"})
    assert response.status_code == 200
    assert response.get_json()["orcid"] == "0000-0002-1694-233X"


def test_a_wrong_check_digit_is_refused_with_a_clear_message(client, make_user, api_token):
    response = put(client, api_token(make_user()), {"orcid": "0000-0002-1825-0098"})
    assert response.status_code == 422
    body = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert "check digit" in body["errors"]["orcid"][0]


@pytest.mark.parametrize("given", ["1234", "0000-0002-1825-009", "0000-0002-1825-00977", "abcd-efgh-ijkl-mnop",
                                   "0000-0002-18250097", "0000_0002_1825_0097"])
def test_a_malformed_orcid_is_refused(client, make_user, api_token, given):
    response = put(client, api_token(make_user()), {"orcid": given})
    assert response.status_code == 422
    assert "16 digits" in response.get_json()["errors"]["orcid"][0]


def test_an_empty_orcid_clears_it(client, make_user, api_token):
    headers = api_token(make_user())
    put(client, headers, {"orcid": VALID_ORCID})
    assert put(client, headers, {"orcid": ""}).get_json()["orcid"] is None


# --- expertise tags ----------------------------------------------------------------------------------

def test_tags_are_normalised_and_deduplicated(client, make_user, api_token):
    response = put(client, api_token(make_user()), {"expertise": [
        "  MEMS ", "Signal Processing", "signal-processing", "", "Cryo_CMOS", "ＭＥＭＳ", "传感器"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["expertise"] == ["mems", "signal-processing", "cryo-cmos", "传感器"]


def test_a_tag_longer_than_40_characters_is_refused(client, make_user, api_token):
    response = put(client, api_token(make_user()), {"expertise": ["x" * 41]})
    assert response.status_code == 422
    assert "40" in response.get_json()["errors"]["expertise"][0]
    assert put(client, api_token(make_user()), {"expertise": ["x" * 40]}).status_code == 200


def test_more_than_30_tags_are_refused(app, client, make_user, api_token):
    headers = api_token(make_user())
    assert put(client, headers, {"expertise": [f"tag-{i}" for i in range(31)]}).status_code == 422
    assert rows(app, "expert_profiles") == 0  # the refused save wrote nothing
    assert put(client, headers, {"expertise": [f"tag-{i}" for i in range(30)]}).status_code == 200


def test_tags_with_markup_characters_are_refused(client, make_user, api_token):
    response = put(client, api_token(make_user()), {"expertise": ["<script>"]})
    assert response.status_code == 422
    assert "expertise" in response.get_json()["errors"]


# --- the whole profile -------------------------------------------------------------------------------

def test_get_before_any_save_is_an_empty_profile(client, make_user, api_token):
    user = make_user(name="Anna Schmidt")
    body = client.get("/api/v1/me/profile", headers=api_token(user)).get_json()
    assert body["user_id"] == user.id and body["display_name"] == "Anna Schmidt"
    assert body["expertise"] == [] and body["research_history"] == [] and body["orcid"] is None


def test_profile_needs_a_signed_in_caller(app, client):
    assert client.get("/api/v1/me/profile").status_code == 401
    assert client.put("/api/v1/me/profile", json=FULL).status_code == 401
    assert rows(app, "expert_profiles") == 0


def test_put_saves_every_contract_field_and_get_returns_it(client, make_user, api_token):
    headers = api_token(make_user())
    response = put(client, headers, FULL)
    assert response.status_code == 200, response.get_json()
    body = client.get("/api/v1/me/profile", headers=headers).get_json()
    for field in ("headline", "bio", "expertise", "orcid", "affiliation", "latest_progress", "early_career"):
        assert body[field] == FULL[field]
    # Newest first; co-authors kept for the owner.
    assert [e["year"] for e in body["research_history"]] == [2024, 2021]
    assert body["research_history"][1]["coauthors"] == ["J. Doe", "coauthor@uni.example"]
    assert body["updated_at"].endswith("+00:00")


def test_fields_left_out_keep_their_value(client, make_user, api_token):
    headers = api_token(make_user())
    put(client, headers, {**FULL, "visibility": {"bio": "private"}})
    body = put(client, headers, {"headline": "Now a mixed-signal lead"}).get_json()
    assert body["headline"] == "Now a mixed-signal lead"
    assert body["bio"] == FULL["bio"] and len(body["research_history"]) == 2
    assert body["visibility"]["bio"] == "private"  # a client unaware of visibility never unhides a field


def test_visibility_changes_merge_per_field(client, make_user, api_token):
    headers = api_token(make_user())
    put(client, headers, {"visibility": {"bio": "private", "orcid": "private"}})
    body = put(client, headers, {"visibility": {"orcid": "public"}}).get_json()
    assert body["private_fields"] == ["bio"]


@pytest.mark.parametrize("visibility", [{"bio": "secret"}, {"email": "private"}])
def test_bad_visibility_is_refused(app, client, make_user, api_token, visibility):
    assert put(client, api_token(make_user()), {"visibility": visibility}).status_code == 422
    assert rows(app, "expert_profiles") == 0


def test_unknown_fields_are_refused(app, client, make_user, api_token):
    assert put(client, api_token(make_user()), {"headline": "x", "salary": 1}).status_code == 422
    assert rows(app, "expert_profiles") == 0


@pytest.mark.parametrize(("entry", "key"), [
    ({"year": 1900, "title": "Old", "kind": "publication"}, "research_history.0.year"),
    ({"year": 2020, "title": "Typo", "kind": "paper"}, "research_history.0.kind"),
    ({"year": 2020, "title": "  ", "kind": "patent"}, "research_history.0.title"),
    ({"year": 2020, "title": "Bad link", "kind": "patent", "link": "javascript:alert(1)"}, "research_history.0.link"),
])
def test_research_entries_are_checked(client, make_user, api_token, entry, key):
    response = put(client, api_token(make_user()), {"research_history": [entry]})
    assert response.status_code == 422
    assert key in response.get_json()["errors"], response.get_json()


def test_a_bare_doi_becomes_a_link(client, make_user, api_token):
    body = put(client, api_token(make_user()), {"research_history": [
        {"year": 2022, "title": "T", "kind": "publication", "link": "10.1000/xyz123"}]}).get_json()
    assert body["research_history"][0]["link"] == "https://doi.org/10.1000/xyz123"


def test_affiliation_history_is_checked_and_kept(client, make_user, api_token):
    headers = api_token(make_user())
    bad = put(client, headers, {"affiliation_history": [
        {"name": "TUM", "domain": "tum.de", "start": "2022-09", "end": "2021-01"},
        {"name": "MIT", "domain": "not a domain", "start": "2019-13", "end": None}]})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"affiliation_history.0.end", "affiliation_history.1.domain",
                                             "affiliation_history.1.start"}
    good = put(client, headers, {"affiliation_history": [
        {"name": "MIT", "domain": "https://www.MIT.edu/", "start": "2015-09", "end": "2019-08"},
        {"name": "TUM", "domain": "tum.de", "start": "2019-09", "end": None}]})
    assert good.status_code == 200
    assert good.get_json()["affiliation_history"] == [
        {"name": "TUM", "domain": "tum.de", "start": "2019-09", "end": None},
        {"name": "MIT", "domain": "mit.edu", "start": "2015-09", "end": "2019-08"}]


def test_languages_are_babel_codes(client, make_user, api_token):
    headers = api_token(make_user())
    assert put(client, headers, {"languages": ["de", "en", "zh-Hans", "de"]}).get_json()["languages"] == [
        "de", "en", "zh_Hans"]
    assert put(client, headers, {"languages": ["klingon-xx"]}).status_code == 422


def test_every_problem_is_reported_at_once(client, make_user, api_token):
    response = put(client, api_token(make_user()), {"orcid": "0000-0002-1825-0098", "expertise": ["x" * 50],
                                                    "languages": ["??"]})
    assert set(response.get_json()["errors"]) == {"orcid", "expertise", "languages"}


def test_saving_is_audited_with_field_names_only(app, client, make_user, api_token):
    from marketplace.audit.models import AuditEntry
    from marketplace.extensions import db

    headers = api_token(make_user())
    put(client, headers, FULL)
    put(client, headers, {"bio": "A private story.", "visibility": {"bio": "private"}})
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.entity_type == "expert_profile")
                                     .order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["expert_profile.created", "expert_profile.updated"]
        assert entries[1].data == {"fields": ["bio", "visibility"]}
        assert "private story" not in str([e.data for e in entries])


# --- the public view ---------------------------------------------------------------------------------

def test_public_api_shows_only_public_fields_and_never_coauthors(client, make_user, api_token):
    user = make_user(country="DE")
    put(client, api_token(user), {**FULL, "visibility": {"bio": "private", "orcid": "private",
                                                         "early_career": "private"}})
    body = client.get(f"/api/v1/solvers/{user.id}").get_json()
    assert body["headline"] == FULL["headline"] and body["expertise"] == FULL["expertise"]
    for hidden in ("bio", "orcid", "early_career", "visibility", "private_fields"):
        assert hidden not in body
    assert all("coauthors" not in entry for entry in body["research_history"])
    text = str(body)
    assert "readout chains" not in text and VALID_ORCID not in text and "coauthor@uni.example" not in text


def test_public_api_is_404_without_a_profile(client, make_user):
    assert client.get(f"/api/v1/solvers/{make_user().id}").status_code == 404
    assert client.get("/api/v1/solvers/999999").status_code == 404


def test_vocabulary_lists_fields_and_tags(client):
    body = client.get("/api/v1/expertise-vocabulary").get_json()
    fields = {f["code"]: f["tags"] for f in body["fields"]}
    assert "analog-design" in fields["semiconductors"] and "mems" in fields["sensors"]


def test_demo_profiles_have_valid_and_distinct_orcids():
    from marketplace.demo.profiles_seed import PROFILES

    orcids = [fields["orcid"] for fields, _interests, _digest in PROFILES.values()]
    assert all(is_valid(orcid) for orcid in orcids)
    assert len(set(orcids)) == len(orcids) == 16
