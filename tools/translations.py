"""Look after the interface translation catalogs in translations/<locale>/LC_MESSAGES/messages.po.

Run from the repository root, after `make update-catalogs`:

    .venv/bin/python tools/translations.py status [--verbose] [--strict]
    .venv/bin/python tools/translations.py export-missing [-o missing.json]
    .venv/bin/python tools/translations.py fill tools/translations-batches/<batch>.json
    .venv/bin/python tools/translations.py fill-en

The JSON transfer format is {msgid: {locale: text}}. A plural entry is keyed by its singular
msgid and takes one text per plural form of the locale, in the catalog's order:
{msgid: {locale: [form0, form1, ...]}}. Keys that start with "_" are notes for the translator
(export-missing writes "_plural" with the msgid_plural, and a top-level "_plural_forms" with
sample numbers for each form); `fill` ignores them, and it skips texts left empty.

English is the source language: its msgstr is the msgid (the plural forms too). `fill` and
`fill-en` write that into the en catalog for every entry that is still empty or fuzzy.
"""

from __future__ import annotations

import argparse
import gettext
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
SOURCE_LOCALE = "en"
PO_WIDTH = 76  # what `pybabel update` writes, so our writes and theirs give the same lines
BABEL_DEFAULT_TRANSLATOR = "FULL NAME <EMAIL@ADDRESS>"  # `msgfmt -c` warns while the header says this
TEAM_TRANSLATOR = "InnoBridge translators"

# Translations that may equal the English msgid: product names and acronyms everywhere, and
# words a language shares with English (Spanish "Error", French "Question"). Keep this list short.
SAME_EVERYWHERE = frozenset({"InnoBridge", "API", "BibTeX", "CSL-JSON", "ORCID", "OK", "Stripe"})
SAME_IN_LOCALE: dict[str, frozenset[str]] = {
    "de": frozenset({"Bonus", "Patent", "Status", "Team", "Token", "Version", "Version %(n)d", "Version %(version)s"}),
    "es": frozenset({"Error %(code)s", "No", "Roles"}),
    "fr": frozenset({"%(num)d expert", "%(num)d notification", "%(num)d version", "Actions", "Bonus",
                     "Classification", "Code", "Date", "Description", "Expert", "Menu", "Notifications",
                     "Publication", "Question", "Type", "Version", "Version %(n)d", "Version %(version)s"}),
    "ja": frozenset({"ORCID iD"}),
    "ko": frozenset({"ORCID iD"}),
    "zh_Hans": frozenset({"ORCID iD"}),
}

# A printf-style directive as Python's % operator reads it, named or not, or a literal "%%".
DIRECTIVE_RE = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[a-zA-Z%])")
VALID_TYPES = set("diouxXeEfFgGcrsa%")
LETTER_RE = re.compile(r"[^\W\d_]")
# Numbers at which a plural rule is evaluated: every small number and some millions, because
# the French and Spanish rules have a form for exact millions.
SAMPLE_NUMBERS = (*range(0, 1001), *(k * 1_000_000 for k in range(1, 6)), 1_000_000_000)


# -- Catalog files ----------------------------------------------------------------------------


def catalog_path(locale: str, translations: Path = TRANSLATIONS) -> Path:
    return translations / locale / "LC_MESSAGES" / "messages.po"


def available_locales(translations: Path = TRANSLATIONS) -> list[str]:
    """Locales with a catalog, English first, then alphabetical."""
    found = sorted(p.parent.parent.name for p in translations.glob("*/LC_MESSAGES/messages.po"))
    return sorted(found, key=lambda locale: locale != SOURCE_LOCALE)


def load_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def load_template(path: Path = TEMPLATE) -> Catalog:
    return load_catalog(path)


def save_catalog(path: Path, catalog: Catalog) -> None:
    """Write the catalog the way `pybabel update` does, replacing the file in one step."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=PO_WIDTH)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".messages.", suffix=".po")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(buffer.getvalue())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def entries(catalog: Catalog) -> Iterator[Message]:
    """The catalog's messages without the header entry (obsolete ones are not iterated)."""
    return (message for message in catalog if message.id)


