"""The indicators of a holdout: their names, allowed categories and ranges.

One place for the vocabulary that the dataset, the case files and the models share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

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

#: World regions of the reference class (``data/CODING.md`` section 3 says which countries).
REGIONS: tuple[str, ...] = (
    "europe", "middle_east_north_africa", "sub_saharan_africa", "south_asia", "east_asia",
    "southeast_asia", "americas", "oceania",
)


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


# --- plausibility: the one place for the bounds the loaders enforce (reasons in data/README.md) ---


@dataclass(frozen=True)
class Bound:
    """Plausibility bounds of a count (persons).

    Above ``hard`` a value is refused: no holdout in history comes near it, so it is a typo or a
    unit error. Above ``soft`` (and up to ``hard``) it is accepted with a warning: larger than any
    holdout in the reference class, so a forecast for it extrapolates.
    """

    hard: float
    soft: float
    reason: str


#: The bounds by indicator. Forces: the largest forces ever engaged at one besieged place are of
#: the order of 1-2.5 million on one side (Leningrad 1941-44, Stalingrad 1942-43, Berlin 1945);
#: the reference class has none above 340,223 (Goražde's attackers, high figure). Population: the
#: largest urban area on earth (Greater Tokyo) has about 37 million people; the largest besieged
#: populations (Leningrad, Berlin, Paris 1870) about 2-3 million; the reference class tops at
#: 2 million (Phnom Penh 1975).
PLAUSIBLE: dict[str, Bound] = {
    "defender_strength": Bound(
        hard=5_000_000, soft=500_000,
        reason="no holdout in history had more than about 2.5 million on either side"),
    "attacker_strength": Bound(
        hard=5_000_000, soft=500_000,
        reason="no holdout in history had more than about 2.5 million on either side"),
    "population": Bound(
        hard=40_000_000, soft=3_000_000,
        reason="more than the largest city on earth (Greater Tokyo, about 37 million)"),
}

#: No date in the data or a case file may be earlier: the reference class is of industrial-age
#: holdouts (from 1877), and the dataset stores dates as pandas timestamps (from 1677-09-22).
EARLIEST_DATE: date = date(1800, 1, 1)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def implausible(name: str, value: float, as_written: str | None = None) -> str | None:
    """The rule that ``value`` of indicator ``name`` breaks (beyond its hard bound), or None."""
    bound = PLAUSIBLE[name]
    if value > bound.hard:
        return (f"{as_written or shown(value)} is beyond the plausible bound for {name} "
                f"({bound.hard:,.0f} persons: {bound.reason})")
    return None


def unusual(name: str, value: float, as_written: str | None = None) -> str | None:
    """A warning if ``value`` of indicator ``name`` is beyond its soft bound, else None."""
    bound = PLAUSIBLE[name]
    if value > bound.soft:
        return (f"{as_written or shown(value)} is larger than any {name} in the reference class "
                f"(above {bound.soft:,.0f} persons); accepted, but a forecast for it extrapolates")
    return None


def parse_iso_date(text: str) -> date | None:
    """``YYYY-MM-DD`` as a date, or None if ``text`` is not exactly that (or no such day)."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def shown(value: object, limit: int = 60) -> str:
    """A value from a file as quoted in a one-line message: control characters escaped, cut short."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        digits = int(value.bit_length() * 0.30103) + 1
        value = float(value) if abs(value) < 10**300 else f"a {digits}-digit number"
    if isinstance(value, float):
        text = f"{value:,.0f}" if value.is_integer() and abs(value) < 1e15 else f"{value:g}"
    else:
        try:
            text = str(value)
        except (ValueError, RecursionError):
            text = f"<{type(value).__name__}>"
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
