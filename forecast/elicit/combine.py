"""Apply claims to a forecast: the indicator forecast times the claims' likelihood.

The claims' joint likelihood L(T) (:mod:`forecast.elicit.likelihood`: each claim's log Bayes
factor against the base rate, summed) is a step function of the fall time T on cells between the
claims' boundaries, so it is applied exactly: within posterior draw s the new density of T is
f_s(T) L(T) / Z_s, and the draw's weight becomes draw_weights[s] * exp(effect[s]) * Z_s.
The predictive draws get the weight of their cell (times their posterior draw's), and PSIS k-hat
(arviz-stats) with the effective sample size say whether the draws can carry it; when they cannot
(k-hat > 0.7 or fewer than ``MIN_ESS`` effective draws) the forecast is recomputed by MCMC with the
claims in the model (:mod:`forecast.elicit.fallback`).

Claims about effects multiply the posterior draws' weights by their prior density, tempered by
the statement's beta (a power prior).

All of this starts from the forecast's own posterior-draw weights (``Forecast.draw_weights``,
proportional to each draw's probability of having held until as_of).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from forecast.elicit.claims import ReadClaim
from forecast.elicit.likelihood import BaseRate, Weighed, cell_log_weights, group_sizes, weigh
from forecast.predict import Forecast, survival_bands

K_HAT_LIMIT = 0.7
#: Fewest effective draws the reweighted forecast may rest on before MCMC takes over.
MIN_ESS = 400


@dataclass
class Combination:
    """Log-weights over the forecast's draws, the claims as evidence, and PSIS k-hat.

    The duration claims' weight is a step function of T: ``cell_log_weights[c]`` on
    (edges[c], edges[c + 1]] (days since start; edges[0] = days held, edges[-1] = inf).
    ``effect_log_weights`` are per posterior draw.
    """

    log_weights: np.ndarray
    weighed: list[Weighed]
    effect_log_weights: np.ndarray
    pareto_k: float
    edges: np.ndarray
    cell_log_weights: np.ndarray
    ess: float = 0.0
    #: the Pareto-smoothed log_weights (computed with k-hat, so smoothing runs once)
    smoothed_log_weights: np.ndarray | None = None

    @property
    def needs_mcmc(self) -> bool:
        """True when the reweighted draws cannot be trusted: k-hat > 0.7, or fewer than
        ``MIN_ESS`` effective draws."""
        return self.pareto_k > K_HAT_LIMIT or self.ess < MIN_ESS


def edge_survival(fc: Forecast, edges: np.ndarray) -> np.ndarray:
    """P_s(T > e | T > t0) for every edge e (rows) and posterior draw s (columns), analytic."""
    return fc.conditional_survival(edges)


def log_draw_weights(fc: Forecast) -> np.ndarray:
    """log of the forecast's posterior-draw weights (a weight that underflowed to 0 is floored
    at the smallest float, so that log-weights stay finite for PSIS)."""
    return np.log(np.maximum(fc.draw_weights, np.finfo(float).tiny))


def _check_indicator_forecast(fc: Forecast) -> None:
    if fc.claim_edges is not None:
        raise ValueError(f"forecast {fc.case_id!r} already has claims applied; combine claims "
                         "with the indicator forecast")


def weigh_claims(claims: list[ReadClaim], base: BaseRate, signal_var: float) -> list[Weighed]:
    """The duration claims with beta != 0 as evidence (a negative fitted beta — words that
    anti-predict — is applied as fitted): base rates read off ``base`` on the day each was stated,
    source groups counted among these claims."""
    active = [c for c in claims if c.kind != "effect" and c.weight != 0]
    sizes = group_sizes([c.group for c in active])
    return [weigh(c.label, c.event, c.prob.mean, c.prob.logit_var, c.stated_day, c.weight, base,
                  signal_var, condition=1.0 if c.condition is None else c.condition.mean,
                  group_size=n)
            for c, n in zip(active, sizes, strict=True)]


def combine(fc: Forecast, claims: list[ReadClaim], weighed: list[Weighed]) -> Combination:
    """Weights that apply the claims to ``fc``: ``weighed`` (the duration claims as evidence,
    :func:`weigh_claims`) as a likelihood on cells of T; ``claims``' effect claims as tempered
    priors on the posterior draws."""
    _check_indicator_forecast(fc)
    total = fc.held_days + fc.remaining
    eff = np.zeros(fc.eta.size)
    for c in claims:
        if c.kind == "effect" and c.weight > 0:
            from scipy import stats

            var, level = c.effect
            values = fc.posterior_draws[var]
            if level:
                values = values[:, fc.effect_levels[var].index(level)]
            eff += c.weight * stats.norm.logpdf(values, c.mean, c.sd)
    log_dw = log_draw_weights(fc)
    edges, mids, cell_lw = cell_log_weights(weighed, fc.held_days)
    cell_of = np.clip(np.searchsorted(edges, total, side="left") - 1, 0, mids.size - 1)
    log_w = log_dw[fc.draw_index] + eff[fc.draw_index] + cell_lw[cell_of]
    smoothed, k_hat = _psis(log_w)
    return Combination(log_weights=log_w, weighed=weighed, effect_log_weights=eff,
                       pareto_k=k_hat, edges=edges, cell_log_weights=cell_lw,
                       ess=effective_sample_size(log_w), smoothed_log_weights=smoothed)


def event_probability(fc: Forecast, event) -> float:
    """The forecast's probability of a claim's event (an :class:`~forecast.elicit.likelihood.Event`),
    exact: over cells of T that refine both the event's boundaries and, for a forecast with claims
    applied, their step function."""
    from forecast.elicit.likelihood import cells

    edges, mids = cells([event], fc.held_days)
    tilt = np.zeros(mids.size)
    if fc.claim_edges is not None:
        edges = np.union1d(edges, fc.claim_edges)
        mids = np.append((edges[:-2] + edges[1:-1]) / 2, np.inf)
        j = np.clip(np.searchsorted(fc.claim_edges, mids, side="left") - 1, 0,
                    fc.claim_cell_log_weights.size - 1)
        tilt = fc.claim_cell_log_weights[j]
    surv = edge_survival(fc, edges)
    lik = np.exp(tilt - tilt.max())[:, None] * (surv[:-1] - surv[1:])
    z = lik.sum(axis=0)
    per_draw = (event.membership(mids) @ lik) / np.where(z > 0, z, 1.0)
    return float(per_draw @ fc.draw_weights)


def claims_on_curve(days: np.ndarray, cdf: np.ndarray, weighed: list[Weighed], t0: float
                    ) -> np.ndarray:
    """The claims' likelihood applied to a fall-time CDF given on ``days`` after as_of (a case
    that has held ``t0`` days): the same cell weights as for a model forecast, with the curve's
    shape kept inside each cell; what the CDF never reaches is the never-falls cell. Effect
    claims need a model and are ignored here."""
    edges, _, cell_lw = cell_log_weights(weighed, t0)
    rel = edges - t0
    at = np.interp(np.minimum(rel, days[-1]), days, cdf)
    at[-1] = 1.0  # the last cell (never falls) holds what the curve never reaches
    cell_mass = np.diff(at)
    if cell_mass.sum() <= 0:
        return np.asarray(cdf, dtype=float)
    w = np.exp(cell_lw - cell_lw.max())
    w = w / np.sum(w * cell_mass)
    j = np.clip(np.searchsorted(rel, days, side="left") - 1, 0, rel.size - 2)
    before = np.concatenate([[0.0], np.cumsum(cell_mass * w)])[j]
    out = before + (np.asarray(cdf) - at[j]) * w[j]
    out[0] = 0.0
    return np.clip(np.maximum.accumulate(out), 0.0, 1.0)


def _norm(log_w: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
    """exp(log_w) (times ``base``), normalized to sum 1."""
    w = np.exp(log_w - log_w.max())
    if base is not None:
        w = w * base
    return w / w.sum()


def _psis(log_w: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed log-weights and k-hat (arviz-stats).

    When the largest weights are all equal (weights from claims are step functions) there is no
    tail to fit: the weights are bounded, smoothing changes nothing, and k-hat is reported as 0;
    the effective sample size then tells whether the draws can carry the claims.
    """
    if np.ptp(log_w) == 0:
        return log_w, 0.0
    from arviz_stats.base import array_stats

    try:
        lw, k = array_stats.psislw(log_w - log_w.max())
    except ValueError:  # "All tail values are the same"
        return log_w, 0.0
    return np.asarray(lw), float(k)