def singular_id(message: Message) -> str:
    return message.id[0] if message.pluralizable else message.id


# -- Checks on one entry ----------------------------------------------------------------------


def directives(text: str) -> list[tuple[str | None, str]]:
    """The % directives of a string as (name, conversion), without literal "%%"."""
    return [(m.group("name"), m.group("type")) for m in DIRECTIVE_RE.finditer(text) if m.group("type") != "%"]


def placeholders(text: str) -> set[str]:
    """The named directives of a string, written out: {"%(name)s", "%(n)d"}."""
    return {f"%({name}){kind}" for name, kind in directives(text) if name is not None}


def format_problems(text: str) -> list[str]:
    """A "%" that Python's % operator would choke on: Jinja formats every translated string."""
    problems = []
    leftover = DIRECTIVE_RE.sub(lambda m: "" if m.group("type") in VALID_TYPES else m.group(0), text)
    if "%" in leftover:
        problems.append("a lone '%': write the word (percent), or '%%'")
    for match in DIRECTIVE_RE.finditer(text):
        if match.group("name") is None and match.group("type") != "%":
            problems.append(f"Python reads {match.group(0)!r} as a directive: use '%(name)s', the word, or '%%'")
    return problems


def plural_form_samples(catalog: Catalog) -> list[list[int]]:
    """For each plural form of the catalog's language, the sample numbers that select it."""
    choose = gettext.c2py(catalog.plural_expr)
    samples: list[list[int]] = [[] for _ in range(catalog.num_plurals)]
    for number in SAMPLE_NUMBERS:
        samples[choose(number)].append(number)
    return samples


def forms_of(message: Message) -> list[str]:
    if message.pluralizable:
        return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string or ""]
    return [message.string or ""]


def is_translated(message: Message, num_plurals: int = 1) -> bool:
    forms = forms_of(message)
    expected = num_plurals if message.pluralizable else 1
    return len(forms) == expected and all(forms)


def translation_problems(message: Message, texts: list[str], catalog: Catalog) -> list[str]:
    """What is wrong with `texts` as the translation of `message` in `catalog`'s language.

    Each text keeps the placeholders of the source exactly; a plural form that only ever
    stands for one number (Arabic's "one" and "two", German's "one") may spell the number out
    and leave the placeholder away, as gettext allows.
    """
    problems = []
    sources = list(message.id) if message.pluralizable else [message.id]
    # A msgid that Python's % cannot format ("Top 10 %", used from Python only) lets its translation do the same.
    check_format = not any(format_problems(source) for source in sources)
    if message.pluralizable:
        if len(texts) != catalog.num_plurals:
            return [f"needs {catalog.num_plurals} plural forms, got {len(texts)}"]
        expected = placeholders(message.id[1]) | placeholders(message.id[0])
        samples = plural_form_samples(catalog)
    else:
        if len(texts) != 1:
            return ["is not a plural entry: give one text, not a list"]
        expected = placeholders(message.id)
        samples = [list(SAMPLE_NUMBERS)]
    for index, text in enumerate(texts):
        where = f"form {index}: " if message.pluralizable else ""
        if not text.strip():
            problems.append(f"{where}empty")
            continue
        found = placeholders(text)
        if found - expected:
            problems.append(f"{where}unknown placeholders {sorted(found - expected)}")
        missing = expected - found
        single_number = len(samples[index]) <= 1
        if missing and not single_number:
            problems.append(f"{where}missing placeholders {sorted(missing)}")
        if check_format:
            problems.extend(where + problem for problem in format_problems(text))
    return problems


def same_as_source_allowed(msgid: str, locale: str) -> bool:
    """Product names, words shared with English, and strings of placeholders and punctuation."""
    if msgid in SAME_EVERYWHERE or msgid in SAME_IN_LOCALE.get(locale, ()):
        return True
    return not LETTER_RE.search(DIRECTIVE_RE.sub("", msgid))


