"""The program pages: a center's internal projects, their requirements and the composition view."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.programs.models import Program, Requirement
from tests.helpers import field_error, post_form, rows, text_of

REQUIREMENTS = """R1 Sensor readout noise below 2 nV/√Hz
R2: Thermal budget of the interposer

R3 - Mechanical integration and packaging"""


@pytest.fixture
def center(make_org, make_user):
    org = make_org("sh-icc", name="Shanghai IC Innovation Center")
    return SimpleNamespace(org=org, manager=make_user(roles=[("center_manager", org)]))


def create_program(browser, center, requirements: str = REQUIREMENTS, **changes):
    data = {"organization": str(center.org.id), "title": "Defect inspection module", "classification": "classified",
            "objective": "An in-line wafer inspection module.", "requirements": requirements, **changes}
    return post_form(browser(center.manager), "/programs?lang=en", data)


def program_id_of(response) -> int:
    return int(re.search(r"/programs/(\d+)$", response.headers["Location"]).group(1))


def test_a_manager_creates_a_program_with_its_requirements(app, center, browser):
    response = create_program(browser, center)
    assert response.status_code == 302
    with app.app_context():
        program = db.session.get(Program, program_id_of(response))
        assert program.classification == "classified" and program.organization_id == center.org.id
        assert [(r.code, r.text) for r in program.requirements] == [
            ("R1", "Sensor readout noise below 2 nV/√Hz"), ("R2", "Thermal budget of the interposer"),
            ("R3", "Mechanical integration and packaging")]
    listing = text_of(browser(center.manager).get("/programs?lang=en"))
    assert "Defect inspection module" in listing and "0 of 3 requirements covered by a challenge" in listing


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"requirements": "R1 First\nR1 Again"}, "requirements", "must be unique"),
    ({"requirements": "R1"}, "requirements", "a short code (such as R1) and a text"),
    ({"requirements": "R/1 Slash in the code"}, "requirements", "a short code"),
    ({"title": " "}, "title", "Required"),
    ({"classification": "secret"}, "classification", "Not a valid choice"),
])
def test_bad_program_input_is_422_and_writes_nothing(app, center, browser, changes, field, expected):
    manager = browser(center.manager)
    audit_before = rows(app, AuditEntry)
    response = create_program(lambda _user: manager, center, **changes)
    assert response.status_code == 422
    assert expected in (field_error(response, field) or ""), text_of(response)[:1500]
    assert rows(app, Program) == 0 and rows(app, Requirement) == 0 and rows(app, AuditEntry) == audit_before


def test_the_composition_view_flags_uncovered_requirements(app, center, browser, challenge_factory):
    program_id = program_id_of(create_program(browser, center))
    covering = challenge_factory(center.org, center.manager, program_id=program_id, requirement_codes=["R1"])
    challenge_factory(center.org, center.manager, status="draft", program_id=program_id, requirement_codes=["R1", "R2"])
    response = browser(center.manager).get(f"/programs/{program_id}?lang=en")
    assert response.status_code == 200
    body, page = response.get_data(as_text=True), text_of(response)
    assert "Not complete yet." in page and "1 requirement is not covered by any challenge." in page
    assert f'href="/staff/challenges/{covering.id}"' in body
    r3_row = re.search(r'<tr id="req-R3".*?</tr>', body, re.S).group(0)
    assert "Not covered" in r3_row and "/staff/challenges/new?program_id=" in r3_row and "requirement=R3" in r3_row
    r1_row = text_of_fragment(re.search(r'<tr id="req-R1".*?</tr>', body, re.S).group(0))
    assert "Open" in r1_row and "Draft" in r1_row
    chart = re.search(r"<svg role=\"img\".*?</svg>", body, re.S).group(0)
    assert "R3: not covered" in chart and f"R1: #{covering.id} Open" in chart  # the chart's text alternative


def text_of_fragment(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def test_the_new_challenge_link_comes_prefilled(center, browser, challenge_factory):
    program_id = program_id_of(create_program(browser, center))
    page = browser(center.manager).get(f"/staff/challenges/new?program_id={program_id}&requirement=R2&lang=en")
    body = page.get_data(as_text=True)
    assert re.search(rf'<option selected value="{program_id}">', body)
    assert 'id="requirement_codes" maxlength="400" name="requirement_codes" type="text" value="R2"' in body


def test_adding_a_requirement(app, center, browser):
    program_id = program_id_of(create_program(browser, center))
    manager = browser(center.manager)
    url = f"/programs/{program_id}"
    added = post_form(manager, f"{url}/requirements", {"code": "R4", "text": "Calibration procedure"}, page=url)
    assert added.status_code == 302 and added.headers["Location"].endswith("#req-R4")
    duplicate = post_form(manager, f"{url}/requirements", {"code": "R4", "text": "Again"}, page=url)
    assert duplicate.status_code == 422 and "must be unique" in field_error(duplicate, "code")
    with app.app_context():
        assert [r.code for r in db.session.get(Program, program_id).requirements] == ["R1", "R2", "R3", "R4"]


def test_programs_are_404_for_anyone_outside_the_organization(center, browser, make_org, make_user):
    program_id = program_id_of(create_program(browser, center))
    other = make_org("sh-ssc")
    outsiders = [make_user(roles=[("center_manager", other)]), make_user(roles=[("security_officer", other)]),
                 make_user()]
    for user in outsiders:
        client = browser(user)
        assert client.get(f"/programs/{program_id}").status_code == 404
        assert post_form(client, f"/programs/{program_id}/requirements", {"code": "R9", "text": "x"},
                         page="/challenges").status_code == 404
        assert "Defect inspection module" not in text_of(client.get("/programs"))
    assert browser(make_user()).get("/programs").status_code == 404  # solvers have no programs page
    officer = make_user(roles=[("security_officer", center.org)])
    view = browser(officer).get(f"/programs/{program_id}?lang=en")
    assert view.status_code == 200 and "Add a requirement" not in text_of(view)  # staff may look, not edit
