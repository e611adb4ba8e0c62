"""Backtests: folds that leave the right rows out, training views that know only the past, and
the same scores from the same seed whichever executor runs them (a real Dask cluster)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from forecast.backtest import BacktestConfig, plan, run_backtest, training_view
from forecast.baselines import climatology
from forecast.executor import DaskExecutor, LocalExecutor

CASES = ("sim_003", "sim_010", "sim_042")


def _config(**kw) -> BacktestConfig:
    return BacktestConfig(**({"models": ("weibull",), "draws": 150, "tune": 150, "chains": 2,
                              "seed": 5, "cases": CASES} | kw))


@pytest.fixture(scope="module")
def in_process(synthetic_dataset, weibull_posterior):
    # weibull_posterior compiled the model for this design: refits here swap data only
    return run_backtest(synthetic_dataset, _config(), executor=LocalExecutor(0))


def test_loo_fold_leaves_its_case_out_and_forecasts_it(synthetic_dataset):
    raw = open(synthetic_dataset.path, "rb").read()
    tasks = plan(synthetic_dataset, _config(), raw)
    ids = list(synthetic_dataset.frame["case_id"])
    assert [t.fold for t in tasks] == [f"loo:{c}" for c in CASES]
    for t in tasks:
        cid = t.fold.split(":")[1]
        w = np.asarray(t.weight)
        assert w[ids.index(cid)] == 0 and w.sum() == len(ids) - 1
        assert {c for c, _ in t.targets} == {cid}
        assert (cid, 0) in t.targets


def test_loo_leaves_a_whole_war_out_together(synthetic_dataset):
    frame = synthetic_dataset.frame.copy()
    frame["war"] = ["war_a" if i < 5 else None for i in range(len(frame))]
    ds = type(synthetic_dataset)(frame=frame, path=synthetic_dataset.path,
                                 sha256=synthetic_dataset.sha256, data_date=synthetic_dataset.data_date)
    tasks = plan(ds, _config(cases=()), b"")
    war = [t for t in tasks if t.fold == "loo:war_a"]
    assert len(war) == 1 and np.asarray(war[0].weight)[:5].sum() == 0
    assert {c for c, _ in war[0].targets} == set(frame["case_id"][:5])
    assert len(tasks) == len(frame) - 5 + 1


def test_later_offsets_only_for_cases_still_standing(synthetic_dataset):
    tasks = plan(synthetic_dataset, _config(cases=()), b"")
    dur = dict(zip(synthetic_dataset.frame["case_id"], synthetic_dataset.durations, strict=True))
    for t in tasks:
        for cid, off in t.targets:
            assert off == 0 or dur[cid] > off


def test_rolling_origin_trains_on_the_past_as_it_was_known(synthetic_dataset):
    frame = synthetic_dataset.frame
    long = frame.loc[frame["duration_days"] > 20].iloc[0]
    cutoff = (long["start_date"] + pd.Timedelta(days=10)).date()
    train = (frame["start_date"] < pd.Timestamp(cutoff)).to_numpy()
    y, event, outcome = training_view(synthetic_dataset, cutoff)
    ended_later = train & (frame["end_date"] > pd.Timestamp(cutoff)).to_numpy()
    assert ended_later.any()
    # a holdout still going at the cutoff is standing then, censored at the cutoff
    i = int(np.flatnonzero(ended_later)[0])
    assert outcome[i] == "ongoing" and event[i] == 0
    assert y[i] == (pd.Timestamp(cutoff) - frame.loc[i, "start_date"]).days
    tasks = plan(synthetic_dataset, _config(scheme="rolling", cases=(), min_train=40), b"")
    assert tasks and all(np.asarray(t.weight).sum() >= 40 for t in tasks)
    for t in tasks:
        cid = t.targets[0][0]
        start = frame.loc[frame["case_id"] == cid, "start_date"].iloc[0]
        trained = frame["start_date"][np.asarray(t.weight) > 0]
        assert (trained < start).all()


def test_climatology_in_a_fold_is_fitted_without_the_left_out_case(in_process, synthetic_dataset):
    frame = synthetic_dataset.frame
    keep = frame["case_id"] != "sim_010"
    expected = climatology("climatology_aj", synthetic_dataset.durations[keep.to_numpy()],
                           frame["outcome"][keep], 0.0)
    got = [p for ident, p, _ in in_process.predictives
           if ident["model"] == "climatology_aj" and ident["case_id"] == "sim_010" and ident["offset"] == 0]
    np.testing.assert_allclose(got[0].cdf, expected.cdf, atol=1e-12)
    with_it = climatology("climatology_aj", synthetic_dataset.durations, frame["outcome"], 0.0)
    assert np.abs(with_it.cdf - expected.cdf).max() > 1e-4


def test_backtest_scores_every_model_and_both_climatologies(in_process):
    t = in_process.table
    assert set(t["model"]) == {"weibull", "climatology_km", "climatology_aj"}
    per_model = t.groupby("model").size()
    assert per_model.nunique() == 1 and per_model.iloc[0] >= len(CASES)
    assert np.isfinite(t["twcrps"]).all()
    sk = in_process.skill
    assert set(sk["baseline"]) == {"climatology_km", "climatology_aj"}
    assert in_process.elpd["weibull"]["cases"] == len(CASES)


def test_same_seed_same_backtest_in_process(in_process, synthetic_dataset):
    again = run_backtest(synthetic_dataset, _config(), executor=LocalExecutor(0))
    pd.testing.assert_frame_equal(again.table, in_process.table)


@pytest.mark.slow  # a long MCMC check: `make test-slow`, run by .ci/run after make test
def test_dask_cluster_gives_the_same_scores_as_local(in_process, synthetic_dataset):
    on_dask = run_backtest(synthetic_dataset, _config(), executor=DaskExecutor(workers=1))
    pd.testing.assert_frame_equal(on_dask.table, in_process.table)


def _square(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_local_executor_runs_in_worker_processes_and_keeps_order():
    seen = []
    out = list(LocalExecutor(2).map(_square, range(6), progress=lambda d, n: seen.append((d, n))))
    assert [v for v, _ in out] == [0, 1, 4, 9, 16, 25]
    assert all(pid != os.getpid() for _, pid in out)
    assert seen[-1] == (6, 6)


def test_dask_executor_runs_on_a_real_local_cluster_and_keeps_order():
    """Dask distributed for real (a LocalCluster of worker processes); the whole backtest through
    Dask, score for score against local processes, is the slow test above."""
    seen = []
    out = list(DaskExecutor(workers=2).map(_square, range(6), progress=lambda d, n: seen.append((d, n))))
    assert [v for v, _ in out] == [0, 1, 4, 9, 16, 25]
    assert all(pid != os.getpid() for _, pid in out)  # computed in the cluster's worker processes
    assert seen[-1] == (6, 6)


def test_backtest_is_recorded_in_the_ledger_and_shown_by_compare(in_process, synthetic_dataset, tmp_path):
    from forecast.backtest import backtest_records
    from forecast.describe import format_backtest_skill
    from forecast.ledger import Ledger

    recs = backtest_records(in_process, synthetic_dataset)
    assert len(recs) == len(in_process.table)
    with Ledger(tmp_path / "l.sqlite") as led:
        led.record_many(recs)
        assert led.store_backtest(in_process.run_id, in_process.summary_dict(),
                                  in_process.table.to_csv(index=False))
        stored = led.forecasts(kind="backtest")
        runs = led.backtests()
    assert len(stored) == len(recs)
    assert {r.extra["run_id"] for _, r in stored} == {in_process.run_id}
    text = format_backtest_skill(runs, "l.sqlite")
    sk = in_process.skill
    row = sk[(sk["model"] == "weibull") & (sk["baseline"] == "climatology_aj") & (sk["score"] == "twcrps")]
    assert f"{row['estimate'].iloc[0]:+.3f}" in text


@pytest.mark.slow  # a long MCMC check: `make test-slow`, run by .ci/run after make test
def test_backtest_command_runs_both_schemes_and_records_each(synthetic_dataset, synthetic_csv,
                                                             weibull_posterior, tmp_path, capsys):
    from forecast.cli import main
    from forecast.ledger import Ledger

    frame = synthetic_dataset.frame.sort_values("start_date")
    late = str(frame["case_id"].iloc[60])  # 60 holdouts started before it: it has a rolling fold
    ledger = tmp_path / "l.sqlite"
    code = main(["backtest", "--data", str(synthetic_csv), "--scheme", "all", "--workers", "0",
                 "--case", late, "--draws", "150", "--tune", "150", "--chains", "2", "--seed", "5",
                 "--no-psis", "--ledger", str(ledger), "--out", str(tmp_path / "bt")])
    out = capsys.readouterr().out
    assert code == 0
    assert "backtest (loo)" in out and "backtest (rolling)" in out
    for scheme in ("loo", "rolling"):
        table = pd.read_csv(tmp_path / "bt" / f"backtest_{scheme}_scores.csv")
        assert set(table["case_id"]) == {late}
    with Ledger(ledger, create=False) as led:
        runs = led.backtests()
        assert sorted(r["summary"]["config"]["scheme"] for r in runs) == ["loo", "rolling"]
        assert {r.case_id for _, r in led.forecasts(kind="backtest")} == {late}
    assert main(["backtest", "--data", str(synthetic_csv), "--case", "nope", "--no-record"]) == 2
