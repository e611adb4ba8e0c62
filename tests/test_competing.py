"""Competing ends, interval censoring, dated indicator changes and every family's likelihood,
checked against answers computed independently (scipy's distributions, closed forms, simulation).

No sampler here: stand-in posteriors (a few draws with known parameters) where sampling is not
the subject; the PyMC graph itself is compared with the NumPy likelihood at fixed parameters.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecast.cases import Case, IndicatorChange, parse_case
from forecast.errors import InputError
from forecast.indicators import Indicators
from forecast.predict import Forecast, forecast_from_eta
from models import get_model
from models.loglogistic import LogLogisticAFT
from models.lognormal import LogNormalAFT
from models.weibull import WeibullAFT

START = date(2000, 1, 1)


def scipy_law(model, eta: float, sigma: float):
    """The duration law of an AFT model with scalar eta, sigma, from scipy (the oracle)."""
    scale = np.exp(eta)
    if isinstance(model, WeibullAFT):
        return stats.weibull_min(c=1.0 / sigma, scale=scale)
    if isinstance(model, LogNormalAFT):
        return stats.lognorm(s=sigma, scale=scale)
    if isinstance(model, LogLogisticAFT):
        return stats.fisk(c=1.0 / sigma, scale=scale)
    raise AssertionError(model)


def std_isf(model, u):
    """W's inverse survival, from scipy."""
    law = {WeibullAFT: stats.gumbel_l, LogNormalAFT: stats.norm, LogLogisticAFT: stats.logistic}
    return law[type(model)].isf(u)


FAMILIES = [WeibullAFT(), LogNormalAFT(), LogLogisticAFT()]
Y = np.array([0.7, 3.0, 14.0, 60.0, 400.0, 2500.0])


@pytest.mark.parametrize("model", FAMILIES, ids=lambda m: m.name)
def test_density_survival_and_interval_match_scipy(model):
    eta, sigma = np.log(45.0), 0.9
    law = scipy_law(model, eta, sigma)
    np.testing.assert_allclose(model.log_density(Y, eta, sigma), law.logpdf(Y), rtol=1e-9)
    np.testing.assert_allclose(model.log_survival(Y, eta, sigma), law.logsf(Y), rtol=1e-9)
    lo, hi = Y, Y + 30.0
    np.testing.assert_allclose(model.log_interval(lo, hi, eta, sigma),
                               np.log(law.sf(lo) - law.sf(hi)), rtol=1e-7)
    u = np.array([0.99, 0.5, 0.01, 1e-6])
    np.testing.assert_allclose(model.quantile_days(u, eta, sigma), law.isf(u), rtol=1e-7)


@pytest.mark.parametrize("model", FAMILIES, ids=lambda m: m.name)
def test_competing_pointwise_likelihood_is_the_mixture(model):
    """fell: p f(y); relieved: (1 - p) f_o(y); standing: p S(y) + (1 - p) S_o(y); a month-
    precision fall: p [F(hi) - F(lo)] — each from scipy."""
    eta, sigma, p = np.log(45.0), 0.9, 0.8
    o_eta, o_sigma = np.log(200.0), 1.3
    fall, other = scipy_law(model, eta, sigma), scipy_law(model, o_eta, o_sigma)
    y = np.array([10.0, 10.0, 10.0, 10.0, 300.0])
    event = np.array([1.0, 0.0, 0.0, 1.0, 0.0])
    oth = np.array([0.0, 1.0, 0.0, 0.0, 0.0])
    lo = np.array([10.0, 10.0, 10.0, 5.0, 300.0])
    hi = np.array([10.0, 10.0, 10.0, 40.0, 300.0])
    got = model.pointwise_loglik(y, event, eta, sigma, other=oth, bounds=(lo, hi),
                                 eta_p=np.log(p / (1 - p)), o_intercept=o_eta, o_sigma=o_sigma)
    want = np.log([p * fall.pdf(10.0), (1 - p) * other.pdf(10.0),
                   p * fall.sf(10.0) + (1 - p) * other.sf(10.0),
                   p * (fall.cdf(40.0) - fall.cdf(5.0)),
                   p * fall.sf(300.0) + (1 - p) * other.sf(300.0)])
    np.testing.assert_allclose(got, want, rtol=1e-9)


