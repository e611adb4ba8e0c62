"""The ledger: exact round trips, many writers, crashes, immutability, schema versions, refusal
of other files, outcome rules and the hubverse format."""

from __future__ import annotations

import csv
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from ledger_worker import make_record

import forecast.ledger as ledger_module
from forecast.errors import InputError
from forecast.hubverse import HUBVERSE_COLUMNS, QUANTILE_LEVELS
from forecast.ledger import (
    APPLICATION_ID,
    SCHEMA_V1,
    SCHEMA_VERSION,
    Ledger,
    default_ledger_path,
)
from forecast.outcomes import OUTCOME_TYPES
from forecast.predictive import ForecastRecord, Predictive, standard_grid

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "ledger_worker.py"


def record(case_id: str = "valley", *, as_of: date = date(2021, 8, 20), kind: str = "forecast",
           scale: float = 100.0, **kw) -> ForecastRecord:
    grid = standard_grid()
    fields = dict(case_id=case_id, case_name=f"Siege of {case_id}", start_date=date(2021, 8, 1),
                  as_of=as_of, model="weibull", model_id="abc123", dataset_hash="d1", seed=7, kind=kind,
                  predictive=Predictive.from_survival(grid, np.exp(-grid / scale)),
                  summary={"p_fall_30": 0.26, "median_days": 69.3}, claims=[{"id": "s1", "weight": 0.5}],
                  extra={"run": "r1"})
    return ForecastRecord(**{**fields, **kw})


def assert_same(got: ForecastRecord, want: ForecastRecord, *, issued_at: bool = True) -> None:
    """Equal field by field, the arrays bit for bit."""
    for f in dataclasses.fields(ForecastRecord):
        if f.name == "predictive":
            for arr in ("days", "cdf"):
                a, b = getattr(got.predictive, arr), getattr(want.predictive, arr)
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), arr
        elif f.name != "issued_at" or issued_at:
            assert getattr(got, f.name) == getattr(want, f.name), f.name


def dump(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("forecasts", "outcomes", "standing", "backtest_runs")}
    finally:
        con.close()


def integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def run_worker(path: Path, worker: int, count: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(WORKER), str(path), str(worker), str(count), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)


# -- round trip -----------------------------------------------------------------------------------

def test_record_reads_back_bit_for_bit_and_its_uid_is_idempotent(tmp_path):
    rec = record()
    with Ledger(tmp_path / "l.sqlite") as ledger:
        fid = ledger.record(rec)
        got = ledger.get(fid)
        assert_same(got, rec, issued_at=False)
        assert got.issued_at.endswith("+00:00") and got.issued_at[:4].isdigit()
        assert got.uid() == rec.uid()
        again = dataclasses.replace(rec, issued_at="2030-01-01T00:00:00+00:00")
        assert ledger.record(rec) == fid and ledger.record(again) == fid
        other = record(scale=101.0)
        assert ledger.record_many([rec, other]) == [fid, fid + 1]
        assert [i for i, _ in ledger.forecasts()] == [fid, fid + 1]
        assert ledger.get(fid).issued_at == got.issued_at
    with Ledger(tmp_path / "l.sqlite", create=False) as ledger:  # reopened: still there
        assert_same(ledger.get(fid + 1), other, issued_at=False)


def test_numpy_values_in_json_fields_are_stored_as_plain_json(tmp_path):
    rec = record(summary={"p": np.float64(0.25), "n": np.int64(3), "q": np.array([1.0, 2.0])})
    with Ledger(tmp_path / "l.sqlite") as ledger:
        got = ledger.get(ledger.record(rec))
        assert got.summary == {"p": 0.25, "n": 3, "q": [1.0, 2.0]}
        assert type(got.summary["n"]) is int
        assert ledger.record(rec) == 1
        with pytest.raises(InputError, match="JSON"):
            ledger.record(record(extra={"obj": object()}))


