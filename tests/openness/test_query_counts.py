"""Analytics pages cost a fixed number of SQL queries, whatever the number of challenges and proposals."""

from __future__ import annotations

from marketplace.extensions import db
from tests.helpers import counting_queries


def _pages(program_id: int, challenge_id: int) -> list[str]:
    return [f"/staff/analytics/challenges/{challenge_id}", f"/staff/analytics/programs/{program_id}",
            "/staff/analytics/platform", "/stats"]


def _measure(app, browser, paths) -> dict[str, int]:
    counts = {}
    for path in paths:
        with counting_queries(app) as statements:
            response = browser.get(path)
        assert response.status_code == 200, path
        counts[path] = len(statements)
    return counts


def test_analytics_pages_use_a_constant_number_of_queries(app, world, make_user, browser):
    from marketplace.accounts.models import Organization, User
    from marketplace.programs import services as programs

    with app.test_request_context():
        program = programs.create_program(db.session.get(Organization, world.org.id),
                                          db.session.get(User, world.manager.id), title="P", objective="",
                                          classification="unclassified", requirements=[{"code": "R1", "text": "x"}])
        db.session.commit()
        program_id = program.id
    admin = make_user(roles=[("admin", None), ("center_manager", world.org)])
    user_client = browser(admin)
    first = world.challenge(program_id=program_id, requirement_codes=["R1"])
    world.propose(first, world.solver("DE", early_career=True))
    paths = _pages(program_id, first.id)
    _measure(app, user_client, paths)  # warm-up: first-request caches
    small = _measure(app, user_client, paths)

    for _ in range(2):
        extra = world.challenge(program_id=program_id, requirement_codes=["R1"])
        for country in ("JP", "BR", "FR"):
            world.propose(extra, world.solver(country))
    for country in ("US", "KR"):
        world.propose(first, world.solver(country, early_career=True))
    large = _measure(app, user_client, paths)
    assert large == small
