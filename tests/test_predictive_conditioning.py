"""The forecast conditions on the case having held: a closed-form check on a two-draw posterior.

With posterior draws s (equal prior weight) the predictive given T > t0 is

    P(T > t0 + h | T > t0) = sum_s S_s(t0 + h) / sum_s S_s(t0),

i.e. each draw's conditional survival weighted by S_s(t0) — not the equal-weight mean of the
per-draw ratios S_s(t0 + h) / S_s(t0). A two-draw stand-in posterior (no sampler needed) makes
the difference large and the answer analytic; one draw's S(t0) reaches 1e-217 and underflows.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from forecast.cases import Case
from forecast.elicit.claims import ReadClaim
from forecast.elicit.combine import Combination, combine, event_probability, reweighted
from forecast.elicit.likelihood import Boundary, Event, Weighed, logit
from forecast.indicators import Indicators
from forecast.predict import Forecast, forecast_from_eta
from models.loglogistic import LogLogisticAFT
from models.lognormal import LogNormalAFT
from models.weibull import WeibullAFT

START = date(2000, 1, 1)
#: Two Weibull draws: scale 5 days, shape 1 (exponential) and scale 500 days, shape 1 / 0.7.
SCALES = np.array([5.0, 500.0])
SIGMAS = np.array([1.0, 0.7])
HELD = (0, 3, 30, 365, 1000, 2500, 5000)
HORIZONS = (1, 7, 30, 90, 365, 3000)


def log_sf(t: np.ndarray) -> np.ndarray:
    """log S_s(t) for the two draws, written out: -(t / scale)^(1 / sigma); rows t, columns s."""
    return -((np.asarray(t, dtype=float)[:, None] / SCALES) ** (1.0 / SIGMAS))


def analytic_survival(t0: float, h: np.ndarray) -> np.ndarray:
    """sum_s S_s(t0 + h) / sum_s S_s(t0), in log space."""
    h = np.asarray(h, dtype=float)
    return np.exp(logsumexp(log_sf(t0 + h), axis=1) - logsumexp(log_sf(np.array([t0]))))


def equal_weight_survival(t0: float, h: np.ndarray) -> np.ndarray:
    """The old (wrong) answer: the mean over draws of S_s(t0 + h) / S_s(t0)."""
    return np.exp(log_sf(t0 + np.asarray(h, dtype=float)) - log_sf(np.array([t0]))).mean(axis=1)


def stand_in(eta: np.ndarray, sigma: np.ndarray, t0: float, *, k: int = 4, seed: int = 1,
             grid_days: int = 730, condition_draws: bool = True, model=None) -> Forecast:
    case = Case(id="test", name="Test holdout", start_date=START,
                as_of=START + timedelta(days=int(t0)), indicators=Indicators())
    stamp = Forecast(case_id=case.id, start_date=START, as_of=case.as_of, held_days=t0,
                     model="weibull", model_id="", dataset_hash="", seed=seed,
                     remaining=np.zeros(0), weights=np.zeros(0), survival=pd.DataFrame(),
                     diagnostics={})
    return forecast_from_eta(case, eta, sigma, model or WeibullAFT(), np.random.default_rng(seed),
                             stamp=stamp, draws_per_eta=k, grid_days=grid_days,
                             condition_draws=condition_draws)


def two_draws(t0: float, **kw) -> Forecast:
    return stand_in(np.log(SCALES), SIGMAS, t0, **kw)


@pytest.mark.parametrize("t0", HELD)
def test_p_fall_within_is_the_ratio_of_mean_survivals(t0):
    fc = two_draws(t0)
    assert fc.held_days == t0
    want = 1.0 - analytic_survival(t0, np.array(HORIZONS))
    old = 1.0 - equal_weight_survival(t0, np.array(HORIZONS))
    got = np.array([fc.p_fall_within(h) for h in HORIZONS])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    if t0 >= 30:  # having held is evidence: the old equal-weight mean is far off
        assert np.max(np.abs(old - want)) > 0.2
    if t0 == 0:  # nothing to condition on: both agree
        np.testing.assert_allclose(old, want, atol=1e-12)
    # the same through the mean curve, the bands' weights and survival_at beyond the grid
    days = fc.survival["days"].to_numpy()
    np.testing.assert_allclose(fc.survival["mean"], analytic_survival(t0, days), atol=1e-9)
    far = np.array([0.0, 731.0, 1500.5, 3000.0, 7300.0])
    np.testing.assert_allclose(fc.survival_at(far), analytic_survival(t0, far), atol=1e-9)
    assert abs(np.sum(fc.draw_weights) - 1.0) < 1e-12


def test_a_draw_whose_survival_underflows_gets_no_weight_but_stays_finite():
    t0 = 5000.0  # draw 0: S(t0) = exp(-1000), 0 in linear space
    fc = two_draws(t0)
    assert np.exp(fc.log_s0[0]) == 0.0 and np.isfinite(fc.log_s0[0])
    assert fc.draw_weights[0] == 0.0 and fc.draw_weights[1] == 1.0
    assert np.all(np.isfinite(fc.curves)) and np.all(np.isfinite(fc.remaining))
    mine = fc.remaining[fc.draw_index == 0]
    # exponential: memoryless, the remaining life is Exp(mean 5) however long it held — not the
    # point mass at the clipped u that linear space gave
    assert np.all(mine > 0) and np.unique(mine).size == mine.size
    assert abs(np.mean(mine) - 5.0) < 5.0


@pytest.mark.parametrize("t0", [30, 365, 2500, 5000])
def test_weighted_draws_agree_with_the_analytic_cdf(t0):
    fc = two_draws(t0, k=50_000, seed=7)  # 100,000 draws of the remaining life
    assert abs(fc.weights.sum() - 1.0) < 1e-12
    for h in (7, 30, 90, 365, 3000):
        from_draws = float(np.sum(fc.weights[fc.remaining <= h]))
        assert abs(from_draws - (1.0 - analytic_survival(t0, np.array([h]))[0])) < 0.01


@pytest.mark.parametrize(("model", "lo", "hi"),
                         [(WeibullAFT, -700.0, 700.0), (LogNormalAFT, -30.0, 1000.0),
                          (LogLogisticAFT, -700.0, 700.0)])
def test_isf_w_log_inverts_logsf_w_over_the_whole_range(model, lo, hi):
    z = np.concatenate([np.linspace(lo, hi, 20_001), np.linspace(-5.0, 5.0, 2001)])
    back = model.isf_w_log(model.logsf_w(z))
    np.testing.assert_allclose(back, z, rtol=1e-8, atol=1e-8)
    u = np.linspace(0.001, 0.999, 99)  # agrees with the linear-space inverse where it works
    np.testing.assert_allclose(model.isf_w_log(np.log(u)), model.isf_w(u), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("model", [WeibullAFT, LogNormalAFT, LogLogisticAFT])
def test_draws_beyond_an_underflowing_survival_are_finite_and_ordered(model):
    m = model()
    log_s0 = -1000.0  # S(t0) = exp(-1000): 0 in linear space
    # the scale that puts S = exp(-1000) at 5,000 days
    eta = np.array([np.log(5.0)])
    sigma = np.log(1000.0) / m.isf_w_log(np.array([log_s0]))
    t0 = float(m.quantile_days_log(np.array(log_s0), eta, sigma)[0])
    assert abs(t0 - 5000.0) < 1e-6
    assert abs(m.log_survival(np.array(t0), eta, sigma)[0] - log_s0) < 1e-6
    p = np.linspace(0.01, 0.99, 99)
    total = m.quantile_days_log(log_s0 + np.log(p), eta, sigma)
    assert np.all(np.isfinite(total)) and np.all(total > t0)
    assert np.all(np.diff(total) < 0)  # a larger survival probability, an earlier time
    fc = stand_in(eta, sigma, np.floor(t0), model=m, k=1000)
    assert np.all(np.isfinite(fc.remaining)) and np.unique(fc.remaining).size > 990


def many_draws(t0: float = 200.0, n: int = 300, seed: int = 3, **kw) -> Forecast:
    rng = np.random.default_rng(seed)
    eta = rng.normal(np.log(120.0), 0.8, n)
    sigma = rng.uniform(0.6, 1.2, n)
    fc = stand_in(eta, sigma, t0, seed=seed, **kw)
    fc.posterior_draws = {"beta_force": rng.normal(-0.5, 0.3, n)}
    fc.effect_levels = {"beta_force": ()}
    return fc


def claim(lo: float, hi: float, p: float, sid: str = "s0", pi: float = 0.4) -> Weighed:
    """A sharp falls-by claim at ``hi`` days since start (``lo`` unused: 0), at beta 1."""
    return Weighed(label=f"{sid}/c", event=Event("falls_by", Boundary(hi, hi)), p=p, pi=pi,
                   beta=1.0, reliability=1.0)


def effect_claim() -> ReadClaim:
    return ReadClaim(label="s2/e", statement_id="s2", kind="effect", weight=1.0, reading="",
                     effect=("beta_force", ""), mean=-0.8, sd=0.2)


def test_claims_start_from_the_conditioned_forecast_and_survival_at_follows_them():
    fc = many_draws(k=60)
    t0 = fc.held_days
    assert np.ptp(fc.draw_weights) > 0.5 / fc.draw_weights.size  # S(t0) weights are uneven
    c60, c400 = claim(0.0, t0 + 60, 0.6), claim(0.0, t0 + 400, 0.9, sid="s1", pi=0.7)
    # the forecast's own P(falls within 60 days) is the S(t0)-weighted one
    assert abs(event_probability(fc, c60.event) - fc.p_fall_within(60)) < 1e-9
    comb = combine(fc, [effect_claim()], [c60, c400])
    out = reweighted(fc, comb, smooth=False)
    days = out.survival["days"].to_numpy()
    np.testing.assert_allclose(out.survival_at(days), out.survival["mean"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(out.curves @ out.draw_weights, out.survival["mean"], atol=1e-12)
    # off the grid: beyond the last claim edge each draw's curve is L_last S_s(t | t0) / Z_s
    far = np.array([800.0, 3000.0, 7300.0])
    cell_l = np.exp(comb.cell_log_weights - comb.cell_log_weights.max())
    edge_s = fc.conditional_survival(comb.edges)
    z = (cell_l[:, None] * (edge_s[:-1] - edge_s[1:])).sum(axis=0)
    j = np.searchsorted(comb.edges, t0 + far, side="left") - 1
    assert np.all(cell_l[j] == cell_l[-1])  # the claims' likelihood is flat out there
    want = (cell_l[-1] * fc.conditional_survival(t0 + far) / z) @ out.draw_weights
    np.testing.assert_allclose(out.survival_at(far), want, rtol=1e-12, atol=1e-14)
    # the posterior draws' weights: S(t0) * effect prior * Z_s
    tilt = fc.draw_weights * np.exp(comb.effect_log_weights - comb.effect_log_weights.max()) * z
    np.testing.assert_allclose(out.draw_weights, tilt / tilt.sum(), rtol=1e-10)
    # without effect claims, a lone sharp claim multiplies the odds of its event by exp(b)
    alone = reweighted(fc, combine(fc, [], [c60]), smooth=False)
    shift = np.log(odds(alone.p_fall_within(60)) / odds(fc.p_fall_within(60)))
    assert shift == pytest.approx(logit(0.6) - logit(0.4), abs=1e-9)
    # the reweighted predictive draws carry the same forecast
    for h in (30, 60, 200, 400):
        from_draws = float(np.sum(out.weights[out.remaining <= h]))
        assert abs(from_draws - out.p_fall_within(h)) < 0.02
    with pytest.raises(ValueError, match="already has claims applied"):
        combine(out, [], [c60])


def odds(p):
    return p / (1 - p)


def test_bands_only_reweighting_keeps_the_same_mean():
    fc = many_draws()
    comb = combine(fc, [], [claim(0.0, fc.held_days + 30, 0.5)])
    full, mean_only = reweighted(fc, comb), reweighted(fc, comb, bands=False)
    np.testing.assert_allclose(full.survival["mean"], mean_only.survival["mean"], atol=1e-14)
    assert full.survival["median"].iloc[0] == 1.0
    assert np.all(np.diff(full.survival["mean"]) <= 1e-12)


def test_draws_that_already_condition_on_having_held_keep_uniform_weights():
    # MCMC with the case's duration in the model: no S(t0) weights on top
    fc = many_draws(condition_draws=False)
    n = fc.eta.size
    np.testing.assert_array_equal(fc.draw_weights, np.full(n, 1.0 / n))
    np.testing.assert_allclose(fc.survival["mean"], fc.curves.mean(axis=1), atol=1e-12)
    comb = combine(fc, [], [claim(0.0, fc.held_days + 30, 0.5)])
    flat = Combination(log_weights=np.zeros(fc.remaining.size), weighed=comb.weighed,
                       effect_log_weights=np.zeros(n), pareto_k=float("nan"), edges=comb.edges,
                       cell_log_weights=comb.cell_log_weights, ess=float(n))
    out = reweighted(fc, flat, smooth=False, tilt_draws=False)
    np.testing.assert_array_equal(out.draw_weights, np.full(n, 1.0 / n))
    days = out.survival["days"].to_numpy()
    np.testing.assert_allclose(out.survival_at(days), out.survival["mean"], atol=1e-10)


def test_survival_at_is_vectorized_and_checks_its_input():
    fc = many_draws(grid_days=30)
    grid = np.arange(0.0, 7301.0)
    s = fc.survival_at(grid)
    assert s.shape == grid.shape and s[0] == 1.0 and np.all(np.diff(s) <= 1e-15)
    np.testing.assert_allclose(s[:31], fc.survival["mean"], atol=1e-12)
    assert fc.survival_at(np.array([[1.0, 2.0], [3.0, 4.0]])).shape == (2, 2)
    assert abs(fc.p_fall_within(5000) - (1 - s[5000])) < 1e-12  # off the grid: exact, too
    with pytest.raises(ValueError, match="days >= 0"):
        fc.survival_at(np.array([-1.0]))
