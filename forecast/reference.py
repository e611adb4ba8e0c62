"""The reference class on its own: counts, medians and the Kaplan–Meier survival curve.

Kaplan–Meier comes from lifelines (a well-kept implementation), not from code written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.data import Dataset
from forecast.indicators import CATEGORIES, OUTCOMES, REGIONS

if TYPE_CHECKING:  # pragma: no cover
    from lifelines import KaplanMeierFitter


@dataclass(frozen=True)
class ReferenceSummary:
    """What ``forecast data check`` prints.

    ``km_median_days`` is the Kaplan–Meier median duration (days; ``inf`` if the curve never
    drops to 0.5) with its 95% confidence interval; ``by_outcome`` has the count and median
    recorded duration for each outcome (censored rows' durations are times held, not lifetimes).
    """

    path: str
    cases: int
    events: int
    censored: int
    first_start: str
    last_start: str
    km_median_days: float
    km_median_ci: tuple[float, float]
    by_outcome: pd.DataFrame
    missing: dict[str, int]
    nested: int = 0
    composition: dict[str, pd.Series] | None = None


def kaplan_meier(dataset: Dataset) -> KaplanMeierFitter:
    """Fit the Kaplan–Meier estimator (lifelines) to the dataset's durations and events (its
    top-level rows: a stage of a larger holdout is not counted again)."""
    from lifelines import KaplanMeierFitter

    dataset = dataset.top_level()
    km = KaplanMeierFitter(label="reference class")
    km.fit(dataset.durations, event_observed=dataset.events)
    return km


def summarize(dataset: Dataset) -> ReferenceSummary:
    """Summarize a dataset: counts, Kaplan–Meier median, medians by outcome, missing values."""
    from lifelines.utils import median_survival_times

    km = kaplan_meier(dataset)
    ci = median_survival_times(km.confidence_interval_)
    nested = int(dataset.nested.sum())
    dataset = dataset.top_level()
    frame = dataset.frame
    by_outcome = (
        frame.groupby("outcome", sort=False)["duration_days"]
        .agg(cases="count", median_days="median")
        .reset_index()
    )
    by_outcome["event"] = by_outcome["outcome"].isin(frame.loc[frame["event"], "outcome"])
    missing = {
        col: int(frame[col].isna().sum())
        for col in ("defender_strength_low", "attacker_strength_low", "population",
                    "terrain", "encircled", "approach_routes", "external_support", "conflict_type")
    }
    return ReferenceSummary(
        path=dataset.path,
        cases=len(frame),
        events=int(frame["event"].sum()),
        censored=int((~frame["event"]).sum()),
        first_start=str(frame["start_date"].min().date()),
        last_start=str(frame["start_date"].max().date()),
        km_median_days=float(km.median_survival_time_),
        km_median_ci=(float(ci.iloc[0, 0]), float(ci.iloc[0, 1])),
        by_outcome=by_outcome,
        missing=missing,
        nested=nested,
        composition=composition(dataset),
    )


#: Duration bands of the composition table (days; the last is open).
DURATION_BANDS: tuple[tuple[str, float], ...] = (
    ("under 1 week", 7), ("1-4 weeks", 30), ("1-3 months", 91), ("3-12 months", 365),
    ("1-3 years", 1096), ("3 years or more", np.inf),
)


def composition(dataset: Dataset) -> dict[str, pd.Series]:
    """What the reference class is made of: counts of rows by start decade, region, terrain,
    duration band (recorded duration, whatever the outcome) and outcome. Unknown values count as
    'unknown'."""
    frame = dataset.frame
    decade = (frame["start_date"].dt.year // 10 * 10).astype(int).astype(str) + "s"
    edges = [0.0] + [hi for _, hi in DURATION_BANDS]
    band = pd.cut(frame["duration_days"], bins=edges, right=False,
                  labels=[name for name, _ in DURATION_BANDS])

    def counts(values: pd.Series, order=None) -> pd.Series:
        out = values.astype(object).where(values.notna(), "unknown").value_counts()
        if order is not None:
            out = out.reindex([o for o in order if o in out.index]
                              + [o for o in out.index if o not in order])
        return out.astype(int)

    return {
        "decade": counts(decade).sort_index(),
        "region": counts(frame["region"], REGIONS),
        "terrain": counts(frame["terrain"], CATEGORIES["terrain"]),
        "duration": counts(band.astype(object), [name for name, _ in DURATION_BANDS]),
        "outcome": counts(frame["outcome"], OUTCOMES),
    }


def format_summary(s: ReferenceSummary) -> str:
    """Render a :class:`ReferenceSummary` as plain text."""

    def days(x: float) -> str:
        return "not reached" if not np.isfinite(x) else f"{x:,.0f} d"

    lines = [
        f"reference class: {s.path}",
        f"  cases {s.cases}  events {s.events}  censored {s.censored}"
        f"  (starts {s.first_start} .. {s.last_start})",
        f"  Kaplan-Meier median duration {days(s.km_median_days)}"
        f"  (95% CI {days(s.km_median_ci[0])} .. {days(s.km_median_ci[1])})",
        "  by outcome:                 cases   median recorded duration",
    ]
    for row in s.by_outcome.itertuples():
        kind = "event" if row.event else "censored"
        lines.append(f"    {row.outcome:<22}{kind:>9} {row.cases:>4}   {days(row.median_days)}")
    unknown = ", ".join(f"{k} {v}" for k, v in s.missing.items() if v)
    lines.append(f"  unknown values (flagged, not filled): {unknown or 'none'}")
    if s.nested:
        lines.append(f"  nested rows (a stage of a larger holdout, not fitted or counted above): {s.nested}")
    if s.composition:
        lines.append("  composition (rows fitted):")
        for name, counts in s.composition.items():
            cells = ", ".join(f"{k} {v}" for k, v in counts.items())
            lines.append(f"    {name:<9} {cells}")
    return "\n".join(lines)


@dataclass(frozen=True)
class KMCurve:
    """A Kaplan–Meier curve as lifelines fitted it: its timeline (from 0) and the survival at each
    time, a right-continuous step function. Reading it here is what lifelines'
    ``survival_function_at_times`` and ``percentile`` do; the estimate itself is lifelines'."""

    times: np.ndarray
    survival: np.ndarray

    def at(self, t) -> np.ndarray:
        """S(t) for t >= 0 (any shape): the value at the last change point at or before t."""
        i = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right") - 1
        return self.survival[np.maximum(i, 0)]

    def percentile(self, p: float) -> float:
        """The first time at which S(t) <= p (``inf`` if the curve never gets there)."""
        hit = np.flatnonzero(self.survival <= p)
        return float(self.times[hit[0]]) if hit.size else float("inf")


