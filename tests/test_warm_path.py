"""The warm path's shortcuts give the numbers of the direct computation.

A warm `forecast run` reads the reference class's Kaplan–Meier and Aalen–Johansen curves from the
disk (no lifelines import), leaves the base forecast's bands out when statements will reweight it,
reuses its curves for the reweighted one, and splits large curve evaluations over threads. Each is
checked against an oracle: lifelines itself, scipy's closed forms, or the path it replaces.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import logsumexp

from forecast import curve_cache
from forecast.cases import Case
from forecast.data import Dataset
from forecast.indicators import Indicators
from forecast.predict import Forecast, forecast_from_eta, predict, survival_bands, with_bands
from forecast.reference import km_quantile, km_remaining, km_step
from models.lognormal import LogNormalAFT

ROOT = Path(__file__).resolve().parents[1]
predict_mod = importlib.import_module("forecast.predict")  # the module (forecast.predict is also a function)


def _dataset(n: int = 120, seed: int = 5) -> Dataset:
    rng = np.random.default_rng(seed)
    dur = np.round(rng.lognormal(4.0, 1.2, n)) + 1  # rounded: tied times
    outcome = rng.choice(["fell", "relieved", "ongoing"], n, p=[0.6, 0.25, 0.15])
    frame = pd.DataFrame({"case_id": [f"c{i}" for i in range(n)], "duration_days": dur,
                          "event": outcome == "fell", "outcome": outcome, "parent": None})
    return Dataset(frame=frame, path="synthetic", sha256="x" * 64, data_date=date(2025, 1, 1))


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FORECAST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(curve_cache, "_IN_PROCESS", {})
    return tmp_path / "cache"


def test_km_step_reads_the_lifelines_curve_exactly(fresh_cache):
    from lifelines import KaplanMeierFitter

    ds = _dataset()
    km = KaplanMeierFitter().fit(ds.durations, event_observed=ds.events)
    curve = km_step(ds)
    jumps = km.survival_function_.index.to_numpy()
    t = np.unique(np.concatenate([jumps, jumps + 0.5, jumps - 0.25, [0.0, 1e6]]))
    t = t[t >= 0]
    np.testing.assert_array_equal(curve.at(t), km.survival_function_at_times(t).to_numpy())
    for p in np.linspace(0.0, 1.0, 41):
        assert curve.percentile(p) == float(km.percentile(p)), p


def test_km_quantile_and_remaining_are_the_lifelines_readings(fresh_cache):
    from lifelines import KaplanMeierFitter

    ds = _dataset(seed=9)
    km = KaplanMeierFitter().fit(ds.durations, event_observed=ds.events)
    q = km_quantile(ds)
    for share, after in [(0.1, 0.0), (0.5, 0.0), (0.5, 40.0), (0.9, 10.0), (0.99, 200.0)]:
        s0 = float(km.survival_function_at_times(after).iloc[0]) if after > 0 else 1.0
        assert q(share, after) == float(km.percentile(s0 * (1 - share)))
    held = 30.0
    out = km_remaining(ds, held, (7, 30, 365), (0.25, 0.5))
    s0 = float(km.survival_function_at_times(held).iloc[0])
    for h in (7, 30, 365):
        want = 1 - float(km.survival_function_at_times(held + h).iloc[0]) / s0
        assert out["p_fall_within"][str(h)] == round(want, 4)
    sf = km.survival_function_.iloc[:, 0]
    for share in (0.25, 0.5):
        hit = sf[(sf.index > held) & (sf / s0 <= 1 - share)]
        want = None if hit.empty else round(float(hit.index[0] - held), 1)
        assert out["days_remaining"][f"{share:g}"] == want


def test_stored_curves_are_read_by_a_new_process_without_lifelines(fresh_cache):
    """The first process fits and stores; a second reads the same arrays and never imports
    lifelines. A different reference class is a different file, fitted anew."""
    code = r"""
