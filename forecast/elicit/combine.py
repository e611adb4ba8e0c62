"""Combine claims with the indicator forecast: statements as evidence.

Each duration claim says P(T in B) = p (B = (lo, hi] in days since start), where p is uncertain:
a phrase from the lexicon is a Beta distribution with mean p and variance V_p. The model's
forecast says q. The claim moves q towards p, by a share c that says how firmly the phrase pins
the probability down, tempered by the claim's credibility weight w:

    target = q + w * c * (p - q),   c = 1 - V_p / (p * (1 - p))

c is 1 for a point value and falls to 0 for a claim as vague as a coin of unknown bias (a Beta
with concentration k has c = k / (k + 1)). So w = 0 leaves the forecast as it was, w = 1 with a
point claim gives exactly p, a wide phrase moves it less than a narrow one, and each further
agreeing claim moves it further. A claim ``given`` an event A with
P(A) = a sets the target a * p + (1 - a) * q (the model keeps its view when A does not happen).
The forecast's draws are then reweighted to hit the targets by Jeffrey's rule — the smallest
change (in Kullback–Leibler divergence) that makes P(T in B) equal the target — raking over all
claims until they hold together. Claims about effects multiply the posterior draws' weights by
their prior density, tempered by w (a power prior).

All of this starts from the forecast's own posterior-draw weights (``Forecast.draw_weights``,
proportional to each draw's probability of having held until as_of): the forecast's probability
of a cell is sum_s draw_weights[s] * exp(effect[s]) * P_s(cell | T > t0), normalized.

The weights are Pareto-smoothed (PSIS, arviz-stats) and k-hat is reported; when k-hat > 0.7 the
draws cannot carry the claims and the forecast is recomputed by MCMC with the claims in the model
(:mod:`forecast.elicit.fallback`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecast.elicit.claims import ReadClaim
from forecast.predict import Forecast, survival_bands

K_HAT_LIMIT = 0.7
#: Fewest effective draws the reweighted forecast may rest on before MCMC takes over.
MIN_ESS = 400
_RAKE_SWEEPS = 200


@dataclass(frozen=True)
class Target:
    """What a claim asked of one interval: P(T in (lo, hi]) moved from ``before`` to ``prob``."""

    lo: float
    hi: float
    prob: float
    before: float
    labels: tuple[str, ...]


@dataclass
class Combination:
    """Log-weights over the forecast's draws, the targets they meet, and PSIS k-hat.

    The duration claims' weight is a step function of T: ``cell_log_weights[c]`` on
    (edges[c], edges[c + 1]] (days since start; edges[0] = days held, edges[-1] = inf).
    ``effect_log_weights`` are per posterior draw.
    """

    log_weights: np.ndarray
    targets: list[Target]
    effect_log_weights: np.ndarray
    pareto_k: float
    edges: np.ndarray
    cell_log_weights: np.ndarray
    ess: float = 0.0

    @property
    def needs_mcmc(self) -> bool:
        """True when the reweighted draws cannot be trusted: k-hat > 0.7, or fewer than
        ``MIN_ESS`` effective draws."""
        return self.pareto_k > K_HAT_LIMIT or self.ess < MIN_ESS


def _in(total: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (total > lo) & (total <= hi)


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


def claim_probability(c: ReadClaim, q: float) -> tuple[float, float]:
    """Mean and variance of the probability a claim gives to its interval.

    For a claim given an event A, P(A) = a: a * p + (1 - a) * q, where q is the forecast's own
    probability (the claim says nothing about what happens without A).
    """
    mean, var = c.prob.mean, c.prob.var
    if c.condition is not None:
        a_m, a_v = c.condition.mean, c.condition.var
        d = mean - q
        var = (a_v + a_m**2) * (var + d**2) - (a_m * d) ** 2
        mean = a_m * mean + (1 - a_m) * q
    return mean, max(var, 0.0)


def information_share(mean: float, var: float) -> float:
    """c = 1 - V / (p (1 - p)): 1 for a point value, 0 for a claim that pins nothing down."""
    if var <= 0:
        return 1.0
    return float(np.clip(1.0 - var / max(mean * (1 - mean), 1e-12), 0.0, 1.0))


def combine(fc: Forecast, claims: list[ReadClaim]) -> Combination:
    """Weights that make ``fc`` honour ``claims``.

    The arithmetic is exact, on cells of T between the claims' boundaries: each posterior draw's
    probability of each cell is analytic, so targets are met without sampling noise; the
    predictive draws then get the weight of their cell (times their posterior draw's effect
    weight), and PSIS k-hat and the effective sample size say whether they can carry it. The
    base weights are the forecast's posterior-draw weights (``fc.draw_weights``).
    """
    _check_indicator_forecast(fc)
    total = fc.held_days + fc.remaining
    # effect claims: a tempered prior on the posterior draws (power prior)
    eff = np.zeros(fc.eta.size)
    for c in claims:
        if c.kind == "effect":
            from scipy import stats

            var, level = c.effect
            values = fc.posterior_draws[var]
            if level:
                values = values[:, fc.effect_levels[var].index(level)]
            eff += c.weight * stats.norm.logpdf(values, c.mean, c.sd)
    log_dw = log_draw_weights(fc)
    post_w = _norm(eff + log_dw)  # the posterior draws' weights in the forecast, with effects
    t0 = fc.held_days
    edges, mids = claim_cells(claims, t0)
    surv = edge_survival(fc, edges)
    cell_mass = (surv[:-1] - surv[1:]) @ post_w  # the forecast's probability of each cell
    cell_lw, targets = cell_log_weights(claims, cell_mass, mids)
    cell_of = np.clip(np.searchsorted(edges, total, side="left") - 1, 0, mids.size - 1)
    log_w = log_dw[fc.draw_index] + eff[fc.draw_index] + cell_lw[cell_of]
    return Combination(log_weights=log_w, targets=targets, effect_log_weights=eff,
                       pareto_k=_pareto_k(log_w), edges=edges, cell_log_weights=cell_lw,
                       ess=effective_sample_size(log_w))


def claim_cells(claims: list[ReadClaim], t0: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges (days since start: t0, the claims' inner boundaries, inf) and a point inside
    each cell."""
    edges = np.array([t0, *sorted({b for c in claims if c.kind != "effect"
                                   for b in (c.lo, c.hi) if t0 < b < np.inf}), np.inf])
    mids = np.where(np.isinf(edges[1:]), edges[:-1] + 1.0, (edges[:-1] + edges[1:]) / 2)
    return edges, mids


