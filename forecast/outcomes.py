"""The one rule that resolves a holdout's outcome for scoring: did it fall, and when?

A holdout ends by **falling** (fell, surrendered, negotiated withdrawal) or by **another end**
that comes first (relieved, attacker withdrew, war ended), or it is still standing. The question
scored is "did it fall, and when?":

- it fell d days after as_of: every "falls within h days" resolves (yes when d <= h); the fall
  time is d;
- it ended otherwise: it did not fall, so every "falls within h days" resolves as *no*, and the
  fall time is infinite (T_fall = inf, not missing data);
- it is still standing s days after as_of (at the scoring date, or the last date it was known to
  stand): only the horizons h <= s resolve (as no); the fall time is right-censored at s.

Every place that reads outcomes for scoring goes through :func:`resolve`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from forecast.errors import InputError
from forecast.indicators import EVENT_OUTCOMES

#: Ends that are a fall.
FALL_TYPES: tuple[str, ...] = EVENT_OUTCOMES
#: Ends that come first and are not a fall (competing ends).
OTHER_END_TYPES: tuple[str, ...] = ("relieved", "attacker_withdrew", "war_ended")
#: Still holding as of a date (an observation, not an end).
STANDING = "standing"
OUTCOME_TYPES: tuple[str, ...] = FALL_TYPES + OTHER_END_TYPES + (STANDING,)


@dataclass(frozen=True)
class Resolution:
    """What is known, at the scoring date, of one forecast's question (days after as_of).

    Attributes
    ----------
    status : str
        ``"fell"``, ``"ended_otherwise"`` or ``"standing"``.
    fall_after : float
        Days after as_of when it fell; ``inf`` when it ended otherwise; NaN when standing.
    known_until : float
        Days after as_of through which it is known whether it fell: ``inf`` once it has ended
        either way; the days it is known to have stood when still standing.
    end_after : float
        Days after as_of when it ended by either kind of end; NaN when still standing.
    """

    status: str
    fall_after: float
    known_until: float
    end_after: float

    @property
    def ended(self) -> bool:
        return self.status != STANDING

    def falls_within(self, h: float) -> bool | None:
        """Resolve "falls within h days": True, False, or None while it cannot be known."""
        if self.status == "fell":
            return self.fall_after <= h
        if self.status == "ended_otherwise":
            return False
        return False if h <= self.known_until else None

    def observed_fall_time(self, tau: float) -> float:
        """min(T_fall, tau_i) with tau_i = min(tau, known_until): the fall time as threshold-
        weighted scores see it (a holdout still standing is censored at what is known)."""
        return min(self.fall_after if self.status == "fell" else math.inf, tau, self.known_until)


def resolve(as_of: date, *, outcome: str | None, end_date: date | None,
            scoring_date: date) -> Resolution:
    """Resolve a forecast made on ``as_of`` against what is known on ``scoring_date``.

    Parameters
    ----------
    outcome : str or None
        One of :data:`OUTCOME_TYPES`; None means standing at ``scoring_date`` (a dataset's
        ``ongoing`` row at its data date). The ledger scores only cases with a recorded outcome.
    end_date : date or None
        The date of the end (or of the standing observation).
    scoring_date : date
        The scoring date tau: an end after it is not yet known.
    """
    if outcome is not None and outcome not in OUTCOME_TYPES:
        raise InputError("outcome", f"'{outcome}' is not one of {', '.join(OUTCOME_TYPES)}")
    if outcome in FALL_TYPES + OTHER_END_TYPES and end_date is not None and end_date <= scoring_date:
        d = float((end_date - as_of).days)
        if d < 0:
            raise InputError("outcome", f"end date {end_date} is before the forecast's as_of {as_of}")
        if outcome in FALL_TYPES:
            return Resolution("fell", d, math.inf, d)
        return Resolution("ended_otherwise", math.inf, math.inf, d)
    standing_on = scoring_date
    if outcome == STANDING and end_date is not None:
        standing_on = min(end_date, scoring_date)
    elif outcome in FALL_TYPES + OTHER_END_TYPES and end_date is not None:
        standing_on = scoring_date  # it ended after the scoring date: standing then
    known = max(float((standing_on - as_of).days), 0.0)
    return Resolution(STANDING, math.nan, known, math.nan)
