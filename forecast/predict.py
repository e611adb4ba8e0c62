"""Forecast one case: the posterior predictive of its remaining life, given it held until as_of.

For each posterior draw s the case's linear predictor eta_s is computed from its indicators
(force sizes drawn inside their ranges; unknown values from the reference population or the
``unknown`` level). Having held until t0 (days held at ``as_of``) is evidence about the
parameters and the case's latent values, so the predictive survival is

    P(T > t0 + h | T > t0) = E_s[S_s(t0 + h)] / E_s[S_s(t0)] = sum_s w_s S_s(t0 + h) / S_s(t0),

with draw weights w_s proportional to S_s(t0) (``Forecast.draw_weights``, computed in log space),
not the equal-weight mean of the per-draw ratios. Within draw s the remaining life
R = T - t0 is drawn from the latent, uncensored distribution by inverse survival in log space
(exact where S_s(t0) underflows); each draw of R carries its posterior draw's weight. Survival
bands are weighted quantiles of the per-draw curves, with the same weights.
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
#: Days evaluated at once by ``Forecast.survival_at`` (bounds memory: rows x posterior draws).
_SURVIVAL_CHUNK = 256


@dataclass
class Forecast:
    """The distribution of a case's remaining life (days after ``as_of``).

    ``remaining`` are draws of R in days with importance ``weights`` (normalized, sum 1);
    ``survival`` is a DataFrame over ``days`` after as_of with the predictive ``mean`` (the
    forecast's P(still holding)) and the weighted median and band edges (``lo50``, ``hi50``, ...)
    of the per-draw curves.

    The predictive is a mixture over posterior draws s with weights ``draw_weights`` (sum 1;
    proportional to S_s(t0) for the indicator forecast, uniform for MCMC draws that already
    condition on having held, tilted further by claims). Draw s's survival curve is its
    conditional survival S_s(t0 + d) / S_s(t0) — times, once claims are applied, their step
    function of T: ``claim_cell_log_weights[c]`` on (claim_edges[c], claim_edges[c + 1]] (days
    since start), renormalized within the draw. ``curves`` are these per-draw curves on the
    daily grid; ``survival["mean"] == curves @ draw_weights``; :meth:`survival_at` evaluates the
    same predictive exactly at any days.
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
    #: per posterior draw: its weight in the predictive mixture (sum 1)
    draw_weights: np.ndarray | None = None
    #: the claims' step function of T, once applied (see ``forecast.elicit.combine.reweighted``)
    claim_edges: np.ndarray | None = None
    claim_cell_log_weights: np.ndarray | None = None
    posterior_draws: dict[str, np.ndarray] | None = None
    survival_model: Any = None
    effect_levels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def p_fall_within(self, days: float) -> float:
        """P(the holdout falls within ``days`` after as_of).

        Exact: the predictive mean curve on the daily grid, :meth:`survival_at` off it (the
        weighted draws only for a forecast without its posterior draws).
        """
        mean = self._mean_curve()
        if mean is not None and float(days).is_integer() and 0 <= days < mean.size:
            return float(1.0 - mean[int(days)])
        if self.eta is not None and days >= 0:
            return float(1.0 - self.survival_at(np.array([float(days)]))[0])
        return float(np.sum(self.weights[self.remaining <= days]))

    def conditional_survival(self, total_days: np.ndarray) -> np.ndarray:
        """P_s(T > t | T > t0) for each t in ``total_days`` (rows; days since start, may be inf)
        and posterior draw s (columns), without the claims. Exact in log space."""
        t = np.asarray(total_days, dtype=float).reshape(-1)
        out = np.ones((t.size, self.eta.size))
        after = t > self.held_days
        finite = after & np.isfinite(t)
        out[after & ~finite] = 0.0
        if finite.any():
            log_s = self.survival_model.log_survival(t[finite][:, None], self.eta, self.sigma)
            out[finite] = np.minimum(np.exp(log_s - self.log_s0), 1.0)
        return out

    def draw_survival(self, days: np.ndarray) -> np.ndarray:
        """Each posterior draw's P(still holding at as_of + d) for ``days`` d >= 0 (rows) and
        draws (columns), with the claims' step function when they have been applied."""
        days = np.asarray(days, dtype=float).reshape(-1)
        t0 = self.held_days
        surv = self.conditional_survival(t0 + days)
        if self.claim_edges is not None:
            edges = self.claim_edges
            n_cells = len(edges) - 1
            cell_l = np.exp(self.claim_cell_log_weights - np.max(self.claim_cell_log_weights))
            surv_edges = self.conditional_survival(edges)
            contrib = cell_l[:, None] * (surv_edges[:-1] - surv_edges[1:])
            z = contrib.sum(axis=0)
            tail = np.cumsum(contrib[::-1], axis=0)[::-1]
            tail_after = np.vstack([tail[1:], np.zeros((1, tail.shape[1]))])
            j = np.clip(np.searchsorted(edges, t0 + days, side="left") - 1, 0, n_cells - 1)
            surv = cell_l[j][:, None] * (surv - surv_edges[j + 1]) + tail_after[j]
            surv = np.clip(surv / np.where(z > 0, z, 1.0), 0.0, 1.0)
        surv[days == 0] = 1.0  # it has held at as_of, by definition
        return surv

    def survival_at(self, days: np.ndarray) -> np.ndarray:
        """The predictive P(still holding at as_of + d) for any days d >= 0 (any shape): the
        draw-weighted mixture of :meth:`draw_survival`, exact, evaluated in chunks of days."""
        days = np.asarray(days, dtype=float)
        if self.eta is None or self.draw_weights is None:
            raise ValueError(f"forecast {self.case_id!r} has no posterior draws to evaluate")
        if np.any(~(days >= 0)):
            raise ValueError(f"forecast {self.case_id!r}: survival_at needs days >= 0, "
                             f"got {days[~(days >= 0)].reshape(-1)[0]}")
        flat = days.reshape(-1)
        out = np.empty(flat.size)
        for i in range(0, flat.size, _SURVIVAL_CHUNK):
            out[i:i + _SURVIVAL_CHUNK] = (self.draw_survival(flat[i:i + _SURVIVAL_CHUNK])
                                          @ self.draw_weights)
        return np.clip(out, 0.0, 1.0).reshape(days.shape)

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


def held_weights(log_s0: np.ndarray) -> np.ndarray:
    """Posterior draws' weights given the case held: proportional to S_s(t0) = exp(log_s0),
    normalized in log space (no underflow however long it held)."""
    from scipy.special import logsumexp

    log_s0 = np.asarray(log_s0, dtype=float)
    return np.exp(log_s0 - logsumexp(log_s0))


def forecast_from_eta(case: Case, eta: np.ndarray, sigma: np.ndarray, model, rng: np.random.Generator,
                      *, stamp: Forecast, draws_per_eta: int = DRAWS_PER_POSTERIOR_DRAW,
                      grid_days: int = 730, condition_draws: bool = True) -> Forecast:
    """The forecast for linear predictors ``eta`` and scales ``sigma`` (one per posterior draw):
    remaining-life draws, per-draw conditional survival curves and their bands. Identity fields
    (model, ids, flags, diagnostics) are copied from ``stamp``.

    Parameters
    ----------
    condition_draws : bool
        Weight each posterior draw by S_s(t0), its probability of having held until as_of (the
        posterior draws come from the reference class alone). False for draws that already come
        from the posterior conditioned on the case having held (MCMC with the case's duration in
        the model): their weights are uniform.
    """
    t0 = case.held_days
    eta = np.asarray(eta, dtype=float)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), eta.shape)
    if t0 > 0:
        # -inf (S(t0) beyond the floats) is kept finite: such a draw gets weight 0, not nan
        log_s0 = np.maximum(model.log_survival(np.asarray(t0), eta, sigma), -np.finfo(float).max)
    else:
        log_s0 = np.zeros_like(eta)
    draw_weights = held_weights(log_s0) if condition_draws else np.full(eta.size, 1.0 / eta.size)
    # remaining life: T | T > t0 by inverse survival, log U = log Uniform(0, 1) + log S(t0)
    k = draws_per_eta
    log_u = -rng.standard_exponential(size=(k, eta.size)) + log_s0
    total = model.quantile_days_log(log_u, eta, sigma)
    remaining = np.maximum(total - t0, 0.0).reshape(-1)
    draw_index = np.tile(np.arange(eta.size), k)
    weights = draw_weights[draw_index]
    fc = replace(
        stamp,
        as_of=case.as_of,
        held_days=t0,
        remaining=remaining,
        weights=weights / weights.sum(),
        draw_index=draw_index,
        eta=eta,
        sigma=sigma,
        log_s0=log_s0,
        draw_weights=draw_weights,
        claim_edges=None,
        claim_cell_log_weights=None,
        survival_model=model,
    )
    days = np.arange(0, grid_days + 1, dtype=float)
    fc.curves = fc.draw_survival(days)
    survival = survival_bands(days, fc.curves, draw_weights)
    survival.insert(1, "date", [case.as_of + timedelta(days=int(d)) for d in days])
    fc.survival = survival
    return fc


def survival_bands(days: np.ndarray, curves: np.ndarray, weights: np.ndarray | None = None) -> pd.DataFrame:
    """Mean, median and central bands (50/80/95%) of survival curves (rows: days, columns:
    draws), across draws weighted by ``weights`` (equal when None)."""
    out = {"days": days}
    mean = curves.mean(axis=1) if weights is None else curves @ (weights / np.sum(weights))
    out["mean"] = np.clip(mean, 0.0, 1.0)  # rounding can put a weighted sum of ones above 1
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