@pytest.mark.parametrize("model", FAMILIES, ids=lambda m: m.name)
@pytest.mark.parametrize("tail", ["left", "right", "centre"])
def test_interval_probability_is_exact_in_both_tails(model, tail):
    """log P(lo < T <= hi) where S(lo) and S(hi) both round to 1 (far left of the median) or
    are both tiny (far right), in NumPy and in the PyMC graph, against scipy."""
    import pytensor
    import pytensor.tensor as pt

    eta, sigma = np.log(45.0), 0.3
    law = scipy_law(model, eta, sigma)
    if tail == "left":  # F(lo) = 1e-32, F(hi) = 1e-30: S rounds to 1 at both ends
        lo, hi = law.ppf(1e-32), law.ppf(1e-30)
        want = np.log(law.cdf(hi) - law.cdf(lo))
    elif tail == "right":  # S(lo) = 1e-30, S(hi) = 1e-32; log S from scipy (fisk's loses the tail,
        lo, hi = np.exp(eta + sigma * std_isf(model, [1e-30, 1e-32]))  # its logistic's does not)
        log_s = (stats.logistic.logsf((np.log([lo, hi]) - eta) / sigma) if isinstance(model, LogLogisticAFT)
                 else law.logsf([lo, hi]))
        want = log_s[0] + np.log(-np.expm1(log_s[1] - log_s[0]))
    else:
        lo, hi = 40.0, 50.0
        want = np.log(law.cdf(hi) - law.cdf(lo))
    assert np.isfinite(want)
    got = model.log_interval(np.array([lo]), np.array([hi]), eta, sigma)
    np.testing.assert_allclose(got, [want], rtol=1e-7)
    a, b = pt.dvector("lo"), pt.dvector("hi")
    graph = pytensor.function([a, b], model._log_interval(a, b, eta, sigma, pt))
    np.testing.assert_allclose(graph([lo], [hi]), [want], rtol=1e-7)


def test_pymc_graph_sums_the_numpy_likelihood(synthetic_dataset):
    """The PyMC graph's likelihood at a fixed parameter point equals the sum of the NumPy
    pointwise likelihood (what LOO uses) at the same point — competing ends, intervals, all."""
    import pytensor

    from models.design import from_dataset

    design = from_dataset(synthetic_dataset)
    lo, hi = design.bounds()
    hi = hi.copy()
    hi[:5] = hi[:5] + 30.0  # a few month-precision rows
    weight = np.ones(design.n)
    weight[[7, 8, 30]] = 0.0  # held out (a backtest fold): in no likelihood term
    design = design.__class__(**{**design.__dict__, "y_hi": hi, "weight": weight})
    model = get_model("lognormal")
    pm_model = model.build(design)
    point = pm_model.initial_point(random_seed=3)
    rng = np.random.default_rng(0)
    point = {k: v + 0.3 * rng.standard_normal(np.shape(v)) for k, v in point.items()}
    inputs = pm_model.value_vars
    # the random variables replaced by their values: without this the graph draws them afresh
    outs = pm_model.replace_rvs_by_values(
        [pm_model["censored_loglik"], pm_model["eta"], pm_model["eta_p"], pm_model["sigma"],
         pm_model["o_intercept"], pm_model["o_sigma"]])
    fn = pytensor.function(inputs, outs, on_unused_input="ignore")
    total, eta, eta_p, sigma, o_int, o_sigma = fn(*[point[v.name] for v in inputs])
    np.testing.assert_allclose(sigma, np.exp(point["sigma_log__"]), rtol=1e-12)  # the point's
    rows = model.pointwise_loglik(design.y, design.event, eta, sigma, other=design.others(),
                                  bounds=design.bounds(), eta_p=eta_p, o_intercept=o_int,
                                  o_sigma=o_sigma)
    assert np.isfinite(total)
    np.testing.assert_allclose(float(total), float(np.sum(design.weights() * rows)), rtol=1e-8)


