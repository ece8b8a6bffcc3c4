"""The manager's stage pages: planning a draft's stages, advancing a judged stage (with its confirmation and
milestone split), the links on the manage page, and the per-stage analytics (page and API)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from marketplace.extensions import db
from tests.factories import token
from tests.helpers import csrf_token_from
from tests.stages.conftest import in_days, stage_ids, three_stages


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")  # the managers here have no time zone: UTC


def _stage_fields(index: int, *, name: str, deadline, criteria, advance=None, award=None, source="",
                  description="") -> dict:
    prefix = f"stages-{index}-"
    data = {prefix + "source": source, prefix + "name": name, prefix + "description": description,
            prefix + "deadline": _local(deadline), prefix + "advance": "" if advance is None else str(advance),
            prefix + "award": award or ""}
    for k in range(4):
        crit_name, weight = criteria[k] if k < len(criteria) else ("", "")
        data[f"{prefix}criteria-{k}-name"], data[f"{prefix}criteria-{k}-weight"] = crit_name, str(weight)
    return data


def _draft(app, make_org, make_user, challenge_factory, *, locale="en"):
    org = make_org()
    manager = make_user(roles=[("center_manager", org)], locale=locale)
    challenge = challenge_factory(org, manager, status="draft", stages=three_stages())
    return org, manager, challenge.id


# --- the stage plan -----------------------------------------------------------------------------------------

def test_a_manager_replans_a_drafts_stages_and_other_languages_stay(app, browser, make_org, make_user,
                                                                    challenge_factory):
    from marketplace.audit.models import AuditEntry
    from marketplace.challenges.models import Challenge

    _org, manager, challenge_id = _draft(app, make_org, make_user, challenge_factory)
    client = browser(manager)
    page = client.get(f"/staff/challenges/{challenge_id}/stages")
    assert page.status_code == 200
    text = _text(page)
    assert "Concept" in text and "Prototype" in text and "Pilot" in text
    first, _second, third = stage_ids(app, challenge_id)

    data = {"csrf_token": csrf_token_from(page), "submit": "Save the stage plan",
            **_stage_fields(0, name="Concept paper", deadline=in_days(20), advance=3, award="1000.00",
                            source=str(first), criteria=[("Novelty", 100)]),
            **_stage_fields(1, name="Pilot", deadline=in_days(70), source=str(third),
                            description="A pilot line run.", criteria=[("Yield", 60), ("Cost", 40)])}
    response = client.post(f"/staff/challenges/{challenge_id}/stages", data=data)
    assert response.status_code == 302, _text(response)
    assert response.headers["Location"].endswith(f"/staff/challenges/{challenge_id}")
    assert "The stage plan is saved." in _text(client.get(response.headers["Location"]))
    with app.app_context():
        challenge = db.session.get(Challenge, challenge_id)
        stages = challenge.stages
        assert [s.position for s in stages] == [1, 2]
        assert stages[0].name == {"en": "Concept paper", "zh_Hans": "概念"}  # the Chinese name came along
        assert stages[0].advance == 3 and stages[0].award_minor == 100000
        assert stages[1].advance is None and stages[1].award_minor is None
        assert stages[1].description == {"en": "A pilot line run."}
        assert [c.name for c in challenge.criteria_for(stages[1].id)] == [{"en": "Yield", "zh_Hans": "良率"},
                                                                          {"en": "Cost", "zh_Hans": "成本"}]
        assert challenge.current_stage_id == stages[0].id
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "challenge.stages_planned"))


def test_a_refused_plan_shows_the_message_by_its_field_in_the_users_language_and_keeps_the_input(
        app, browser, make_org, make_user, challenge_factory):
    from marketplace.challenges.models import Challenge

    _org, manager, challenge_id = _draft(app, make_org, make_user, challenge_factory, locale="de")
    client = browser(manager)
    page = client.get(f"/staff/challenges/{challenge_id}/stages")
    data = {"csrf_token": csrf_token_from(page), "submit": "1",
            **_stage_fields(0, name="Erste Runde", deadline=in_days(20), advance=2,
                            criteria=[("Neuheit", 100)]),
            **_stage_fields(1, name="Finale", deadline=in_days(50), criteria=[("Ausbeute", 60)])}
    response = client.post(f"/staff/challenges/{challenge_id}/stages", data=data)
    assert response.status_code == 422
    text = _text(response)
    assert "Die Gewichtungen ergeben zusammen 60; sie müssen 100 ergeben." in text
    assert 'id="stages-1-criteria-section"' in text and 'value="Erste Runde"' in text  # what was typed stays

    early = {**data, **_stage_fields(1, name="Finale", deadline=in_days(10), criteria=[("Ausbeute", 100)])}
    response = client.post(f"/staff/challenges/{challenge_id}/stages", data=early)
    assert response.status_code == 422
    assert 'id="stages-1-deadline-error"' in _text(response)
    with app.app_context():
        assert len(db.session.get(Challenge, challenge_id).stages) == 3  # nothing changed


def test_stages_are_added_and_removed_without_saving(app, browser, make_org, make_user, challenge_factory):
    from marketplace.challenges.models import Challenge

    _org, manager, challenge_id = _draft(app, make_org, make_user, challenge_factory)
    client = browser(manager)
    page = client.get(f"/staff/challenges/{challenge_id}/stages")
    base = {"csrf_token": csrf_token_from(page),
            **_stage_fields(0, name="One", deadline=in_days(20), advance=2, criteria=[("A", 100)]),
            **_stage_fields(1, name="Two", deadline=in_days(40), criteria=[("B", 100)])}
    added = client.post(f"/staff/challenges/{challenge_id}/stages", data={**base, "add_stage": "1"})
    assert added.status_code == 200
    assert 'id="stages-2"' in _text(added) and 'value="One"' in _text(added)
    removed = client.post(f"/staff/challenges/{challenge_id}/stages", data={**base, "stages-0-remove": "1"})
    assert removed.status_code == 200
    assert 'value="One"' not in _text(removed) and 'value="Two"' in _text(removed)
    with app.app_context():
        assert len(db.session.get(Challenge, challenge_id).stages) == 3


def test_only_the_centers_managers_use_the_stage_pages(app, browser, make_org, make_user, challenge_factory,
                                                      staged):
    org, manager, challenge_id = _draft(app, make_org, make_user, challenge_factory)
    officer = make_user(roles=[("security_officer", org)])
    other_manager = make_user(roles=[("center_manager", make_org())])
    solver = make_user()
    first = stage_ids(app, staged.challenge_id)[0]
    for user, expected in ((officer, 403), (other_manager, 404), (solver, 404)):
        client = browser(user)
        assert client.get(f"/staff/challenges/{challenge_id}/stages").status_code == expected, user.email
    anonymous = browser()
    assert anonymous.get(f"/staff/challenges/{challenge_id}/stages").status_code in (302, 401)
    stranger = browser(other_manager)
    assert stranger.get(f"/staff/challenges/{staged.challenge_id}/stages/{first}/advance").status_code == 404


def test_an_open_challenges_plan_is_shown_but_not_changed(app, browser, staged):
    from marketplace.challenges.models import Challenge

    client = browser(_user(app, staged.manager_id))
    page = client.get(f"/staff/challenges/{staged.challenge_id}/stages")
    assert page.status_code == 200
    assert "The stage plan can change only before publication" in _text(page)
    response = client.post(f"/staff/challenges/{staged.challenge_id}/stages",
                           data={"csrf_token": csrf_token_from(page), "submit": "1"})
    assert response.status_code == 409
    with app.app_context():
        assert len(db.session.get(Challenge, staged.challenge_id).stages) == 3


def _user(app, user_id):
    from marketplace.accounts.models import User

    with app.app_context():
        return db.session.get(User, user_id)


# --- the advance ------------------------------------------------------------------------------------------

def _advance_url(world, stage_id) -> str:
    return f"/staff/challenges/{world.challenge_id}/stages/{stage_id}/advance"


def _summary_of(response) -> str:
    match = re.search(r'name="summary_of" type="hidden" value="([^"]*)"', response.get_data(as_text=True)) or \
        re.search(r'id="summary_of" name="summary_of" type="hidden" value="([^"]*)"', response.get_data(as_text=True))
    assert match, "no summary_of field"
    return html.unescape(match.group(1))


def test_the_manage_page_offers_the_advance_and_the_page_ranks_and_preselects(app, browser, staged):
    world = staged
    client = browser(_user(app, world.manager_id))
    first = stage_ids(app, world.challenge_id)[0]
    manage = _text(client.get(f"/staff/challenges/{world.challenge_id}"))
    assert _advance_url(world, first) in manage and "Choose the finalists" in manage
    page = client.get(_advance_url(world, first))
    assert page.status_code == 200
    text = _text(page)
    thermal, gas, readout = (world.proposals[t] for t in ("thermal", "gas", "readout"))
    assert f'value="{thermal}" id="finalist-{thermal}" checked' in text
    assert f'value="{gas}" id="finalist-{gas}" checked' in text
    assert f'value="{readout}" id="finalist-{readout}">' in text  # not among the best two
    assert "3,000.00" in text or "3000.00" in text  # the pool is named
    assert "2 finalists are invited to stage 2" in text
    assert "2 other proposals are told theirs did not advance" in text
    assert "1,500.00" in text  # equal shares of the pool, shown before confirming
    assert "Calibrated score" in text and "Interval" in text


def test_a_bad_split_is_refused_with_its_message_and_the_choice_kept(app, browser, staged):
    from marketplace.awards.models import Award
    from marketplace.challenges.models import Challenge

    world = staged
    client = browser(_user(app, world.manager_id))
    first = stage_ids(app, world.challenge_id)[0]
    thermal, gas = world.proposals["thermal"], world.proposals["gas"]
    page = client.get(_advance_url(world, first))
    data = {"csrf_token": csrf_token_from(page), "finalists": [str(thermal), str(gas)],
            f"share_{thermal}": "60", f"share_{gas}": "30", "preview": "1"}
    preview = client.post(_advance_url(world, first), data=data)
    assert preview.status_code == 200
    assert "The shares add up to 90 percent; they must add up to 100." in _text(preview)
    del data["preview"]
    response = client.post(_advance_url(world, first), data={**data, "summary_of": _summary_of(preview),
                                                             "submit": "1"})
    assert response.status_code == 422
    text = _text(response)
    assert "The shares of the milestone award add up to 90 percent; they must add up to 100." in text
    assert f'name="share_{thermal}" type="text" value="60"' in text or 'value="60"' in text
    with app.app_context():
        assert db.session.get(Challenge, world.challenge_id).current_stage_id == first
        assert db.session.scalars(select(Award)).first() is None


def test_a_changed_choice_is_summarised_again_before_anything_happens(app, browser, staged):
    from marketplace.challenges.models import Challenge

    world = staged
    client = browser(_user(app, world.manager_id))
    first = stage_ids(app, world.challenge_id)[0]
    page = client.get(_advance_url(world, first))
    thermal = world.proposals["thermal"]
    response = client.post(_advance_url(world, first), data={
        "csrf_token": csrf_token_from(page), "finalists": [str(thermal)], f"share_{thermal}": "100",
        "summary_of": _summary_of(page), "submit": "1"})
    assert response.status_code == 200
    text = _text(response)
    assert "The choice changed since the summary was written." in text
    assert "1 finalist is invited to stage 2" in text and "3,000.00" in text
    with app.app_context():
        assert db.session.get(Challenge, world.challenge_id).current_stage_id == first


def test_advancing_from_the_page_invites_the_finalists_and_the_figures_follow(app, browser, api_token, client,
                                                                              staged):
    from marketplace.awards.models import Award
    from marketplace.challenges.models import Challenge

    world = staged
    manager = browser(_user(app, world.manager_id))
    first, second, _third = stage_ids(app, world.challenge_id)
    thermal, gas = world.proposals["thermal"], world.proposals["gas"]
    page = manager.get(_advance_url(world, first))
    data = {"csrf_token": csrf_token_from(page), "finalists": [str(thermal), str(gas)],
            f"share_{thermal}": "60", f"share_{gas}": "40"}
    preview = manager.post(_advance_url(world, first), data={**data, "preview": "1"})
    assert "1,800.00" in _text(preview) and "1,200.00" in _text(preview)
    response = manager.post(_advance_url(world, first), data={**data, "summary_of": _summary_of(preview),
                                                              "submit": "1"})
    assert response.status_code == 302, _text(response)
    assert response.headers["Location"].endswith(f"/staff/challenges/{world.challenge_id}")
    assert "2 finalists are invited to stage 2" in _text(manager.get(response.headers["Location"]))
    with app.app_context():
        challenge = db.session.get(Challenge, world.challenge_id)
        assert challenge.current_stage_id == second and challenge.status == "open"
        amounts = {a.proposal_id: a.amount_minor for a in db.session.scalars(select(Award))}
    assert amounts == {thermal: 180000, gas: 120000}

    decided = _text(manager.get(_advance_url(world, first)))
    assert "This stage is decided" in decided and "1,800.00" in decided

    figures = client.get(f"/api/v1/challenges/{world.challenge_id}/stages/analytics",
                         headers=token(app, api_token, world.manager_id))
    assert figures.status_code == 200, figures.get_json()
    items = figures.get_json()["items"]
    assert [i["position"] for i in items] == [1, 2, 3]
    assert items[0]["proposals"] == 4 and items[0]["advanced"] == 2 and items[0]["advance_rate"] == "50.0"
    assert items[0]["milestone_awarded"] == {"amount": "3000.00", "currency": "CNY"}
    assert items[0]["milestone_paid"] == {"amount": "0.00", "currency": "CNY"}
    assert items[1]["advanced"] is None and items[1]["advance_rate"] is None
    solver = client.get(f"/api/v1/challenges/{world.challenge_id}/stages/analytics",
                        headers=token(app, api_token, world.solvers["thermal"]))
    assert solver.status_code == 404

    analytics = manager.get(f"/staff/analytics/challenges/{world.challenge_id}")
    assert analytics.status_code == 200
    text = _text(analytics)
    assert "Proposals per stage" in text and "50 %" in text.replace("50.0 %", "50 %")


def test_the_plan_link_is_on_a_drafts_manage_page(app, browser, make_org, make_user, challenge_factory):
    _org, manager, challenge_id = _draft(app, make_org, make_user, challenge_factory)
    text = _text(browser(manager).get(f"/staff/challenges/{challenge_id}"))
    assert f"/staff/challenges/{challenge_id}/stages" in text and "Plan the stages" in text


def test_advancing_before_every_review_is_in_needs_a_written_reason(app, browser, build_world):
    from marketplace.audit.models import AuditEntry
    from marketplace.challenges.models import Challenge
    from tests.factories import add_pool, assign

    world = build_world(challenge_overrides={"stages": three_stages()})
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)  # nothing reviewed yet
    first, second, _third = stage_ids(app, world.challenge_id)
    client = browser(_user(app, world.manager_id))
    page = client.get(_advance_url(world, first))
    assert page.status_code == 200
    text = _text(page)
    assert "assigned reviews are not submitted yet" in text and 'name="override_reason"' in text
    assert "not reviewed" in text and " checked" not in text  # nothing ranked, nothing preselected
    thermal = world.proposals["thermal"]
    data = {"csrf_token": csrf_token_from(page), "finalists": [str(thermal)]}
    preview = client.post(_advance_url(world, first), data={**data, "preview": "1"})
    assert "No milestone award is paid from this stage's pool" in _text(preview)
    data["summary_of"] = _summary_of(preview)
    refused = client.post(_advance_url(world, first), data={**data, "submit": "1"})
    assert refused.status_code == 409
    assert 'id="override_reason-error"' in _text(refused)
    done = client.post(_advance_url(world, first), data={**data, "submit": "1",
                                                         "override_reason": "The board meets tomorrow."})
    assert done.status_code == 302, _text(done)
    with app.app_context():
        assert db.session.get(Challenge, world.challenge_id).current_stage_id == second
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "stage.advanced")).one()
        assert entry.data["override_reason"] == "The board meets tomorrow."


def test_replanning_a_cleared_challenge_sends_it_back_to_clearance(app, browser, make_org, make_user,
                                                                  challenge_factory):
    from marketplace.challenges.models import Challenge

    org = make_org()
    manager = make_user(roles=[("center_manager", org)])
    challenge_id = challenge_factory(org, manager, status="cleared").id
    client = browser(manager)
    page = client.get(f"/staff/challenges/{challenge_id}/stages")
    assert "Saving a change sends it back to the security officer" in _text(page)
    data = {"csrf_token": csrf_token_from(page), "submit": "1",
            **_stage_fields(0, name="Screening", deadline=in_days(20), advance=5, criteria=[("Fit", 100)]),
            **_stage_fields(1, name="Final", deadline=in_days(60), criteria=[("Quality", 100)])}
    response = client.post(f"/staff/challenges/{challenge_id}/stages", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "went back to clearance" in _text(response)
    with app.app_context():
        challenge = db.session.get(Challenge, challenge_id)
        assert challenge.status == "in_clearance" and len(challenge.stages) == 2
