"""Expertise tags: a controlled vocabulary per field, plus free tags in one normal form.

Controlled tags make the expert database searchable by the terms centers use; free tags
let a solver name what the vocabulary lacks. Both are stored in the same normal form
(lower case, words joined by hyphens), so "Signal Processing" and "signal-processing"
are one tag.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

from marketplace.errors import ValidationFailed

MAX_TAG_CHARS = 40
MAX_TAGS = 30

# The challenge fields a center chooses from (challenges store the code).
FIELDS = {
    "semiconductors": _l("Semiconductors"),
    "sensors": _l("Sensors"),
    "materials": _l("Materials"),
    "ai-hardware": _l("AI hardware"),
    "photonics": _l("Photonics"),
    "energy": _l("Energy"),
}

VOCABULARY: dict[str, tuple[str, ...]] = {
    "semiconductors": ("analog-design", "mixed-signal", "rf-design", "digital-design", "device-physics",
                       "process-integration", "lithography", "etching", "thin-film-deposition", "cmp", "metrology",
                       "packaging", "chiplets", "eda", "reliability", "power-devices", "wide-bandgap"),
    "sensors": ("mems", "optical-sensing", "gas-sensing", "image-sensors", "infrared-detectors", "biosensors",
                "pressure-sensing", "inertial-sensing", "signal-processing", "sensor-fusion", "readout-circuits",
                "wearables", "calibration"),
    "materials": ("2d-materials", "graphene", "perovskites", "gallium-nitride", "silicon-carbide", "polymers",
                  "ceramics", "thin-films", "nanomaterials", "battery-materials", "catalysis", "characterisation",
                  "computational-materials"),
    "ai-hardware": ("neural-accelerators", "in-memory-computing", "neuromorphic", "fpga", "edge-ai",
                    "model-compression", "compilers", "hardware-software-codesign", "memristors", "low-power-design"),
    "photonics": ("silicon-photonics", "lasers", "optical-communication", "lidar", "metasurfaces",
                  "photodetectors", "quantum-optics"),
    "energy": ("solid-state-batteries", "fuel-cells", "photovoltaics", "power-electronics", "thermal-management",
               "hydrogen", "energy-storage"),
}

_FIELD_OF = {tag: field for field, tags in VOCABULARY.items() for tag in tags}
# Letters and digits of any script, and the punctuation technical names use (c++, 5g-nr, .net, r&d).
_ALLOWED = re.compile(r"^[\w+#.&/-]+$")
_SEPARATORS = re.compile(r"[\s_]+")
_HYPHENS = re.compile(r"-{2,}")


def field_label(code: str) -> str:
    return str(FIELDS.get(code, code))


def field_of(tag: str) -> str | None:
    """The field whose vocabulary holds `tag`, or None for a free tag."""
    return _FIELD_OF.get(tag)


def is_controlled(tag: str) -> bool:
    return tag in _FIELD_OF


def normalise_tag(raw: str) -> str:
    """NFKC, trimmed, lower case, spaces and underscores as single hyphens ("" for blank input)."""
    text = unicodedata.normalize("NFKC", str(raw)).strip().casefold()
    text = _HYPHENS.sub("-", _SEPARATORS.sub("-", text)).strip("-")
    return text


def tag_problem(tag: str) -> str | None:
    """Why a normalised tag cannot be stored, or None."""
    if len(tag) > MAX_TAG_CHARS:
        return str(_l("“%(tag)s” is longer than %(max)d characters.", tag=tag[:MAX_TAG_CHARS] + "…",
                      max=MAX_TAG_CHARS))
    if not _ALLOWED.match(tag):
        return str(_l("“%(tag)s” may hold only letters, digits, hyphens and + # . & /.", tag=tag))
    return None


def normalise_tags(raw_tags, *, field: str = "expertise") -> list[str]:
    """The tags in normal form, blanks and repeats dropped, order kept; ValidationFailed otherwise."""
    tags = list(dict.fromkeys(t for t in (normalise_tag(raw) for raw in raw_tags or ()) if t))
    problems = [p for p in (tag_problem(t) for t in tags) if p]
    if len(tags) > MAX_TAGS:
        problems.append(str(_l("Choose at most %(max)d tags.", max=MAX_TAGS)))
    if problems:
        raise ValidationFailed(problems[0], errors={field: problems})
    return tags


def grouped(tags: list[str]) -> list[tuple[str | None, list[str]]]:
    """Tags grouped by vocabulary field (in FIELDS order), free tags last under None."""
    groups: dict[str | None, list[str]] = {}
    for tag in tags:
        groups.setdefault(field_of(tag), []).append(tag)
    order = [*FIELDS, None]
    return [(field, groups[field]) for field in order if field in groups]


def tag_label(tag: str) -> str:
    """How a tag reads in a sentence: hyphens as spaces (the stored form stays a slug)."""
    return tag.replace("-", " ")