def test_a_bad_record_in_a_batch_writes_none_of_the_batch(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        with pytest.raises(InputError, match="column 'kind'.*'guess' is not one of"):
            ledger.record_many([record(), record(scale=50.0), record(kind="guess")])
        with pytest.raises(InputError, match="before the start date"):
            ledger.record(record(as_of=date(2021, 7, 1)))
        assert ledger.forecasts() == []


def test_forecasts_are_filtered_and_ordered_by_as_of(tmp_path):
    recs = [record("b", as_of=date(2021, 9, 1)), record("a", as_of=date(2021, 8, 25), kind="baseline"),
            record("a", as_of=date(2021, 8, 21), model="lognormal", extra={"run": "r2", "fold": 3})]
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ids = ledger.record_many(recs)
        assert [i for i, _ in ledger.forecasts()] == [ids[2], ids[1], ids[0]]
        assert [i for i, _ in ledger.forecasts(case_id="a")] == [ids[2], ids[1]]
        assert [i for i, _ in ledger.forecasts(kind="baseline")] == [ids[1]]
        assert [i for i, _ in ledger.forecasts(model="lognormal")] == [ids[2]]
        assert [i for i, _ in ledger.forecasts(extra_filter={"run": "r1"})] == [ids[1], ids[0]]
        assert [i for i, _ in ledger.forecasts(case_id="a", extra_filter={"fold": 3})] == [ids[2]]
        assert ledger.forecasts(extra_filter={"missing": None}) == []
        assert ledger.cases() == ["a", "b"]
        with pytest.raises(InputError, match="no forecast with id 99"):
            ledger.get(99)


def test_default_ledger_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("FORECAST_LEDGER", raising=False)
    monkeypatch.setenv("FORECAST_CACHE", str(tmp_path / "cache"))
    assert default_ledger_path() == tmp_path / "cache" / "ledger.sqlite"
    monkeypatch.delenv("FORECAST_CACHE")
    assert default_ledger_path() == Path(".cache/forecast/ledger.sqlite")
    monkeypatch.setenv("FORECAST_LEDGER", str(tmp_path / "x.sqlite"))
    assert default_ledger_path() == tmp_path / "x.sqlite"


def test_file_settings_and_missing_parent_directory(tmp_path):
    path = tmp_path / "a" / "b" / "ledger.sqlite"
    with pytest.raises(InputError, match="no forecast ledger"):
        Ledger(path, create=False)
    assert not path.exists()
    Ledger(path).close()
    con = sqlite3.connect(path)
    assert [con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version",
                                                                 "journal_mode")] == [
        APPLICATION_ID, SCHEMA_VERSION, "wal"]
    con.close()


# -- many processes, crashes ----------------------------------------------------------------------

def test_eight_processes_recording_fifty_forecasts_each_at_once(tmp_path):
    path, go = tmp_path / "shared.sqlite", tmp_path / "go"
    procs = [run_worker(path, w, 50, "--go", str(go)) for w in range(8)]  # they also race to create it
    go.touch()
    written = {}
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        for line in out.splitlines():
            worker, i, fid = map(int, line.split())
            written[(worker, i)] = fid
    assert len(written) == 400 and len(set(written.values())) == 400
    assert integrity(path) == "ok"
    with Ledger(path) as ledger:
        stored = ledger.forecasts()
        assert len(stored) == 400
        for (w, i), fid in written.items():
            assert_same(ledger.get(fid), make_record(w, i))


def test_a_process_killed_while_recording_leaves_only_complete_records(tmp_path):
    path = tmp_path / "crash.sqlite"
    proc = run_worker(path, 3, 40, "--big")
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(int(line.split()[1]))
        if len(seen) >= 3:
            break
    proc.send_signal(signal.SIGKILL)  # it is already recording the next one
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    proc.stdout.close()
    proc.stderr.close()
    assert len(seen) == 3 and Path(f"{path}-wal").exists()  # the crashed writer's log is still there
    with Ledger(path) as ledger:  # opened first by the ledger itself, which recovers the log
        assert integrity(path) == "ok"
        stored = ledger.forecasts()
        assert len(stored) >= len(seen)
        for _, rec in stored:
            assert_same(rec, make_record(3, rec.extra["i"], big=True))
        assert {rec.extra["i"] for _, rec in stored} == set(range(len(stored)))
        new = ledger.record(record())
        assert_same(ledger.get(new), record(), issued_at=False)
    assert integrity(path) == "ok"


# -- immutability ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE forecasts SET seed = 8",
    "UPDATE forecasts SET cdf = grid",
    "DELETE FROM forecasts",
    "INSERT OR REPLACE INTO forecasts SELECT * FROM forecasts",
    "UPDATE outcomes SET type = 'relieved'",
    "DELETE FROM outcomes",
    "INSERT OR REPLACE INTO outcomes SELECT * FROM outcomes",
    "DELETE FROM standing",
    "UPDATE backtest_runs SET summary_json = '{}'",
    "DELETE FROM backtest_runs",
])
def test_stored_rows_cannot_be_changed_through_raw_sqlite(tmp_path, sql):
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        ledger.record(record())
        ledger.record_outcome("valley", "standing", date(2021, 8, 30))
        ledger.record_outcome("valley", "fell", date(2021, 9, 6))
        ledger.store_backtest("run1", {"crps": 1.5}, "case_id,crps\nvalley,1.5\n")
    before = dump(path)
    con = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        con.execute(sql)
    con.commit()
    con.close()
    assert dump(path) == before


