"""forecast.score: hand-made forecasts and outcomes, with answers worked out by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from forecast.errors import InputError
from forecast.outcomes import Resolution, resolve
from forecast.predictive import Predictive, standard_grid
from forecast.score import (
    binary_scores,
    censored_log_score,
    interval_coverage,
    randomized_pit,
    relative_skill,
    score_forecast,
    score_table,
    summarize,
    twcrps,
)

AS_OF = date(2020, 1, 1)
INF = math.inf


def expo(lam: float) -> Predictive:
    """Exponential fall time with rate lam per day, on the standard grid."""
    g = standard_grid()
    return Predictive(g, 1.0 - np.exp(-lam * g))


def q_expo(lam: float, h: float) -> float:
    return 1.0 - math.exp(-lam * h)


def resolved(outcome: str | None, days: int | None, scoring_days: int = 1000) -> Resolution:
    end = None if days is None else AS_OF + timedelta(days=days)
    return resolve(AS_OF, outcome=outcome, end_date=end, scoring_date=AS_OF + timedelta(scoring_days))


FELL = lambda t: Resolution("fell", float(t), INF, float(t))  # noqa: E731
RELIEVED = lambda c: Resolution("ended_otherwise", INF, INF, float(c))  # noqa: E731
STANDING = lambda s: Resolution("standing", math.nan, float(s), math.nan)  # noqa: E731

#: A hand-made forecast: P(fallen) 0.2 by day 10, 0.6 by day 20, 1 by day 40 (linear between).
HAND = Predictive(np.array([0.0, 10.0, 20.0, 40.0]), np.array([0.0, 0.2, 0.6, 1.0]))


# ---- Brier and log scores of "falls within h" -------------------------------------------------

def test_relieved_case_resolves_every_horizon_as_no():
    pred, res = expo(0.01), resolved("relieved", 50)
    brier, log = binary_scores(pred, res)
    for h in (7, 30, 90, 365):
        assert brier[h] == pytest.approx(q_expo(0.01, h) ** 2, rel=1e-9)
        assert log[h] == pytest.approx(-math.log(1 - q_expo(0.01, h)), rel=1e-9)
    assert brier[30] == pytest.approx(0.2591817793 ** 2, rel=1e-8)  # q(30) = 1 - exp(-0.3)
    assert log[365] == pytest.approx(3.65, rel=1e-9)  # -log(exp(-3.65))


def test_fall_at_day_12_is_no_at_7_and_yes_at_30():
    pred, res = expo(0.01), resolved("surrendered", 12)
    s = score_forecast(pred, res, horizons=(7, 30), rng=np.random.default_rng(0))
    q7, q30 = q_expo(0.01, 7), q_expo(0.01, 30)
    assert s.brier == pytest.approx({7: q7 ** 2, 30: (1 - q30) ** 2}, rel=1e-9)
    assert s.log == pytest.approx({7: 0.07, 30: -math.log(q30)}, rel=1e-9)
    assert s.brier_mean == pytest.approx((q7 ** 2 + (1 - q30) ** 2) / 2, rel=1e-9)
    assert s.status == "fell"


def test_standing_case_scores_only_passed_horizons_and_averages_them():
    pred, res = expo(0.01), resolved(None, None, scoring_days=40)
    assert (res.status, res.known_until) == ("standing", 40.0)
    s = score_forecast(pred, res, rng=np.random.default_rng(0))
    q7, q30 = q_expo(0.01, 7), q_expo(0.01, 30)
    assert s.brier[7] == pytest.approx(q7 ** 2) and s.brier[30] == pytest.approx(q30 ** 2)
    assert math.isnan(s.brier[90]) and math.isnan(s.brier[365])
    assert math.isnan(s.log[90]) and math.isnan(s.log[365])
    assert s.brier_mean == pytest.approx((q7 ** 2 + q30 ** 2) / 2, rel=1e-9)
    assert s.log_mean == pytest.approx((0.07 + 0.30) / 2, rel=1e-9)


def test_log_score_clips_probabilities_and_grid_end_is_unscored():
    pred = Predictive(np.array([0.0, 10.0, 20.0, 40.0]), np.array([0.0, 0.0, 0.5, 1.0]))
    brier, log = binary_scores(pred, FELL(5), horizons=(7, 40, 90))
    assert brier[7] == 1.0 and log[7] == pytest.approx(-math.log(1e-6))  # q = 0, it fell
    assert log[40] == pytest.approx(-math.log(1 - 1e-6))  # q = 1, it fell
    assert math.isnan(brier[90]) and math.isnan(log[90])  # beyond the forecast's grid
    _, log = binary_scores(pred, RELIEVED(50), horizons=(40,))
    assert log[40] == pytest.approx(-math.log(1e-6))  # q = 1, it did not fall


# ---- threshold-weighted CRPS --------------------------------------------------------------

def _tw_integral(lam: float, y: float, upper: float) -> float:
    """int_0^upper (F(z) - 1{y <= z})^2 dz for the exponential F, by quadrature."""
    sq = lambda z: q_expo(lam, z) ** 2  # noqa: E731
    if y >= upper:
        return integrate.quad(sq, 0, upper)[0]
    return integrate.quad(sq, 0, y)[0] + integrate.quad(lambda z: (1 - q_expo(lam, z)) ** 2, y, upper)[0]


def test_twcrps_of_a_fall_matches_the_integral():
    lam, y = 0.01, 50.0
    expected = _tw_integral(lam, y, 365.0)
    assert twcrps(expo(lam), FELL(y), 365.0) == pytest.approx(expected, rel=0.002)
    # a wrong forecast scores worse than the right one
    assert twcrps(expo(0.1), FELL(y), 365.0) > expected * 1.5


def test_twcrps_of_relieved_and_of_late_fall_is_integral_of_f_squared():
    lam = 0.005
    expected = integrate.quad(lambda z: q_expo(lam, z) ** 2, 0, 365.0)[0]
    assert twcrps(expo(lam), RELIEVED(30), 365.0) == pytest.approx(expected, rel=0.002)
    assert twcrps(expo(lam), FELL(500), 365.0) == pytest.approx(expected, rel=0.002)


def test_twcrps_of_standing_case_stops_at_what_is_known():
    lam, s = 0.01, 100.0
    expected = integrate.quad(lambda z: q_expo(lam, z) ** 2, 0, s)[0]
    assert twcrps(expo(lam), STANDING(s), 365.0) == pytest.approx(expected, rel=0.002)


def test_twcrps_by_hand_on_a_uniform_forecast_and_beyond_grid_is_nan():
    uniform = Predictive(np.array([0.0, 40.0]), np.array([0.0, 1.0]))
    assert twcrps(uniform, RELIEVED(5), 40.0) == pytest.approx(40 / 3, rel=0.002)  # int (z/40)^2
    # fall at 20: int_0^20 (z/40)^2 + int_20^40 (1 - z/40)^2 = 2 * 5/3
    assert twcrps(uniform, FELL(20), 40.0) == pytest.approx(10 / 3, rel=0.002)
    assert math.isnan(twcrps(uniform, FELL(20), 365.0))


def test_twcrps_never_falling_members_are_chained_to_tau():
    # half the mass never falls within the grid: F = z/80 on [0, 40], then flat at 0.5
    pred = Predictive(np.array([0.0, 40.0, 400.0]), np.array([0.0, 0.5, 0.5]))
    expected = integrate.quad(lambda z: min(z / 80, 0.5) ** 2, 0, 100.0, points=[40.0])[0]
    assert twcrps(pred, RELIEVED(5), 100.0) == pytest.approx(expected, rel=0.002)


# ---- censored log score -------------------------------------------------------------------

def test_censored_log_score_of_exponential():
    lam = 0.02
    # a fall at t: -(log lam - lam t); the grid's one-day slope differs by about lam / 2
    assert censored_log_score(expo(lam), FELL(30)) == pytest.approx(-(math.log(lam) - lam * 30), abs=0.015)
    assert censored_log_score(expo(lam), RELIEVED(50)) == pytest.approx(lam * 50, rel=1e-9)
    assert censored_log_score(expo(lam), STANDING(40)) == pytest.approx(lam * 40, rel=1e-9)


def test_censored_log_score_is_capped_at_10_and_nan_beyond_grid():
    flat = Predictive(np.array([0.0, 10.0, 20.0, 40.0]), np.array([0.0, 0.5, 0.5, 1.0]))
    assert censored_log_score(flat, FELL(15)) == 10.0  # no mass between days 10 and 20
    assert censored_log_score(flat, RELIEVED(40)) == 10.0  # survival 0
    assert math.isnan(censored_log_score(flat, FELL(50)))
    assert math.isnan(censored_log_score(flat, STANDING(50)))
    small = Predictive(np.array([0.0, 10.0, 20.0]), np.array([0.0, 10 * math.exp(-9), 1.0]))
    assert censored_log_score(small, FELL(5)) == pytest.approx(9.0)  # below the cap: exact


# ---- randomized PIT -----------------------------------------------------------------------

def test_pit_is_reproducible_and_inside_its_interval():
    pred = expo(0.01)
    f40 = q_expo(0.01, 40)
    a = score_forecast(pred, STANDING(40), rng=np.random.default_rng(7))
    b = score_forecast(pred, STANDING(40), rng=np.random.default_rng(7))
    c = score_forecast(pred, STANDING(40), rng=np.random.default_rng(8))
    assert a.pit == b.pit and a.pit != c.pit
    assert a.pit_interval == pytest.approx((f40, 1.0))
    rng = np.random.default_rng(1)
    pits = [randomized_pit(pred, RELIEVED(40), rng)[0] for _ in range(200)]
    assert min(pits) > f40 and max(pits) < 1.0
    pit, interval = randomized_pit(pred, FELL(30), rng)
    assert pit == pytest.approx(q_expo(0.01, 30)) and interval == (pit, pit)


def _simulated_pits(forecast_rate: float, seed: int, n: int = 1000) -> np.ndarray:
    """PITs of Exp(0.01) outcomes, a third censored as standing and a third by another end."""
    sim = np.random.default_rng(seed)
    rng = np.random.default_rng(seed + 1)
    pred = expo(forecast_rate)
    t = sim.exponential(100.0, n)
    c = sim.uniform(0, 300, n)
    kind = sim.integers(0, 3, n)
    pits = []
    for ti, ci, k in zip(t, c, kind, strict=True):
        if k == 0 or ti <= ci:
            res = FELL(ti)
        else:
            res = STANDING(ci) if k == 1 else RELIEVED(ci)
        pits.append(randomized_pit(pred, res, rng)[0])
    return np.array(pits)


def test_randomized_pit_is_uniform_for_the_true_forecast_and_not_for_a_wrong_one(seed):
    assert stats.kstest(_simulated_pits(0.01, seed), "uniform").pvalue > 0.01
    assert stats.kstest(_simulated_pits(0.02, seed), "uniform").pvalue < 0.01


# ---- interval coverage --------------------------------------------------------------------

def test_coverage_by_hand():
    # HAND's central intervals: 50% (11.25, 27.5), 80% (5, 35), 90% (2.5, 37.5)
    assert interval_coverage(HAND, FELL(30)) == {0.5: 0.0, 0.8: 1.0, 0.9: 1.0}
    assert interval_coverage(HAND, FELL(4)) == {0.5: 0.0, 0.8: 0.0, 0.9: 1.0}
    assert interval_coverage(HAND, FELL(11.25)) == {0.5: 1.0, 0.8: 1.0, 0.9: 1.0}  # closed
    assert interval_coverage(HAND, RELIEVED(10)) == {0.5: 0.0, 0.8: 0.0, 0.9: 0.0}
    cov = interval_coverage(HAND, STANDING(36))
    assert cov[0.5] == 0.0 and cov[0.8] == 0.0 and math.isnan(cov[0.9])
    # 15% never falls within the grid: the 80% and 90% intervals reach inf, the 50% ends at 32
    leaky = Predictive(HAND.days, np.array([0.0, 0.2, 0.6, 0.85]))
    assert interval_coverage(leaky, RELIEVED(10)) == {0.5: 0.0, 0.8: 1.0, 0.9: 1.0}
    cov = interval_coverage(leaky, STANDING(36))
    assert cov[0.5] == 0.0 and math.isnan(cov[0.8]) and math.isnan(cov[0.9])


# ---- tables, skill, summaries ------------------------------------------------------------

def test_score_table_carries_identity_and_is_seeded():
    rows = [({"case_id": "a", "model": "m", "as_of": AS_OF}, expo(0.01), FELL(12)),
            ({"case_id": "b", "model": "m", "as_of": AS_OF}, expo(0.01), STANDING(40)),
            ({"case_id": "c", "model": "m", "as_of": AS_OF}, HAND, RELIEVED(10))]
    t1, t2, t3 = score_table(rows, seed=3), score_table(rows, seed=3), score_table(rows, seed=4)
    assert list(t1.columns[:3]) == ["case_id", "model", "as_of"]
    for col in ("brier_7", "brier_365", "log_7", "log_365", "brier_mean", "log_mean", "twcrps",
                "censored_log", "pit", "pit_lo", "pit_hi", "cov50", "cov80", "cov90", "status"):
        assert col in t1.columns
    pd.testing.assert_frame_equal(t1, t2)
    assert t1.loc[0, "pit"] == t3.loc[0, "pit"]  # a fall's PIT is not random
    assert t1.loc[1, "pit"] != t3.loc[1, "pit"]
    assert math.isnan(t1.loc[2, "twcrps"])  # HAND's grid ends at day 40 < tau
    assert list(t1["status"]) == ["fell", "standing", "ended_otherwise"]
    with pytest.raises(InputError, match="clash"):
        score_table([({"pit": 1}, HAND, FELL(3))])


def test_invalid_tau_is_an_input_error():
    with pytest.raises(InputError, match="tau"):
        score_forecast(HAND, FELL(3), tau=math.inf, rng=np.random.default_rng(0))


def _skill_table(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cases = [f"c{i}" for i in range(20)]
    base = rng.uniform(1.0, 10.0, 20)
    base[19] = np.nan  # the baseline did not score c19
    noisy = base * rng.uniform(0.5, 1.5, 20)
    rows = []
    for i, case in enumerate(cases):
        rows.append({"case_id": case, "as_of": AS_OF, "model": "climatology_km", "twcrps": base[i],
                     "censored_log": base[i]})
        rows.append({"case_id": case, "as_of": AS_OF, "model": "same", "twcrps": base[i],
                     "censored_log": base[i]})
        rows.append({"case_id": case, "as_of": AS_OF, "model": "half", "twcrps": base[i] / 2,
                     "censored_log": base[i] - 1})
        rows.append({"case_id": case, "as_of": AS_OF, "model": "noisy", "twcrps": noisy[i],
                     "censored_log": noisy[i]})
        if i < 15:
            rows.append({"case_id": case, "as_of": AS_OF, "model": "partial",
                         "twcrps": np.nan if i == 0 else base[i], "censored_log": 0.0})
    rows.append({"case_id": "x", "as_of": AS_OF, "model": "partial", "twcrps": 1.0, "censored_log": 0.0})
    return pd.DataFrame(rows)


def test_relative_skill_identical_half_and_unpaired(seed):
    table = _skill_table(seed)
    out = relative_skill(table).set_index("model")
    assert out.loc["same", "estimate"] == 0.0
    assert out.loc["same", "lower"] <= 0.0 <= out.loc["same", "upper"]
    assert out.loc["half", "estimate"] == pytest.approx(0.5)
    assert out.loc["half", "lower"] == pytest.approx(0.5) and out.loc["half", "upper"] == pytest.approx(0.5)
    assert out.loc["same", "n"] == 19 and out.loc["partial", "n"] == 14  # c0 NaN, x and c19 unpaired
    noisy = table[table.model == "noisy"].twcrps.to_numpy()[:19]
    base = table[table.model == "climatology_km"].twcrps.to_numpy()[:19]
    assert out.loc["noisy", "estimate"] == pytest.approx(1 - noisy.mean() / base.mean())
    assert out.loc["noisy", "lower"] < out.loc["noisy", "estimate"] < out.loc["noisy", "upper"]
    assert out.loc["noisy", "mean"] == pytest.approx(noisy.mean())
    assert set(out["measure"]) == {"skill"}


def test_relative_skill_bootstrap_is_seeded_and_per_model(seed):
    table = _skill_table(seed)
    a, b = relative_skill(table, seed=1), relative_skill(table, seed=1)
    pd.testing.assert_frame_equal(a, b)
    c = relative_skill(table, seed=2).set_index("model")
    assert c.loc["noisy", "lower"] != a.set_index("model").loc["noisy", "lower"]
    # a model's interval does not depend on which other models are in the table
    alone = relative_skill(table[table.model.isin(["noisy", "climatology_km"])], seed=1)
    assert alone.set_index("model").loc["noisy", "lower"] == a.set_index("model").loc["noisy", "lower"]


def test_relative_skill_of_log_scores_is_a_difference():
    rng = np.random.default_rng(5)
    n = 400
    base = rng.normal(3.0, 1.0, n)
    d = rng.normal(-0.5, 2.0, n)
    table = pd.DataFrame({"case_id": np.tile(np.arange(n), 2), "as_of": AS_OF,
                          "model": ["climatology_km"] * n + ["m"] * n,
                          "censored_log": np.concatenate([base, base + d])})
    out = relative_skill(table, score="censored_log").set_index("model")
    assert out.loc["m", "measure"] == "difference"
    assert out.loc["m", "estimate"] == pytest.approx(d.mean())
    half = 1.645 * d.std(ddof=1) / math.sqrt(n)  # the normal-theory 90% half-width
    assert out.loc["m", "upper"] - out.loc["m", "lower"] == pytest.approx(2 * half, rel=0.15)
    assert relative_skill(_skill_table(0), score="censored_log").set_index("model").loc[
        "half", "estimate"] == pytest.approx(-1.0)


def test_relative_skill_needs_the_baseline():
    with pytest.raises(InputError, match="baseline"):
        relative_skill(_skill_table(0), baseline="nope")


def test_summarize_means_pit_histogram_and_coverage():
    table = pd.DataFrame({
        "model": ["a", "a", "a", "a", "b"],
        "twcrps": [1.0, 3.0, np.nan, 2.0, 5.0],
        "pit": [0.05, 0.15, 0.95, np.nan, 0.5],
        "cov50": [1.0, 0.0, np.nan, 0.0, 1.0],
        "cov80": [1.0, 1.0, 1.0, 0.0, 1.0],
        "cov90": [np.nan] * 5,
    })
    s = summarize(table)
    scores = s.scores.set_index("model")
    assert scores.loc["a", "n"] == 4 and scores.loc["a", "twcrps"] == pytest.approx(2.0)
    hist = s.pit_histogram[s.pit_histogram.model == "a"]["count"].tolist()
    assert hist == [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    cov = s.coverage.set_index(["model", "level"])
    assert cov.loc[("a", 0.5), "rate"] == pytest.approx(1 / 3) and cov.loc[("a", 0.5), "n"] == 3
    assert cov.loc[("a", 0.8), "rate"] == pytest.approx(0.75)
    assert math.isnan(cov.loc[("a", 0.9), "rate"]) and cov.loc[("a", 0.9), "n"] == 0