def test_pymc_graph_of_the_plain_structure_sums_the_numpy_likelihood(synthetic_dataset):
    """The same for the single-end structure without intervals: another end is censoring."""
    import pytensor

    from models.design import from_dataset

    design = from_dataset(synthetic_dataset)
    model = get_model("weibull-plain")
    pm_model = model.build(design)
    rng = np.random.default_rng(1)
    point = {k: v + 0.3 * rng.standard_normal(np.shape(v))
             for k, v in pm_model.initial_point(random_seed=4).items()}
    outs = pm_model.replace_rvs_by_values(
        [pm_model["censored_loglik"], pm_model["eta"], pm_model["sigma"]])
    fn = pytensor.function(pm_model.value_vars, outs, on_unused_input="ignore")
    total, eta, sigma = fn(*[point[v.name] for v in pm_model.value_vars])
    rows = model.pointwise_loglik(design.y, design.event, eta, sigma)
    np.testing.assert_allclose(float(total), float(np.sum(rows)), rtol=1e-8)


def stand_in(eta, sigma, t0, *, competing=None, held_eff=None, k=4000, seed=1) -> Forecast:
    case = Case(id="t", name="T", start_date=START, as_of=START + timedelta(days=int(t0)),
                indicators=Indicators())
    stamp = Forecast(case_id="t", start_date=START, as_of=case.as_of, held_days=t0, model="m",
                     model_id="", dataset_hash="", seed=seed, remaining=np.zeros(0),
                     weights=np.zeros(0), survival=pd.DataFrame(), diagnostics={})
    return forecast_from_eta(case, np.atleast_1d(eta), np.atleast_1d(sigma), WeibullAFT(),
                             np.random.default_rng(seed), stamp=stamp, draws_per_eta=k,
                             competing=competing, held_eff=held_eff)


@pytest.mark.parametrize("t0", [0, 20, 200])
def test_competing_forecast_is_the_cumulative_incidence_given_held(t0):
    """P(falls within h | held t0) = p [S(t0) - S(t0 + h)] / [p S(t0) + (1 - p) S_o(t0)], and
    P(another end first | held t0) = (1 - p) S_o(t0) / H(t0): closed forms from scipy."""
    p, eta, sigma, o_eta, o_sigma = 0.6, np.log(60.0), 1.1, np.log(90.0), 0.8
    fc = stand_in(eta, sigma, t0, competing={"eta_p": np.array([np.log(p / (1 - p))]),
                                             "eta_o": np.array([o_eta]),
                                             "sigma_o": np.array([o_sigma])})
    fall = stats.weibull_min(1 / sigma, scale=np.exp(eta))
    other = stats.weibull_min(1 / o_sigma, scale=np.exp(o_eta))
    held = p * fall.sf(t0) + (1 - p) * other.sf(t0)
    for h in (7, 30, 90, 365, 2000):
        want = p * (fall.sf(t0) - fall.sf(t0 + h)) / held
        assert fc.p_fall_within(h) == pytest.approx(want, rel=1e-9)
    assert fc.p_other_end_first() == pytest.approx((1 - p) * other.sf(t0) / held, rel=1e-9)
    # the split of "not fallen": another end has come by t0 + h, (1 - p) [S_o(t0) - S_o(t0 + h)] / H
    hs = np.array([0.0, 7.0, 30.0, 365.0, 1e5])
    want_other = (1 - p) * (other.sf(t0) - other.sf(t0 + hs)) / held
    np.testing.assert_allclose(fc.other_ended_at(hs), want_other, rtol=1e-9, atol=1e-15)
    assert fc.other_ended_at(np.array([1e5]))[0] == pytest.approx(fc.p_other_end_first(), rel=1e-9)
    # the remaining-life draws: infinite (never falls) in that share, up to Monte Carlo error
    share_inf = float(np.mean(~np.isfinite(fc.remaining)))
    assert share_inf == pytest.approx(fc.p_other_end_first(), abs=0.03)
    # the median is never reached when the fall is less likely than not
    summary = fc.summary()
    assert summary["p_other_end_first"] == pytest.approx(fc.p_other_end_first(), abs=1e-4)
    if fc.p_other_end_first() > 0.5:
        assert summary["days_remaining"]["0.5"] is None and summary["median_date"] is None