def test_backtest_runs_are_stored_once(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        assert ledger.store_backtest("r1", {"crps": 2.0, "cases": 90}, "a,b\n1,2\n") is True
        assert ledger.store_backtest("r1", {"cases": 90, "crps": 2.0}, "a,b\n1,2\n") is False
        with pytest.raises(InputError, match="already stored"):
            ledger.store_backtest("r1", {"crps": 2.5}, "a,b\n1,2\n")
        ledger.store_backtest("r2", {"crps": 1.0}, "")
        runs = ledger.backtests()
        assert [r["run_id"] for r in runs] == ["r1", "r2"]
        assert runs[0]["summary"] == {"crps": 2.0, "cases": 90} and runs[0]["table_csv"] == "a,b\n1,2\n"


# -- schema versions, foreign files ---------------------------------------------------------------

def _v1_ledger(path: Path, rec: ForecastRecord) -> None:
    """A ledger as version 1 wrote it: one forecast (no kind column) and its outcome."""
    con = sqlite3.connect(path)
    con.executescript(SCHEMA_V1)
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    p = rec.predictive
    con.execute("INSERT INTO forecasts (uid, issued_at, case_id, case_name, start_date, as_of, held_days,"
                " model, model_id, dataset_hash, seed, summary_json, claims_json, extra_json, grid, cdf)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rec.uid(), "2022-01-01T00:00:00+00:00", rec.case_id, rec.case_name, "2021-08-01",
                 "2021-08-20", 19, rec.model, rec.model_id, rec.dataset_hash, rec.seed,
                 '{"p_fall_30": 0.26, "median_days": 69.3}', '[{"id": "s1", "weight": 0.5}]',
                 '{"run": "r1"}', p.days.astype("<f8").tobytes(), p.cdf.astype("<f8").tobytes()))
    con.execute("INSERT INTO outcomes VALUES ('valley', 'fell', '2021-09-06', '2022-01-02', NULL, NULL)")
    con.commit()
    con.close()


def test_a_version_1_ledger_migrates_and_keeps_its_records(tmp_path):
    path, rec = tmp_path / "v1.sqlite", record()
    _v1_ledger(path, rec)
    with Ledger(path) as ledger:
        [(fid, got)] = ledger.forecasts(kind="forecast")
        assert_same(got, dataclasses.replace(rec, issued_at="2022-01-01T00:00:00+00:00"))
        assert ledger.record(rec) == fid
        assert ledger.outcome("valley") == ("fell", date(2021, 9, 6))
        assert ledger.record_outcome("valley", "standing", date(2021, 8, 30)) is True
        assert ledger.outcome("valley") == ("fell", date(2021, 9, 6))
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        con.execute("DELETE FROM forecasts")
    con.close()


def dump_v1(path: Path) -> list:
    con = sqlite3.connect(path)
    try:
        return [con.execute(f"SELECT * FROM {t}").fetchall()
                for t in ("forecasts", "outcomes", "sqlite_master")]
    finally:
        con.close()


