"""The classification gate's marker screening (pure: no database)."""

import pytest

from marketplace.challenges.markers import BLOCK, DEFAULT_MARKERS, WARN, find


def found(text, field="description", locale="en", codes=()):
    return [(f.marker, f.span, f.severity) for f in find({field: {locale: text}}, DEFAULT_MARKERS, codes)]


@pytest.mark.parametrize(("text", "marker", "span"), [
    ("This design is SECRET.", "SECRET", "SECRET"),
    ("Marked Top  Secret by the lab", "TOP SECRET", "Top  Secret"),
    ("top secret material", "TOP SECRET", "top secret"),
    ("ＳＥＣＲＥＴ (full-width)", "SECRET", "ＳＥＣＲＥＴ"),
    ("RESTRICTED distribution", "RESTRICTED", "RESTRICTED"),
    ("CONFIDENTIAL", "CONFIDENTIAL", "CONFIDENTIAL"),
    ("the S E C R E T annex", "SECRET", "S E C R E T"),
    ("a s-e-c-r-e-t annex", "SECRET", "s-e-c-r-e-t"),
    ("see C.O.N.F.I.D.E.N.T.I.A.L", "CONFIDENTIAL", "C.O.N.F.I.D.E.N.T.I.A.L"),
    ("Classification: secret", "SECRET", "secret"),
    ("classification - restricted", "RESTRICTED", "restricted"),
    ("密级：confidential", "CONFIDENTIAL", "confidential"),
    ("本项目属于绝密级", "绝密", "绝密"),
    ("本項目屬於絕密級", "绝密", "絕密"),  # traditional characters
    ("机密文件", "机密", "机密"),
    ("機密文件", "机密", "機密"),
    ("机 密文件", "机密", "机 密"),
    ("机\u200b密文件", "机密", "机\u200b密"),  # a zero-width space between the characters
    ("机　密", "机密", "机　密"),  # the ideographic (full-width) space
    ("机·密", "机密", "机·密"),
    ("涉及秘密内容", "秘密", "秘密"),
    ("祕 密", "秘密", "祕 密"),
])
def test_blocking_markers_in_any_spelling_name_the_span(text, marker, span):
    assert (marker, span, BLOCK) in found(text)


@pytest.mark.parametrize(("text", "marker", "span"), [
    ("Participation is restricted to EU residents.", "RESTRICTED", "restricted"),
    ("A secret ingredient of the process is its temperature.", "SECRET", "secret"),
    ("Secret sauce: the calibration.", "SECRET", "Secret"),
    ("Results stay confidential until the award.", "CONFIDENTIAL", "confidential"),
    ("ｃｏｎｆｉｄｅｎｔｉａｌ report", "CONFIDENTIAL", "ｃｏｎｆｉｄｅｎｔｉａｌ"),
])
def test_single_words_in_ordinary_prose_are_warnings(text, marker, span):
    assert found(text) == [(marker, span, WARN)]


@pytest.mark.parametrize("text", [
    "The secretary will answer questions.",
    "Secretion of the enzyme is measured.",
    "Confidentiality of proposals is guaranteed by the agreement.",
    "Unrestricted access to the data set.",
    "The SEC retains the filing.",
    "密度测量与传感器校准",  # 密度 is density, not a marker
    "",
])
def test_words_that_only_contain_a_marker_pass_silently(text):
    assert found(text) == []


def test_top_secret_is_reported_once_not_also_as_secret():
    assert found("TOP SECRET material") == [("TOP SECRET", "TOP SECRET", BLOCK)]


def test_each_field_and_locale_is_named():
    findings = find({"title": {"en": "SECRET sensor", "zh_Hans": "传感器"},
                     "summary": {"zh_Hans": "绝 密 传感器"}}, DEFAULT_MARKERS)
    assert {(f.marker, f.field, f.locale, f.span) for f in findings} == {
        ("SECRET", "title", "en", "SECRET"), ("绝密", "summary", "zh_Hans", "绝 密")}


@pytest.mark.parametrize(("text", "expected"), [
    ("Meets requirement R1", [("R1", "R1", BLOCK)]),
    ("Covers Ｒ１ and R3", [("R1", "Ｒ１", BLOCK), ("R3", "R3", BLOCK)]),
    ("Model R10 and R1x are unrelated", []),
])
def test_internal_requirement_codes_are_blocks(text, expected):
    assert found(text, codes=["R1", "R3"]) == expected