@pytest.mark.parametrize("scale", [60.0, 3000.0])  # quantiles inside the daily curve, and beyond it
def test_if_it_falls_quantiles_are_the_fall_laws_given_held(scale):
    """If it falls, the remaining days follow the fall law given held: d_q = S^-1((1 - q) S(t0)) - t0
    (scipy), whatever the chance of another end first."""
    p, sigma, t0 = 0.4, 1.0, 20
    fc = stand_in(np.log(scale), sigma, t0, competing={"eta_p": np.array([np.log(p / (1 - p))]),
                                                       "eta_o": np.array([np.log(50.0)]),
                                                       "sigma_o": np.array([0.9])})
    fall = stats.weibull_min(1 / sigma, scale=scale)
    qs = (0.1, 0.5, 0.9)
    got = fc.if_it_falls_quantiles(qs)
    for q in qs:
        want = fall.isf((1 - q) * fall.sf(t0)) - t0
        if want > 7305:  # beyond the standard horizon: never reached on it
            assert got[q] == float("inf")
        else:
            assert got[q] == pytest.approx(want, rel=0.01, abs=0.5)
        assert fc.if_it_falls(q) == got[q]


def test_the_three_states_match_simulated_lives():
    """Fallen, ended otherwise and still holding at t0 + h, from lives simulated by the model's
    story (which kind, then its time) and kept when nothing had ended by t0: an oracle that shares
    no code with the closed forms."""
    rng = np.random.default_rng(7)
    p, eta, sigma, o_eta, o_sigma, t0 = 0.55, np.log(40.0), 0.9, np.log(120.0), 0.7, 25
    fc = stand_in(eta, sigma, t0, competing={"eta_p": np.array([np.log(p / (1 - p))]),
                                             "eta_o": np.array([o_eta]),
                                             "sigma_o": np.array([o_sigma])})
    n = 400_000
    falls = rng.uniform(size=n) < p
    t = np.where(falls, stats.weibull_min(1 / sigma, scale=np.exp(eta)).rvs(n, random_state=rng),
                 stats.weibull_min(1 / o_sigma, scale=np.exp(o_eta)).rvs(n, random_state=rng))
    alive = t > t0
    falls, t = falls[alive], t[alive]
    for h in (10.0, 60.0, 300.0):
        fallen = np.mean(falls & (t <= t0 + h))
        other = np.mean(~falls & (t <= t0 + h))
        assert fc.p_fall_within(h) == pytest.approx(fallen, abs=0.004)
        assert fc.other_ended_at(np.array([h]))[0] == pytest.approx(other, abs=0.004)
        holding = fc.survival_at(np.array([h]))[0] - fc.other_ended_at(np.array([h]))[0]
        assert holding == pytest.approx(np.mean(t > t0 + h), abs=0.004)


def test_single_end_is_the_competing_model_with_p_one():
    eta, sigma = np.log(60.0), 1.1
    single = stand_in(eta, sigma, 30)
    sure = stand_in(eta, sigma, 30, competing={"eta_p": np.array([40.0]), "eta_o": np.array([3.0]),
                                                 "sigma_o": np.array([1.0])})
    for h in (7, 90, 365):
        assert sure.p_fall_within(h) == pytest.approx(single.p_fall_within(h), rel=1e-12)
    assert single.p_other_end_first() is None
    assert np.all(single.other_ended_at(np.array([0.0, 30.0, 1e4])) == 0.0)