def test_a_failed_migration_leaves_the_old_ledger_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "v1.sqlite"
    _v1_ledger(path, record())
    before = dump_v1(path)
    broken = ledger_module.MIGRATIONS[1] + "CREATE TABLE standing (x);"  # fails after most of v2
    monkeypatch.setattr(ledger_module, "MIGRATIONS", (ledger_module.MIGRATIONS[0], broken))
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        Ledger(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "kind" not in [r[1] for r in con.execute("PRAGMA table_info(forecasts)")]
    assert con.execute("SELECT name FROM sqlite_master WHERE name = 'standing'").fetchall() == []
    con.close()
    assert dump_v1(path) == before


def _sqlite_of_another_app(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("INSERT INTO notes (body) VALUES ('keep me')")
    con.commit()
    con.close()


def _newer_ledger(path: Path) -> None:
    Ledger(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_bytes(np.random.default_rng(1).bytes(5000)), "not an SQLite file"),
    (lambda p: p.write_text("case_id,type\nvalley,fell\n" * 20), "not an SQLite file"),
    (lambda p: p.write_bytes(b"\x00" * 3), "not an SQLite file"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + np.random.default_rng(2).bytes(8000)),
     "not a forecast ledger"),
    (_sqlite_of_another_app, "application_id 0x0"),
    (_newer_ledger, "newer than this code"),
])
def test_a_file_that_is_not_a_ledger_is_refused_and_left_untouched(tmp_path, make, message):
    path = tmp_path / "other.db"
    make(path)
    before, listing = path.read_bytes(), sorted(os.listdir(tmp_path))
    for create in (True, False):
        with pytest.raises(InputError, match=message) as info:
            Ledger(path, create=create)
        assert info.value.where == str(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == listing


# -- outcomes -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("valley", "captured", date(2021, 9, 6)), "'captured' is not one of: " + ", ".join(OUTCOME_TYPES)),
    (("pass", "fell", date(2021, 9, 6)), "unknown case 'pass'"),
    (("valley", "fell", date(2021, 7, 31)), "before the case's start date 2021-08-01"),
    (("valley", "standing", date(2021, 7, 31)), "before the case's start date"),
    (("valley", "relieved", date(2021, 9, 20)), "already recorded as fell on 2021-09-06"),
    (("valley", "fell", date(2021, 9, 7)), "already recorded as fell on 2021-09-06"),
    (("valley", "standing", date(2021, 9, 6)), "not before its recorded end"),
    (("valley", "fell", "6 Sept"), "not a date"),
])
def test_outcomes_that_break_a_rule_are_refused_and_write_nothing(tmp_path, args, message):
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        ledger.record(record())
        ledger.record_outcome("valley", "fell", date(2021, 9, 6))
        before = dump(path)
        with pytest.raises(InputError, match=message):
            ledger.record_outcome(*args)
        assert dump(path) == before


