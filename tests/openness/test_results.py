"""Open results: consent before names, visibility of drafts, publishing rules, search, citation, feed."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from marketplace.extensions import db
from tests.factories import utc

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def awarded(world):
    """An awarded challenge: Anna (DE) won 60 %, the team of Jonas (DE) and Kenji (JP) 40 %."""
    challenge = world.challenge()
    anna = world.solver("DE", early_career=True, name="Anna Schmidt")
    jonas = world.solver("DE", name="Jonas Weber")
    kenji = world.solver("JP", name="Kenji Tanaka")
    loser = world.solver("FR", name="Camille Durand")
    p1 = world.propose(challenge, anna)
    p2 = world.propose(challenge, jonas, coauthors=[kenji])
    world.propose(challenge, loser)
    world.award(challenge, [(p1, "60"), (p2, "40")])
    return {"challenge": challenge, "anna": anna, "jonas": jonas, "kenji": kenji, "loser": loser}


RESULT = {
    "title": {"en": "A 1.8 nV/√Hz chopper readout chain", "zh_Hans": "1.8 nV/√Hz 斩波读出链路"},
    "abstract": {"en": "A chopper-stabilised readout that reaches 1.8 nV/√Hz at 4.2 mW per channel.",
                 "zh_Hans": "一种斩波稳定读出电路，每通道 4.2 mW 时噪声达到 1.8 nV/√Hz。"},
    "licence_terms": {"en": "Non-exclusive licences on FRAND terms."},
    "patent_application": "CN202710012345.6",
    "open_for_licensing": True,
    "licensing_contact": "licensing@icc.example",
}


def create(client, world, api_token, challenge, **changes):
    return client.post(f"/api/v1/challenges/{challenge.id}/results", json={**RESULT, **changes},
                       headers=api_token(world.manager))


def test_a_named_winner_must_consent_before_the_result_is_published(client, world, api_token, awarded):
    anna, jonas = awarded["anna"], awarded["jonas"]
    created = create(client, world, api_token, awarded["challenge"], named_winner_ids=[anna.id, jonas.id])
    assert created.status_code == 201, created.get_json()
    result_id = created.get_json()["id"]
    assert created.get_json()["status"] == "draft"
    assert {(w["name"], w["named"], w["consent"]) for w in created.get_json()["winners_consent"]} == {
        ("Anna Schmidt", True, "pending"), ("Jonas Weber", True, "pending"), ("Kenji Tanaka", False, "pending")}

    # Publishing with named winners lacking consent: 422 naming both of them.
    refused = client.post(f"/api/v1/results/{result_id}/publish", headers=api_token(world.manager))
    assert refused.status_code == 422
    messages = " ".join(refused.get_json()["errors"]["named_winner_ids"])
    assert "Anna Schmidt" in messages and "Jonas Weber" in messages

    # The named winners were asked by mail; Anna consents, Jonas declines.
    from tests.helpers import outbox

    asked = {m.recipient for m in outbox(client.application) if m.template == "result_consent_request"}
    assert asked == {anna.email, jonas.email}
    yes = client.post(f"/api/v1/results/{result_id}/consent", json={"consent": True, "cited_name": "Schmidt, Anna"},
                      headers=api_token(anna))
    assert yes.status_code == 200 and yes.get_json()["consent"] == "given" and yes.get_json()["shown"] is False
    no = client.post(f"/api/v1/results/{result_id}/consent", json={"consent": False}, headers=api_token(jonas))
    assert no.get_json()["consent"] == "declined"
    assert client.post(f"/api/v1/results/{result_id}/publish", headers=api_token(world.manager)).status_code == 422

    # The center stops naming Jonas: now it publishes, and only Anna's name is shown.
    patched = client.patch(f"/api/v1/results/{result_id}", json={"named_winner_ids": [anna.id]},
                           headers=api_token(world.manager))
    assert patched.status_code == 200
    published = client.post(f"/api/v1/results/{result_id}/publish", headers=api_token(world.manager))
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    public = client.get(f"/api/v1/results/{result_id}").get_json()
    assert public["winners"] == [{"name": "Schmidt, Anna"}]
    assert "winners_consent" not in public and "texts" not in public

    # Naming Jonas again on a published result is refused while he has not consented.
    again = client.patch(f"/api/v1/results/{result_id}", json={"named_winner_ids": [anna.id, jonas.id]},
                         headers=api_token(world.manager))
    assert again.status_code == 422
    # Anna withdraws her consent: her name disappears at once.
    client.post(f"/api/v1/results/{result_id}/consent", json={"consent": False}, headers=api_token(anna))
    assert client.get(f"/api/v1/results/{result_id}").get_json()["winners"] == []


def test_only_winners_consent_and_drafts_stay_hidden(client, world, api_token, awarded):
    result_id = create(client, world, api_token, awarded["challenge"]).get_json()["id"]
    # A draft: 404 for the public and for a solver who did not win; the winners and the center see it.
    assert client.get(f"/api/v1/results/{result_id}").status_code == 404
    assert client.get(f"/api/v1/results/{result_id}", headers=api_token(awarded["loser"])).status_code == 404
    assert client.get(f"/api/v1/results/{result_id}", headers=api_token(awarded["kenji"])).status_code == 200
    assert client.get(f"/results/{result_id}").status_code == 404
    assert client.post(f"/api/v1/results/{result_id}/consent", json={"consent": True},
                       headers=api_token(awarded["loser"])).status_code == 404
    assert client.get(f"/api/v1/results/{result_id}/citation.bib").status_code == 404
    # A reviewer of the center is not its staff: the draft does not exist for them. A security officer
    # sees it, but only a center manager publishes.
    assert client.get(f"/api/v1/results/{result_id}", headers=api_token(world.reviewer)).status_code == 404
    assert client.post(f"/api/v1/results/{result_id}/publish", headers=api_token(world.officer)).status_code == 403
    # Naming someone who did not win is refused.
    strangers = client.patch(f"/api/v1/results/{result_id}", json={"named_winner_ids": [awarded["loser"].id]},
                             headers=api_token(world.manager))
    assert strangers.status_code == 422 and "named_winner_ids" in strangers.get_json()["errors"]


def test_a_result_needs_an_awarded_challenge(client, world, api_token):
    challenge = world.challenge()
    refused = create(client, world, api_token, challenge)
    assert refused.status_code == 409
    assert refused.get_json()["detail"].startswith("A result can be published only for an awarded challenge")


def test_bad_ip_fields_are_refused(client, world, api_token, awarded):
    no_contact = create(client, world, api_token, awarded["challenge"], licensing_contact="")
    assert no_contact.status_code == 422 and "licensing_contact" in no_contact.get_json()["errors"]
    bad_number = create(client, world, api_token, awarded["challenge"], patent_application="see attached")
    assert bad_number.status_code == 422 and "patent_application" in bad_number.get_json()["errors"]


def _publish(client, world, api_token, awarded, **changes) -> int:
    anna = awarded["anna"]
    result_id = create(client, world, api_token, awarded["challenge"], named_winner_ids=[anna.id],
                       **changes).get_json()["id"]
    client.post(f"/api/v1/results/{result_id}/consent", json={"consent": True, "cited_name": "Schmidt, Anna"},
                headers=api_token(anna))
    response = client.post(f"/api/v1/results/{result_id}/publish", headers=api_token(world.manager))
    assert response.status_code == 200, response.get_json()
    return result_id


def test_published_results_are_searchable_in_chinese_and_english_with_facets(client, world, api_token, awarded):
    result_id = _publish(client, world, api_token, awarded)
    for query in ("chopper readout", "斩波", "Schmidt"):
        found = client.get("/api/v1/results", query_string={"q": query}).get_json()
        assert [item["id"] for item in found["items"]] == [result_id], query
        assert found["facets"]["licensing"] == {"open": 1}
    assert client.get("/api/v1/results", query_string={"q": "graphene"}).get_json()["total"] == 0
    chinese = client.get("/api/v1/results", query_string={"locale": "zh_Hans"}).get_json()
    assert chinese["items"][0]["title"] == "1.8 nV/√Hz 斩波读出链路"
    assert chinese["facets"]["field"] == {"semiconductors": 1} and chinese["facets"]["patent"] == {"filed": 1}
    filtered = client.get("/api/v1/results", query_string={"licensing": "closed"}).get_json()
    assert filtered["total"] == 0 and filtered["facets"]["licensing"] == {"open": 1}
    # The showcase page lists and searches it too, in Chinese.
    page = client.get("/results", query_string={"q": "斩波", "lang": "zh_Hans"})
    assert page.status_code == 200 and "1.8 nV/√Hz 斩波读出链路" in page.get_data(as_text=True)
    # Withdrawn: gone from search and from the public.
    client.post(f"/api/v1/results/{result_id}/withdraw", json={"reason": "Patent office asked us to wait."},
                headers=api_token(world.manager))
    assert client.get("/api/v1/results", query_string={"q": "chopper"}).get_json()["total"] == 0
    assert client.get(f"/api/v1/results/{result_id}").status_code == 404


def test_citations_and_feed(client, world, api_token, awarded, app):
    result_id = _publish(client, world, api_token, awarded)
    with app.app_context():
        from marketplace.results.models import ResultRecord

        db.session.get(ResultRecord, result_id).published_at = utc(2027, 5, 3, 8)
        db.session.commit()

    bib = client.get(f"/api/v1/results/{result_id}/citation.bib")
    assert bib.status_code == 200 and bib.mimetype == "application/x-bibtex"
    text = bib.get_data(as_text=True)
    assert text.startswith(f"@misc{{innobridge-result-{result_id},\n")
    assert "  author = {Schmidt, Anna},\n" in text
    assert "  title = {{A 1.8 nV/√Hz chopper readout chain}},\n" in text
    assert "  year = {2027},\n  month = may,\n" in text
    assert f"  url = {{http://localhost/results/{result_id}}},\n" in text
    assert "patent application CN202710012345.6" in text
    assert text.count("{") == text.count("}")

    csl = client.get(f"/api/v1/results/{result_id}/citation.json", query_string={"locale": "zh_Hans"})
    assert csl.mimetype == "application/vnd.citationstyles.csl+json"
    [item] = json.loads(csl.get_data(as_text=True))
    assert item["id"] == f"innobridge-result-{result_id}" and item["type"] == "report"
    assert item["title"] == "1.8 nV/√Hz 斩波读出链路" and item["language"] == "zh-Hans"
    assert item["author"] == [{"family": "Schmidt", "given": "Anna"}]
    assert item["issued"] == {"date-parts": [[2027, 5, 3]]}
    assert item["URL"] == f"http://localhost/results/{result_id}"

    feed = client.get("/results/feed.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)  # noqa: S314 - our own feed, produced by this test's server
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}id").text == "http://localhost/results"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost/results/feed.atom"
    [entry] = root.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text == f"http://localhost/results/{result_id}"
    assert entry.find(f"{ATOM}title").text == "A 1.8 nV/√Hz chopper readout chain"
    assert entry.find(f"{ATOM}published").text == "2027-05-03T08:00:00+00:00"
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Schmidt, Anna"
    assert entry.find(f"{ATOM}category").get("term") == "semiconductors"

    page = client.get(f"/results/{result_id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Schmidt, Anna" in body and "@misc{innobridge-result-" in body
    assert "CN202710012345.6" in body and "licensing@icc.example" in body


def test_winner_consent_page(world, awarded, api_token, client, browser):
    anna = awarded["anna"]
    result_id = create(client, world, api_token, awarded["challenge"], named_winner_ids=[anna.id]).get_json()["id"]
    user_client = browser(anna)
    page = user_client.get(f"/results/{result_id}/consent")
    assert page.status_code == 200 and "A 1.8 nV/√Hz chopper readout chain" in page.get_data(as_text=True)
    from tests.helpers import csrf_token_from

    saved = user_client.post(f"/results/{result_id}/consent", data={
        "consent": "yes", "cited_name": "", "csrf_token": csrf_token_from(page)})
    assert saved.status_code == 302
    status = client.get(f"/api/v1/results/{result_id}/consent", headers=api_token(anna)).get_json()
    assert status["consent"] == "given"
    assert browser(awarded["loser"]).get(f"/results/{result_id}/consent").status_code == 404
