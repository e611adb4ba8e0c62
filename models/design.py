"""From a dataset (or one case) to the numeric inputs every duration model takes.

Conventions
-----------
- Durations in days; ``event`` 1 = the holdout fell, 0 = right-censored.
- Categorical indicators become integer codes; an unknown value gets its own level, ``unknown``,
  whose effect is estimated (partially pooled like the others): missing is modelled, not filled.
- Force sizes enter as the log force ratio log(attacker / defender). Each row with both strengths
  known gives log-ranges; a single figure is read as +/- ``POINT_SPREAD`` (force figures are never
  exact). The model places the true value inside the range as a latent variable. Rows with a
  strength unknown get a latent ratio from the population distribution learned from the others.
- The log force ratio is standardized with the centre and scale of the known rows' midpoints;
  the log defender strength (the holdout's absolute size) likewise, where the defender is known.
- Ends: ``event`` 1 = fell; ``other`` 1 = ended by another end (relieved, attacker withdrew, war
  ended) — a competing end, not lost information; both 0 = still holding (right-censored).
- Imprecise dates: a month- or year-precision start or end makes the duration an interval
  [``y_lo``, ``y_hi``] (exact rows have ``y_lo == y == y_hi``).
- ``war_codes`` index the row's war in ``wars`` (holdouts of one war share a random effect);
  ``era_codes`` its era of start (``ERAS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forecast.data import Dataset
from forecast.indicators import CATEGORIES, EVENT_OUTCOMES, Indicators, Range

UNKNOWN = "unknown"
#: A point force figure F is read as the range [F / (1 + s), F * (1 + s)].
POINT_SPREAD = 0.10
#: The categorical indicators the holdout models use, in order.
CATEGORICAL = tuple(CATEGORIES)
#: Ordered indicators (lowest to highest), modelled as monotone effects.
ORDERED: dict[str, tuple[str, ...]] = {
    "encircled": ("no", "partial", "yes"),
    "approach_routes": ("single", "few", "many"),
    "external_support": ("none", "limited", "substantial"),
}
#: The level of each ordered indicator at which its monotone effect is 0 (its most common one in
#: the reference class), so that the intercept stays the log-duration of a common case.
ORDERED_REFERENCE: dict[str, str] = {"encircled": "yes", "approach_routes": "many",
                                     "external_support": "none"}
#: Eras of start, by first year (the last open-ended); pre-1900 holdouts (4) join the first.
ERAS: tuple[tuple[str, int], ...] = (("before 1939", 0), ("1939-1945", 1939), ("1946-1989", 1946),
                                     ("1990 on", 1990))
#: Ends that are competing ends (the holdout did not fall).
OTHER_ENDS: tuple[str, ...] = ("relieved", "attacker_withdrew", "war_ended")
#: Days a month- or year-precision date can be off (the date is written as the 1st).
PRECISION_DAYS: dict[str, float] = {"day": 0.0, "month": 30.0, "year": 364.0}


def era_of(year: int) -> int:
    """The index in ``ERAS`` of a start year."""
    return max(i for i, (_, first) in enumerate(ERAS) if year >= first)


@dataclass(frozen=True)
class ForceInputs:
    """Log-ranges of attacker and defender strength; ``known`` marks rows with both given."""

    att_lo: np.ndarray
    att_hi: np.ndarray
    def_lo: np.ndarray
    def_hi: np.ndarray
    known: np.ndarray
    center: float
    scale: float
    #: rows whose defender strength is known (``def_lo``/``def_hi`` set); the log defender size's
    #: standardization
    def_known: np.ndarray | None = None
    size_center: float = 0.0
    size_scale: float = 1.0


@dataclass(frozen=True)
class Design:
    """Numeric model inputs for ``n`` rows.

    ``numeric`` (n, p) are fixed covariates used as given; ``codes`` (n, k) index into
    ``levels[j]``; ``force`` is None when the model has no force ratio; ``weight`` (n,) multiplies
    each row's log-likelihood (1 = in, 0 = held out: refits keep the same shapes).
    """

    y: np.ndarray
    event: np.ndarray
    numeric: np.ndarray
    numeric_names: tuple[str, ...] = ()
    codes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=int))
    cat_names: tuple[str, ...] = ()
    levels: tuple[tuple[str, ...], ...] = ()
    force: ForceInputs | None = None
    weight: np.ndarray | None = None
    row_ids: tuple[str, ...] = ()
    other: np.ndarray | None = None
    y_lo: np.ndarray | None = None
    y_hi: np.ndarray | None = None
    war_codes: np.ndarray | None = None
    wars: tuple[str, ...] = ()
    era_codes: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.y)

    def weights(self) -> np.ndarray:
        return np.ones(self.n) if self.weight is None else np.asarray(self.weight, dtype=float)

    def signature(self) -> dict:
        """What fixes the model graph's shape (part of the model id)."""
        return {
            "n": self.n,
            "numeric": list(self.numeric_names),
            "categorical": {name: list(lv) for name, lv in zip(self.cat_names, self.levels, strict=True)},
            "force": self.force is not None,
            "wars": list(self.wars),
        }

    def others(self) -> np.ndarray:
        return np.zeros(self.n) if self.other is None else np.asarray(self.other, dtype=float)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(y_lo, y_hi): the interval each duration lies in (exact rows: both y)."""
        lo = self.y if self.y_lo is None else np.minimum(self.y_lo, self.y)
        hi = self.y if self.y_hi is None else np.maximum(self.y_hi, self.y)
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)

    def level_counts(self) -> dict[str, list[float]]:
        """How many fitted rows (weight > 0) have each level of each categorical indicator."""
        w = self.weights() > 0
        return {name: [int(np.sum(w & (self.codes[:, j] == k))) for k in range(len(lv))]
                for j, (name, lv) in enumerate(zip(self.cat_names, self.levels, strict=True))}


def with_outcomes(design: Design, y: np.ndarray, outcome, weight: np.ndarray | None = None) -> Design:
    """``design`` with durations and ends as known at a cutoff (``outcome`` per row; rows still
    going at the cutoff are ``ongoing``), and optionally new row weights."""
    from dataclasses import replace

    outcome = np.asarray(outcome, dtype=object)
    return replace(design, y=np.asarray(y, dtype=float),
                   event=np.isin(outcome, EVENT_OUTCOMES).astype(float),
                   other=np.isin(outcome, OTHER_ENDS).astype(float),
                   weight=design.weight if weight is None else np.asarray(weight, dtype=float))


def _log_range(r: Range | None) -> tuple[float, float] | None:
    if r is None or r.low <= 0:
        return None
    if r.is_point:
        return float(np.log(r.low / (1 + POINT_SPREAD))), float(np.log(r.high * (1 + POINT_SPREAD)))
    return float(np.log(r.low)), float(np.log(r.high))


def force_row(ind: Indicators) -> tuple[float, float, float, float] | None:
    """Log-ranges (att_lo, att_hi, def_lo, def_hi) of one case, or None when either is unknown."""
    att, dfn = _log_range(ind.attacker_strength), _log_range(ind.defender_strength)
    if att is None or dfn is None:
        return None
    return att[0], att[1], dfn[0], dfn[1]


def _force_arrays(inds: list[Indicators]) -> tuple[np.ndarray, ...]:
    n = len(inds)
    out = np.zeros((4, n))
    known = np.zeros(n, dtype=bool)
    def_known = np.zeros(n, dtype=bool)
    for i, ind in enumerate(inds):
        att, dfn = _log_range(ind.attacker_strength), _log_range(ind.defender_strength)
        if dfn is not None:
            out[2:, i] = dfn
            def_known[i] = True
        if att is not None and dfn is not None:
            out[:2, i] = att
            known[i] = True
    return out[0], out[1], out[2], out[3], known, def_known


def _standardization(values: np.ndarray) -> tuple[float, float]:
    center = float(np.mean(values)) if values.size else 0.0
    scale = float(np.std(values)) if values.size > 1 and np.std(values) > 0 else 1.0
    return center, scale


def duration_bounds(frame) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) days each recorded duration can be, given the precision of its two dates."""
    y = frame["duration_days"].to_numpy(dtype=float)
    start_slack = frame["start_precision"].map(PRECISION_DAYS).fillna(0.0).to_numpy(dtype=float)
    ended = frame["end_date"].notna().to_numpy()
    end_prec = frame["end_precision"].map(PRECISION_DAYS).fillna(0.0).to_numpy(dtype=float)
    end_slack = np.where(ended, end_prec, 0.0)
    lo = np.maximum(y - start_slack, np.minimum(y, 0.5))
    return lo, y + end_slack