def test_standing_observations_then_a_final_end(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        ledger.record(record())
        assert ledger.outcome("valley") is None and ledger.outcomes() == {}
        assert ledger.record_outcome("valley", "standing", date(2021, 8, 25)) is True
        assert ledger.record_outcome("valley", "standing", date(2021, 9, 10), source="wire") is True
        assert ledger.record_outcome("valley", "standing", date(2021, 8, 28)) is True
        assert ledger.record_outcome("valley", "standing", date(2021, 9, 10)) is False
        assert ledger.outcome("valley") == ("standing", date(2021, 9, 10))
        before = dump(path)
        with pytest.raises(InputError, match="not after it was recorded standing on 2021-09-10"):
            ledger.record_outcome("valley", "surrendered", date(2021, 9, 10))
        assert dump(path) == before
        assert ledger.record_outcome("valley", "relieved", date(2021, 10, 1), note="column arrived") is True
        assert ledger.record_outcome("valley", "relieved", date(2021, 10, 1)) is False
        assert ledger.outcome("valley") == ("relieved", date(2021, 10, 1))
        assert ledger.outcomes() == {"valley": ("relieved", date(2021, 10, 1))}
        assert ledger.record_outcome("valley", "standing", date(2021, 9, 20)) is True
        assert len(dump(path)["standing"]) == 4 and len(dump(path)["outcomes"]) == 1


# -- hubverse -------------------------------------------------------------------------------------

def _two_records(tmp_path: Path) -> tuple[Path, list[ForecastRecord]]:
    recs = [record(), record("pass", kind="baseline", scale=40.0, claims=[], summary={},
                             issued_at="2024-05-01T12:00:00+00:00")]
    path = tmp_path / "source.sqlite"
    with Ledger(path) as ledger:
        ledger.record_many(recs)
    return path, recs


def test_hubverse_export_then_import_gives_equal_records(tmp_path):
    src, recs = _two_records(tmp_path)
    out = tmp_path / "hub" / "forecasts.csv"
    with Ledger(src) as ledger:
        frame = ledger.export_hubverse(out)
        stored = [rec for _, rec in ledger.forecasts()]
        assert len(ledger.export_hubverse(case_id="pass")) < len(frame)
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(frame.columns) == list(HUBVERSE_COLUMNS)
    assert list(HUBVERSE_COLUMNS[:7]) == ["model_id", "case_id", "as_of", "target", "output_type",
                                          "output_type_id", "value"]
    assert {r["target"] for r in rows} == {"days_to_fall"} and len(rows) == len(frame)
    valley = [r for r in rows if r["case_id"] == "valley"]
    cdf = [r for r in valley if r["output_type"] == "cdf"]
    grid = recs[0].predictive.days
    assert [float(r["output_type_id"]) for r in cdf] == grid.tolist()
    assert float(cdf[30]["value"]) == pytest.approx(1 - np.exp(-30 / 100))
    quantiles = {float(r["output_type_id"]): float(r["value"])
                 for r in valley if r["output_type"] == "quantile"}
    assert list(quantiles) == list(QUANTILE_LEVELS)
    assert quantiles[0.5] == pytest.approx(100 * np.log(2), abs=0.01)
    assert [r["output_type"] for r in rows].count("quantile") == 2 * len(QUANTILE_LEVELS)
    assert not list(out.parent.glob(".*.tmp"))

    with Ledger(tmp_path / "fresh.sqlite") as fresh:
        assert fresh.import_hubverse(out) == 2
        assert fresh.import_hubverse(out) == 0
        got = [rec for _, rec in fresh.forecasts()]
    assert len(got) == 2
    for g, s in zip(got, stored, strict=True):
        assert_same(g, s)


def test_hubverse_quantiles_the_cdf_never_reaches_are_left_out(tmp_path):
    grid = standard_grid()
    slow = record(predictive=Predictive.from_survival(grid, 0.4 + 0.6 * np.exp(-grid / 10)))
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.record(slow)
        frame = ledger.export_hubverse(output_types=("quantile",))
    assert frame["output_type_id"].tolist() == [q for q in QUANTILE_LEVELS if q < 0.6]
    assert set(frame["output_type"]) == {"quantile"}


@pytest.mark.parametrize(("edit", "message"), [
    ({"drop": "value"}, r"row 1: missing column\(s\): value"),
    ({5: {"value": "high"}}, r"row 7, column 'value': 'high' is not a number"),
    ({5: {"value": "0.5"}}, r"row 2, column 'forecast_uid': \w+ does not match"),
    ({5: {"value": "1.5"}}, r"row 2, column 'value': .*probabilities"),
    ({5: {"output_type_id": "nan"}}, r"row 2, column 'value': .*finite"),
    ({3: {"case_id": "other"}}, r"row 5, column 'case_id': differs from row 2"),
    ({0: {"target": "days_to_relief"}}, r"row 2, column 'target'"),
    ({0: {"output_type": "mean"}}, r"row 2, column 'output_type'"),
    ({"all": {"kind": "guess"}}, r"row 2, column 'kind'.*'guess' is not one of"),
    ({"all": {"as_of": "20/08/2021"}}, r"row 2, column 'as_of'"),
    ({0: {"summary_json": "{oops"}}, r"row 2, column 'summary_json'"),
    ({"drop_cdf": True}, "has no cdf rows of its forecast_uid"),
])
def test_a_malformed_hubverse_file_is_refused_and_writes_nothing(tmp_path, edit, message):
    src, _ = _two_records(tmp_path)
    good = tmp_path / "good.csv"
    with Ledger(src) as ledger:
        ledger.export_hubverse(good)
    with good.open(newline="") as fh:
        reader = csv.DictReader(fh)
        rows, cols = list(reader), list(reader.fieldnames or [])
    for key, change in edit.items():
        if key == "drop":
            cols.remove(change)
        elif key == "drop_cdf":
            rows = [r for r in rows if r["output_type"] != "cdf"]
        elif key == "all":
            rows = [{**r, **change} for r in rows]
        else:
            rows[key] = {**rows[key], **change}
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, cols, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    path = tmp_path / "target.sqlite"
    with Ledger(path) as ledger:
        ledger.record(record("kept"))
        before = dump(path)
        with pytest.raises(InputError, match=message) as info:
            ledger.import_hubverse(bad)
        assert info.value.where.startswith(str(bad))
        assert dump(path) == before


def test_a_hubverse_file_that_is_not_csv_text_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with Ledger(tmp_path / "l.sqlite") as ledger:
        with pytest.raises(InputError, match="UTF-8"):
            ledger.import_hubverse(bad)
        with pytest.raises(InputError, match="cannot be read"):
            ledger.import_hubverse(tmp_path / "missing.csv")
        bad.write_text("")
        with pytest.raises(InputError, match="missing column"):
            ledger.import_hubverse(bad)
        src, _ = _two_records(tmp_path)
        with Ledger(src) as other:
            lines = other.export_hubverse().to_csv(index=False).splitlines()
        lines[3] = ",".join(lines[3].split(",")[:5])
        bad.write_text("\n".join(lines))
        with pytest.raises(InputError, match="row 4: does not have as many fields"):
            ledger.import_hubverse(bad)
        assert ledger.forecasts() == []
