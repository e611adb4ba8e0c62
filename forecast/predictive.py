"""What is stored and scored of a forecast: the CDF of the fall time on a grid of days.

Every forecast — a model's, a baseline's, one read back from the ledger — is reduced to one
:class:`Predictive`: P(the holdout has fallen within d days after as_of) on a grid of days
``d >= 0``. Between grid points the CDF is linear (so the density is the slope); beyond the last
point the remaining mass ``1 - cdf[-1]`` is "not fallen by the end of the grid" (for a model
with competing ends it includes "never falls"). A :class:`ForecastRecord` is a Predictive with
the identity of the forecast: case, dates, model, dataset, seed, claims.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

#: Record kinds: a forecast an analyst made, a baseline's, or a backtest's out-of-sample one.
KINDS: tuple[str, ...] = ("forecast", "baseline", "backtest")


def standard_grid(max_days: float = 7305.0) -> np.ndarray:
    """Days after as_of: daily to 1 year, weekly to 10 years, 30-daily to ``max_days`` (20 y)."""
    parts = [np.arange(0.0, 366.0), np.arange(371.0, 3654.0, 7.0), np.arange(3683.0, max_days + 1, 30.0)]
    grid = np.concatenate(parts)
    return grid[grid <= max_days]


@dataclass(frozen=True)
class Predictive:
    """The forecast distribution of the fall time, in days after as_of.

    Attributes
    ----------
    days : numpy.ndarray
        Increasing grid of days after as_of, starting at 0.
    cdf : numpy.ndarray
        P(fallen within ``days``): non-decreasing, in [0, 1], ``cdf[0] == 0`` (it held at as_of).
    """

    days: np.ndarray
    cdf: np.ndarray

    def __post_init__(self) -> None:
        days = np.asarray(self.days, dtype=float)
        cdf = np.asarray(self.cdf, dtype=float)
        if days.ndim != 1 or days.shape != cdf.shape or days.size < 2:
            raise ValueError("days and cdf must be 1-d arrays of the same length (>= 2)")
        if days[0] != 0 or np.any(np.diff(days) <= 0):
            raise ValueError("days must start at 0 and increase")
        if not np.all(np.isfinite(cdf)) or cdf.min() < -1e-12 or cdf.max() > 1 + 1e-12:
            raise ValueError("cdf values must be probabilities")
        cdf = np.maximum.accumulate(np.clip(cdf, 0.0, 1.0))
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "cdf", cdf)

    @classmethod
    def from_survival(cls, days: np.ndarray, survival: np.ndarray) -> Predictive:
        """From P(still standing at as_of + d) on ``days``."""
        cdf = 1.0 - np.asarray(survival, dtype=float)
        cdf[0] = 0.0
        return cls(np.asarray(days, dtype=float), cdf)

    @property
    def horizon(self) -> float:
        """The last day of the grid."""
        return float(self.days[-1])

    def cdf_at(self, t: float | np.ndarray) -> np.ndarray | float:
        """P(fallen within t days); beyond the grid, the grid's last value (a lower bound)."""
        out = np.interp(np.asarray(t, dtype=float), self.days, self.cdf)
        return float(out) if np.ndim(out) == 0 else out

    def p_fall_within(self, h: float) -> float:
        return float(self.cdf_at(h))

    def quantile(self, q: float) -> float:
        """The day by which a share q has fallen (linear between grid points); inf when the grid
        never reaches q."""
        if q <= 0:
            return 0.0
        if q > self.cdf[-1]:
            return float("inf")
        i = int(np.searchsorted(self.cdf, q, side="left"))
        if i == 0:
            return 0.0
        lo, hi = self.cdf[i - 1], self.cdf[i]
        frac = (q - lo) / (hi - lo) if hi > lo else 1.0
        return float(self.days[i - 1] + frac * (self.days[i] - self.days[i - 1]))

    def density(self, t: float) -> float:
        """The density of the fall time at t days (the CDF's slope); NaN beyond the grid."""
        if t < 0 or t > self.horizon:
            return float("nan")
        i = int(np.clip(np.searchsorted(self.days, t, side="right") - 1, 0, self.days.size - 2))
        return float((self.cdf[i + 1] - self.cdf[i]) / (self.days[i + 1] - self.days[i]))

    def ensemble(self, members: int = 1000) -> np.ndarray:
        """Equally weighted members at the quantile levels (i + 0.5) / members (inf where the
        grid never reaches the level): the ensemble that scoringrules' CRPS functions take."""
        levels = (np.arange(members) + 0.5) / members
        return np.array([self.quantile(q) for q in levels])

    def to_dict(self) -> dict[str, list[float]]:
        return {"days": self.days.tolist(), "cdf": self.cdf.tolist()}


@dataclass(frozen=True)
class ForecastRecord:
    """One forecast as stored in the ledger: who made it, for what, and its predictive.

    ``summary`` holds the headline numbers (P(fall within h), quantiles); ``claims`` the claims
    applied, with their weights; ``extra`` anything else (a backtest's run id and scheme, flags).
    ``issued_at`` is an ISO timestamp; it is not part of :meth:`uid`.
    """

    case_id: str
    case_name: str
    start_date: date
    as_of: date
    model: str
    model_id: str
    dataset_hash: str
    seed: int
    kind: str
    predictive: Predictive
    summary: dict[str, Any] = field(default_factory=dict)
    claims: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    issued_at: str = ""

    @property
    def held_days(self) -> int:
        return (self.as_of - self.start_date).days

    def uid(self) -> str:
        """A content hash: the same forecast (whenever issued) has the same uid."""
        body = {
            "case_id": self.case_id, "case_name": self.case_name,
            "start_date": self.start_date.isoformat(), "as_of": self.as_of.isoformat(),
            "model": self.model, "model_id": self.model_id, "dataset_hash": self.dataset_hash,
            "seed": int(self.seed), "kind": self.kind, "summary": self.summary,
            "claims": self.claims, "extra": self.extra,
        }
        h = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode())
        h.update(self.predictive.days.astype("<f8").tobytes())
        h.update(self.predictive.cdf.astype("<f8").tobytes())
        return h.hexdigest()[:24]
