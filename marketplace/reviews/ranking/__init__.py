"""Ranking proposals from review scores.

- `statistics` (pure): calibrated ranking with reviewer bias, flags and bootstrap bands.
- `bias_model` (pure): the score table and the additive reviewer-bias model behind it.
- `reliability` (pure): Krippendorff's interval alpha and its reading.
- `service` (glue): a challenge's ranking from the database, with labels for pages and exports.
- `feedback` (glue): what a proposal's authors learn once the review is released.
"""