def test_changed_indicators_run_on_the_current_clock():
    """An AFT holdout whose indicators changed: simulate lives on the time-varying clock
    (baseline life V ~ Weibull(shape 1/sigma, scale 1); T solves the integral of exp(-eta(u))
    = V), keep those that held until t0, and compare P(fall within h) with the forecast made
    from the effective days held."""
    sigma, eta1, eta2, change, t0 = 0.8, np.log(400.0), np.log(40.0), 50.0, 80.0
    rng = np.random.default_rng(5)
    v = stats.weibull_min(1 / sigma).rvs(size=400_000, random_state=rng)
    used_by_change = change * np.exp(-eta1)
    t = np.where(v <= used_by_change, v * np.exp(eta1), change + (v - used_by_change) * np.exp(eta2))
    held = t[t > t0]
    held_eff = np.array([change * np.exp(eta2 - eta1) + (t0 - change)])
    fc = stand_in(eta2, sigma, t0, held_eff=held_eff)
    for h in (7, 30, 90):
        assert fc.p_fall_within(h) == pytest.approx(np.mean(held <= t0 + h), abs=0.005)
    # ignoring the change (the holdout always had today's indicators) is visibly different
    naive = stand_in(eta2, sigma, t0)
    assert abs(naive.p_fall_within(30) - np.mean(held <= t0 + 30)) > 0.05


CASE = {
    "id": "c", "name": "C", "start_date": "2024-04-13", "as_of": "2024-12-31",
    "indicators": {"encircled": "partial", "terrain": "urban"},
}


def test_changes_apply_from_their_date():
    case = parse_case(CASE | {"changes": [
        {"date": "2024-06-01", "encircled": "yes", "source": "S1"},
        {"date": "2024-09-01", "external_support": "limited", "source": "S2"}]}, "c.yaml",
        today=date(2026, 1, 1))
    assert case.changes[0] == IndicatorChange(date(2024, 6, 1), {"encircled": "yes"}, "S1")
    assert case.indicators_at(date(2024, 5, 31)).encircled == "partial"
    assert case.indicators_at(date(2024, 6, 1)).encircled == "yes"
    segs = case.segments()
    assert [d for d, _ in segs] == [49.0, 92.0, 121.0]
    assert segs[-1][1].external_support == "limited" and segs[-1][1].terrain == "urban"


@pytest.mark.parametrize("change, where, rule", [
    ({"date": "2024-04-13", "encircled": "yes", "source": "S"}, "changes[0], key 'date'",
     "not after start_date"),
    ({"date": "2024-06-01", "encircled": "full", "source": "S"}, "changes[0], key 'encircled'", "not one of"),
    ({"date": "2024-06-01", "size": "big", "source": "S"}, "changes[0], key 'size'", "not a categorical"),
    ({"date": "2024-06-01", "encircled": "yes"}, "changes[0], key 'source'", "missing"),
    ({"date": "2024-06-01", "source": "S"}, "changes[0]", "names no indicator"),
])
def test_bad_changes_name_the_key_and_rule(change, where, rule):
    with pytest.raises(InputError) as err:
        parse_case(CASE | {"changes": [change]}, "c.yaml", today=date(2026, 1, 1))
    assert where in str(err.value) and rule in str(err.value)


def test_changes_out_of_order_are_refused():
    with pytest.raises(InputError, match="date order"):
        parse_case(CASE | {"changes": [{"date": "2024-09-01", "encircled": "yes", "source": "S"},
                                       {"date": "2024-06-01", "encircled": "partial", "source": "S"}]},
                   "c.yaml", today=date(2026, 1, 1))


def test_events_are_kept_in_order_with_their_sources():
    case = parse_case(CASE | {"events": [
        {"date": "2024-05-01", "event": "assault begins", "source": "S1"},
        {"date": "2024-05-01", "event": "airport closed", "source": "S2"}]}, "c.yaml",
        today=date(2026, 1, 1))
    assert [(e.date, e.event, e.source) for e in case.events] == [
        (date(2024, 5, 1), "assault begins", "S1"), (date(2024, 5, 1), "airport closed", "S2")]


