"""The labels module is the one home of code-to-word tables: every code the domain writes has its words there."""

import pathlib
import re

from marketplace import labels
from marketplace.reviews.conflicts import rules

MARKETPLACE = pathlib.Path(labels.__file__).parent


def _reason_codes() -> set[str]:
    """The conflict reason codes: the rules module's string constants (its only ones)."""
    return {value for name, value in vars(rules).items() if name.isupper() and isinstance(value, str)}


def test_every_conflict_rule_has_words():
    codes = _reason_codes()
    assert len(codes) >= 10
    assert codes == set(labels.CONFLICT_REASON_LABELS)
    for code in codes:
        assert labels.conflict_reason_label(code) != code


def test_an_unknown_code_is_shown_as_it_is():
    assert labels.payout_status_label("brand_new_state") == "brand_new_state"
    assert labels.review_status_label(None) == ""


def test_award_and_payout_states_share_their_words():
    assert labels.award_status_label("paid") == labels.payout_status_label("paid") == "Paid"
    assert labels.proposal_status_label("withdrawn") == labels.proposal_journey_label("withdrawn")


def _definitions(pattern: str) -> list[str]:
    found = []
    for path in MARKETPLACE.rglob("*.py"):
        found += [f"{path}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1) if re.match(pattern, line)]
    return found


def test_label_and_country_name_are_defined_once():
    assert len(_definitions(r"def label\(")) == 1
    assert len(_definitions(r"def country_name\(")) == 1
    assert _definitions(r"[A-Z_]+_LABELS = \{") == [
        d for d in _definitions(r"[A-Z_]+_LABELS = \{") if d.startswith(str(MARKETPLACE / "labels.py"))]


def test_where_a_finding_sits_is_said_in_words(app):
    from flask_babel import force_locale

    with app.test_request_context():
        assert [labels.text_place_label(place) for place in
                ("title", "criteria#2", "criteria#3.1", "stages#2.name", "stages#2.description", "attachment-1")] == [
            "Title", "Criterion 2", "Stage 3, criterion 1", "Stage 2, name", "Stage 2, description", "Attachment 1"]
        with force_locale("de"):
            assert labels.text_place_label("criteria#2") == "Kriterium 2"
            assert labels.text_place_label("title") == "Titel"
