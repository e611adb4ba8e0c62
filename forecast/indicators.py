"""The indicators of a holdout: their names, allowed categories and ranges.

One place for the vocabulary that the dataset, the case files and the models share.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Categorical indicators and their allowed levels, in a fixed order (the first is the reference).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "terrain": ("open", "urban", "mountain", "forest", "fortified", "mixed"),
    "encircled": ("no", "partial", "yes"),
    "approach_routes": ("many", "few", "single"),
    "external_support": ("none", "limited", "substantial"),
    "conflict_type": ("interstate", "civil", "insurgency"),
}

#: Outcomes that end a holdout (events) and those that right-censor it.
EVENT_OUTCOMES: tuple[str, ...] = ("fell", "surrendered", "negotiated_withdrawal")
CENSORED_OUTCOMES: tuple[str, ...] = ("relieved", "attacker_withdrew", "war_ended", "ongoing")
OUTCOMES: tuple[str, ...] = EVENT_OUTCOMES + CENSORED_OUTCOMES

DATE_PRECISIONS: tuple[str, ...] = ("day", "month", "year")


@dataclass(frozen=True)
class Range:
    """A closed range [low, high] of a non-negative quantity; ``low == high`` for a point value."""

    low: float
    high: float

    @property
    def is_point(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True)
class Indicators:
    """The structured covariates of one case. ``None`` means unknown (never silently filled)."""

    terrain: str | None = None
    encircled: str | None = None
    approach_routes: str | None = None
    external_support: str | None = None
    conflict_type: str | None = None
    defender_strength: Range | None = None
    attacker_strength: Range | None = None
    population: Range | None = None

    def categorical(self) -> dict[str, str | None]:
        """The categorical indicators by name."""
        return {name: getattr(self, name) for name in CATEGORIES}