def looks_untranslated(message: Message, locale: str) -> bool:
    """A non-English msgstr equal to its msgid: probably English left behind."""
    if same_as_source_allowed(singular_id(message), locale):
        return False
    forms = forms_of(message)
    sources = list(message.id) if message.pluralizable else [message.id]
    return any(form and form in sources for form in forms)


def english_forms(message: Message, num_plurals: int) -> str | tuple[str, ...]:
    if message.pluralizable:
        return (message.id[0], *([message.id[1]] * (num_plurals - 1)))
    return message.id


# -- status -----------------------------------------------------------------------------------


@dataclass
class LocaleStatus:
    locale: str
    total: int
    translated: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # in the template, not yet merged into the catalog
    same_as_source: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # translated, but with broken placeholders

    @property
    def missing(self) -> int:
        return len(self.untranslated) + len(self.fuzzy) + len(self.absent)


def locale_status(locale: str, template: Catalog, translations: Path = TRANSLATIONS) -> LocaleStatus:
    catalog = load_catalog(catalog_path(locale, translations), locale)
    template_ids = [singular_id(message) for message in entries(template)]
    status = LocaleStatus(locale, total=len(template_ids))
    for msgid in template_ids:
        message = catalog.get(msgid)
        if message is None:
            status.absent.append(msgid)
        elif message.fuzzy:
            status.fuzzy.append(msgid)
        elif not is_translated(message, catalog.num_plurals):
            status.untranslated.append(msgid)
        else:
            status.translated.append(msgid)
            if translation_problems(message, forms_of(message), catalog):
                status.invalid.append(msgid)
            if locale != SOURCE_LOCALE and looks_untranslated(message, locale):
                status.same_as_source.append(msgid)
    return status


def command_status(args: argparse.Namespace) -> int:
    template = load_template(args.translations / "messages.pot")
    statuses = [locale_status(locale, template, args.translations) for locale in available_locales(args.translations)]
    header = ("locale", "total", "translated", "untranslated", "fuzzy", "not merged", "same as English", "invalid")
    print("  ".join(f"{title:>{max(len(title), 7)}}" for title in header))
    for s in statuses:
        row = (s.locale, s.total, len(s.translated), len(s.untranslated), len(s.fuzzy), len(s.absent),
               len(s.same_as_source), len(s.invalid))
        print("  ".join(f"{value:>{max(len(title), 7)}}" for title, value in zip(header, row, strict=True)))
    for s in statuses:
        _print_list(f"{s.locale}: same as English (suspected)", s.same_as_source)
        _print_list(f"{s.locale}: placeholders or '%' wrong", s.invalid)
        if args.verbose:
            _print_list(f"{s.locale}: untranslated", s.untranslated)
            _print_list(f"{s.locale}: fuzzy", s.fuzzy)
        _print_list(f"{s.locale}: not merged yet (run `make update-catalogs`)", s.absent if args.verbose else [])
    if any(s.absent for s in statuses) and not args.verbose:
        print("Some template messages are not in the catalogs yet: run `make update-catalogs`.")
    failed = any(s.missing or s.invalid for s in statuses)
    if args.strict:
        failed = failed or any(s.same_as_source for s in statuses)
    return 1 if failed else 0


def _print_list(title: str, msgids: Iterable[str]) -> None:
    msgids = list(msgids)
    if msgids:
        print(f"\n{title}:")
        for msgid in msgids:
            print(f"  {json.dumps(msgid, ensure_ascii=False)}")


# -- fill -------------------------------------------------------------------------------------


class FillError(Exception):
    pass


def fill_english(catalog: Catalog) -> int:
    """Give every empty or fuzzy entry of the English catalog its msgid; return how many changed."""
    changed = 0
    for message in entries(catalog):
        if message.fuzzy or not is_translated(message, catalog.num_plurals):
            message.string = english_forms(message, catalog.num_plurals)
            message.flags.discard("fuzzy")
            message.previous_id = []
            changed += 1
    return changed


Changes = dict[str, list[tuple[Message, list[str]]]]  # per locale: the message and its new texts


