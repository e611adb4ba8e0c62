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
- The log force ratio is standardized with the centre and scale of the known rows' midpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forecast.data import Dataset
from forecast.indicators import CATEGORIES, Indicators, Range

UNKNOWN = "unknown"
#: A point force figure F is read as the range [F / (1 + s), F * (1 + s)].
POINT_SPREAD = 0.10
#: The categorical indicators the holdout models use, in order.
CATEGORICAL = tuple(CATEGORIES)


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
        }


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


def _force_arrays(rows: list[tuple | None]) -> tuple[np.ndarray, ...]:
    n = len(rows)
    out = np.zeros((4, n))
    known = np.array([r is not None for r in rows])
    for i, r in enumerate(rows):
        if r is not None:
            out[:, i] = r
    return out[0], out[1], out[2], out[3], known


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
    att_lo, att_hi, def_lo, def_hi, known = _force_arrays([force_row(ind) for ind in inds])
    mids = ((att_lo + att_hi) - (def_lo + def_hi))[known] / 2
    center = float(np.mean(mids)) if known.any() else 0.0
    scale = float(np.std(mids)) if known.sum() > 1 and np.std(mids) > 0 else 1.0
    return Design(
        y=dataset.durations,
        event=dataset.events.astype(float),
        numeric=np.zeros((len(dataset), 0)),
        codes=codes,
        cat_names=CATEGORICAL,
        levels=levels,
        force=ForceInputs(att_lo, att_hi, def_lo, def_hi, known, center, scale),
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
