"""Kinds are registered by the app factory, in one list (marketplace.wiring), never by importing a module."""

import subprocess
import sys

from marketplace import wiring
from marketplace.reminders import services as reminders
from marketplace.search.engine import KINDS as SEARCH_KINDS
from marketplace.solvers import notifications

# Every module that defines a kind, imported in a fresh interpreter: afterwards no registry may hold any of them.
IMPORT_EVERYTHING = """
import importlib, pkgutil, marketplace, marketplace.models  # every table known first, as in create_app
for module in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
    if ".templates" not in module.name and not module.name.startswith("marketplace.demo"):
        importlib.import_module(module.name)
from marketplace.reminders import services as reminders
from marketplace.search.engine import KINDS
from marketplace.solvers import notifications
print(sorted(notifications._KINDS), sorted(reminders._KINDS), sorted(KINDS))
"""

NOTIFICATION_KINDS = {
    "challenge_published", "challenge_amended", "question_answered", "translator_invited",
    "provisional_scores_released", "appeal_answered", "appeal_filed", "award_won", "award_not_won",
    "award_next_step", "stage_advanced", "stage_not_advanced", "stage_deadline", "challenge_deadline", "review_due",
}


def test_importing_the_code_registers_nothing():
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] [] ['challenges']"


def test_the_app_factory_registers_every_kind_and_again_harmlessly(app):
    registered = dict(notifications._KINDS)
    assert NOTIFICATION_KINDS <= set(registered), NOTIFICATION_KINDS - set(registered)
    assert {"challenge_deadline", "review_due", "stage_deadline"} <= set(reminders._KINDS)
    assert "results" in SEARCH_KINDS
    wiring.register_kinds()  # as each further app does
    wiring.register_kinds()
    assert set(notifications._KINDS) == set(registered)
    with app.test_request_context():
        payload = {"title": {"en": "Solar"}, "default_locale": "en", "challenge_id": 1, "proposal_id": 2}
        for kind in ("challenge_amended", "award_won", "stage_advanced"):
            assert "Solar" in notifications._KINDS[kind].text(payload, "en")