@pytest.mark.parametrize("events, where, rule", [
    ({"date": "2024-03-01", "event": "e", "source": "S"}, "events[0], key 'date'", "before start_date"),
    ({"date": "2024-05-01", "event": "e"}, "events[0], key 'source'", "required but missing"),
    ({"date": "2024-05-01", "event": " ", "source": "S"}, "events[0], key 'event'", "non-empty text"),
    ({"date": "2024-13-01", "event": "e", "source": "S"}, "events[0], key 'date'", ""),
    ({"date": "2024-05-01", "event": "e", "source": "S", "who": "x"}, "events[0], key 'who'", "unknown key"),
    ("2024-05-01 e", "events[0]", "must be a mapping"),
])
def test_bad_events_name_the_key_and_rule(events, where, rule):
    with pytest.raises(InputError) as err:
        parse_case(CASE | {"events": [events]}, "c.yaml", today=date(2026, 1, 1))
    assert where in str(err.value) and rule in str(err.value)


def test_events_out_of_order_are_refused():
    with pytest.raises(InputError, match=r"events\[1\], key 'date'.*date order"):
        parse_case(CASE | {"events": [{"date": "2024-09-01", "event": "a", "source": "S"},
                                      {"date": "2024-06-01", "event": "b", "source": "S"}]},
                   "c.yaml", today=date(2026, 1, 1))


def test_ppc_by_outcome_passes_the_truth_and_flags_a_single_end_model():
    """Durations and ends simulated from known parameters: replicates from those parameters
    contain the observed statistics; a single-end model (every holdout falls) misses the share
    that fell."""
    from types import SimpleNamespace

    from forecast.checks import ppc_by_outcome
    from models.design import Design

    rng = np.random.default_rng(3)
    n, draws = 400, 200
    eta = rng.normal(np.log(60.0), 0.5, n)
    eta_p = np.full(n, np.log(0.7 / 0.3))
    model = WeibullAFT()
    falls = rng.uniform(size=n) < 0.7
    t = np.where(falls, model.quantile_days(rng.uniform(size=n), eta, 1.0),
                 model.quantile_days(rng.uniform(size=n), np.log(150.0), 0.7))
    design = Design(y=t, event=falls.astype(float), other=(~falls).astype(float),
                    numeric=np.zeros((n, 0)))
    truth = {"eta": np.tile(eta, (draws, 1)), "eta_p": np.tile(eta_p, (draws, 1)),
             "sigma": np.ones(draws), "o_intercept": np.full(draws, np.log(150.0)),
             "o_sigma": np.full(draws, 0.7)}
    good = ppc_by_outcome(SimpleNamespace(draws=truth, model=model), design, seed=1)
    assert good["outside_90"].sum() <= 1, good
    single = {k: truth[k] for k in ("eta", "sigma")}
    bad = ppc_by_outcome(SimpleNamespace(draws=single, model=model), design, seed=1)
    share = bad.set_index("statistic").loc["share that fell"]
    assert share["outside_90"] and share["rep_50"] == 1.0 and share["observed"] < 0.8


def test_sparse_level_is_flagged_with_its_effect(weibull_posterior):
    """A level resting on fewer than SPARSE_LEVEL fitted cases is flagged, with P(30 d) as
    given (the forecast's own) and with the indicator unknown; a well-supported level is not."""
    from dataclasses import replace as dc_replace

    from forecast.cases import load_case
    from forecast.predict import SPARSE_LEVEL, predict

    case = load_case("data/cases/panjshir_2021.yaml")
    meta = dict(weibull_posterior.meta)
    counts = {k: list(v) for k, v in meta["level_counts"].items()}
    j = list(meta["levels"][meta["cat_names"].index("approach_routes")]).index("single")
    counts["approach_routes"][j] = 3
    sparse = dc_replace(weibull_posterior, meta=meta | {"level_counts": counts})
    fc = predict(sparse, case, seed=2)
    hits = [s for s in fc.extra.get("sparse_levels", []) if s["indicator"] == "approach_routes"]
    assert len(hits) == 1 and hits[0]["cases"] == 3
    assert hits[0]["p_fall_within_30"] == pytest.approx(fc.p_fall_within(30), abs=1e-4)
    assert "rests on 3 case(s)" in " ".join(fc.flags)
    counts["approach_routes"][j] = SPARSE_LEVEL
    plenty = dc_replace(weibull_posterior, meta=meta | {"level_counts": counts})
    assert not [s for s in predict(plenty, case, seed=2).extra.get("sparse_levels", [])
                if s["indicator"] == "approach_routes"]
