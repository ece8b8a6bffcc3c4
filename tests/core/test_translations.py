"""The interface catalogs: complete in every language, placeholders intact, template current.

Pure tests on the files in translations/: no application, no database. They fail when a
developer adds interface text without `make update-catalogs`, when a catalog misses or
garbles a translation, or when a catalog would not compile.
"""

from __future__ import annotations

import gettext
import importlib.util
import io
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural

from marketplace.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "translations" / "messages.pot"


def _load_tool():
    """tools/translations.py is a script, not a package: load it by path."""
    spec = importlib.util.spec_from_file_location("innobridge_translations_tool", ROOT / "tools" / "translations.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
LOCALES = list(LANGUAGES)
OTHER_LOCALES = [locale for locale in LOCALES if locale != tool.SOURCE_LOCALE]


def catalog(locale):
    return tool.load_catalog(tool.catalog_path(locale), locale)


def template_messages():
    return list(tool.entries(tool.load_template(TEMPLATE)))


def key(message):
    """A message as the template knows it: its msgid, or (singular, plural) for a plural entry."""
    return tuple(message.id) if message.pluralizable else message.id


def describe(msgids):
    return "\n".join(f"  {msgid!r}" for msgid in msgids)


def test_every_interface_language_has_a_catalog_and_nothing_else_does():
    assert sorted(tool.available_locales()) == sorted(LANGUAGES)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_declares_the_plural_forms_of_its_language(locale):
    loaded = catalog(locale)
    assert str(loaded.locale) == locale
    assert loaded.num_plurals == get_plural(locale).num_plurals
    assert not loaded.fuzzy, "a fuzzy header makes pybabel compile skip the whole catalog"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_message_is_translated_and_not_fuzzy(locale):
    loaded = catalog(locale)
    absent, fuzzy, empty = [], [], []
    for source in template_messages():
        message = loaded.get(tool.singular_id(source))
        if message is None:
            absent.append(source.id)
        elif message.fuzzy:
            fuzzy.append(message.id)
        elif not tool.is_translated(message, loaded.num_plurals):
            empty.append(message.id)
    assert not absent, f"run `make update-catalogs`; missing from {locale}:\n{describe(absent)}"
    assert not fuzzy, f"fuzzy in {locale}:\n{describe(fuzzy)}"
    assert not empty, (f"untranslated in {locale} (see `tools/translations.py export-missing`):\n"
                       f"{describe(empty)}")


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_has_the_template_messages_and_no_others(locale):
    catalog_ids = {key(message) for message in tool.entries(catalog(locale))}
    assert catalog_ids == {key(message) for message in template_messages()}


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_the_source(locale):
    loaded = catalog(locale)
    problems = [f"{message.id!r}: {problem}"
                for message in tool.entries(loaded) if tool.is_translated(message, loaded.num_plurals)
                for problem in tool.translation_problems(message, tool.forms_of(message), loaded)]
    assert not problems, "\n".join(problems)


def sample_values(text: str) -> dict:
    """A value for every named placeholder of `text`, of the type its conversion expects."""
    return {name: 7 if kind in "diouxXeEfFgGc" else "x" for name, kind in tool.directives(text) if name}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_translation_survives_python_formatting(locale):
    """Jinja's newstyle gettext applies `%` to every translated string, with or without variables."""
    loaded = catalog(locale)
    failures = []
    for message in tool.entries(loaded):
        sources = list(message.id) if message.pluralizable else [message.id]
        values = {key: value for source in sources for key, value in sample_values(source).items()}
        if tool.format_problems(sources[0]):
            continue  # the English text itself is for Python's gettext only ("Top 10 %")
        for text in tool.forms_of(message):
            try:
                text % values
            except (KeyError, TypeError, ValueError) as error:
                failures.append(f"{text!r}: {error!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_no_english_is_left_behind(locale):
    left = [message.id for message in tool.entries(catalog(locale)) if tool.looks_untranslated(message, locale)]
    assert not left, (f"{locale} repeats the English text; translate it, or add a true exception to "
                      f"SAME_EVERYWHERE / SAME_IN_LOCALE in tools/translations.py:\n{describe(left)}")


def test_english_catalog_repeats_the_msgids():
    loaded = catalog(tool.SOURCE_LOCALE)
    differing = [message.id for message in tool.entries(loaded)
                 if message.string != tool.english_forms(message, loaded.num_plurals)]
    assert not differing, f"change English text in the source, not in the en catalog:\n{describe(differing)}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_compiles_and_the_compiled_catalog_answers_every_message(locale):
    loaded = catalog(locale)
    assert [error for _message, errors in loaded.check() for error in errors] == []
    compiled = io.BytesIO()
    write_mo(compiled, loaded)
    compiled.seek(0)
    translations = gettext.GNUTranslations(compiled)
    samples = tool.plural_form_samples(loaded)
    for message in tool.entries(loaded):
        if message.pluralizable:
            for form, numbers in enumerate(samples):
                if numbers:
                    assert translations.ngettext(*message.id, numbers[0]) == message.string[form]
        else:
            assert translations.gettext(message.id) == message.string


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("locale", LOCALES)
def test_msgfmt_check_is_clean(locale, tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "messages.mo"), str(tool.catalog_path(locale))],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


def extract_arguments_from_makefile() -> list[str]:
    """The arguments `make extract-messages` gives `pybabel extract`, so this test uses the same keywords."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lines = [line for line in makefile.splitlines() if "pybabel extract" in line]
    assert len(lines) == 1, "expected one `pybabel extract` line in the Makefile"
    words = shlex.split(lines[0].strip())
    return words[words.index("extract"):]


def test_template_is_up_to_date_with_the_source(tmp_path):
    arguments = extract_arguments_from_makefile()
    output = arguments.index("-o") + 1
    arguments[output] = str(tmp_path / "messages.pot")
    result = subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", *arguments],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr

    def ids(path):
        return {key(message) for message in tool.entries(tool.load_template(path))}

    fresh, committed = ids(tmp_path / "messages.pot"), ids(TEMPLATE)
    assert fresh - committed == set(), "new interface text: run `make update-catalogs` and translate it"
    assert committed - fresh == set(), "the template has text the source no longer uses: run `make update-catalogs`"


def test_template_texts_survive_jinja_formatting():
    """Jinja's newstyle gettext applies `%` to every text of a template, so a literal % must be written %%.

    "90 % interval" in a template raises TypeError when the page renders, in every language.
    """
    broken = []
    for path in sorted((ROOT / "marketplace").rglob("*")):
        if "templates" not in path.parts or path.suffix not in (".html", ".txt"):
            continue
        found = extract_from_file("jinja2", str(path), keywords=DEFAULT_KEYWORDS,
                                  options={"extensions": "jinja2.ext.do"})
        for lineno, message, _comments, _context in found:
            texts = message if isinstance(message, tuple) else (message,)
            if any(text and tool.format_problems(text) for text in texts):
                broken.append(f"{path.relative_to(ROOT)}:{lineno}: {message!r}")
    assert not broken, "write a literal % as %% in template texts:\n" + "\n".join(broken)
