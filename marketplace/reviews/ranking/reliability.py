"""How far reviewers agree: Krippendorff's interval alpha and its reading (pure)."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np

ALPHA_WARNING = 0.2

# Krippendorff's own guidance: >= 0.800 reliable, >= 0.667 tentative conclusions only; below, data are unreliable.
_ALPHA_LEVELS = (
    (0.8, "excellent", "Reviewers agree strongly; the ranking reflects a shared judgement."),
    (0.667, "good", "Reviewers agree well enough for tentative conclusions; check close calls by reading reviews."),
    (0.4, "moderate", "Reviewers agree only moderately; small score differences between proposals are not "
                      "meaningful."),
    (0.2, "fair", "Reviewers agree little beyond chance; use the ranking as a rough guide and read the reviews."),
    (-math.inf, "poor", "Reviewers barely agree beyond chance; the scores cannot separate proposals by themselves."),
)


@dataclass(frozen=True)
class AlphaReport:
    value: float | None  # None when there is too little overlap or no variation to compute it
    level: str  # excellent | good | moderate | fair | poor | insufficient_data
    explanation: str  # English; the key ``level`` is what the interface translates
    warning: bool  # True under 0.2 or when it cannot be computed

    def as_dict(self) -> dict[str, Any]:
        return {"value": None if self.value is None else round(self.value, 3), "level": self.level,
                "explanation": self.explanation, "warning": self.warning}


@dataclass(frozen=True)
class Reliability:
    overall: AlphaReport  # on the weighted review scores
    per_criterion: dict[Hashable, AlphaReport]

    @property
    def krippendorff_alpha(self) -> float | None:
        return self.overall.value

    def as_dict(self) -> dict[str, Any]:
        return {"krippendorff_alpha": None if self.overall.value is None else round(self.overall.value, 3),
                **{k: v for k, v in self.overall.as_dict().items() if k != "value"},
                "per_criterion": {str(c): report.as_dict() for c, report in self.per_criterion.items()}}


def interval_alpha(reliability_data: np.ndarray) -> AlphaReport:
    """Krippendorff's alpha (interval) of a coders x units matrix with NaN for missing, with a verdict."""
    data = np.asarray(reliability_data, dtype=np.float64)
    # Only units coded at least twice carry information about agreement.
    pairable = (np.isfinite(data).sum(axis=0) >= 2) if data.ndim == 2 else np.zeros(0, dtype=bool)
    value = None
    if pairable.any():
        values = data[:, pairable]
        if np.unique(values[np.isfinite(values)]).size >= 2:
            value = float(krippendorff.alpha(reliability_data=values, level_of_measurement="interval"))
    return describe_alpha(value)


def describe_alpha(value: float | None) -> AlphaReport:
    if value is None or not math.isfinite(value):
        return AlphaReport(None, "insufficient_data",
                           "Too few proposals were scored by more than one reviewer, or all scores are equal, "
                           "to measure agreement.", True)
    for threshold, level, explanation in _ALPHA_LEVELS:
        if value >= threshold:
            return AlphaReport(value, level, explanation, value < ALPHA_WARNING)
    raise AssertionError("unreachable: the last level has no lower bound")
