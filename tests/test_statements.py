"""The record of public predictions (data/statements.csv): loading, resolving, scoring, and the
fitted calibration — checked against closed forms, lifelines and a simulation with known truth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import PANJSHIR, ROOT, write_csv

from forecast.elicit.calibration import (
    COLUMNS,
    MIN_SPEAKER_CLAIMS,
    Beta,
    Calibration,
    fit,
    load_statements,
    resolve,
    scored,
)
from forecast.elicit.likelihood import BaseRate, Boundary, Event
from forecast.errors import InputError

STATEMENTS = ROOT / "data" / "statements.csv"


@pytest.fixture(scope="module")
def record():
    return load_statements(STATEMENTS)


def test_the_shipped_record_covers_holdouts_roles_and_both_kinds_of_result(record):
    from forecast.data import load_holdouts

    assert len(record) >= 60 and record["case_id"].nunique() >= 20
    for role in ("independent_analyst", "third_party_government", "party_to_conflict", "journalist"):
        assert (record["role"] == role).sum() >= 3, role
    assert set(record.loc[record["role"] == "party_to_conflict", "side"]) == {"attacker", "defender"}
    assert record["url"].str.startswith("http").all() and record["source"].str.len().gt(5).all()
    table = scored(resolve(record, load_holdouts()))
    assert len(table) >= 60
    # failures as well as successes: confident predictions that did and did not come true
    confident = table[table["p"] >= 0.7]
    assert (confident["outcome"] == 0).sum() >= 10 and (confident["outcome"] == 1).sum() >= 10


def test_the_outcome_column_agrees_with_the_holdouts_and_a_wrong_one_is_refused(record):
    from forecast.data import load_holdouts
    from forecast.elicit.calibration import outcome_text

    dataset = load_holdouts()
    for r in resolve(record, dataset):
        assert record.set_index("statement_id").loc[r.statement_id, "outcome"] == outcome_text(
            r.outcome, r.why)
    wrong = record.copy()
    i = wrong.index[wrong["outcome"] == "0"][0]
    wrong.loc[i, "outcome"] = "1"
    with pytest.raises(InputError, match="column 'outcome'.*disagrees with data/holdouts.csv"):
        resolve(wrong, dataset)


def test_panjshir_quotes_are_verbatim_with_their_hedges():
    doc = yaml.safe_load(PANJSHIR.read_text())
    by_id = {s["id"]: s for s in doc["statements"]}
    sayed = by_id["sayed_couple_of_months"]
    assert "I don't think Massoud's son can resist much more than a couple of months" in sayed["quote"]
    assert sayed["claims"][0]["probability"] == {"phrase": "i don't think"}
    assert str(by_id["saleh_never_bow"]["date"]) == "2021-08-15"
    assert not any("lock down" in s["quote"] for s in doc["statements"])


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    return write_csv(tmp_path / "statements.csv", rows, (*COLUMNS, "outcome"))


@pytest.mark.parametrize("column, value, rule", [
    ("case_id", "atlantis_1999", "not a holdout of data/holdouts.csv"),
    ("role", "oracle", "is not one of"),
    ("side", "", "needs side attacker or defender"),
    ("date", "2031-01-01", "after the holdout ended"),
    ("date", "not a date", "not an ISO date"),
    ("claim_kind", "falls_soonish", "is not one of falls_by"),
    ("probability", "kinda sure", "unknown phrase"),
    ("probability", "1.7", "not a probability in [0, 1]"),
    ("time_kind", "", "is not one of days, date, phrase"),
    ("time_value", "shortly-ish", "unknown time phrase"),
    ("quote", "", "is required"),
    ("condition_met", "yes", "only for a conditional claim"),
])
def test_a_bad_row_names_the_file_row_and_column(tmp_path, record, column, value, rule):
    pick = record[(record["role"] == "party_to_conflict") & (record["time_kind"] == "phrase")
                  & (record["condition"] == "")]
    rows = [*record.head(2).to_dict("records"), pick.iloc[0].to_dict()]
    row = rows[2]
    row[column] = value
    path = _write(tmp_path, rows)
    with pytest.raises(InputError) as exc:
        load_statements(path)
    i = rows.index(row) + 1
    assert f"{path}, row {i}, column '{column}'" in str(exc.value) and rule in str(exc.value)


def test_a_duplicate_id_is_refused(tmp_path, record):
    rows = record.head(2).to_dict("records")
    rows[1]["statement_id"] = rows[0]["statement_id"]
    with pytest.raises(InputError, match="row 2, column 'statement_id'.*appears twice"):
        load_statements(_write(tmp_path, rows))


def test_the_cli_refuses_a_bad_record_in_one_line_with_status_2(tmp_path, record):
    rows = record.head(2).to_dict("records")
    rows[0]["probability"] = "kinda sure"
    path = _write(tmp_path, rows)
    r = subprocess.run([sys.executable, "-m", "forecast.cli", "experts", "--statements", str(path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "row 1, column 'probability'" in r.stderr


# --- resolving: outcomes and base rates ---------------------------------------------------------
def _statement(case_id: str, date: str, kind: str, prob: str, time_kind: str = "",
               time_value: str = "", **kw) -> dict:
    row = dict.fromkeys(COLUMNS, "")
    row |= {"statement_id": f"{case_id}-{kind}-{time_value}", "case_id": case_id, "speaker": "S",
            "role": "independent_analyst", "date": date, "quote": "q", "source": "s",
            "url": "https://example.org", "claim_kind": kind, "probability": prob,
            "time_kind": time_kind, "time_value": time_value} | kw
    return row


def test_outcomes_resolve_from_the_holdouts_end_and_kind(synthetic_dataset):
    frame = synthetic_dataset.frame
    fell = frame[frame["outcome"] == "fell"].iloc[0]
    other = frame[frame["outcome"].isin(["relieved", "attacker_withdrew"])].iloc[0]
    start = pd.Timestamp(fell["start_date"]).date()
    t = float(fell["duration_days"])
    day = start.isoformat()
    rows = [
        _statement(fell["case_id"], day, "falls_by", "0.9", "days", str(t + 1)),   # fell by then
        _statement(fell["case_id"], day, "falls_by", "0.9", "days", str(t - 1)),   # not yet
        _statement(fell["case_id"], day, "holds_beyond", "0.3", "days", str(t - 1)),
        _statement(fell["case_id"], day, "falls_eventually", "0.5"),
        _statement(other["case_id"], pd.Timestamp(other["start_date"]).date().isoformat(),
                   "falls_eventually", "0.5"),  # relieved: it did not fall
        _statement(fell["case_id"], day, "falls_by", "0.9", "days", "5", condition="if x",
                   condition_met="no"),
    ]
    table = pd.DataFrame(rows)
    got = [r.outcome for r in resolve(table, synthetic_dataset)]
    assert got == [1.0, 0.0, 1.0, 1.0, 0.0, None]


def test_a_soft_boundary_resolves_to_the_share_of_the_range_before_the_fall():
    ev = Event("falls_by", Boundary(10.0, 30.0))
    np.testing.assert_allclose(ev.membership(np.array([5.0, 10.0, 15.0, 30.0, 40.0, np.inf])),
                               [1.0, 1.0, 0.75, 0.0, 0.0, 0.0])
    ev = Event("holds_beyond", Boundary(10.0, 30.0))
    assert ev.membership(np.array([15.0]))[0] == pytest.approx(0.25)


def test_the_base_rate_is_the_aalen_johansen_incidence_given_still_standing(synthetic_dataset):
    """pi for 'falls at all' and 'falls by t' against lifelines' estimators directly."""
    from lifelines import AalenJohansenFitter, KaplanMeierFitter

    from forecast.baselines import competing_codes

    frame = synthetic_dataset.frame
    d = frame["duration_days"].to_numpy(dtype=float)
    codes = competing_codes(frame["outcome"])
    aj = AalenJohansenFitter(jitter_level=1e-4, seed=0, calculate_variance=False)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aj.fit(d, codes, event_of_interest=1)
    km = KaplanMeierFitter().fit(d, event_observed=codes > 0)
    cif = aj.cumulative_density_.iloc[:, 0]
    base = BaseRate(frame["duration_days"], frame["outcome"])
    t, by = 20.0, 200.0
    s_t = float(km.survival_function_at_times(t).iloc[0])
    # lifelines' step CIF at change points just before t and by (ours interpolates linearly between)
    at = lambda x: float(np.interp(x, cif.index.to_numpy(), cif.to_numpy()))  # noqa: E731
    want_by = (at(by) - at(t)) / s_t
    want_ever = (float(cif.iloc[-1]) - at(t)) / s_t
    assert base.probability(Event("falls_by", Boundary(by, by)), t) == pytest.approx(want_by, abs=0.02)
    assert base.probability(Event("falls_eventually"), t) == pytest.approx(want_ever, abs=0.02)
    assert 0 < want_by < want_ever < 1


