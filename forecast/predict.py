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

With competing ends (a model whose holdouts fall with probability p_s, at T ~ S_s, or else end
otherwise at T_o ~ S_o,s), "still holding at t0" has probability H_s(t0) = p_s S_s(t0) +
(1 - p_s) S_o,s(t0), which weights the draws, and the forecast is of the fall:

    P_s(not fallen by t | held at t0) = [(1 - p_s) S_o,s(t0) + p_s S_s(t)] / H_s(t0),

which tends to P_s(another end comes first | held at t0) as t grows (the CDF of the fall time
is improper: a holdout that is relieved never falls). Remaining-life draws are infinite for
that share. A single-end model is the case p_s = 1.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
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
#: below this many values (rows x draws) a curve is computed in the calling thread
_THREADED_MIN = 200_000
_POOL: Any = None
_POOL_LOCK = threading.Lock()


def by_rows(fill, rows: np.ndarray, width: int) -> None:
    """Run ``fill(rows)`` — which writes those rows of an output array, elementwise NumPy and
    SciPy work that releases the GIL — split over the machine's cores (at most 4, and at most
    ``$OMP_NUM_THREADS``) when ``rows.size * width`` is large. The same values as one call, in any
    order: each row is computed alone. ``fill`` must not call ``by_rows`` itself."""
    global _POOL
    if rows.size == 0:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cap = os.environ.get("OMP_NUM_THREADS", "")  # a backtest worker is given one thread
    if cap.isdigit() and int(cap) >= 1:
        cores = min(cores, int(cap))
    parts = min(cores, 4, rows.size)
    if parts < 2 or rows.size * width < _THREADED_MIN:
        fill(rows)
        return
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():  # a forked child has the pool, not its threads
            from concurrent.futures import ThreadPoolExecutor

            _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="forecast-curves"))
        pool = _POOL[1]
    for done in [pool.submit(fill, part) for part in np.array_split(rows, parts)]:
        done.result()


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
    #: competing ends, per posterior draw: log p_s (it is the kind that falls) and
    #: log[(1 - p_s) S_o,s(t0)]; None for a single-end model (p_s = 1)
    log_p: np.ndarray | None = None
    log_other0: np.ndarray | None = None
    #: competing ends, per posterior draw: the other end's time law (linear predictor and scale)
    eta_o: np.ndarray | None = None
    sigma_o: np.ndarray | None = None
    #: per posterior draw: days held on the clock of the indicators in force at as_of (None:
    #: ``held_days``; see :func:`effective_held`)
    held_eff: np.ndarray | None = None
    survival_model: Any = None
    effect_levels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: computed once per forecast object (a replaced copy starts empty): see edge_survival
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def edge_survival(self) -> np.ndarray:
        """:meth:`conditional_survival` at the claims' cell edges (rows) for every draw, computed
        once: the claims' step function needs it for every curve, probability and quantile."""
        inputs = (self.claim_edges, self.eta, self.sigma, self.log_p, self.log_other0,
                  self.log_s0, self.held_eff)
        hit = self._memo.get("edge_survival")
        if hit is None or any(a is not b for a, b in zip(hit[0], inputs, strict=True)):
            hit = (inputs, self.conditional_survival(self.claim_edges))
            self._memo["edge_survival"] = hit
        return hit[1]

    def claim_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The claims' step function per draw: cell weights (max 1), each cell's weighted mass
        (cells x draws) and their sum z, the draw's normalizer."""
        return self._claim_parts()[:3]

    def _claim_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`claim_cells` and, per draw, the weighted mass after each cell (cells x draws),
        computed once per forecast object and step function."""
        surv = self.edge_survival()
        hit = self._memo.get("claim_cells")
        if hit is None or hit[0] is not self.claim_cell_log_weights or hit[1] is not surv:
            cell_l = np.exp(self.claim_cell_log_weights - np.max(self.claim_cell_log_weights))
            contrib = cell_l[:, None] * (surv[:-1] - surv[1:])
            tail = np.cumsum(contrib[::-1], axis=0)[::-1]
            tail_after = np.vstack([tail[1:], np.zeros((1, tail.shape[1]))])
            hit = (self.claim_cell_log_weights, surv, (cell_l, contrib, contrib.sum(axis=0), tail_after))
            self._memo["claim_cells"] = hit
        return hit[2]

    def _mixture(self, per_draw, days: np.ndarray) -> np.ndarray:
        """The draw-weighted mixture of ``per_draw(days)`` (rows: days, columns: draws) for any
        shape of days, evaluated in chunks of days."""
        days = np.asarray(days, dtype=float)
        flat = days.reshape(-1)
        out = np.empty(flat.size)
        for i in range(0, flat.size, _SURVIVAL_CHUNK):
            out[i:i + _SURVIVAL_CHUNK] = per_draw(flat[i:i + _SURVIVAL_CHUNK]) @ self.draw_weights
        return out

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
        stay = None if self.log_p is None else np.exp(self.log_other0 - self.log_s0)

        def fill(rows: np.ndarray) -> None:
            tt = t[rows][:, None]
            if self.held_eff is not None:  # the current indicators' clock
                tt = self.held_eff[None, :] + (tt - self.held_days)
            log_s = self.survival_model.log_survival(tt, self.eta, self.sigma)
            if stay is None:
                out[rows] = np.minimum(np.exp(log_s - self.log_s0), 1.0)
            else:  # [(1-p) S_o(t0) + p S_f(t)] / H(t0), as two exact terms (no logaddexp: 3x faster)
                out[rows] = np.minimum(stay + np.exp(log_s + (self.log_p - self.log_s0)), 1.0)

        by_rows(fill, np.flatnonzero(finite), self.eta.size)
        return out

    def p_other_end_first(self) -> float | None:
        """P(another end — relief, attacker withdrawal, war end — comes before the fall | held at
        as_of), with the claims' tilt when they have been applied: None for a single-end model."""
        if self.log_p is None:
            return None
        never = np.exp(self.log_other0 - self.log_s0)
        if self.claim_edges is not None:  # the never-falls mass sits in the last cell
            cell_l, _, z = self.claim_cells()
            never = cell_l[-1] * never / np.where(z > 0, z, 1.0)
        return float(np.clip(never @ self.draw_weights, 0.0, 1.0))

    def draw_other_ended(self, days: np.ndarray) -> np.ndarray:
        """Each posterior draw's P(another end — relief, withdrawal, war end — has come by
        as_of + d, before any fall) for ``days`` d >= 0 (rows) and draws (columns): the
        other kind's share (1 - p_s) [S_o,s(t0) - S_o,s(t0 + d)] / H_s(t0), tilted by the claims
        (the never-falls cell) when they have been applied. Zeros for a single-end model."""
        days = np.asarray(days, dtype=float).reshape(-1)
        out = np.zeros((days.size, self.eta.size))
        if self.log_p is None or self.eta_o is None:
            return out
        t0 = self.held_days
        log_so = self.survival_model.log_survival(np.maximum(t0 + days, 1e-9)[:, None],
                                                  self.eta_o, self.sigma_o)
        log_so0 = (self.survival_model.log_survival(np.asarray(t0, dtype=float), self.eta_o,
                                                    self.sigma_o) if t0 > 0 else 0.0)
        ended = np.exp(self.log_other0 - self.log_s0) * -np.expm1(np.minimum(log_so - log_so0, 0.0))
        if self.claim_edges is not None:  # the other ends sit in the never-falls (last) cell
            cell_l, _, z = self.claim_cells()
            ended = ended * cell_l[-1] / np.where(z > 0, z, 1.0)
        ended[days == 0] = 0.0
        return np.clip(ended, 0.0, 1.0)

    def other_ended_at(self, days: np.ndarray) -> np.ndarray:
        """The predictive P(another end has come by as_of + d): the draw-weighted mixture of
        :meth:`draw_other_ended`. P(still holding) is :meth:`survival_at` minus this; it tends to
        :meth:`p_other_end_first` as d grows."""
        days = np.asarray(days, dtype=float)
        return np.clip(self._mixture(self.draw_other_ended, days), 0.0, 1.0).reshape(days.shape)

    def if_it_falls(self, q: float) -> float:
        """The q-quantile of the remaining days *if it falls* (no other end first): the
        "if nothing intervenes" duration, labelled so. Exact, from the predictive curve:
        P(fallen by d | it falls) = P(fallen by d) / P(it falls)."""
        return self.if_it_falls_quantiles((q,))[q]

    def if_it_falls_quantiles(self, qs) -> dict[float, float]:
        """:meth:`if_it_falls` for several q at once: the predictive's daily mean curve (exact)
        where the quantile falls within it, the curve on :func:`standard_grid` beyond (computed
        once, and only when needed); linear between grid days; inf where never reached."""
        other = self.p_other_end_first() or 0.0
        falls = 1.0 - other
        if falls <= 0:
            return {q: float("inf") for q in qs}
        mean = self._mean_curve()
        grid = cdf = None
        if mean is not None:
            grid, cdf = np.arange(mean.size, dtype=float), (1.0 - mean) / falls
        out: dict[float, float] = {}
        for q in qs:
            if cdf is None or cdf[-1] < q:
                if grid is None or grid[-1] < 7305.0:  # the whole standard horizon, once
                    from forecast.predictive import standard_grid

                    grid = standard_grid()
                    cdf = (1.0 - self.survival_at(grid)) / falls
                if cdf[-1] < q:
                    out[q] = float("inf")
                    continue
            i = int(np.searchsorted(cdf, q, side="left"))
            if i == 0:
                out[q] = 0.0
                continue
            lo, hi = cdf[i - 1], cdf[i]
            frac = (q - lo) / (hi - lo) if hi > lo else 1.0
            out[q] = float(grid[i - 1] + frac * (grid[i] - grid[i - 1]))
        return out

    def draw_survival(self, days: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """Each posterior draw's P(still holding at as_of + d) for ``days`` d >= 0 (rows) and
        draws (columns), with the claims' step function when they have been applied.

        ``base``: :meth:`conditional_survival` at ``held_days + days`` when already at hand (the
        untilted forecast's ``curves`` on the same days): it is not computed again.
        """
        days = np.asarray(days, dtype=float).reshape(-1)
        t0 = self.held_days
        if base is not None and base.shape != (days.size, self.eta.size):
            raise ValueError(f"base curves of shape {base.shape}, need {(days.size, self.eta.size)}")
        surv = self.conditional_survival(t0 + days) if base is None else base.copy()
        if self.claim_edges is not None:
            edges = self.claim_edges
            n_cells = len(edges) - 1
            cell_l, _, z, tail_after = self._claim_parts()
            surv_edges = self.edge_survival()
            j = np.clip(np.searchsorted(edges, t0 + days, side="left") - 1, 0, n_cells - 1)
            z_safe = np.where(z > 0, z, 1.0)

            def tilt(rows: np.ndarray) -> None:
                jj = j[rows]
                cell = cell_l[jj][:, None] * (surv[rows] - surv_edges[jj + 1]) + tail_after[jj]
                surv[rows] = np.clip(cell / z_safe, 0.0, 1.0)

            by_rows(tilt, np.arange(days.size), self.eta.size)
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
        out = self._mixture(self.draw_survival, days)
        out[days.reshape(-1) == 0] = 1.0  # held at as_of by definition (not 1 - the weights' rounding)
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
        """The headline numbers (the JSON's core). A quantile the fall never reaches (another
        end comes first with more probability) is None, and so is the median date then."""
        median = self.quantile(0.5)

        def days(v: float) -> float | None:
            return round(v, 1) if np.isfinite(v) else None

        out = {
            "p_fall_within": {str(h): round(self.p_fall_within(h), 4) for h in HORIZONS},
            "days_remaining": {f"{q:g}": days(self.quantile(q)) for q in QUANTILES},
            "median_date": self.date_of(median).isoformat() if np.isfinite(median) else None,
        }
        other = self.p_other_end_first()
        if other is not None:
            out["p_other_end_first"] = round(other, 4)
            out["p_falls_eventually"] = round(1.0 - other, 4)
            if_falls = self.if_it_falls_quantiles(QUANTILES)
            out["days_remaining_if_it_falls"] = {f"{q:g}": days(if_falls[q]) for q in QUANTILES}
        return out

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


#: A level of an indicator with fewer fitted cases than this is flagged in the forecast (the
#: issue asked for about 5; 10 also flags levels whose effect is mostly the prior).
SPARSE_LEVEL = 10
#: Candidate force sizes per posterior draw, resampled by the fit's population law.
_FORCE_CANDIDATES = 32


@dataclass
class CaseParams:
    """One case's parameters at every posterior draw: the fall time's linear predictor ``eta``
    and scale ``sigma``; with competing ends, ``eta_p`` (logit of being the kind that falls)
    and the other end's ``eta_o``, ``sigma_o``."""

    eta: np.ndarray
    sigma: np.ndarray
    eta_p: np.ndarray | None = None
    eta_o: np.ndarray | None = None
    sigma_o: np.ndarray | None = None
    flags: list[str] = field(default_factory=list)
    codes: np.ndarray | None = None


def _normal_logpdf(x, mu, sd):
    return -0.5 * ((x - mu) / sd) ** 2 - np.log(sd)


def _force_latents(posterior: Posterior, case: Case, rng: np.random.Generator,
                   flags: list[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The case's standardized log force ratio and log defender size per posterior draw, drawn
    from the law the fit used: inside the recorded ranges, weighted by the population law
    (uniform x Normal(mu_s, sd_s)); from the population alone where a strength is unknown."""
    meta, draws, n = posterior.meta, posterior.draws, posterior.n_draws
    if "force" not in meta:
        return None, None
    f = meta["force"]
    size = "beta_size" in draws
    ind = case.indicators
    fr = force_row(ind)
    d_only = _def_range(ind)
    if fr is None and (not size or d_only is None):
        z_force = draws["force_mu"] + draws["force_sd"] * rng.standard_normal(n)
        flags.append("force sizes unknown: the log force ratio is drawn from the reference population")
        z_size = (draws["size_mu"] + draws["size_sd"] * rng.standard_normal(n)) if size else None
        return z_force, z_size
    k = _FORCE_CANDIDATES
    d_lo, d_hi = (fr[2], fr[3]) if fr is not None else d_only
    dfn = rng.uniform(d_lo, d_hi, (n, k))
    log_w = np.zeros((n, k))
    z_size_c = None
    if size:
        z_size_c = (dfn - f["size_center"]) / f["size_scale"]
        log_w += _normal_logpdf(z_size_c, draws["size_mu"][:, None], draws["size_sd"][:, None])
    if fr is not None:
        att = rng.uniform(fr[0], fr[1], (n, k))
        z_force_c = (att - dfn - f["center"]) / f["scale"]
        log_w += _normal_logpdf(z_force_c, draws["force_mu"][:, None], draws["force_sd"][:, None])
    pick = np.argmax(log_w + rng.gumbel(size=(n, k)), axis=1)  # one candidate per draw, by weight
    rows = np.arange(n)
    if fr is not None:
        z_force = z_force_c[rows, pick]
    else:
        z_force = draws["force_mu"] + draws["force_sd"] * rng.standard_normal(n)
        flags.append("attacker strength unknown: the log force ratio is drawn from the reference population")
    return z_force, (z_size_c[rows, pick] if size else None)


def _def_range(ind) -> tuple[float, float] | None:
    from models.design import _log_range

    return _log_range(ind.defender_strength)


def _case_codes(posterior: Posterior, case: Case, rng: np.random.Generator,
                flags: list[str]) -> np.ndarray:
    """Codes of the case's categorical indicators per draw (n_draws, k). An unknown value takes
    the 'unknown' level when the fit had cases with it; otherwise a level drawn per posterior
    draw from the reference class's frequencies (an unknown is one of the known levels)."""
    meta, n = posterior.meta, posterior.n_draws
    cat_names = tuple(meta["cat_names"])
    levels = tuple(tuple(lv) for lv in meta["levels"])
    counts = meta.get("level_counts", {})
    base = case_codes(case.indicators, cat_names, levels)
    codes = np.tile(base, (n, 1))
    for j, name in enumerate(cat_names):
        if getattr(case.indicators, name) is not None:
            continue
        c = np.asarray(counts.get(name, []), dtype=float)
        if c.size and c[-1] < 1 and c.sum() > 0:
            codes[:, j] = rng.choice(c.size, size=n, p=c / c.sum())
            flags.append(f"{name} unknown: drawn from the reference class's levels")
        else:
            flags.append(f"{name} unknown: its 'unknown' level effect is used")
    return codes


def _war_effect(posterior: Posterior, case: Case, prefix: str, rng: np.random.Generator) -> np.ndarray | None:
    draws = posterior.draws
    if f"{prefix}effect_war" not in draws:
        return None
    wars = posterior.meta.get("wars", [])
    war = getattr(case, "war", None)
    if war in wars:
        return draws[f"{prefix}effect_war"][:, wars.index(war)]
    return draws[f"{prefix}tau_war"] * rng.standard_normal(posterior.n_draws)


def case_params(posterior: Posterior, case: Case, rng: np.random.Generator,
                codes: np.ndarray | None = None) -> CaseParams:
    """The case's parameters at every posterior draw, and flags on how unknowns entered."""
    from models.design import era_of

    meta, draws = posterior.meta, posterior.draws
    cat_names = tuple(meta["cat_names"])
    flags: list[str] = []
    if codes is None:
        codes = _case_codes(posterior, case, rng, flags)
    z_force, z_size = _force_latents(posterior, case, rng, flags)
    era = era_of(case.start_date.year) if "effect_era" in draws else None
    model = posterior.model
    eta = model.eta_for(draws, codes=codes, cat_names=cat_names, z_force=z_force, z_size=z_size,
                        era=era, war=_war_effect(posterior, case, "", rng))
    out = CaseParams(eta=eta, sigma=draws["sigma"], flags=flags, codes=codes)
    if "p_intercept" in draws:
        p_era = era_of(case.start_date.year) if "p_effect_era" in draws else None
        out.eta_p = model.eta_for(draws, codes=codes, cat_names=cat_names, era=p_era,
                                  war=_war_effect(posterior, case, "p_", rng), prefix="p_")
        out.eta_o = draws["o_intercept"]
        out.sigma_o = draws["o_sigma"]
    return out


def predict(posterior: Posterior, case: Case, *, seed: int = 0, grid_days: int = 730,
            bands: bool = True) -> Forecast:
    """Forecast ``case`` (as of ``case.as_of``) from ``posterior``.

    Parameters
    ----------
    seed : int
        Seeds the force-size latents and the predictive draws.
    grid_days : int
        The survival curve is tabulated daily from 0 to this many days after as_of.
    bands : bool
        Tabulate the curves' bands across draws too (:func:`survival_bands`); False: the mean
        only, for a forecast that the statements will reweight (:func:`with_bands` adds them).
    """
    rng = np.random.default_rng(seed)
    now = replace(case, indicators=case.indicators_at(case.as_of))
    params = case_params(posterior, now, rng)
    held_eff = effective_held(posterior, case, params, seed=seed)
    base = Forecast(
        case_id=case.id, start_date=case.start_date, as_of=case.as_of, held_days=case.held_days,
        model=posterior.stamp.get("model", posterior.model.name),
        model_id=posterior.stamp.get("model_id", ""),
        dataset_hash=posterior.stamp.get("dataset_hash", ""), seed=int(seed),
        remaining=np.zeros(0), weights=np.zeros(0), survival=pd.DataFrame(),
        diagnostics=posterior.diagnostics.to_dict(), flags=params.flags,
        posterior_draws=posterior.draws,
        effect_levels={f"effect_{n}": tuple(lv) for n, lv in
                       zip(posterior.meta["cat_names"], posterior.meta["levels"], strict=True)},
    )
    fc = forecast_from_eta(case, params.eta, params.sigma, posterior.model, rng, stamp=base,
                           grid_days=grid_days, competing=_competing(params), held_eff=held_eff,
                           bands=bands)
    if held_eff is not None:
        fc.extra = dict(fc.extra) | {"indicator_changes": [
            {"days": days, **{k: v for k, v in ind.categorical().items() if v is not None}}
            for days, ind in case.segments()]}
    sparse = sparse_levels(posterior, now, params, seed=seed)
    if sparse:
        fc.flags = list(fc.flags) + [s["flag"] for s in sparse]
        fc.extra = dict(fc.extra) | {"sparse_levels": sparse}
    return fc


def effective_held(posterior: Posterior, case: Case, params: CaseParams, *,
                   seed: int = 0) -> np.ndarray | None:
    """Days held, on the clock of the indicators in force at as_of, per posterior draw — or None
    when no indicator changed by as_of.

    An AFT model with indicators that change over time (Cox & Oakes 1984, ch. 5; Robins'
    structural AFT): the holdout uses up its baseline life at the rate exp(-eta(u)), so that
    T's baseline time is V = integral of exp(-eta(u)) du. After L_k days under indicators with
    linear predictor eta_k (k = 1..m, the last = those in force at as_of), it has used
    sum_k L_k exp(-eta_k); under today's indicators that is t_eff = sum_k L_k exp(eta_now - eta_k)
    days. If the indicators stay as they are, P(T > t0 + h | held) = S_now(t_eff + h) /
    S_now(t_eff): the forecast of a holdout that had always had today's indicators and held
    t_eff days. Force latents and the war effect are the same draws in every stretch.
    """
    segments = case.segments()
    if len(segments) < 2:
        return None
    total = np.zeros_like(params.eta)
    for days, ind in segments:
        seg = case_params(posterior, replace(case, indicators=ind), np.random.default_rng(seed))
        total += days * np.exp(params.eta - seg.eta)
    return total


def _competing(params: CaseParams) -> dict[str, np.ndarray] | None:
    if params.eta_p is None:
        return None
    return {"eta_p": params.eta_p, "eta_o": params.eta_o, "sigma_o": params.sigma_o}


def sparse_levels(posterior: Posterior, case: Case, params: CaseParams, *, seed: int = 0,
                  horizon: int = 30) -> list[dict[str, Any]]:
    """The case's indicator levels that rest on fewer than ``SPARSE_LEVEL`` fitted cases, each
    with how much it moves P(fall within ``horizon`` days): the forecast as given against the
    same forecast with that indicator unknown (a level drawn from the reference class's
    frequencies)."""
    counts = posterior.meta.get("level_counts", {})
    levels = posterior.meta["levels"]
    out = []
    for j, name in enumerate(posterior.meta["cat_names"]):
        value = getattr(case.indicators, name)
        if value is None or name not in counts:
            continue
        n_level = counts[name][list(levels[j]).index(value)]
        if n_level >= SPARSE_LEVEL:
            continue
        c = np.asarray(counts[name], dtype=float)
        rng = np.random.default_rng([seed, j])
        codes = params.codes.copy()
        codes[:, j] = rng.choice(c.size, size=codes.shape[0], p=c / c.sum())
        alt = case_params(posterior, case, np.random.default_rng(seed), codes=codes)
        with_level = _p_within(posterior, case, params, horizon, seed)
        without = _p_within(posterior, case, alt, horizon, seed)
        out.append({
            "indicator": name, "level": value, "cases": int(n_level),
            f"p_fall_within_{horizon}": round(with_level, 4),
            f"p_fall_within_{horizon}_if_unknown": round(without, 4),
            "flag": (f"{name} = {value} rests on {int(n_level)} case(s) of the reference class; "
                     f"it moves P(fall within {horizon} d) from {without:.2f} (if unknown) to "
                     f"{with_level:.2f}"),
        })
    return out


def _p_within(posterior: Posterior, case: Case, params: CaseParams, horizon: int, seed: int) -> float:
    stamp = Forecast(case_id=case.id, start_date=case.start_date, as_of=case.as_of,
                     held_days=case.held_days, model="", model_id="", dataset_hash="", seed=seed,
                     remaining=np.zeros(0), weights=np.zeros(0), survival=pd.DataFrame(),
                     diagnostics={})
    fc = forecast_from_eta(case, params.eta, params.sigma, posterior.model,
                           np.random.default_rng(seed), stamp=stamp, grid_days=horizon,
                           competing=_competing(params))
    return fc.p_fall_within(horizon)


def held_weights(log_s0: np.ndarray) -> np.ndarray:
    """Posterior draws' weights given the case held: proportional to S_s(t0) = exp(log_s0),
    normalized in log space (no underflow however long it held)."""
    from scipy.special import logsumexp

    log_s0 = np.asarray(log_s0, dtype=float)
    return np.exp(log_s0 - logsumexp(log_s0))


def forecast_from_eta(case: Case, eta: np.ndarray, sigma: np.ndarray, model, rng: np.random.Generator,
                      *, stamp: Forecast, draws_per_eta: int = DRAWS_PER_POSTERIOR_DRAW,
                      grid_days: int = 730, condition_draws: bool = True,
                      competing: dict[str, np.ndarray] | None = None,
                      held_eff: np.ndarray | None = None, bands: bool = True) -> Forecast:
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
    competing : dict, optional
        Competing ends: per posterior draw ``eta_p`` (logit of being the kind that falls),
        ``eta_o`` and ``sigma_o`` (the other end's time). None: a single end.
    held_eff : numpy.ndarray, optional
        Per posterior draw, days held on the clock of the current indicators
        (:func:`effective_held`); None: the days held.
    bands : bool
        Tabulate the bands across draws (False: the mean curve only; see :func:`with_bands`).
    """
    t0 = case.held_days
    eta = np.asarray(eta, dtype=float)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), eta.shape)
    tiny = -np.finfo(float).max  # -inf (S(t0) beyond the floats) is kept finite: weight 0, not nan
    t_fall0 = np.full(eta.shape, float(t0)) if held_eff is None else np.asarray(held_eff, dtype=float)
    if t0 > 0:
        log_sf0 = np.maximum(model.log_survival(np.maximum(t_fall0, 1e-9), eta, sigma), tiny)
    else:
        log_sf0 = np.zeros_like(eta)
    log_p = log_other0 = None
    log_s0 = log_sf0
    if competing is not None:
        eta_p = np.asarray(competing["eta_p"], dtype=float)
        log_p = -np.logaddexp(0.0, -eta_p)
        log_q = -np.logaddexp(0.0, eta_p)
        if t0 > 0:
            log_so0 = model.log_survival(np.asarray(t0), np.asarray(competing["eta_o"], dtype=float),
                                         np.asarray(competing["sigma_o"], dtype=float))
        else:
            log_so0 = np.zeros_like(eta)
        log_other0 = np.maximum(log_q + log_so0, tiny)
        log_s0 = np.maximum(np.logaddexp(log_p + log_sf0, log_other0), tiny)
    draw_weights = held_weights(log_s0) if condition_draws else np.full(eta.size, 1.0 / eta.size)
    # remaining life: T | T > t0 by inverse survival, log U = log Uniform(0, 1) + log S(t0)
    k = draws_per_eta
    log_u = -rng.standard_exponential(size=(k, eta.size)) + log_sf0
    total = model.quantile_days_log(log_u, eta, sigma)
    if log_p is not None:
        # the kind that falls, given it held: p S(t0) / H(t0); else another end comes first
        falls = np.log(rng.uniform(size=(k, eta.size))) < (log_p + log_sf0 - log_s0)
        total = np.where(falls, total, np.inf)
    remaining = np.maximum(total - t_fall0, 0.0).reshape(-1)
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
        log_p=log_p,
        log_other0=log_other0,
        eta_o=None if competing is None else np.asarray(competing["eta_o"], dtype=float),
        sigma_o=None if competing is None else np.broadcast_to(
            np.asarray(competing["sigma_o"], dtype=float), eta.shape),
        held_eff=held_eff,
        draw_weights=draw_weights,
        claim_edges=None,
        claim_cell_log_weights=None,
        survival_model=model,
    )
    days = np.arange(0, grid_days + 1, dtype=float)
    fc.curves = fc.draw_survival(days)
    survival = survival_bands(days, fc.curves, draw_weights, bands=bands)
    survival.insert(1, "date", [case.as_of + timedelta(days=int(d)) for d in days])
    fc.survival = survival
    return fc


def with_bands(fc: Forecast) -> Forecast:
    """``fc`` with the bands of its per-draw curves in its survival table (as
    :func:`survival_bands` tabulates them), when they are not there yet."""
    if fc.curves is None or "median" in fc.survival or "days" not in fc.survival:
        return fc
    days = fc.survival["days"].to_numpy()
    table = survival_bands(days, fc.curves, fc.draw_weights)
    out = replace(fc)
    out.survival = fc.survival[["days", "date"]].join(table.drop(columns="days"))
    return out


#: Credible levels of the fan chart's bands (the curve across posterior draws): 10% steps to 90%.
FAN_LEVELS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def fan_table(forecast: Forecast, days: np.ndarray,
              levels: tuple[float, ...] = FAN_LEVELS) -> pd.DataFrame:
    """What the fan chart draws, on ``days`` after as_of: ``mean`` (the predictive P(not fallen),
    the curve every printed number comes from, exact), ``date``, and for each level the band of
    the per-draw curves across posterior draws (``lo<pct>``/``hi<pct>``, weighted as the
    predictive is), plus ``fallen`` = 1 - mean and, split out of ``mean``, ``other_ended`` (another
    end has come first; 0 for a single-end model) and ``holding`` = mean - other_ended."""
    days = np.asarray(days, dtype=float)
    mean = np.clip(forecast.survival_at(days), 0.0, 1.0)
    other = np.minimum(forecast.other_ended_at(days), mean)
    out: dict[str, Any] = {"days": days, "mean": mean, "fallen": 1.0 - mean,
                           "other_ended": other, "holding": mean - other}
    if levels:  # the per-draw curves, only when bands are asked for
        out |= weighted_quantiles(forecast.draw_survival(days), forecast.draw_weights,
                                  _band_quantiles(levels))
    table = pd.DataFrame(out)
    start = datetime.combine(forecast.as_of, datetime.min.time())  # fractions of a day kept
    table.insert(1, "date", [start + timedelta(days=float(d)) for d in days])
    return table


def survival_bands(days: np.ndarray, curves: np.ndarray, weights: np.ndarray | None = None,
                   *, bands: bool = True) -> pd.DataFrame:
    """Mean, median and central bands (50/80/95%) of survival curves (rows: days, columns:
    draws), across draws weighted by ``weights`` (equal when None); the mean only when ``bands``
    is False (enough for the headline numbers)."""
    out = {"days": days}
    mean = curves.mean(axis=1) if weights is None else curves @ (weights / np.sum(weights))
    out["mean"] = np.clip(mean, 0.0, 1.0)  # rounding can put a weighted sum of ones above 1
    if not bands:
        return pd.DataFrame(out)
    qs = {"median": 0.5} | _band_quantiles(BANDS)
    if weights is None:
        for name, q in qs.items():
            out[name] = np.quantile(curves, q, axis=1)
        return pd.DataFrame(out)
    return pd.DataFrame(out | weighted_quantiles(curves, weights, qs))


def _band_quantiles(levels) -> dict[str, float]:
    """``lo<pct>``/``hi<pct>`` -> the quantiles bounding each central band."""
    out = {}
    for b in levels:
        pct = int(round(b * 100))
        out[f"lo{pct}"], out[f"hi{pct}"] = (1 - b) / 2, 1 - (1 - b) / 2
    return out


def weighted_quantiles(curves: np.ndarray, weights: np.ndarray, qs: dict[str, float]
                       ) -> dict[str, np.ndarray]:
    """Per row of ``curves`` (columns: draws), each named quantile q of the draws weighted by
    ``weights``: the first value whose cumulative weight reaches q."""
    weights = np.asarray(weights)
    out = {name: np.empty(curves.shape[0]) for name in qs}

    def fill(rows: np.ndarray) -> None:
        block = curves[rows]
        order = np.argsort(block, axis=1, kind="stable")  # ties in draw order: the same sums
        values = np.take_along_axis(block, order, axis=1)
        cum = np.cumsum(weights[order], axis=1)
        cum /= cum[:, -1:]
        at = np.arange(rows.size)
        for name, q in qs.items():
            out[name][rows] = values[at, np.minimum((cum < q).sum(axis=1), curves.shape[1] - 1)]

    by_rows(fill, np.arange(curves.shape[0]), curves.shape[1])
    return out
