"""Translations of a challenge (issue 11): each language marked translated or reviewed, translators a manager
invites for one language, the two-person review rule, the screening of an open challenge's translation, and
what a translator may not do (other languages, the original, the staff pages, competing)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.challenges.models import Challenge
from marketplace.challenges.translation_models import ChallengeTranslation, ChallengeTranslator
from marketplace.extensions import db
from tests.helpers import counting_queries, outbox, post_form, structure_problems, text_of

GERMAN = {"title": "Rauscharme Ausleseschaltung für Wafer-Defektsensoren",
          "summary": "Eine Auslesekette unter 2 nV/√Hz.", "description": "Die vollständige Beschreibung."}


@pytest.fixture
def team(make_org, make_user):
    org = make_org("trans-center")
    manager = make_user(roles=[("center_manager", org)], name="Mia Manager")
    translator = make_user("hans@example.org", locale="de", name="Hans Translator")
    return org, manager, translator


def _invite(app, challenge, manager, translator, locale="de") -> int:
    from marketplace.accounts.models import User
    from marketplace.challenges import translations

    with app.test_request_context():
        row = translations.invite_translator(db.session.get(Challenge, challenge.id), db.session.get(User, manager.id),
                                             email=translator.email, locale=locale)
        db.session.commit()
        return row.id


def _marks(app, challenge_id: int) -> dict:
    with app.app_context():
        rows = db.session.scalars(select(ChallengeTranslation).where(ChallengeTranslation.challenge_id == challenge_id))
        return {r.locale: (r.status, r.translated_by_id, r.reviewed_by_id) for r in rows}


def _actions(app, challenge_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_type == "challenge", AuditEntry.entity_id == challenge_id).order_by(AuditEntry.id)))


def _texts(app, challenge_id: int, field: str = "title") -> dict:
    with app.app_context():
        return db.session.get(Challenge, challenge_id).text_map(field)


def _criteria(app, challenge_id: int) -> list[tuple]:
    with app.app_context():
        return [(c.id, c.weight, dict(c.name)) for c in db.session.get(Challenge, challenge_id).criteria]


# --- inviting, the translator's pages and their limits ---------------------------------------------------------

def test_a_manager_invites_a_translator_who_translates_their_language_only(app, team, challenge_factory, browser):
    org, manager, translator = team
    challenge = challenge_factory(org, manager, status="draft")
    other = challenge_factory(org, manager, status="draft")
    boss = browser(manager)
    manage_url = f"/staff/challenges/{challenge.id}"
    assert "Translations" in text_of(boss.get(f"{manage_url}?lang=en"))
    unknown = post_form(boss, f"{manage_url}/translators", {"email": "nobody@example.org", "locale": "de"},
                        prefix="translator", page=manage_url)
    assert unknown.status_code == 422 and "No account uses this e-mail address" in text_of(unknown)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ChallengeTranslator.id))) == 0
    invited = post_form(boss, f"{manage_url}/translators", {"email": translator.email, "locale": "de"},
                        prefix="translator", page=manage_url)
    assert invited.status_code == 302, text_of(invited)
    with app.app_context():
        row = db.session.scalar(select(ChallengeTranslator).where(ChallengeTranslator.challenge_id == challenge.id))
        assert (row.user_id, row.locale, row.invited_by_id, row.revoked_at) == (translator.id, "de", manager.id, None)
    assert _actions(app, challenge.id)[-1] == "challenge.translator_invited"
    mail = [m for m in outbox(app) if m.recipient == translator.email][-1]
    assert mail.locale == "de" and "/me/translations" in mail.body_text
    with app.app_context():
        from marketplace.solvers.models import Notification

        kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == translator.id)).all()
        assert kinds == ["translator_invited"]
    hans = browser(translator)
    notes = hans.get("/me/notifications").get_data(as_text=True)
    assert "Low-noise readout circuit" in notes and 'href="/me/translations"' in notes

    todo = hans.get("/me/translations").get_data(as_text=True)  # in German, the translator's language
    assert f"/staff/challenges/{challenge.id}/texts/de" in todo and "Deutsch" in text_of(hans.get("/me/translations"))
    assert "Low-noise readout circuit" in todo and f"/staff/challenges/{other.id}/" not in todo
    assert 'href="/me/translations"' in hans.get("/me/dashboard").get_data(as_text=True)
    assert 'href="/me/translations"' not in browser(manager).get("/me/dashboard").get_data(as_text=True)
    for page in (hans.get(f"/staff/challenges/{challenge.id}/texts/de"), hans.get("/me/translations"),
                 boss.get(manage_url)):
        assert page.status_code == 200 and structure_problems(page) == []
    assert hans.get(f"/staff/challenges/{challenge.id}/texts/ja").status_code == 403
    assert hans.get(f"/staff/challenges/{challenge.id}/texts/en").status_code == 403  # the original
    for path in (manage_url, f"{manage_url}/edit", f"/staff/challenges/{other.id}/texts/de",
                 f"/staff/challenges/{other.id}"):
        assert hans.get(path).status_code == 404, path

    saved = post_form(hans, f"/staff/challenges/{challenge.id}/texts/de",
                      {**GERMAN, "criteria-0": "Rauschverhalten", "criteria-1": "Herstellbarkeit"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/me/translations")
    assert _texts(app, challenge.id)["de"] == GERMAN["title"]
    assert [(w, n.get("de")) for _id, w, n in _criteria(app, challenge.id)] == [(60, "Rauschverhalten"),
                                                                               (40, "Herstellbarkeit")]
    assert _marks(app, challenge.id) == {"de": ("translated", translator.id, None)}
    assert _actions(app, challenge.id)[-1] == "challenge.translation_saved"
    with app.app_context():
        assert translator.id in db.session.get(Challenge, challenge.id).text_editor_ids
    # The original stays untouched, and a post to it is refused.
    refused = post_form(hans, f"/staff/challenges/{challenge.id}/texts/en", {"title": "Hijacked"},
                        page=f"/staff/challenges/{challenge.id}/texts/de")
    assert refused.status_code == 403 and "Hijacked" not in _texts(app, challenge.id).values()


def test_the_review_needs_a_second_person(app, team, challenge_factory, browser, api_token, client):
    org, manager, translator = team
    challenge = challenge_factory(org, manager, status="draft")
    _invite(app, challenge, manager, translator)
    headers = api_token(translator)
    url = f"/api/v1/challenges/{challenge.id}/translations"
    put = client.put(f"{url}/de", json={**GERMAN, "criteria": ["Rauschverhalten", "Herstellbarkeit"]},
                     headers=headers)
    assert put.status_code == 200 and put.get_json()["status"] == "translated", put.get_json()
    own = client.post(f"{url}/de/review", headers=headers)
    assert own.status_code == 403 and own.mimetype == "application/problem+json"
    assert _marks(app, challenge.id)["de"] == ("translated", translator.id, None)

    boss = browser(manager)
    page = text_of(boss.get(f"/staff/challenges/{challenge.id}/texts/de?lang=en"))
    assert "Translated by Hans Translator" in page and "not reviewed" in page and "Mark as reviewed" in page
    assert "Mark as reviewed" not in text_of(browser(translator).get(f"/staff/challenges/{challenge.id}/texts/de"))
    reviewed = post_form(boss, f"/staff/challenges/{challenge.id}/texts/de/review", {},
                         page=f"/staff/challenges/{challenge.id}/texts/de")
    assert reviewed.status_code == 302
    assert _marks(app, challenge.id)["de"] == ("reviewed", translator.id, manager.id)
    assert _actions(app, challenge.id)[-1] == "challenge.translation_reviewed"
    assert client.post(f"{url}/de/review", headers=api_token(manager)).status_code == 409
    assert "Reviewed by Mia Manager" in text_of(boss.get(f"/staff/challenges/{challenge.id}?lang=en"))

    # Saving the text again marks it translated and clears the review.
    again = client.put(f"{url}/de", json={"summary": "Eine bessere Zusammenfassung."}, headers=headers)
    assert again.status_code == 200 and again.get_json()["reviewed_by"] is None
    assert _marks(app, challenge.id)["de"] == ("translated", translator.id, None)
    listed = client.get(url, headers=headers).get_json()
    assert {row["locale"]: row["status"] for row in listed} == {"de": "translated", "zh_Hans": None}


def test_the_api_refuses_what_a_translator_may_not_touch(app, team, challenge_factory, api_token, client, make_user):
    org, manager, translator = team
    challenge = challenge_factory(org, manager, status="draft")
    _invite(app, challenge, manager, translator)
    headers = api_token(translator)
    url = f"/api/v1/challenges/{challenge.id}/translations"
    before = (_texts(app, challenge.id), _criteria(app, challenge.id))
    assert client.put(f"{url}/en", json={"title": "Changed original"}, headers=headers).status_code == 403
    assert client.put(f"{url}/ja", json={"title": "日本語"}, headers=headers).status_code == 403
    assert client.put(f"{url}/klingon", json={"title": "x"}, headers=headers).status_code == 404
    bad = client.put(f"{url}/de", json={"title": "T", "criteria": ["only one"]}, headers=headers)
    assert bad.status_code == 422 and "criteria" in bad.get_json()["errors"]
    assert client.put(f"{url}/de", json={"title": "T", "weight": 3}, headers=headers).status_code == 422
    assert (_texts(app, challenge.id), _criteria(app, challenge.id)) == before and _marks(app, challenge.id) == {}
    # The translators list and invitations: managers only; outsiders see nothing.
    outsider = api_token(make_user())
    assert client.get(url, headers=outsider).status_code == 404
    assert client.get(f"/api/v1/challenges/{challenge.id}/translators", headers=outsider).status_code == 404
    invite = client.post(f"/api/v1/challenges/{challenge.id}/translators", headers=headers,
                         json={"email": "someone@example.org", "locale": "ja"})
    assert invite.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ChallengeTranslator.id))) == 1


# --- the states of the challenge ----------------------------------------------------------------------------

def test_an_open_challenge_translation_is_screened_and_public_at_once(app, team, challenge_factory, api_token, client,
                                                                      browser):
    org, manager, translator = team
    challenge = challenge_factory(org, manager, status="open")
    _invite(app, challenge, manager, translator)
    headers = api_token(translator)
    url = f"/api/v1/challenges/{challenge.id}/translations/de"
    actions_before = _actions(app, challenge.id)
    blocked = client.put(url, json={**GERMAN, "description": "Dieses Dokument ist CONFIDENTIAL.",
                                    "criteria": ["Rauschverhalten", "Herstellbarkeit"]}, headers=headers)
    assert blocked.status_code == 422 and blocked.mimetype == "application/problem+json"
    assert "de" not in _texts(app, challenge.id) and _marks(app, challenge.id) == {}
    assert _actions(app, challenge.id) == actions_before
    blocked_name = client.put(url, json={**GERMAN, "criteria": ["SECRET", "Herstellbarkeit"]}, headers=headers)
    assert blocked_name.status_code == 422 and "de" not in _criteria(app, challenge.id)[0][2]

    saved = client.put(url, json={**GERMAN, "criteria": ["Rauschverhalten", "Herstellbarkeit"]}, headers=headers)
    assert saved.status_code == 200, saved.get_json()
    with app.app_context():
        assert db.session.get(Challenge, challenge.id).status == "open"
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "challenge.translation_saved")).one()
        assert entry.data["locale"] == "de" and entry.data["marker_warnings"] == []
    public = client.get(f"/api/v1/challenges/{challenge.id}", headers={"Accept-Language": "de"}).get_json()
    assert public["translations"] == {"de": "translated"} and public["title"] == GERMAN["title"]

    reader = browser()
    page = text_of(reader.get(f"/challenges/{challenge.id}?lang=de"))
    assert GERMAN["title"] in page and "Rauschverhalten" in page
    with app.test_request_context():
        from flask_babel import force_locale, gettext

        with force_locale("de"):
            note = gettext("Translated from %(language)s.", language="Englisch")
            not_reviewed = gettext("The translation is not yet reviewed.")
    assert note in page and not_reviewed in page
    with app.test_request_context():
        from marketplace.reviews.presenters import criteria_json

        # Reviewers read the criteria in their language once translated (reviews/presenters.py).
        names = [c["name"] for c in criteria_json(db.session.get(Challenge, challenge.id), "de")]
        assert names == ["Rauschverhalten", "Herstellbarkeit"]
    # The original of an open challenge changes only through an amendment (dated, mailed to solvers).
    original = client.put(f"/api/v1/challenges/{challenge.id}/translations/en", json={"title": "Quietly changed"},
                          headers=api_token(manager))
    assert original.status_code == 409 and "Quietly changed" not in _texts(app, challenge.id).values()
    assert client.post(f"{url}/review", headers=api_token(manager)).status_code == 200
    english_reader = text_of(reader.get(f"/challenges/{challenge.id}?lang=en"))
    assert "Translated from" not in english_reader  # the original carries no note
    assert client.get(f"/api/v1/challenges/{challenge.id}").get_json()["translations"] == {"de": "reviewed"}


def test_a_cleared_challenge_goes_back_to_clearance_and_the_translator_cannot_clear(app, team, challenge_factory,
                                                                                      client, api_token):
    org, manager, translator = team
    challenge = challenge_factory(org, manager, status="cleared")
    _invite(app, challenge, manager, translator)
    response = client.put(f"/api/v1/challenges/{challenge.id}/translations/de", json=GERMAN,
                          headers=api_token(translator))
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        stored = db.session.get(Challenge, challenge.id)
        assert stored.status == "in_clearance" and translator.id in stored.text_editor_ids
    assert _actions(app, challenge.id)[-2:] == ["challenge.translation_saved", "challenge.clearance_revoked_by_edit"]
    # In clearance the text is frozen; a closed challenge too.
    frozen = client.put(f"/api/v1/challenges/{challenge.id}/translations/de", json={"title": "Neu"},
                        headers=api_token(translator))
    assert frozen.status_code == 409 and _texts(app, challenge.id)["de"] == GERMAN["title"]
    closed = challenge_factory(org, manager, status="closed")
    assert client.put(f"/api/v1/challenges/{closed.id}/translations/de", json=GERMAN,
                      headers=api_token(manager)).status_code == 409
    assert "de" not in _texts(app, closed.id)


# --- who may translate: competing and judging exclude each other ----------------------------------------------------

def test_a_solver_with_a_proposal_cannot_be_invited(app, team, challenge_factory, make_user, api_token, client):
    from marketplace.accounts.models import User
    from marketplace.challenges import agreements
    from marketplace.proposals import services as proposals

    org, manager, _translator = team
    challenge = challenge_factory(org, manager, status="open")
    solver = make_user("solver@example.org")
    with app.test_request_context():
        row, person = db.session.get(Challenge, challenge.id), db.session.get(User, solver.id)
        agreements.accept(row, person, version=row.agreement_version)
        proposals.create_proposal(row, person, {"title": "My idea", "abstract": "An approach.", "body": "Details."})
        db.session.commit()
    url = f"/api/v1/challenges/{challenge.id}/translators"
    refused = client.post(url, json={"email": solver.email, "locale": "de"}, headers=api_token(manager))
    assert refused.status_code == 422 and "email" in refused.get_json()["errors"]
    for body in ({"email": "nobody@example.org", "locale": "de"}, {"email": solver.email, "locale": "en"}):
        assert client.post(url, json=body, headers=api_token(manager)).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ChallengeTranslator.id))) == 0
    assert "challenge.translator_invited" not in _actions(app, challenge.id)


def test_an_active_translator_cannot_compete_and_all_three_conflict_rules_agree(app, team, challenge_factory,
                                                                                 browser, client, api_token):
    from marketplace.accounts.models import User

    org, manager, translator = team
    challenge = challenge_factory(org, manager, status="open")
    translator_id = _invite(app, challenge, manager, translator)

    def conflicts() -> tuple:
        with app.app_context():
            row, person = db.session.get(Challenge, challenge.id), db.session.get(User, translator.id)
            in_set = translator.id in set(db.session.scalars(row.conflicted_user_ids()))
            by_clause = db.session.scalar(select(Challenge.conflict_clause(translator.id, Challenge.id))
                                          .where(Challenge.id == challenge.id))
            return row.conflict_of_interest(person), in_set, bool(by_clause)

    reason, in_set, by_clause = conflicts()
    assert reason == "Translators of this challenge cannot take part in it." and in_set and by_clause
    accept = client.post(f"/api/v1/challenges/{challenge.id}/agreement", headers=api_token(translator),
                         json={"version": challenge.agreement_version})
    assert accept.status_code in (403, 409, 422)
    # Revoked on the manage page: access ends, and so does the conflict.
    boss = browser(manager)
    revoked = post_form(boss, f"/staff/challenges/{challenge.id}/translators/{translator_id}/revoke", {},
                        page=f"/staff/challenges/{challenge.id}")
    assert revoked.status_code == 302
    assert _actions(app, challenge.id)[-1] == "challenge.translator_revoked"
    assert conflicts() == (None, False, False)
    assert browser(translator).get(f"/staff/challenges/{challenge.id}/texts/de").status_code == 404
    again = client.delete(f"/api/v1/challenges/{challenge.id}/translators/{translator_id}", headers=api_token(manager))
    assert again.status_code == 409


def test_the_translators_list_costs_the_same_queries_for_one_or_four_challenges(app, team, challenge_factory,
                                                                                browser):
    org, manager, translator = team
    hans = browser(translator)

    def statements_for_list() -> int:
        with counting_queries(app) as statements:
            page = hans.get("/me/translations")
        assert page.status_code == 200
        return len(statements)

    first = challenge_factory(org, manager, status="draft")
    _invite(app, first, manager, translator)
    one = statements_for_list()
    for _ in range(3):
        _invite(app, challenge_factory(org, manager, status="draft"), manager, translator)
    page = hans.get("/me/translations").get_data(as_text=True)
    assert page.count("/texts/de") == 4
    assert statements_for_list() == one