# --- the calibration ----------------------------------------------------------------------------
def test_fit_recovers_known_role_calibrations_from_simulated_claims():
    """Simulation with a known truth: claims whose outcomes follow
    logit P = logit pi + beta_role (logit p - logit pi); the fit recovers each role's beta."""
    rng = np.random.default_rng(11)
    truth = {"independent_analyst": 1.0, "party_to_conflict": 0.2}
    rows = []
    for role, beta in truth.items():
        for i in range(300):
            pi = rng.uniform(0.1, 0.9)
            x = np.log(pi / (1 - pi)) + rng.normal(0, 1.5)
            p = 1 / (1 + np.exp(-x))
            eta = np.log(pi / (1 - pi)) + beta * (x - np.log(pi / (1 - pi)))
            y = float(rng.uniform() < 1 / (1 + np.exp(-eta)))
            rows.append({"statement_id": f"{role}{i}", "speaker": f"{role}-{i % 30}", "role": role,
                         "group": "", "p": p, "base_rate": pi, "outcome": y, "logit_var": 0.0})
    cal = fit(pd.DataFrame(rows), seed=3, draws=400, tune=400)
    for role, beta in truth.items():
        b = cal.roles[role]
        assert b.lo - 0.1 < beta < b.hi + 0.1, (role, b)
        assert abs(b.mean - beta) < 0.3, (role, b)
    assert cal.roles["independent_analyst"].mean > cal.roles["party_to_conflict"].mean + 0.4


