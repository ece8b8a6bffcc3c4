"""tools/translations.py on a small catalog tree of its own: fill, fill-en, status, export-missing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from tests.core.test_translations import tool

PLURAL = ("%(num)d attempt", "%(num)d attempts")
GREETING = "Hello %(name)s,"


def write_catalog(path: Path, locale: str | None, fuzzy_ids=(), strings=None) -> None:
    """A catalog with three messages: one plain, one with a placeholder, one plural."""
    catalog = Catalog(locale=locale, fuzzy=False)
    strings = strings or {}
    catalog.add("Save", strings.get("Save", ""))
    catalog.add(GREETING, strings.get(GREETING, ""), flags=["python-format"])
    catalog.add(PLURAL, strings.get(PLURAL[0], ("",) * (catalog.num_plurals if locale else 2)),
                flags=["python-format"])
    for msgid in fuzzy_ids:
        catalog[msgid].flags.add("fuzzy")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=76)


@pytest.fixture
def tree(tmp_path):
    folder = tmp_path / "translations"
    write_catalog(folder / "messages.pot", None)
    write_catalog(tool.catalog_path("en", folder), "en")
    write_catalog(tool.catalog_path("de", folder), "de", fuzzy_ids=["Save"], strings={"Save": "Sichern"})
    write_catalog(tool.catalog_path("ar", folder), "ar")
    return folder


def run(folder: Path, *arguments: str) -> int:
    return tool.main(["--translations", str(folder), *arguments])


def batch_file(tmp_path: Path, batch: dict) -> str:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(batch, ensure_ascii=False), encoding="utf-8")
    return str(path)


def load(folder: Path, locale: str):
    return tool.load_catalog(tool.catalog_path(locale, folder), locale)


def test_fill_writes_translations_clears_fuzzy_and_leaves_other_entries_alone(tree, tmp_path):
    batch = {GREETING: {"de": "Guten Tag %(name)s,"},
             PLURAL[0]: {"_plural": PLURAL[1], "ar": ["لا محاولات", "محاولة واحدة", "محاولتان", "%(num)d محاولات",
                                                       "%(num)d محاولة", "%(num)d محاولة"]}}
    assert run(tree, "fill", batch_file(tmp_path, batch)) == 0

    german = load(tree, "de")
    assert german[GREETING].string == "Guten Tag %(name)s,"
    assert not german[GREETING].fuzzy
    assert german["Save"].string == "Sichern" and german["Save"].fuzzy  # not in the batch: untouched
    assert german.last_translator == tool.TEAM_TRANSLATOR
    arabic = load(tree, "ar")
    assert arabic[PLURAL[0]].string[1] == "محاولة واحدة"
    assert arabic["Save"].string == ""


def test_fill_repairs_a_fuzzy_entry_when_the_batch_covers_it(tree, tmp_path):
    assert run(tree, "fill", batch_file(tmp_path, {"Save": {"de": "Speichern"}})) == 0
    german = load(tree, "de")
    assert german["Save"].string == "Speichern" and not german["Save"].fuzzy


def test_fill_gives_english_its_msgids_including_plural_forms(tree, tmp_path):
    assert run(tree, "fill", batch_file(tmp_path, {})) == 0
    english = load(tree, "en")
    assert english["Save"].string == "Save"
    assert tuple(english[PLURAL[0]].string) == PLURAL


def test_fill_en_alone_keeps_an_existing_english_override(tree):
    write_catalog(tool.catalog_path("en", tree), "en", strings={"Save": "Save now"})
    assert run(tree, "fill-en") == 0
    english = load(tree, "en")
    assert english["Save"].string == "Save now"
    assert english[GREETING].string == GREETING


@pytest.mark.parametrize(("batch", "complaint"), [
    ({GREETING: {"de": "Guten Tag %(nom)s,"}}, "unknown placeholders"),
    ({GREETING: {"de": "Guten Tag,"}}, "missing placeholders"),
    ({"Save": {"de": "Zu 100 %."}}, "lone '%'"),
    ({"Save": {"de": "Zu 100% speichern"}}, "Python reads '% s' as a directive"),
    ({PLURAL[0]: {"de": "%(num)d Versuche"}}, "give a list"),
    ({PLURAL[0]: {"de": ["%(num)d Versuch"]}}, "needs 2 plural forms"),
    ({PLURAL[0]: {"ar": ["لا محاولات", "محاولة واحدة", "محاولتان", "محاولات", "%(num)d محاولة", "%(num)d محاولة"]}},
     "form 3: missing placeholders"),
    ({"Save": {"en": "Save"}}, "leave 'en' out"),
    ({"Save": {"xx": "Save"}}, "no catalog for locale 'xx'"),
])
def test_fill_refuses_a_bad_batch_and_writes_nothing(tree, tmp_path, capsys, batch, complaint):
    before = {path: path.read_bytes() for path in tree.rglob("*.po")}
    assert run(tree, "fill", batch_file(tmp_path, batch)) == 1
    assert complaint in capsys.readouterr().err
    assert {path: path.read_bytes() for path in tree.rglob("*.po")} == before


def test_a_plural_form_for_one_number_may_spell_the_number_out(tree):
    arabic = load(tree, "ar")
    forms = ["لا محاولات", "محاولة واحدة", "محاولتان", "%(num)d محاولات", "%(num)d محاولة", "%(num)d محاولة"]
    assert tool.translation_problems(arabic[PLURAL[0]], forms, arabic) == []
    german = load(tree, "de")
    assert tool.translation_problems(german[PLURAL[0]], ["ein Versuch", "%(num)d Versuche"], german) == []
    assert tool.translation_problems(german[PLURAL[0]], ["%(num)d Versuch", "mehrere Versuche"], german) == [
        "form 1: missing placeholders ['%(num)d']"]


def test_a_lone_percent_is_accepted_only_where_the_msgid_has_one():
    catalog = Catalog(locale="de", fuzzy=False)
    plain = catalog.add("Top 10 %", "")
    assert tool.translation_problems(plain, ["Obere 10 %"], catalog) == []
    other = catalog.add("Top half", "")
    assert tool.translation_problems(other, ["Obere 50 %"], catalog) == [
        "a lone '%': write the word (percent), or '%%'"]


def test_unknown_msgids_are_reported_and_fail_the_command(tree, tmp_path, capsys):
    assert run(tree, "fill", batch_file(tmp_path, {"Gone": {"de": "Weg"}, "Save": {"de": "Speichern"}})) == 1
    assert "Gone" in capsys.readouterr().out
    assert load(tree, "de")["Save"].string == "Speichern"  # the known entry is still merged


def test_status_fails_while_something_is_missing_and_passes_when_complete(tree, tmp_path, capsys):
    assert run(tree, "status") == 1
    table = capsys.readouterr().out
    assert "untranslated" in table
    batch = {"Save": {"de": "Speichern", "ar": "حفظ"},
             GREETING: {"de": "Guten Tag %(name)s,", "ar": "مرحبًا %(name)s،"},
             PLURAL[0]: {"de": ["%(num)d Versuch", "%(num)d Versuche"],
                         "ar": ["لا محاولات", "محاولة واحدة", "محاولتان", "%(num)d محاولات", "%(num)d محاولة",
                                "%(num)d محاولة"]}}
    assert run(tree, "fill", batch_file(tmp_path, batch)) == 0
    assert run(tree, "status") == 0


def test_status_flags_english_left_behind_but_not_the_allowed_words(tree, tmp_path, capsys):
    assert run(tree, "fill", batch_file(tmp_path, {"Save": {"de": "Save"}})) == 0
    capsys.readouterr()
    run(tree, "status")
    assert 'de: same as English (suspected):\n  "Save"' in capsys.readouterr().out
    assert run(tree, "status", "--strict") == 1
    assert tool.same_as_source_allowed("InnoBridge", "de")
    assert tool.same_as_source_allowed("Roles", "es") and not tool.same_as_source_allowed("Roles", "de")
    assert tool.same_as_source_allowed("%(a)s · %(b)s", "de")


def test_status_counts_template_messages_not_yet_merged(tree, capsys):
    catalog = tool.load_template(tree / "messages.pot")
    catalog.add("Brand new")
    with (tree / "messages.pot").open("wb") as handle:
        write_po(handle, catalog, width=76)
    assert run(tree, "status", "--verbose") == 1
    assert '"Brand new"' in capsys.readouterr().out


def test_export_missing_writes_a_skeleton_that_fill_accepts_once_filled(tree, tmp_path):
    out = tmp_path / "missing.json"
    assert run(tree, "export-missing", "-o", str(out)) == 0
    skeleton = json.loads(out.read_text(encoding="utf-8"))
    assert skeleton["Save"] == {"de": "", "ar": ""}  # the fuzzy German entry counts as missing
    assert skeleton[PLURAL[0]]["_plural"] == PLURAL[1]
    assert skeleton[PLURAL[0]]["ar"] == [""] * 6
    assert skeleton["_plural_forms"]["ar"][2] == "n = 2"
    assert "en" not in skeleton["Save"]

    assert run(tree, "fill", str(out)) == 0  # an untouched skeleton changes nothing
    assert load(tree, "de")["Save"].fuzzy
    skeleton["Save"]["de"] = "Speichern"
    out.write_text(json.dumps(skeleton, ensure_ascii=False), encoding="utf-8")
    assert run(tree, "fill", str(out)) == 0
    assert load(tree, "de")["Save"].string == "Speichern"


def test_writing_a_catalog_unchanged_reproduces_pybabels_bytes():
    path = tool.catalog_path("de")
    before = path.read_bytes()
    catalog = tool.load_catalog(path, "de")
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=tool.PO_WIDTH)
    assert buffer.getvalue() == before
