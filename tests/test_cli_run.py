"""`forecast run`, `fit` and `compare` as a user runs them: real sampling in a subprocess."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import PANJSHIR
from test_cli import run

SMALL = ("--draws", "300", "--tune", "300", "--chains", "2", "--seed", "2")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, synthetic_csv):
    """One real `forecast run` (compiles and samples once); later runs reuse its posterior."""
    base = tmp_path_factory.mktemp("run")
    cache = base / "cache"
    out = base / "out"
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out),
               "--cache", str(cache), "--allow-unreliable", *SMALL)
    assert proc.returncode == 0, proc.stderr
    return base, cache, out, proc


def test_run_writes_forecast_json_and_survival_charts(run_dir):
    _, _, out, proc = run_dir
    record = json.loads((out / "forecast.json").read_text())
    for key in ("case_id", "start_date", "as_of", "model", "model_id", "dataset_hash", "seed",
                "p_fall_within", "days_remaining", "median_date", "diagnostics"):
        assert key in record
    assert set(record["p_fall_within"]) == {"7", "30", "90", "365"}
    assert set(record["days_remaining"]) == {"0.05", "0.25", "0.5", "0.75", "0.95"}
    assert set(record["diagnostics"]) >= {"rhat_max", "ess_bulk_min", "divergences", "reliable"}
    assert record["case_id"] == "panjshir_2021" and record["as_of"] == "2021-08-20"
    for name in ("survival.png", "survival.svg", "survival.csv"):
        assert (out / name).stat().st_size > 1000
    assert "P(falls within 7 / 30 / 90 / 365 days)" in proc.stdout


def test_second_run_reuses_the_stored_posterior(run_dir, synthetic_csv):
    base, cache, out, first = run_dir
    stored = sorted(cache.glob("*.nc"))
    assert len(stored) == 1
    mtime = stored[0].stat().st_mtime_ns
    again = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(base / "again"),
                "--cache", str(cache), "--allow-unreliable", *SMALL)
    assert again.returncode == 0, again.stderr
    assert stored[0].stat().st_mtime_ns == mtime
    def content(path):  # all but the time it was written
        return {k: v for k, v in json.loads(path.read_text()).items() if k != "created_at"}

    assert content(base / "again" / "forecast.json") == content(out / "forecast.json")


def test_no_charts_writes_the_same_numbers_without_drawing(run_dir, synthetic_csv):
    base, cache, out, _ = run_dir
    quick = base / "quick"
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(quick),
               "--cache", str(cache), "--allow-unreliable", "--no-charts", *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in quick.iterdir()) == ["forecast.json", "survival.csv"]
    same = [json.loads((d / "forecast.json").read_text()) for d in (quick, out)]
    assert same[0]["p_fall_within"] == same[1]["p_fall_within"]


def test_brief_prints_only_the_table_by_date(run_dir, synthetic_csv):
    base, cache, _, _ = run_dir
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(base / "brief"),
               "--cache", str(cache), "--allow-unreliable", "--no-charts", "--brief",
               "--as-of", "2021-08-17", "--as-of", "2021-08-20", *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert "how the forecast was built" not in proc.stdout  # no full forecast printed
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith("  2021-08-")]
    assert [r.split()[0] for r in rows] == ["2021-08-17", "2021-08-20"]
    assert (base / "brief" / "by_date.csv").is_file()


def _read_until(proc, word: str, seen: list[str], timeout: float = 300.0, stream=None) -> None:
    """Read the process's output lines (``stream``: default its stdout) into ``seen`` until one
    holds ``word``."""
    import selectors
    import time

    stream = stream or proc.stdout
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sel.select(timeout=1.0):
            continue
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if word in line:
            return
    proc.kill()
    raise AssertionError(f"no line with {word!r} in:\n{''.join(seen)}\n{proc.stderr.read()}")


def test_watch_forecasts_again_on_each_change_and_keeps_the_last_good_one(run_dir, synthetic_csv,
                                                                          tmp_path):
    """One process: a forecast, then one per change of the case file. An edit gives the numbers
    a separate `forecast run` of the edited file gives; a bad edit prints one line and leaves the
    last good files as they were; so does an --out that can no longer be written; after
    --max-updates changes it stops with status 0."""
    import subprocess

    from test_cli import BIN

    _, cache, _, _ = run_dir
    case, out = tmp_path / "case.yaml", tmp_path / "watched"
    text = PANJSHIR.read_text()
    assert text.count("as_of: 2021-08-20") == 1
    case.write_text(text)
    common = ("--data", str(synthetic_csv), "--cache", str(cache), "--allow-unreliable",
              "--no-charts", *SMALL)
    proc = subprocess.Popen([BIN, "watch", str(case), "--out", str(out), "--interval", "0.1",
                             "--max-updates", "3", *common], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(tmp_path))
    seen: list[str] = []
    _read_until(proc, "watching", seen)
    first = json.loads((out / "forecast.json").read_text())
    assert first["as_of"] == "2021-08-20"
    case.write_text(text.replace("as_of: 2021-08-20", "as_of: 2021-08-25"))
    _read_until(proc, "updated in", seen)
    second = json.loads((out / "forecast.json").read_text())
    assert second["as_of"] == "2021-08-25" and second["p_fall_within"] != first["p_fall_within"]
    case.write_text(text.replace("as_of: 2021-08-20", "as_of: 2021-08-41"))
    errors: list[str] = []
    _read_until(proc, "forecast: error", errors, stream=proc.stderr)
    out.rename(tmp_path / "kept")  # --out replaced by a file: the next good edit cannot be written
    out.write_text("not a directory")
    case.write_text(text.replace("as_of: 2021-08-20", "as_of: 2021-08-26"))
    rest, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    errors += err.splitlines(keepends=True)
    assert "Traceback" not in "".join(errors)
    assert [e.rstrip("\n") for e in errors if e.strip()] == [
        f"forecast: error: {case}, key 'as_of': '2021-08-41' is not an ISO date (YYYY-MM-DD) "
        "(the last good forecast is kept)",
        f"forecast: error: {out}: cannot write the forecast (File exists); watching goes on"]
    assert json.loads((tmp_path / "kept" / "forecast.json").read_text()) == second
    assert out.read_text() == "not a directory"
    assert "P(falls within 7 / 30 / 90 / 365 days)" in "".join(seen)
    # the same numbers as a new process running the edited file
    case.write_text(text.replace("as_of: 2021-08-20", "as_of: 2021-08-25"))
    direct = run("run", str(case), "--out", str(tmp_path / "direct"), *common)
    assert direct.returncode == 0, direct.stderr
    again = json.loads((tmp_path / "direct" / "forecast.json").read_text())
    assert {k: v for k, v in again.items() if k != "created_at"} == \
        {k: v for k, v in second.items() if k != "created_at"}


def test_watch_refuses_a_bad_interval_in_one_line(tmp_path):
    for bad in (("--interval", "0"), ("--interval", "nan"), ("--interval", "1e10"),
                ("--max-updates", "-2")):
        proc = run("watch", str(PANJSHIR), "--out", str(tmp_path / "w"), *bad)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and bad[0] in proc.stderr
        assert not (tmp_path / "w").exists()


def test_as_of_moves_the_conditioning_point(run_dir, synthetic_csv):
    base, cache, _, _ = run_dir
    out = base / "later"
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out), "--cache",
               str(cache), "--allow-unreliable", "--as-of", "2021-09-01", *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "forecast.json").read_text())["held_days"] == 17


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--as-of", "2021-08-01"), "before start_date"),
        (("--as-of", "2021-09-30"), "after the outcome's end_date"),
        (("--as-of", "next week"), "not an ISO date"),
        (("--model", "gompertz"), "unknown model 'gompertz'"),
        (("--draws", "0"), "--draws"),
    ],
)
def test_bad_run_input_is_one_line_exit_2_and_writes_nothing(run_dir, synthetic_csv, extra, message):
    base, cache, _, _ = run_dir
    out = base / "never"
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out),
               "--cache", str(cache), *SMALL, *extra)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_mismatched_or_corrupt_posterior_is_refused(run_dir, tmp_path):
    base, cache, _, _ = run_dir
    stored = next(cache.glob("*.nc"))
    out = base / "mismatch"
    # the stored posterior was fitted to the synthetic data, not the shipped reference class
    proc = run("run", str(PANJSHIR), "--posterior", str(stored), "--out", str(out), *SMALL)
    assert proc.returncode == 2 and "does not match" in proc.stderr and not out.exists()
    broken = tmp_path / "broken.nc"
    broken.write_bytes(stored.read_bytes()[:500])
    proc = run("run", str(PANJSHIR), "--posterior", str(broken), "--out", str(out), *SMALL)
    assert proc.returncode == 2 and "not a readable stored posterior" in proc.stderr
    assert not out.exists()


@pytest.mark.slow  # a long MCMC check: `make test-slow`, run by .ci/run after make test
def test_unreliable_posterior_is_refused_unless_allowed(tmp_path, synthetic_csv, run_dir):
    _, cache, _, _ = run_dir
    out = tmp_path / "out"
    # the gate is the subject: without statements (their MCMC fallback would compile a second model)
    tiny = ("--draws", "20", "--tune", "20", "--chains", "2", "--seed", "1", "--no-statements")
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out),
               "--cache", str(cache), *tiny)
    assert proc.returncode == 3 and "diagnostics gate" in proc.stderr and not out.exists()
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out),
               "--cache", str(cache), "--allow-unreliable", *tiny)
    assert proc.returncode == 0
    assert json.loads((out / "forecast.json").read_text())["diagnostics"]["reliable"] is False
    assert "UNRELIABLE" in proc.stdout


def test_models_lists_the_three_models():
    proc = run("models")
    assert proc.returncode == 0
    for name in ("weibull", "lognormal", "loglogistic"):
        assert name in proc.stdout


def test_run_with_statements_records_claims_weights_and_decomposition(run_dir):
    _, _, out, proc = run_dir
    record = json.loads((out / "forecast.json").read_text())
    assert {"claims", "pareto_k", "decomposition", "combination"} <= set(record)
    by_statement = {c["statement"]: c for c in record["claims"]}
    assert {"kugelman_quickly", "sayed_couple_of_months"} <= set(by_statement)
    from forecast.elicit.lexicon import load_role_weights

    # the independent analysts' fitted calibration (data/lexicon/calibration.yaml)
    assert by_statement["kugelman_quickly"]["beta"] == load_role_weights()["independent_analyst"]
    assert "quickly" in by_statement["kugelman_quickly"]["reading"]
    stages = [s["stage"] for s in record["decomposition"]]
    assert stages[0].startswith("reference class") and stages[1] == "+ indicators"
    assert stages[-1].startswith("all statements together") and any("kugelman_quickly" in s for s in stages)
    assert {"stated_p", "base_rate", "log_bayes_factor"} <= set(record["evidence"][0])
    assert "how the forecast was built" in proc.stdout


def test_unknown_phrase_in_a_claim_is_one_line_exit_2(run_dir, synthetic_csv, tmp_path):
    _, cache, _, _ = run_dir
    case = tmp_path / "case.yaml"
    case.write_text(PANJSHIR.read_text().replace("{phrase: will}", "{phrase: wibbly}"))
    out = tmp_path / "out"
    proc = run("run", str(case), "--data", str(synthetic_csv), "--out", str(out), "--cache",
               str(cache), "--allow-unreliable", *SMALL)
    assert proc.returncode == 2 and not out.exists()
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "statement 'kugelman_quickly'" in line and "wibbly" in line


@pytest.fixture(scope="module")
def recorded(run_dir, synthetic_csv):
    """The Panjshir forecast recorded in a ledger, its outcome entered from the case file."""
    base, cache, _, _ = run_dir
    ledger = base / "ledger.sqlite"
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(base / "rec"),
               "--cache", str(cache), "--allow-unreliable", "--record", "--ledger", str(ledger), *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert "recorded the forecast as of 2021-08-20 as #1" in proc.stdout
    out = run("outcome", "--from-case", str(PANJSHIR), "--ledger", str(ledger))
    assert out.returncode == 0, out.stderr
    assert "panjshir_2021: fell on 2021-09-06: recorded" in out.stdout
    return base, ledger


def test_recorded_forecast_is_scored_beside_both_climatologies(recorded):
    base, ledger = recorded
    table = base / "scores.csv"
    proc = run("score", "--ledger", str(ledger), "--out", str(table), "--date", "2026-01-01")
    assert proc.returncode == 0, proc.stderr
    import pandas as pd

    scores = pd.read_csv(table)
    # the case has statements: the model without them and the statements without the model too
    from models import DEFAULT

    assert set(scores["model"]) == {DEFAULT, "climatology_km", "climatology_aj",
                                    "indicators_only", "experts_only"}
    fc = json.loads((base / "rec" / "forecast.json").read_text())
    row = scores[scores["model"] == DEFAULT].iloc[0]
    # it fell 17 days after as_of: "within 7 days" was a no, "within 30 days" a yes
    p7, p30 = fc["p_fall_within"]["7"], fc["p_fall_within"]["30"]
    assert row["brier_7"] == pytest.approx(p7**2, abs=1e-3)
    assert row["brier_30"] == pytest.approx((1 - p30) ** 2, abs=1e-3)
    assert row["status"] == "fell"
    assert "climatology_aj" in proc.stdout and "twcrps" in proc.stdout


def test_history_lists_the_forecasts_with_their_scores(recorded):
    _, ledger = recorded
    proc = run("history", "panjshir_2021", "--ledger", str(ledger))
    assert proc.returncode == 0, proc.stderr
    assert "5 recorded forecasts; outcome: fell on 2021-09-06" in proc.stdout
    assert proc.stdout.count("2021-08-20") == 5


def test_outcome_again_is_a_no_op_and_a_conflict_is_refused(recorded):
    _, ledger = recorded
    same = run("outcome", "panjshir_2021", "--type", "fell", "--date", "2021-09-06", "--ledger", str(ledger))
    assert same.returncode == 0 and "already recorded" in same.stdout
    for args in (("--type", "relieved", "--date", "2021-09-06"),   # conflicts with the fall
                 ("--type", "vanished", "--date", "2021-09-06"),   # unknown type
                 ("--type", "fell", "--date", "2021-02-30")):      # not a date
        bad = run("outcome", "panjshir_2021", *args, "--ledger", str(ledger))
        assert bad.returncode == 2, bad.stdout
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    unknown = run("outcome", "no_such_case", "--type", "fell", "--date", "2021-09-06",
                  "--ledger", str(ledger))
    assert unknown.returncode == 2 and "unknown case" in unknown.stderr
    from forecast.ledger import Ledger

    with Ledger(ledger, create=False) as led:  # nothing was written by the refused calls
        assert led.cases() == ["panjshir_2021"]
        assert led.outcome("panjshir_2021") == ("fell", date(2021, 9, 6))


def test_export_and_import_round_trip_in_hubverse_format(recorded, tmp_path):
    _, ledger = recorded
    csv_path = tmp_path / "hub.csv"
    proc = run("export", "--out", str(csv_path), "--ledger", str(ledger))
    assert proc.returncode == 0, proc.stderr
    import pandas as pd

    hub = pd.read_csv(csv_path)
    assert {"model_id", "output_type", "output_type_id", "value"} <= set(hub.columns)
    assert {"cdf", "quantile"} <= set(hub["output_type"])
    fresh = tmp_path / "fresh.sqlite"
    imp = run("import", str(csv_path), "--ledger", str(fresh))
    assert imp.returncode == 0, imp.stderr
    assert "imported 5 forecasts" in imp.stdout


def test_a_file_that_is_not_a_ledger_is_refused_untouched(tmp_path, run_dir, synthetic_csv):
    not_ledger = tmp_path / "notes.txt"
    not_ledger.write_text("my notes, not a ledger\n" * 20)
    before = not_ledger.read_bytes()
    proc = run("score", "--ledger", str(not_ledger))
    assert proc.returncode == 2 and "is not a forecast ledger" in proc.stderr
    assert "Traceback" not in proc.stderr and not_ledger.read_bytes() == before


def test_plain_headline_first_and_statistics_only_when_verbose(run_dir, synthetic_csv):
    base, cache, _, first = run_dir
    assert "that it falls within 30 days" in first.stdout.splitlines()[2]
    assert "R-hat" not in first.stdout and "Beta(" not in first.stdout and "k-hat" not in first.stdout
    verbose = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(base / "verbose"),
                  "--cache", str(cache), "--allow-unreliable", "--verbose", *SMALL)
    assert verbose.returncode == 0, verbose.stderr
    assert "R-hat" in verbose.stdout and "Beta(" in verbose.stdout and "k-hat" in verbose.stdout
    # each note once (claims' notes used to be printed with the forecast and again after it)
    notes = [ln for ln in verbose.stdout.splitlines() if ln.strip().startswith("note:")]
    assert len(notes) == len(set(notes))


def test_forecast_json_says_when_it_was_made_and_is_not_overwritten(run_dir, synthetic_csv):
    base, cache, out, _ = run_dir
    record = json.loads((out / "forecast.json").read_text())
    assert record["created_at"].startswith("20")
    before = (out / "forecast.json").read_bytes()
    again = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out),
                "--cache", str(cache), "--allow-unreliable", *SMALL)
    assert again.returncode == 2 and "already holds a forecast" in again.stderr
    assert (out / "forecast.json").read_bytes() == before
    forced = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out),
                 "--cache", str(cache), "--allow-unreliable", "--overwrite", *SMALL)
    assert forced.returncode == 0, forced.stderr
    as_file = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out / "forecast.json"),
                  "--cache", str(cache), *SMALL)
    assert as_file.returncode == 2 and "is an existing file" in as_file.stderr
    assert "Traceback" not in as_file.stderr


def test_several_dates_in_one_run_one_fit(run_dir, synthetic_csv):
    base, cache, _, _ = run_dir
    out = base / "dates"
    stored = sorted(cache.glob("*.nc"))
    proc = run("run", str(PANJSHIR), "--data", str(synthetic_csv), "--out", str(out), "--cache", str(cache),
               "--allow-unreliable", "--as-of", "2021-08-31", "--as-of", "2021-08-17", "--as-of-every", "7d",
               *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert sorted(cache.glob("*.nc")) == stored  # the one stored fit served every date
    import pandas as pd

    table = pd.read_csv(out / "by_date.csv")
    # --as-of dates, every 7 days from the start (2021-08-22) up to the case's as_of (2021-08-20: none
    # before it), and the case's as_of itself
    assert list(table["as_of"]) == ["2021-08-17", "2021-08-20", "2021-08-31"]
    for d in table["as_of"]:
        rec = json.loads((out / d / "forecast.json").read_text())
        assert rec["as_of"] == d
        row = table[table["as_of"] == d].iloc[0]
        assert row["p_fall_within_30"] == rec["p_fall_within"]["30"]
    assert "median days left" in proc.stdout


def test_bad_numbers_fail_before_any_work(tmp_path):
    import time

    for args in (("--seed", "-5"), ("--draws", "0"), ("--chains", "100")):
        t = time.monotonic()
        proc = run("run", str(PANJSHIR), "--out", str(tmp_path / "x"), *args)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert not (tmp_path / "x").exists()
        assert time.monotonic() - t < 30  # not after a fit (a fit compiles for 20 s or more)