def plan_fill(batch: dict, catalogs: dict[str, Catalog]) -> tuple[Changes, list[str]]:
    """Check the whole batch against the catalogs before anything is written.

    Returns the changes per locale and the msgids no catalog knows; raises FillError with
    every problem found, so a batch is applied completely or not at all.
    """
    if not isinstance(batch, dict):
        raise FillError("the JSON file must hold an object {msgid: {locale: text}}")
    changes: Changes = {locale: [] for locale in catalogs}
    unknown: list[str] = []
    errors: list[str] = []
    for msgid, by_locale in batch.items():
        if msgid == "_plural_forms":  # notes on the plural forms, not a msgid
            continue
        if not isinstance(by_locale, dict):
            errors.append(f"{msgid!r}: expected an object {{locale: text}}")
            continue
        for locale, value in by_locale.items():
            if locale.startswith("_"):
                continue  # a note for the translator
            if locale == SOURCE_LOCALE:
                errors.append(f"{msgid!r}: English is taken from the msgid, leave 'en' out")
                continue
            if locale not in catalogs:
                errors.append(f"{msgid!r}: no catalog for locale {locale!r}")
                continue
            catalog = catalogs[locale]
            message = catalog.get(msgid)
            if message is None:
                if msgid not in unknown:
                    unknown.append(msgid)
                continue
            texts = value if isinstance(value, list) else [value]
            if not all(isinstance(text, str) for text in texts):
                errors.append(f"{msgid!r} [{locale}]: texts must be strings")
                continue
            if not any(text.strip() for text in texts):
                continue  # left empty in the skeleton: not translated yet
            if message.pluralizable and not isinstance(value, list):
                errors.append(f"{msgid!r} [{locale}]: plural entry, give a list of {catalog.num_plurals} forms")
                continue
            problems = translation_problems(message, texts, catalog)
            if problems:
                errors.extend(f"{msgid!r} [{locale}]: {problem}" for problem in problems)
                continue
            changes[locale].append((message, texts))
    if errors:
        raise FillError("\n".join(errors))
    return changes, unknown


def apply_fill(changes: Changes) -> dict[str, int]:
    """Write the texts into the messages and clear their fuzzy flags; count real changes."""
    changed: dict[str, int] = {}
    for locale, items in changes.items():
        changed[locale] = 0
        for message, texts in items:
            new = tuple(texts) if message.pluralizable else texts[0]
            if new == message.string and not message.fuzzy:
                continue
            message.string = new
            message.flags.discard("fuzzy")
            message.previous_id = []  # "#| msgid" hints belong to fuzzy entries only
            changed[locale] += 1
    return changed


def fill_catalogs(batch: dict, translations: Path = TRANSLATIONS,
                  translator: str | None = None) -> tuple[dict[str, int], list[str]]:
    """Merge a batch into the catalogs (and English from msgids); return changes per locale and unknown msgids."""
    locales = available_locales(translations)
    catalogs = {locale: load_catalog(catalog_path(locale, translations), locale) for locale in locales}
    translated = {locale: catalog for locale, catalog in catalogs.items() if locale != SOURCE_LOCALE}
    changes, unknown = plan_fill(batch, translated)
    changed = apply_fill(changes)
    if SOURCE_LOCALE in catalogs:
        changed[SOURCE_LOCALE] = fill_english(catalogs[SOURCE_LOCALE])
    for locale, count in changed.items():
        store(catalog_path(locale, translations), catalogs[locale], count, translator)
    return changed, unknown


def store(path: Path, catalog: Catalog, changed: int, translator: str | None = None) -> bool:
    """Save a catalog whose entries changed, stamping revision date and translator in its header.

    A catalog that still names Babel's placeholder translator is saved as well, with the team's
    name, so that `msgfmt --check` stays quiet.
    """
    placeholder = catalog.last_translator == BABEL_DEFAULT_TRANSLATOR
    if not changed and not placeholder:
        return False
    if changed:
        catalog.revision_date = datetime.now(timezone.utc)
    if translator or placeholder:
        catalog.last_translator = translator or TEAM_TRANSLATOR
    save_catalog(path, catalog)
    return True