def test_a_speakers_own_record_replaces_the_roles_once_long_enough():
    cal = Calibration(roles={"journalist": Beta(0.3, 0.1, 0.5, 20)},
                      speakers={"A": Beta(0.9, 0.5, 1.2, MIN_SPEAKER_CLAIMS),
                                "B": Beta(0.9, 0.5, 1.2, MIN_SPEAKER_CLAIMS - 1)})
    assert cal.beta_for("A", "journalist")[0] == 0.9
    assert cal.beta_for("B", "journalist")[0] == 0.3
    assert cal.beta_for("C", "journalist")[0] == 0.3


# --- live cases join the record through the ledger ----------------------------------------------
def test_claims_kept_in_the_ledger_are_scored_once_their_case_resolves(tmp_path):
    """A real SQLite ledger: claims kept with a forecast are immutable, kept once, and scored
    against the outcome recorded later (a relieved case did not fall)."""
    import sqlite3
    from datetime import date

    from test_ledger import record as a_forecast

    from forecast.elicit.calibration import ledger_resolved
    from forecast.ledger import Ledger

    def row(label, kind, lo=None, hi=None, p=0.8, conditional=0):
        return {"label": label, "statement_id": label, "speaker": "A", "role": "journalist",
                "stated_day": 19.0, "kind": kind, "by_lo": lo, "by_hi": hi, "start_lo": None,
                "start_hi": None, "p": p, "logit_var": 0.5, "base_rate": 0.3, "source_group": None,
                "conditional": conditional}

    rows = [row("quick", "falls_by", 30.0, 30.0), row("soft", "falls_by", 20.0, 40.0),
            row("long", "holds_beyond", 60.0, 60.0), row("ever", "falls_eventually"),
            row("if", "falls_by", 30.0, 30.0, conditional=1)]
    with Ledger(tmp_path / "l.sqlite") as led:
        led.record(a_forecast("valley"))
        led.record(a_forecast("town"))
        assert led.record_claims("valley", date(2021, 8, 1), rows) == 5
        assert led.record_claims("valley", date(2021, 8, 1), rows) == 0  # kept once
        assert led.record_claims("town", date(2021, 8, 1), [row("ever", "falls_eventually")]) == 1
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            led._con.execute("UPDATE claims SET p = 0.1")
        assert all(r.outcome is None for r in ledger_resolved(led))  # nothing recorded yet
        led.record_outcome("valley", "fell", date(2021, 9, 1))  # day 31
        led.record_outcome("town", "relieved", date(2021, 12, 1))
        got = {r.statement_id.split(":")[-1] + ":" + r.case_id: r.outcome for r in ledger_resolved(led)}
    assert got == {"quick:valley": 0.0, "soft:valley": pytest.approx(0.45), "long:valley": 0.0,
                   "ever:valley": 1.0, "if:valley": None, "ever:town": 0.0}


