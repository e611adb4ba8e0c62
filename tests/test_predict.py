from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
from conftest import PANJSHIR

from forecast.cases import load_case
from forecast.indicators import Indicators
from forecast.predict import HORIZONS, predict, weighted_quantile


def test_forecast_summaries_are_coherent(weibull_posterior, seed):
    case = load_case(PANJSHIR)
    fc = predict(weibull_posterior, case, seed=seed)
    s = fc.summary()
    ps = [s["p_fall_within"][str(h)] for h in HORIZONS]
    assert all(0 <= p <= 1 for p in ps) and ps == sorted(ps)
    qs = [(float(q), v) for q, v in s["days_remaining"].items()]
    finite = [v for _, v in qs if v is not None]
    assert finite == sorted(finite)
    # a quantile is missing (never reached) exactly when the fall is less likely than it
    never = s["p_other_end_first"]
    for q, v in qs:
        assert (v is None) == (q > 1.0 - never), (q, v, never)
    assert s["median_date"] == (case.as_of + timedelta(days=round(fc.quantile(0.5)))).isoformat()
    assert fc.survival["median"].iloc[0] == 1.0  # it has held at as_of
    assert (np.diff(fc.survival["median"]) <= 1e-12).all()


def test_same_seed_same_forecast(weibull_posterior, seed):
    case = load_case(PANJSHIR)
    a, b = predict(weibull_posterior, case, seed=seed), predict(weibull_posterior, case, seed=seed)
    np.testing.assert_array_equal(a.remaining, b.remaining)
    assert a.to_dict() == b.to_dict()


def test_draws_agree_with_the_analytic_conditional_survival(weibull_posterior, seed):
    case = load_case(PANJSHIR)
    fc = predict(weibull_posterior, case, seed=seed)
    # the predictive draws of the remaining life against the per-draw curves weighted by each
    # draw's probability of having held until as_of, S_s(t0)
    w = np.exp(fc.log_s0 - fc.log_s0.max())
    w /= w.sum()
    np.testing.assert_allclose(fc.draw_weights, w, rtol=1e-12)
    for h in (30, 90, 365):
        from_draws = float(np.sum(fc.weights[fc.remaining <= h]))
        assert abs(fc.p_fall_within(h) - (1 - fc.curves[h] @ w)) < 1e-12
        assert abs(from_draws - fc.p_fall_within(h)) < 0.02
    median_draws = weighted_quantile(fc.remaining, fc.weights, 0.5)
    assert abs(median_draws - fc.quantile(0.5)) / fc.quantile(0.5) < 0.1


def test_remaining_life_is_conditioned_on_having_held(weibull_posterior, seed):
    case = load_case(PANJSHIR)
    early = predict(weibull_posterior, case, seed=seed)
    late = predict(weibull_posterior, case.with_as_of(date(2021, 9, 5)), seed=seed)
    assert late.held_days == early.held_days + 16
    # total life given survival to 21 days is at least 21 days
    assert np.all(late.remaining >= 0)
    total_late = late.held_days + late.quantile(0.5)
    assert total_late > early.held_days + early.quantile(0.5) - 1


def test_a_long_hold_is_evidence_about_the_parameters(weibull_posterior, seed):
    # held 1,000 days: draws under which that was likely count for more than the others, so the
    # forecast is not the equal-weight mean of the per-draw conditional curves
    base = replace(load_case(PANJSHIR), outcome=None)
    case = replace(base, as_of=base.start_date + timedelta(days=1000))
    fc = predict(weibull_posterior, case, seed=seed)
    assert fc.held_days == 1000
    s = fc.curves[365]
    held = np.exp(fc.log_s0 - fc.log_s0.max())
    weighted = 1 - float(s @ held / held.sum())
    assert abs(fc.p_fall_within(365) - weighted) < 1e-12
    # the weights matter: draws differ in how likely the hold was, and the weighted forecast is
    # not the equal-weight one
    assert np.ptp(held) > 0.5
    assert abs(fc.p_fall_within(365) - (1 - s.mean())) > 1e-3
    np.testing.assert_allclose(fc.survival["mean"], fc.curves @ fc.draw_weights, atol=1e-12)
    np.testing.assert_allclose(fc.survival_at(np.arange(731.0)), fc.survival["mean"], atol=1e-12)


def test_unknown_indicators_are_modelled_and_flagged(weibull_posterior, seed):
    case = replace(load_case(PANJSHIR), indicators=Indicators(terrain="mountain"))
    fc = predict(weibull_posterior, case, seed=seed)
    assert any("force sizes unknown" in f for f in fc.flags)
    assert any(f.startswith("encircled unknown") for f in fc.flags)
    assert np.isfinite(fc.quantile(0.5))


def test_stronger_attacker_shortens_the_forecast(weibull_posterior, seed):
    # the synthetic data were drawn with a negative force-ratio effect
    base = load_case(PANJSHIR)
    ind = base.indicators
    weak = replace(base, indicators=replace(ind, attacker_strength=ind.defender_strength))
    strong = replace(base, indicators=replace(
        ind, attacker_strength=type(ind.defender_strength)(200_000, 300_000)))
    assert predict(weibull_posterior, strong, seed=seed).quantile(0.5) < predict(
        weibull_posterior, weak, seed=seed).quantile(0.5)


def test_weighted_quantile_matches_numpy_for_equal_weights():
    x = np.random.default_rng(1).exponential(size=1001)
    w = np.full(x.size, 1 / x.size)
    assert weighted_quantile(x, w, 0.5) == np.quantile(x, 0.5, method="inverted_cdf")