def km_step(dataset: Dataset) -> KMCurve:
    """The dataset's Kaplan–Meier curve (its top-level rows; :func:`kaplan_meier`), stored by the
    hash of its durations and events (:mod:`forecast.curve_cache`): a later process reads it
    without importing lifelines."""
    from forecast.curve_cache import stored_curves

    top = dataset.top_level()
    durations, events = top.durations, top.events

    def fit() -> dict[str, np.ndarray]:
        sf = kaplan_meier(top).survival_function_
        return {"times": sf.index.to_numpy(dtype=float), "survival": sf.iloc[:, 0].to_numpy(dtype=float)}

    z = stored_curves("km", (durations, events), fit, required=("times", "survival"))
    return KMCurve(times=z["times"], survival=z["survival"])


def km_quantile(dataset: Dataset):
    """A function (q, after=0) -> the day (since start) by which a share q of the reference
    class's holdouts still standing on day ``after`` have fallen, read off the Kaplan–Meier curve
    (``inf`` beyond the curve's reach)."""
    km = km_step(dataset)

    def quantile(q: float, after: float = 0.0) -> float:
        s0 = float(km.at(after)) if after > 0 else 1.0
        if s0 <= 0:
            return float("inf")
        return km.percentile(s0 * (1.0 - q))

    return quantile


def km_remaining(dataset: Dataset, held_days: float, horizons: tuple[int, ...],
                 quantiles: tuple[float, ...]) -> dict:
    """The reference class alone: remaining life after ``held_days`` from the Kaplan–Meier curve,
    S(t0 + h) / S(t0). Quantiles the curve never reaches are None."""
    km = km_step(dataset)
    s0 = float(km.at(held_days))
    p = {str(h): round(1 - float(km.at(held_days + h)) / s0, 4) for h in horizons}
    times = km.times
    cond = km.survival / s0
    out_q = {}
    for q in quantiles:
        hit = np.flatnonzero((times > held_days) & (cond <= 1 - q))
        out_q[f"{q:g}"] = round(float(times[hit[0]] - held_days), 1) if hit.size else None
    return {"p_fall_within": p, "days_remaining": out_q}
