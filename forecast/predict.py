"""Forecast one case: the posterior predictive of its remaining life, given it held until as_of.

For each posterior draw s the case's linear predictor eta_s is computed from its indicators
(force sizes drawn inside their ranges; unknown values from the reference population or the
``unknown`` level). The remaining life R = T - t0 given T > t0 (t0 = days held at ``as_of``)
is drawn from the latent, uncensored distribution: S_s(t0 + r) / S_s(t0) is its survival curve.
Summaries come from weighted draws of R (weights are 1 until statements reweight them, see
``forecast.elicit``); survival bands are quantiles of the per-draw curves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecast.cases import Case
from forecast.fit import Posterior
from models.design import case_codes, force_row

HORIZONS: tuple[int, ...] = (7, 30, 90, 365)
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
BANDS: tuple[float, ...] = (0.5, 0.8, 0.95)
#: Predictive draws of T per posterior draw.
DRAWS_PER_POSTERIOR_DRAW = 4


@dataclass
class Forecast:
    """The distribution of a case's remaining life (days after ``as_of``).

    ``remaining`` are draws of R in days with importance ``weights`` (normalized, sum 1);
    ``survival`` is a DataFrame over ``days`` after as_of with the median and the band edges
    (``lo50``, ``hi50``, ... ) of P(still holding) across posterior draws.
    """

    case_id: str
    start_date: date
    as_of: date
    held_days: float
    model: str
    model_id: str
    dataset_hash: str
    seed: int
    remaining: np.ndarray
    weights: np.ndarray
    survival: pd.DataFrame
    diagnostics: dict[str, Any]
    flags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    curves: np.ndarray | None = None
    #: per predictive draw: the posterior draw it came from; per posterior draw: eta and sigma
    draw_index: np.ndarray | None = None
    eta: np.ndarray | None = None
    sigma: np.ndarray | None = None
    log_s0: np.ndarray | None = None
    posterior_draws: dict[str, np.ndarray] | None = None
    survival_model: Any = None
    effect_levels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def p_fall_within(self, days: float) -> float:
        """P(the holdout falls within ``days`` after as_of).

        Exact (the mean of the per-draw survival curves) on the daily grid; from the weighted
        draws beyond it.
        """
        mean = self._mean_curve()
        if mean is not None and float(days).is_integer() and 0 <= days < mean.size:
            return float(1.0 - mean[int(days)])
        return float(np.sum(self.weights[self.remaining <= days]))

    def quantile(self, q: float) -> float:
        """The q-quantile of the remaining days: interpolated on the mean survival curve where
        it reaches 1 - q on the grid, else the weighted quantile of the draws."""
        mean = self._mean_curve()
        if mean is not None:
            below = np.flatnonzero(mean <= 1.0 - q)
            if below.size and below[0] > 0:
                i = int(below[0])
                hi, lo = mean[i - 1], mean[i]
                return float(i - 1 + (hi - (1.0 - q)) / (hi - lo)) if hi > lo else float(i)
        return weighted_quantile(self.remaining, self.weights, q)

    def _mean_curve(self) -> np.ndarray | None:
        if "mean" not in self.survival:
            return None
        return self.survival["mean"].to_numpy()

    def date_of(self, days: float) -> date:
        return self.as_of + timedelta(days=float(np.round(days)))

    def summary(self) -> dict[str, Any]:
        """The headline numbers (the JSON's core)."""
        median = self.quantile(0.5)
        return {
            "p_fall_within": {str(h): round(self.p_fall_within(h), 4) for h in HORIZONS},
            "days_remaining": {f"{q:g}": round(self.quantile(q), 1) for q in QUANTILES},
            "median_date": self.date_of(median).isoformat(),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of the forecast (without the raw draws)."""
        return {
            "case_id": self.case_id,
            "start_date": self.start_date.isoformat(),
            "as_of": self.as_of.isoformat(),
            "held_days": self.held_days,
            "model": self.model,
            "model_id": self.model_id,
            "dataset_hash": self.dataset_hash,
            "seed": self.seed,
            **self.summary(),
            "diagnostics": self.diagnostics,
            "flags": list(self.flags),
            **self.extra,
        }


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of a weighted sample (inverse of the weighted empirical CDF)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    idx = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(values[order][min(idx, len(values) - 1)])


def case_eta(posterior: Posterior, case: Case, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """The case's linear predictor at every posterior draw, and flags on how unknowns entered."""
    meta = posterior.meta
    draws = posterior.draws
    cat_names = tuple(meta["cat_names"])
    levels = tuple(tuple(lv) for lv in meta["levels"])
    flags = [f"{name} unknown: its 'unknown' level effect is used"
             for name in cat_names if getattr(case.indicators, name) is None]
    z_force = None
    n = posterior.n_draws
    if "force" in meta:
        fr = force_row(case.indicators)
        if fr is None:
            mu = draws["force_mu"]
            sd = draws["force_sd"]
            z_force = mu + sd * rng.standard_normal(n)
            flags.append("force sizes unknown: the log force ratio is drawn from the reference population")
        else:
            att = rng.uniform(fr[0], fr[1], n)
            dfn = rng.uniform(fr[2], fr[3], n)
            z_force = (att - dfn - meta["force"]["center"]) / meta["force"]["scale"]
    codes = case_codes(case.indicators, cat_names, levels)
    eta = posterior.model.eta_for(draws, codes=codes, cat_names=cat_names, z_force=z_force)
    return eta, flags


def predict(posterior: Posterior, case: Case, *, seed: int = 0, grid_days: int = 730) -> Forecast:
    """Forecast ``case`` (as of ``case.as_of``) from ``posterior``.

    Parameters
    ----------
    seed : int
        Seeds the force-size latents and the predictive draws.
    grid_days : int
        The survival curve is tabulated daily from 0 to this many days after as_of.
    """
    rng = np.random.default_rng(seed)
    eta, flags = case_eta(posterior, case, rng)
    base = Forecast(
        case_id=case.id, start_date=case.start_date, as_of=case.as_of, held_days=case.held_days,
        model=posterior.stamp.get("model", posterior.model.name),
        model_id=posterior.stamp.get("model_id", ""),
        dataset_hash=posterior.stamp.get("dataset_hash", ""), seed=int(seed),
        remaining=np.zeros(0), weights=np.zeros(0), survival=pd.DataFrame(),
        diagnostics=posterior.diagnostics.to_dict(), flags=flags,
        posterior_draws=posterior.draws,
        effect_levels={f"effect_{n}": tuple(lv) for n, lv in
                       zip(posterior.meta["cat_names"], posterior.meta["levels"], strict=True)},
    )
    return forecast_from_eta(case, eta, posterior.draws["sigma"], posterior.model, rng, stamp=base,
                             grid_days=grid_days)


def forecast_from_eta(case: Case, eta: np.ndarray, sigma: np.ndarray, model, rng: np.random.Generator,
                      *, stamp: Forecast, draws_per_eta: int = DRAWS_PER_POSTERIOR_DRAW,
                      grid_days: int = 730) -> Forecast:
    """The forecast for linear predictors ``eta`` and scales ``sigma`` (one per posterior draw):
    remaining-life draws, per-draw conditional survival curves and their bands. Identity fields
    (model, ids, flags, diagnostics) are copied from ``stamp``."""
    t0 = case.held_days
    log_s0 = model.log_survival(np.maximum(t0, 1e-9), eta, sigma) if t0 > 0 else np.zeros_like(eta)
    # remaining life: T | T > t0 by inverse survival, U ~ Uniform(0, S(t0))
    k = draws_per_eta
    u = rng.uniform(size=(k, eta.size)) * np.exp(log_s0)
    u = np.clip(u, 1e-300, None)
    total = model.quantile_days(u, eta, sigma)
    remaining = np.maximum(total - t0, 0.0).reshape(-1)
    days = np.arange(0, grid_days + 1, dtype=float)
    curves = np.exp(model.log_survival(t0 + np.maximum(days[:, None], 1e-9), eta, sigma) - log_s0)
    curves[days == 0] = 1.0  # it has held at as_of, by definition
    survival = survival_bands(days, curves)
    survival.insert(1, "date", [case.as_of + timedelta(days=int(d)) for d in days])
    return replace(
        stamp,
        as_of=case.as_of,
        held_days=t0,
        remaining=remaining,
        weights=np.full(remaining.size, 1.0 / remaining.size),
        survival=survival,
        curves=curves,
        draw_index=np.tile(np.arange(eta.size), k),
        eta=eta,
        sigma=sigma,
        log_s0=log_s0,
        survival_model=model,
    )


def survival_bands(days: np.ndarray, curves: np.ndarray, weights: np.ndarray | None = None) -> pd.DataFrame:
    """Median and central bands (50/80/95%) of survival curves (rows: days, columns: draws)."""
    out = {"days": days}
    out["mean"] = curves.mean(axis=1) if weights is None else curves @ (weights / np.sum(weights))
    qs = {"median": 0.5}
    for b in BANDS:
        pct = int(round(b * 100))
        qs[f"lo{pct}"] = (1 - b) / 2
        qs[f"hi{pct}"] = 1 - (1 - b) / 2
    if weights is None:
        for name, q in qs.items():
            out[name] = np.quantile(curves, q, axis=1)
        return pd.DataFrame(out)
    order = np.argsort(curves, axis=1, kind="stable")
    values = np.take_along_axis(curves, order, axis=1)
    cum = np.cumsum(np.asarray(weights)[order], axis=1)
    cum /= cum[:, -1:]
    for name, q in qs.items():
        idx = np.minimum((cum < q).sum(axis=1), curves.shape[1] - 1)  # first cum >= q
        out[name] = values[np.arange(curves.shape[0]), idx]
    return pd.DataFrame(out)