def _pareto_k(log_w: np.ndarray) -> float:
    return _psis(log_w)[1]


def effective_sample_size(log_w: np.ndarray) -> float:
    """Kish's effective sample size of the normalized weights."""
    w = _norm(log_w)
    return float(1.0 / np.sum(w**2))


def smoothed_weights(log_w: np.ndarray) -> np.ndarray:
    """Pareto-smoothed, normalized importance weights."""
    return _norm(_psis(log_w)[0])


def reweighted(fc: Forecast, comb: Combination, *, smooth: bool = True,
               tilt_draws: bool = True, bands: bool = True) -> Forecast:
    """The forecast with its draws reweighted by ``comb``; the survival bands follow exactly.

    The duration claims' weights are a step function of T (constant between claim boundaries),
    so each posterior draw's survival curve is reweighted analytically: within draw s the new
    density is f_s(T) * L(T) / Z_s, and the draw itself gets weight
    draw_weights[s] * exp(effect[s]) * Z_s — unless ``tilt_draws`` is False, for draws that
    already come from the tilted posterior (MCMC), which keep ``fc.draw_weights`` (uniform).
    The returned forecast carries the step function (``claim_edges``,
    ``claim_cell_log_weights``) and the new ``draw_weights``, so that
    :meth:`Forecast.survival_at` gives the same predictive off the grid.
    """
    _check_indicator_forecast(fc)
    if not smooth:
        weights = _norm(comb.log_weights)
    elif comb.smoothed_log_weights is not None:
        weights = _norm(comb.smoothed_log_weights)
    else:
        weights = smoothed_weights(comb.log_weights)
    tilted = replace(fc, weights=weights, claim_edges=np.asarray(comb.edges, dtype=float),
                     claim_cell_log_weights=np.asarray(comb.cell_log_weights, dtype=float))
    if tilt_draws:
        _, _, z = tilted.claim_cells()  # its edge survival is kept for the curves below
        tilted.draw_weights = _norm(log_draw_weights(fc) + comb.effect_log_weights, base=z)
    if fc.curves is not None and "days" in fc.survival:
        survival = fc.survival
        days = survival["days"].to_numpy()
        untilted = fc.curves if fc.claim_edges is None and fc.curves.shape[0] == days.size else None
        curves = tilted.draw_survival(days, base=untilted)
        table = survival_bands(days, curves, tilted.draw_weights, bands=bands)
        tilted.survival = survival[["days", "date"]].join(table.drop(columns="days"))
        tilted.curves = curves
    return tilted