def holdout_levels() -> tuple[tuple[str, ...], ...]:
    """Levels of each categorical indicator, with ``unknown`` last."""
    return tuple(CATEGORIES[name] + (UNKNOWN,) for name in CATEGORICAL)


def from_dataset(dataset: Dataset) -> Design:
    """The holdout design: categorical indicators plus the latent log force ratio."""
    levels = holdout_levels()
    inds = [dataset.indicators(i) for i in range(len(dataset))]
    codes = np.array(
        [[lv.index(getattr(ind, name) or UNKNOWN) for name, lv in zip(CATEGORICAL, levels, strict=True)]
         for ind in inds],
        dtype=int,
    )
    att_lo, att_hi, def_lo, def_hi, known, def_known = _force_arrays(inds)
    fitted = ~dataset.nested
    center, scale = _standardization(((att_lo + att_hi) - (def_lo + def_hi))[known & fitted] / 2)
    size_center, size_scale = _standardization(((def_lo + def_hi) / 2)[def_known & fitted])
    frame = dataset.frame
    y_lo, y_hi = duration_bounds(frame)
    if "war" in frame and frame["war"].notna().any():
        war_names = frame["war"].fillna("").astype(str)
        wars = tuple(sorted(set(war_names[fitted]) - {""}))
        war_codes = np.array([wars.index(w) if w in wars else -1 for w in war_names], dtype=int)
    else:
        wars, war_codes = (), None
    eras = np.array([era_of(ts.year) for ts in frame["start_date"]], dtype=int)
    return Design(
        y=dataset.durations,
        event=dataset.events.astype(float),
        other=frame["outcome"].isin(OTHER_ENDS).to_numpy(dtype=float),
        y_lo=y_lo, y_hi=y_hi, war_codes=war_codes, wars=wars, era_codes=eras,
        numeric=np.zeros((len(dataset), 0)),
        codes=codes,
        cat_names=CATEGORICAL,
        levels=levels,
        force=ForceInputs(att_lo, att_hi, def_lo, def_hi, known, center, scale, def_known,
                          size_center, size_scale),
        row_ids=tuple(dataset.frame["case_id"]),
        # a stage of a larger holdout (a row with a parent) is not fitted: one ending, counted once
        weight=(~dataset.nested).astype(float) if dataset.nested.any() else None,
    )