def test_statements_backtest_scores_the_three_forecasts_and_reduces_to_its_parts(
        synthetic_dataset, weibull_posterior):
    """A real (small) leave-one-out run: with no usable claim on a day, 'statements' is exactly the
    base rate and 'both' exactly the indicators; with claims, they differ."""
    from forecast.elicit.statements_backtest import run
    from forecast.executor import LocalExecutor

    frame = synthetic_dataset.frame
    fell = frame[frame["outcome"] == "fell"].sort_values("duration_days").iloc[-3:]
    a, b, c = (r for _, r in fell.iterrows())
    day = lambda r, d=0: (pd.Timestamp(r["start_date"]) + pd.Timedelta(days=d)).date().isoformat()  # noqa: E731
    rows = [
        _statement(a["case_id"], day(a), "falls_by", "0.9", "days", "5", role="party_to_conflict",
                   side="attacker"),
        _statement(b["case_id"], day(b), "falls_eventually", "0.05", role="party_to_conflict",
                   side="defender"),
        # conditional: makes a forecast day but is not used in the backtest
        _statement(c["case_id"], day(c), "falls_by", "0.9", "days", "5", condition="if x",
                   condition_met="yes"),
    ]
    bt = run(synthetic_dataset, pd.DataFrame(rows), model="weibull", seed=1, draws=150, tune=150,
             calib_draws=150, executor=LocalExecutor(0))
    t = bt.table.set_index(["model", "case_id"])
    assert set(bt.table["model"]) == {"climatology_aj", "indicators", "statements", "both"}
    assert set(bt.table["case_id"]) == {a["case_id"], b["case_id"], c["case_id"]}
    cols = ["twcrps", "brier_30", "brier_90"]
    none = c["case_id"]
    assert (t.loc[("statements", none), "claims"] == 0).all()
    np.testing.assert_allclose(t.loc[("statements", none), cols], t.loc[("climatology_aj", none), cols])
    np.testing.assert_allclose(t.loc[("both", none), cols], t.loc[("indicators", none), cols])
    for cid in (a["case_id"], b["case_id"]):
        assert not np.allclose(t.loc[("both", cid), cols], t.loc[("indicators", cid), cols])
    assert {"twcrps", "brier_30"} <= set(bt.skill["score"]) and len(bt.folds) == 3