def command_fill(args: argparse.Namespace) -> int:
    try:
        batch = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"Cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    try:
        changed, unknown = fill_catalogs(batch, args.translations, args.translator)
    except FillError as error:
        print(f"Nothing was written; fix these first:\n{error}", file=sys.stderr)
        return 1
    for locale, count in changed.items():
        print(f"{locale}: {count} entries filled")
    if unknown:
        _print_list("Not in the catalogs (changed in the source, or run `make update-catalogs`)", unknown)
        return 1
    return 0


def command_fill_en(args: argparse.Namespace) -> int:
    path = catalog_path(SOURCE_LOCALE, args.translations)
    catalog = load_catalog(path, SOURCE_LOCALE)
    changed = fill_english(catalog)
    store(path, catalog, changed, args.translator)
    print(f"{SOURCE_LOCALE}: {changed} entries filled")
    return 0


# -- export-missing ---------------------------------------------------------------------------


def missing_skeleton(translations: Path = TRANSLATIONS) -> tuple[dict, int]:
    """What each non-English catalog still lacks, as a `fill` file with empty texts.

    Returns the skeleton and how many template messages are not merged into some catalog yet.
    """
    template = load_template(translations / "messages.pot")
    skeleton: dict = {}
    plural_forms: dict[str, list[str]] = {}
    not_merged = 0
    for locale in available_locales(translations):
        if locale == SOURCE_LOCALE:
            continue
        catalog = load_catalog(catalog_path(locale, translations), locale)
        for source in entries(template):
            message = catalog.get(singular_id(source))
            if message is None:
                not_merged += 1
                continue
            if not message.fuzzy and is_translated(message, catalog.num_plurals):
                continue
            entry = skeleton.setdefault(singular_id(message), {})
            if message.pluralizable:
                entry["_plural"] = message.id[1]
                entry[locale] = [""] * catalog.num_plurals
                plural_forms[locale] = [_describe_numbers(numbers) for numbers in plural_form_samples(catalog)]
            else:
                entry[locale] = ""
    if plural_forms:
        skeleton = {"_plural_forms": plural_forms, **skeleton}
    return skeleton, not_merged


def _describe_numbers(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:6])
    return f"n = {shown}{', ...' if len(numbers) > 6 else ''}"


def command_export_missing(args: argparse.Namespace) -> int:
    skeleton, not_merged = missing_skeleton(args.translations)
    text = json.dumps(skeleton, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        count = sum(1 for key in skeleton if key != "_plural_forms")
        print(f"{count} msgids with missing translations written to {args.output}")
    else:
        sys.stdout.write(text)
    if not_merged:
        print(f"{not_merged} template messages are not in the catalogs yet: run `make update-catalogs`.",
              file=sys.stderr)
    return 0


# -- command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tools/translations.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--translations", type=Path, default=TRANSLATIONS, help="catalog folder (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)

    status = commands.add_parser("status", help="count translated, untranslated and fuzzy entries per locale")
    status.add_argument("-v", "--verbose", action="store_true", help="list the msgids that are missing")
    status.add_argument("--strict", action="store_true", help="also fail on msgstr == msgid in other languages")
    status.set_defaults(run=command_status)

    fill = commands.add_parser("fill", help="merge translations from a JSON file into the catalogs")
    fill.add_argument("file", help="JSON {msgid: {locale: text or [plural forms]}}")
    fill.add_argument("--translator", help="'Name <e-mail>' for the Last-Translator header of changed catalogs")
    fill.set_defaults(run=command_fill)

    fill_en = commands.add_parser("fill-en", help="give empty English entries their msgid")
    fill_en.add_argument("--translator", help="'Name <e-mail>' for the Last-Translator header")
    fill_en.set_defaults(run=command_fill_en)

    export = commands.add_parser("export-missing", help="write a JSON skeleton of the missing translations")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(run=command_export_missing)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `status | head` closed the pipe early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