def cell_log_weights(claims: list[ReadClaim], cell_mass: np.ndarray, mids: np.ndarray
                     ) -> tuple[np.ndarray, list[Target]]:
    """The claims' log-weights on cells whose prior probabilities are ``cell_mass``.

    Statements in turn (each a Jeffrey update of what came before); the claims of one statement
    are raked so that they hold together.
    """
    cell_lw = np.zeros(mids.size)
    targets: list[Target] = []
    for sid in dict.fromkeys(c.statement_id for c in claims):
        mine: list[Target] = []
        for c in claims:
            if c.statement_id != sid or c.kind == "effect" or c.weight == 0:
                continue
            inside = _in(mids, c.lo, c.hi)
            q = float(np.sum(_norm(cell_lw, cell_mass)[inside]))
            p_mean, p_var = claim_probability(c, q)
            target = q + c.weight * information_share(p_mean, p_var) * (p_mean - q)
            mine.append(Target(c.lo, c.hi, target, q, (c.label,)))
            cell_lw = _jeffrey(cell_lw, cell_mass, inside, target)
        cell_lw = _rake(cell_lw, cell_mass, mine, mids)
        targets += mine
    return cell_lw, targets


def claims_on_curve(days: np.ndarray, cdf: np.ndarray, claims: list[ReadClaim], t0: float
                    ) -> np.ndarray:
    """The duration claims applied to a fall-time CDF given on ``days`` after as_of (a case
    that has held ``t0`` days): the same cell weights as for a model forecast, with the curve's
    shape kept inside each cell. Effect claims need a model and are ignored here."""
    edges, mids = claim_cells(claims, t0)
    rel = edges - t0
    at = np.interp(np.minimum(rel, days[-1]), days, cdf)
    at[-1] = 1.0  # the last cell runs to infinity
    cell_mass = np.diff(at)
    if cell_mass.sum() <= 0:
        return np.asarray(cdf, dtype=float)
    cell_lw, _ = cell_log_weights(claims, cell_mass, mids)
    w = np.exp(cell_lw - cell_lw.max())
    w = w / np.sum(w * cell_mass)
    j = np.clip(np.searchsorted(rel, days, side="left") - 1, 0, mids.size - 1)
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


def _jeffrey(cell_lw: np.ndarray, cell_mass: np.ndarray, inside: np.ndarray,
             target: float) -> np.ndarray:
    """Jeffrey's rule on cells: scale the cells inside to ``target``, the rest to 1 - target."""
    q = float(np.sum(_norm(cell_lw, cell_mass)[inside]))
    target = float(np.clip(target, 1e-12, 1 - 1e-12))
    out = cell_lw.copy()
    if 0 < q < 1:
        out[inside] += np.log(target / q)
        out[~inside] += np.log((1 - target) / (1 - q))
    return out


def _rake(cell_lw: np.ndarray, cell_mass: np.ndarray, targets: list[Target],
          mids: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting: adjust until every target holds (to 1e-9), or give up
    after a fixed number of sweeps when the targets contradict each other."""
    if len(targets) < 2:
        return cell_lw
    masks = [_in(mids, t.lo, t.hi) for t in targets]
    for _ in range(_RAKE_SWEEPS):
        for t, m in zip(targets, masks, strict=True):
            cell_lw = _jeffrey(cell_lw, cell_mass, m, t.prob)
        w = _norm(cell_lw, cell_mass)
        if max(abs(np.sum(w[m]) - t.prob) for t, m in zip(targets, masks, strict=True)) < 1e-9:
            break
    return cell_lw


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
    weights = smoothed_weights(comb.log_weights) if smooth else _norm(comb.log_weights)
    tilted = replace(fc, weights=weights, claim_edges=np.asarray(comb.edges, dtype=float),
                     claim_cell_log_weights=np.asarray(comb.cell_log_weights, dtype=float))
    if tilt_draws:
        cell_l = np.exp(comb.cell_log_weights - comb.cell_log_weights.max())
        surv_edges = edge_survival(fc, comb.edges)
        z = (cell_l[:, None] * (surv_edges[:-1] - surv_edges[1:])).sum(axis=0)
        tilted.draw_weights = _norm(log_draw_weights(fc) + comb.effect_log_weights, base=z)
    if fc.curves is not None and "days" in fc.survival:
        survival = fc.survival
        days = survival["days"].to_numpy()
        curves = tilted.draw_survival(days)
        if bands:
            table = survival_bands(days, curves, tilted.draw_weights)
        else:  # the mean curve only (enough for the headline numbers)
            table = pd.DataFrame({"days": days,
                                  "mean": np.clip(curves @ tilted.draw_weights, 0.0, 1.0)})
        tilted.survival = survival[["days", "date"]].join(table.drop(columns="days"))
        tilted.curves = curves
    return tilted
