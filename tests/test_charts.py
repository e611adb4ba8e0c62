"""Charts: built from real forecast objects; assertions on the figure's artists, not pixels."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
from conftest import PANJSHIR
from matplotlib.collections import PolyCollection

from forecast.cases import load_case
from forecast.charts import fall_date_chart, survival_fan
from forecast.predict import FAN_LEVELS, predict


@pytest.fixture(scope="module")
def panjshir_forecast(weibull_posterior):
    return predict(weibull_posterior, load_case(PANJSHIR), seed=20210820)


def _line(ax, label):
    return next(line for line in ax.get_lines() if line.get_label() == label)


def test_the_fan_chart_draws_the_mean_the_numbers_use_with_bands_and_markers(panjshir_forecast):
    fc = panjshir_forecast
    fig = survival_fan(fc, name="Panjshir Valley resistance", outcome_date=date(2021, 9, 6),
                       made=date(2026, 11, 26))
    focus, whole = fig.axes
    for ax in (focus, whole):
        fills = [c for c in ax.collections if isinstance(c, PolyCollection)]
        bands = [c for c in fills if c.get_hatch() is None]
        assert len(bands) == len(FAN_LEVELS) == 9  # 10% steps to 90%
        assert [c.get_label() for c in fills if c.get_hatch()] == [
            "ended otherwise (relief, withdrawal, war's end)"]
        assert ax.get_ylim()[0] == 0
    mean = _line(focus, "P(not fallen) (mean)")  # competing ends: not fallen = holding + ended otherwise
    y = np.asarray(mean.get_ydata(), dtype=float)
    assert y[0] == 1.0  # it has held at as_of
    # the curve drawn is the one the printed numbers come from: P(falls within 30 d) = 1 - S(30)
    from datetime import datetime

    start = datetime.combine(fc.as_of, datetime.min.time())
    x_days = ((pd.to_datetime(np.asarray(mean.get_xdata())) - pd.Timestamp(start))
              / pd.Timedelta(days=1)).to_numpy()
    assert 1 - y[x_days == 30][0] == pytest.approx(fc.summary()["p_fall_within"]["30"], abs=5e-5)
    assert "fell 2021-09-06" in [line.get_label() for line in focus.get_lines()]
    texts = " ".join(t.get_text() for t in fig.texts) + fig._suptitle.get_text()
    assert "Panjshir Valley resistance" in texts and "panjshir_2021" not in fig._suptitle.get_text()
    assert f"model {fc.model}" in texts and "as of 2021-08-20" in texts and "made 2026-11-26" in texts
    assert focus.get_ylabel() == "P(not fallen)"
    # the competing-ends split: the still-holding curve below, the shares at the horizon's end
    holding = np.asarray(_line(focus, "P(still holding: no end yet)").get_ydata(), dtype=float)
    assert np.all(holding <= y + 1e-12) and holding[-1] < y[-1] - 0.01
    other_30 = fc.other_ended_at(np.array([30.0]))[0]
    assert y[x_days == 30][0] - holding[x_days == 30][0] == pytest.approx(other_30, abs=1e-9)
    shares = {t.get_text().rsplit(" ", 1)[0]: float(t.get_text().rsplit(" ", 1)[1].rstrip("%"))
              for t in whole.texts}
    end_mean = float(_line(whole, "P(not fallen) (mean)").get_ydata()[-1])
    end_holding = float(_line(whole, "P(still holding: no end yet)").get_ydata()[-1])
    want = {"fallen": 1 - end_mean, "ended otherwise": end_mean - end_holding,
            "still holding": end_holding}
    assert {"fallen", "ended otherwise"} <= set(shares)  # a share under 4% is not written
    for label, pct in shares.items():
        assert pct == pytest.approx(100 * want[label], abs=0.5)
    # the focus panel shows the first weeks: its horizon is far shorter than the whole one
    whole_end = pd.to_datetime(np.asarray(whole.get_lines()[0].get_xdata()))[-1]
    assert max(x_days) < (whole_end - pd.Timestamp(start)).days


def test_the_fall_date_chart_is_the_cdf_and_its_daily_density(panjshir_forecast):
    fc = panjshir_forecast
    fig = fall_date_chart(fc, name="Panjshir", standing_date=date(2021, 8, 31))
    cdf_ax, dens_ax = fig.axes
    cdf = np.asarray(_line(cdf_ax, "P(fallen by date)").get_ydata(), dtype=float)
    dens = np.asarray(_line(dens_ax, "P(falls on the day)").get_ydata(), dtype=float)
    assert cdf[0] == 0 and np.all(np.diff(cdf) >= -1e-12)
    np.testing.assert_allclose(np.cumsum(dens), cdf, atol=1e-12)
    assert cdf[30] == pytest.approx(fc.p_fall_within(30), abs=1e-9)
    assert "still standing 2021-08-31" in [line.get_label() for line in cdf_ax.get_lines()]


def test_the_decomposition_chart_shows_each_stage_with_its_numbers(weibull_posterior,
                                                                 synthetic_dataset):
    from forecast.charts import decomposition_chart
    from forecast.elicit.update import update

    case = load_case(PANJSHIR)
    ev = update(weibull_posterior, case, synthetic_dataset, seed=1)
    fig = decomposition_chart(ev, case)
    ax_p, ax_m = fig.axes
    line = ax_p.get_lines()[0]
    want = [r["p_fall_within"]["30"] for r in ev.decomposition]
    np.testing.assert_allclose(line.get_xdata(), want)
    labels = [t.get_text() for t in ax_p.get_yticklabels()]
    assert len(labels) == len(ev.decomposition)
    assert labels[0].startswith("reference class") and any("Abdul Sayed" in t for t in labels)
    assert any("\u201cThe Taliban surround Panjshir" in t for t in labels)


def test_the_evolution_chart_draws_recorded_forecasts_over_their_dates(tmp_path):
    from datetime import timedelta

    from test_ledger import record as a_forecast

    from forecast.charts import evolution_chart

    recs = [a_forecast("valley", as_of=date(2021, 8, 20) + timedelta(days=k), scale=40 + 20 * k)
            for k in (0, 5, 10)]
    fig = evolution_chart(recs, events={date(2021, 8, 31): "assault begins"},
                          outcome_date=date(2021, 9, 6))
    ax = fig.axes[0]
    median = next(ln for ln in ax.get_lines() if ln.get_label() == "median fall date")
    import matplotlib.dates as mdates

    want = [mdates.date2num(r.as_of + timedelta(days=r.predictive.quantile(0.5))) for r in recs]
    np.testing.assert_allclose(median.get_ydata(), want)
    assert [t.get_text() for t in ax.texts] == ["1"]  # the event, numbered on the chart
    assert "1  2021-08-31: assault begins" in [t.get_text() for t in fig.texts]  # and listed
    assert "fell 2021-09-06" in [ln.get_label() for ln in ax.get_lines()]
    p30 = next(ln for ln in fig.axes[1].get_lines() if ln.get_label() == "P(falls within 30 days)")
    np.testing.assert_allclose(p30.get_ydata(), [r.predictive.cdf_at(30.0) for r in recs])


def test_the_evolution_band_runs_off_the_chart_when_the_fall_may_never_come(tmp_path):
    from datetime import timedelta

    from test_ledger import record as a_forecast

    from forecast.charts import evolution_chart
    from forecast.predictive import Predictive

    recs = [a_forecast("valley", as_of=date(2021, 8, 20) + timedelta(days=k), scale=40.0)
            for k in (0, 5)]
    improper = Predictive(recs[1].predictive.days, 0.7 * recs[1].predictive.cdf)  # P(falls) 0.7
    recs[1] = replace(recs[1], predictive=improper)
    fig = evolution_chart(recs)
    ax = fig.axes[0]
    beyond = next(ln for ln in ax.get_lines() if ln.get_label().startswith("90% point beyond"))
    assert list(beyond.get_xdata()) == [recs[1].as_of]
    band = next(c for c in ax.collections if c.get_label() == "80% band of the fall date")
    assert band.get_paths()[0].vertices[:, 1].max() >= beyond.get_ydata()[0] - 1e-9


def test_the_record_chart_shows_reliability_pit_coverage_and_skill():
    """From a score table with a known truth: forecasts that are calibrated by construction sit
    inside the consistency band; the skill panel draws each model's interval."""
    import pandas as pd

    from forecast.charts import record_chart
    from forecast.score import reliability

    rng = np.random.default_rng(4)
    p = rng.uniform(0.02, 0.98, size=400)
    y = (rng.uniform(size=400) < p).astype(float)
    table = pd.DataFrame({"model": "m", "p_30": p, "fell_30": y, "pit": rng.uniform(size=400),
                          "cov50": (rng.uniform(size=400) < 0.5).astype(float),
                          "cov90": (rng.uniform(size=400) < 0.9).astype(float)})
    skill = pd.DataFrame({"model": ["m", "climatology_aj"], "score": "twcrps",
                          "baseline": "climatology_aj", "estimate": [0.1, 0.0],
                          "lower": [0.05, 0.0], "upper": [0.15, 0.0]})
    rel = reliability(p, y, n_boot=200)
    inside = np.mean((rel["fit"] >= rel["lo"] - 1e-9) & (rel["fit"] <= rel["hi"] + 1e-9))
    assert inside > 0.8  # a calibrated forecaster's curve stays mostly within its band
    bad = reliability(p, (rng.uniform(size=400) < 0.5).astype(float), n_boot=200)
    assert np.mean((bad["fit"] >= bad["lo"]) & (bad["fit"] <= bad["hi"])) < inside  # it can fail
    fig = record_chart(table, skill, model="m")
    ax_r, ax_p, ax_c, ax_s = fig.axes
    assert len(ax_p.patches) == 10  # ten PIT bins
    cov = next(ln for ln in ax_c.get_lines() if ln.get_label() == "observed coverage")
    np.testing.assert_allclose(cov.get_ydata(), [table["cov50"].mean(), table["cov90"].mean()])
    assert [t.get_text() for t in ax_s.get_yticklabels()] == ["climatology_aj", "m"]
    # a backtest's skill table holds each model against both climatologies: one baseline is drawn
    both = pd.concat([skill, skill.assign(baseline="climatology_km", estimate=[0.13, 0.03],
                                          lower=[0.1, 0.01], upper=[0.16, 0.04])])
    ax_s = record_chart(table, both, model="m").axes[3]
    assert [t.get_text() for t in ax_s.get_yticklabels()] == ["climatology_aj", "m"]
    assert "against climatology_aj" in ax_s.get_xlabel()