def case_codes(
    ind: Indicators, cat_names: tuple[str, ...], levels: tuple[tuple[str, ...], ...]
) -> np.ndarray:
    """Integer codes of one case's categorical indicators (unknown values -> ``unknown``)."""
    return np.array(
        [lv.index(getattr(ind, name) or UNKNOWN) for name, lv in zip(cat_names, levels, strict=True)],
        dtype=int,
    )


def from_cdb90(frame) -> Design:
    """The engagement design for CDB90 (``forecast.cdb90.load_cdb90``): duration = ``span_days``
    (first start to last end), event = the attacker won; standardized log force ratio as a
    numeric covariate; terrain and defender posture as pooled effects. Sub-battles (rows with a
    ``parent``) and rows without both strengths are left out."""
    import pandas as pd

    keep = frame["parent"].isna() & frame["log_force_ratio"].notna()
    f = frame.loc[keep].reset_index(drop=True)
    lfr = f["log_force_ratio"].to_numpy(dtype=float)
    z = (lfr - lfr.mean()) / lfr.std()
    cat_names = ("terrain", "defender_posture")
    levels, codes = [], []
    for name in cat_names:
        values = f[name].astype("object").where(f[name].notna(), UNKNOWN).astype(str)
        lv = tuple(sorted(set(values) - {UNKNOWN})) + (UNKNOWN,)
        levels.append(lv)
        codes.append(pd.Categorical(values, categories=lv).codes)
    return Design(
        y=f["span_days"].to_numpy(dtype=float),
        event=f["event"].to_numpy(dtype=float),
        numeric=z[:, None],
        numeric_names=("log_force_ratio_std",),
        codes=np.column_stack(codes).astype(int),
        cat_names=cat_names,
        levels=tuple(levels),
        row_ids=tuple(str(i) for i in f["isqno"]),
    )