import json, sys
import numpy as np
sys.path.insert(0, %(tests)r)
from test_warm_path import _dataset
from forecast.baselines import aj_curves, competing_codes
from forecast.reference import km_step
ds = _dataset()
curve = km_step(ds)
cif, s_any = aj_curves(ds.durations, competing_codes(ds.frame["outcome"]))
t = np.linspace(0, 600, 61)
print(json.dumps({"km": curve.at(t).tolist(), "cif": cif(t).tolist(), "s": s_any(t).tolist(),
                  "lifelines": "lifelines" in sys.modules}))
"""
    env = os.environ | {"FORECAST_CACHE": str(fresh_cache), "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", code % {"tests": str(ROOT / "tests")}],
                              env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert first["lifelines"] is True and second["lifelines"] is False
    for key in ("km", "cif", "s"):
        assert first[key] == second[key]
    assert sorted(p.name.split("-")[0] for p in fresh_cache.glob("*.npz")) == ["aj", "km"]
    other = _dataset(seed=6)
    km_step(other)
    assert len(list(fresh_cache.glob("km-*.npz"))) == 2


def test_a_stored_curve_is_the_fitted_one_and_is_read_only(fresh_cache):
    calls = []

    def fit():
        calls.append(1)
        return {"times": np.array([0.0, 5.0]), "survival": np.array([1.0, 0.4])}

    a = curve_cache.stored_curves("km", (np.array([5.0]), np.array([True])), fit)
    curve_cache._IN_PROCESS.clear()
    b = curve_cache.stored_curves("km", (np.array([5.0]), np.array([True])), fit)
    assert len(calls) == 1  # the second read came from the disk
    np.testing.assert_array_equal(a["survival"], b["survival"])
    with pytest.raises(ValueError):
        b["survival"][0] = 0.0
    (stored,) = fresh_cache.glob("km-*.npz")
    for broken in (stored.read_bytes()[:40], b"not a file of arrays"):  # truncated, or foreign
        stored.write_bytes(broken)
        curve_cache._IN_PROCESS.clear()
        c = curve_cache.stored_curves("km", (np.array([5.0]), np.array([True])), fit)
        np.testing.assert_array_equal(c["survival"], a["survival"])
    np.savez(stored, times=np.array([0.0]))  # readable, but without the survival array
    curve_cache._IN_PROCESS.clear()
    c = curve_cache.stored_curves("km", (np.array([5.0]), np.array([True])), fit,
                                  required=("times", "survival"))
    np.testing.assert_array_equal(c["survival"], a["survival"])
    assert len(calls) == 4  # fitted again each time, and stored whole again
    curve_cache._IN_PROCESS.clear()
    curve_cache.stored_curves("km", (np.array([5.0]), np.array([True])), fit)
    assert len(calls) == 4


def _stand_in(n: int, t0: float, seed: int = 0) -> tuple[Forecast, dict]:
    rng = np.random.default_rng(seed)
    eta = rng.normal(np.log(80.0), 0.6, n)
    sigma = rng.uniform(0.4, 1.6, n)
    start = date(2020, 1, 1)
    case = Case(id="t", name="t", start_date=start, as_of=start + timedelta(days=int(t0)),
                indicators=Indicators())
    stamp = Forecast(case_id="t", start_date=start, as_of=case.as_of, held_days=t0, model="m",
                     model_id="", dataset_hash="", seed=seed, remaining=np.zeros(0),
                     weights=np.zeros(0), survival=pd.DataFrame(), diagnostics={})
    competing = {"eta_p": rng.normal(0.3, 1.0, n), "eta_o": rng.normal(np.log(150.0), 0.5, n),
                 "sigma_o": rng.uniform(0.5, 1.2, n)}
    fc = forecast_from_eta(case, eta, sigma, LogNormalAFT(), np.random.default_rng(seed),
                           stamp=stamp, draws_per_eta=1, competing=competing, grid_days=60)
    return fc, competing


@pytest.mark.parametrize("t0", [30.0, 20000.0])  # an ordinary holdout, and one far in every tail
def test_competing_conditional_survival_is_the_closed_form_in_threads(t0, monkeypatch):
    """[(1 - p) S_o(t0) + p S_f(t)] / H(t0) per draw, from scipy's log survival functions, for
    rows split over threads and in one thread: equal to 1e-12, and the two splits identical."""
    fc, competing = _stand_in(3000, t0)
    t = t0 + np.concatenate([[0.0], np.geomspace(0.5, 5e4, 299)])
    p = 1 / (1 + np.exp(-competing["eta_p"]))
    log_sf = stats.norm.logsf((np.log(t)[:, None] - fc.eta) / fc.sigma)
    log_so0 = stats.norm.logsf((np.log(t0) - competing["eta_o"]) / competing["sigma_o"])
    log_sf0 = stats.norm.logsf((np.log(t0) - fc.eta) / fc.sigma)
    log_h0 = logsumexp([np.log1p(-p) + log_so0, np.log(p) + log_sf0], axis=0)
    want = np.exp(np.logaddexp(np.log1p(-p) + log_so0, np.log(p) + log_sf) - log_h0)
    want[0] = 1.0
    monkeypatch.setattr(predict_mod, "_THREADED_MIN", 0)
    threaded = fc.conditional_survival(t)
    monkeypatch.setattr(predict_mod, "_THREADED_MIN", 10**12)
    single = fc.conditional_survival(t)
    np.testing.assert_array_equal(threaded, single)
    np.testing.assert_allclose(threaded, np.minimum(want, 1.0), rtol=1e-12, atol=1e-300)


def test_bands_left_out_then_added_are_the_bands_of_the_full_prediction(weibull_posterior):
    from forecast.cases import load_case

    case = load_case(ROOT / "data" / "cases" / "panjshir_2021.yaml")
    case = replace(case, indicators=Indicators(terrain=case.indicators.terrain))
    full = predict(weibull_posterior, case, seed=3)
    lean = predict(weibull_posterior, case, seed=3, bands=False)
    assert "median" not in lean.survival and "lo80" not in lean.survival
    np.testing.assert_array_equal(lean.survival["mean"], full.survival["mean"])
    added = with_bands(lean)
    pd.testing.assert_frame_equal(added.survival, full.survival)
    assert with_bands(full) is full
    direct = survival_bands(full.survival["days"].to_numpy(), full.curves, full.draw_weights)
    np.testing.assert_array_equal(added.survival["lo95"], direct["lo95"])


def test_reweighting_from_stored_curves_equals_recomputing_them(weibull_posterior):
    """The reweighted forecast uses the base forecast's per-draw curves instead of evaluating
    the survival function again: the same curves, bit for bit."""
    from forecast.cases import load_case
    from forecast.elicit.combine import combine, reweighted
    from forecast.elicit.likelihood import Boundary, Event, Weighed

    case = load_case(ROOT / "data" / "cases" / "panjshir_2021.yaml")
    case = replace(case, indicators=Indicators(terrain=case.indicators.terrain))
    base = predict(weibull_posterior, case, seed=2)
    t0 = case.held_days
    claims = [Weighed(label="a", event=Event("falls_by", Boundary(t0 + 20.0, t0 + 40.0)), p=0.7,
                      pi=0.4, beta=0.5, reliability=0.9, stated_day=float(t0))]
    comb = combine(base, [], claims)
    fast = reweighted(base, comb)
    days = base.survival["days"].to_numpy()
    recomputed = replace(fast).draw_survival(days)  # a fresh copy: evaluates the survival anew
    assert fast.claim_edges is not None and not np.allclose(fast.curves, base.curves)  # tilted
    np.testing.assert_array_equal(fast.curves, recomputed)
    np.testing.assert_allclose(fast.survival["mean"], np.clip(recomputed @ fast.draw_weights, 0, 1),
                               rtol=1e-12)


def test_beta_logit_variance_is_the_scipy_beta_quantiles():
    from forecast.elicit.claims import beta_logit_var
    from forecast.elicit.likelihood import logit

    u = (np.arange(4000) + 0.5) / 4000
    for a, b in [(2.0, 5.0), (0.4, 0.7), (30.0, 3.0)]:
        want = float(np.var(logit(stats.beta.ppf(u, a, b))))
        assert beta_logit_var(a, b) == pytest.approx(want, rel=1e-10)


def test_calibration_is_read_again_when_its_file_changes(tmp_path):
    from forecast.elicit.calibration import load_calibration

    path = tmp_path / "calibration.yaml"
    body = ("signal_var: 0.5\nroles:\n  analyst: {mean: %s, lo: 0.1, hi: 0.9, n: 4}\n")
    path.write_text(body % "0.4")
    first = load_calibration(path)
    assert load_calibration(path) is first  # the same file: read once
    stamp = path.stat().st_mtime_ns
    path.write_text(body % "0.5")  # the same size, and below the same modification time
    os.utime(path, ns=(stamp, stamp))
    assert load_calibration(path).roles["analyst"].mean == 0.5


def test_the_design_is_built_once_per_dataset_object(synthetic_dataset):
    from dataclasses import replace as dc_replace

    from forecast.fit import design_of
    from models.design import from_dataset

    first = design_of(synthetic_dataset)
    assert design_of(synthetic_dataset) is first
    assert first.signature() == from_dataset(synthetic_dataset).signature()
    fewer = dc_replace(synthetic_dataset, frame=synthetic_dataset.frame.iloc[:40].reset_index(drop=True))
    other = design_of(fewer)  # another dataset object: its own design, even under the same hash
    assert other is not first and len(other.y) == 40


def _threaded_in_child(queue) -> None:
    fc, _ = _stand_in(2000, 30.0)
    queue.put(fc.conditional_survival(30.0 + np.arange(300.0)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_gets_its_own_curve_threads(monkeypatch):
    """A process forked after the curves ran in threads has the pool object but none of its
    threads: it must start its own rather than wait for ever."""
    import multiprocessing as mp

    monkeypatch.setattr(predict_mod, "_THREADED_MIN", 0)
    fc, _ = _stand_in(2000, 30.0)
    here = fc.conditional_survival(30.0 + np.arange(300.0))  # the pool is made in this process
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_threaded_in_child, args=(queue,))
    child.start()
    try:
        got = queue.get(timeout=120)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    np.testing.assert_array_equal(got, here)
    assert child.exitcode == 0


def test_band_quantiles_in_threads_are_the_per_row_definition(monkeypatch):
    """Each row's weighted quantile is the first value, in ascending order with ties kept in draw
    order, whose cumulative weight share reaches q: computed row by row here in plain Python, and
    by the threaded, vectorized code on tie-heavy rows with uneven weights."""
    from forecast.predict import weighted_quantiles

    rng = np.random.default_rng(4)
    curves = rng.choice([0.0, 0.25, 0.5, 1.0], size=(300, 700))
    weights = rng.choice([0.05, 0.1, 0.15, 0.2, 0.3, 0.7], size=700)
    qs = {"lo": 0.1, "mid": 0.5, "hi": 0.9}
    monkeypatch.setattr(predict_mod, "_THREADED_MIN", 0)
    got = weighted_quantiles(curves, weights, qs)
    for r in range(curves.shape[0]):
        order = sorted(range(curves.shape[1]), key=lambda j: curves[r, j])  # stable
        cum = np.cumsum(weights[order])
        cum /= cum[-1]
        for name, q in qs.items():
            k = min(int(np.sum(cum < q)), len(order) - 1)
            assert got[name][r] == curves[r, order[k]], (r, name)
    # a tie group ending exactly at q: the share reached depends on the order the weights are summed
    row = np.array([[1.0, 0.5, 1.0, 0.0, 0.5, 0.0]] * 2000)
    w = np.array([0.1, 0.2, 0.3, 0.7, 0.15, 0.05])
    cum = np.cumsum(w[[3, 5, 1, 4, 0, 2]]) / w.sum()  # ascending, ties in draw order
    want = row[0, [3, 5, 1, 4, 0, 2]][min(int(np.sum(cum < 0.5)), 5)]
    assert np.all(weighted_quantiles(row, w, {"mid": 0.5})["mid"] == want)
