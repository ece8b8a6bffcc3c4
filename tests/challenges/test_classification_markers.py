"""The classification gate's marker screening (pure: no database)."""

import pytest

from marketplace.challenges.clearance import DEFAULT_MARKERS, screen


def hits(text, field="description", locale="en"):
    return [(h.marker, h.field, h.locale) for h in screen({field: {locale: text}}, DEFAULT_MARKERS)]


@pytest.mark.parametrize(("text", "marker"), [
    ("This design is SECRET.", "SECRET"),
    ("this design is secret", "SECRET"),
    ("Marked Top  Secret by the lab", "TOP SECRET"),
    ("ＳＥＣＲＥＴ (full-width)", "SECRET"),
    ("ｃｏｎｆｉｄｅｎｔｉａｌ report", "CONFIDENTIAL"),
    ("RESTRICTED distribution", "RESTRICTED"),
    ("本项目属于绝密级", "绝密"),
    ("本項目屬於絕密級", "绝密"),  # traditional characters
    ("机密文件", "机密"),
    ("機密文件", "机密"),
    ("涉及秘密内容", "秘密"),
])
def test_markers_are_found_in_any_form(text, marker):
    assert marker in [m for m, _f, _l in hits(text)]


@pytest.mark.parametrize("text", [
    "The secretary will answer questions.",
    "Secretion of the enzyme is measured.",
    "Confidentiality of proposals is guaranteed by the agreement.",
    "Unrestricted access to the data set.",
    "密度测量与传感器校准",  # 密度 is density, not a marker
])
def test_ordinary_words_are_not_markers(text):
    assert hits(text) == []


def test_top_secret_is_reported_once_not_also_as_secret():
    assert hits("TOP SECRET material") == [("TOP SECRET", "description", "en")]


def test_each_field_and_locale_is_named():
    found = screen({"title": {"en": "Secret sensor", "zh_Hans": "传感器"},
                    "summary": {"zh_Hans": "绝密 传感器"}}, DEFAULT_MARKERS)
    assert {(h.marker, h.field, h.locale) for h in found} == {("SECRET", "title", "en"), ("绝密", "summary", "zh_Hans")}
