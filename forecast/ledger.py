"""The ledger: one SQLite file recording forecasts, outcomes and backtest runs.

Forecasts are immutable (triggers refuse UPDATE, DELETE and INSERT OR REPLACE); outcomes are
recorded separately, as one final end per case plus any number of "still standing on D"
observations; scores are recomputed from both. Every write is one ``BEGIN IMMEDIATE`` transaction
in WAL mode with a busy timeout, so many processes can record into one file at once. The grid and
CDF of a forecast are stored as little-endian float64 bytes and read back bit for bit.

The hubverse long-format export and import (:meth:`Ledger.export_hubverse`,
:meth:`Ledger.import_hubverse`) are in :mod:`forecast.hubverse`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast import hubverse
from forecast.errors import InputError
from forecast.hubverse import jsonable, record_fields, record_from_fields, utc_now
from forecast.outcomes import OUTCOME_TYPES, STANDING
from forecast.predictive import KINDS, ForecastRecord, Predictive

#: ``PRAGMA application_id`` of a forecast ledger ("HOLD").
APPLICATION_ID = 0x484F4C44
#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 30.0

_IMMUTABLE = """
CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} BEGIN SELECT RAISE(ABORT, '{t} are immutable'); END;
CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} BEGIN SELECT RAISE(ABORT, '{t} are immutable'); END;
"""
_NO_REPLACE = """
CREATE TRIGGER {t}_no_replace BEFORE INSERT ON {t} WHEN EXISTS (SELECT 1 FROM {t} WHERE {cond})
BEGIN SELECT RAISE(ABORT, '{t} are immutable'); END;
"""

#: Schema version 1: forecasts without a kind; final outcomes only.
SCHEMA_V1 = """
CREATE TABLE forecasts (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, issued_at TEXT NOT NULL,
    case_id TEXT NOT NULL, case_name TEXT NOT NULL, start_date TEXT NOT NULL, as_of TEXT NOT NULL,
    held_days INTEGER NOT NULL, model TEXT NOT NULL, model_id TEXT NOT NULL,
    dataset_hash TEXT NOT NULL, seed INTEGER NOT NULL, summary_json TEXT NOT NULL,
    claims_json TEXT NOT NULL, extra_json TEXT NOT NULL, grid BLOB NOT NULL, cdf BLOB NOT NULL);
CREATE INDEX forecasts_case ON forecasts (case_id, as_of);
CREATE TABLE outcomes (case_id TEXT PRIMARY KEY, type TEXT NOT NULL, end_date TEXT NOT NULL,
    recorded_at TEXT NOT NULL, note TEXT, source TEXT);
CREATE TABLE backtest_runs (run_id TEXT PRIMARY KEY, created_at TEXT NOT NULL,
    summary_json TEXT NOT NULL, table_csv TEXT NOT NULL);
""" + "".join(_IMMUTABLE.format(t=t) for t in ("forecasts", "outcomes", "backtest_runs"))

#: Version 1 -> 2: a record kind (old rows are analysts' forecasts), standing observations, and
#: triggers that refuse INSERT OR REPLACE over an existing row.
_V1_TO_V2 = """
ALTER TABLE forecasts ADD COLUMN kind TEXT NOT NULL DEFAULT 'forecast';
CREATE INDEX forecasts_kind ON forecasts (kind);
CREATE INDEX forecasts_as_of ON forecasts (as_of);
CREATE TABLE standing (id INTEGER PRIMARY KEY, case_id TEXT NOT NULL, on_date TEXT NOT NULL,
    recorded_at TEXT NOT NULL, note TEXT, source TEXT, UNIQUE (case_id, on_date));
""" + _IMMUTABLE.format(t="standing") + "".join(_NO_REPLACE.format(t=t, cond=c) for t, c in (
    ("forecasts", "uid = NEW.uid OR id = NEW.id"), ("outcomes", "case_id = NEW.case_id"),
    ("backtest_runs", "run_id = NEW.run_id"),
    ("standing", "(case_id = NEW.case_id AND on_date = NEW.on_date) OR id = NEW.id")))

#: Version 2 -> 3: the claims a recorded forecast used, machine-readable, so that they are scored
#: against the case's outcome and join the speakers' record (``forecast experts --ledger``).
_V2_TO_V3 = """
CREATE TABLE claims (id INTEGER PRIMARY KEY, case_id TEXT NOT NULL, label TEXT NOT NULL,
    statement_id TEXT NOT NULL, speaker TEXT NOT NULL, role TEXT NOT NULL, start_date TEXT NOT NULL,
    stated_day REAL NOT NULL, kind TEXT NOT NULL, by_lo REAL, by_hi REAL, start_lo REAL,
    start_hi REAL, p REAL NOT NULL, logit_var REAL NOT NULL, base_rate REAL NOT NULL,
    source_group TEXT, conditional INTEGER NOT NULL, recorded_at TEXT NOT NULL,
    UNIQUE (case_id, label));
""" + _IMMUTABLE.format(t="claims") + _NO_REPLACE.format(
    t="claims", cond="(case_id = NEW.case_id AND label = NEW.label) OR id = NEW.id")

#: ``MIGRATIONS[v]`` takes a ledger from schema version v to v + 1 (0 = an empty file).
MIGRATIONS: tuple[str, ...] = (SCHEMA_V1, _V1_TO_V2, _V2_TO_V3)
SCHEMA_VERSION = len(MIGRATIONS)


def default_ledger_path() -> Path:
    """``$FORECAST_LEDGER``, else ``ledger.sqlite`` in ``$FORECAST_CACHE`` (``.cache/forecast``)."""
    if os.environ.get("FORECAST_LEDGER"):
        return Path(os.environ["FORECAST_LEDGER"])
    return Path(os.environ.get("FORECAST_CACHE", ".cache/forecast")) / "ledger.sqlite"


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(where, f"'{value}' is not a date (YYYY-MM-DD)") from None


def _state(con: sqlite3.Connection) -> tuple[int, int, set[str]]:
    """application_id, user_version and the names in the schema."""
    app_id = con.execute("PRAGMA application_id").fetchone()[0]
    version = con.execute("PRAGMA user_version").fetchone()[0]
    return app_id, version, {r[0] for r in con.execute("SELECT name FROM sqlite_master")}


def _check_state(path: Path, app_id: int, version: int, names: set[str]) -> int:
    """The schema version to migrate from (0: an empty database to set up); refuses the rest."""
    if app_id == 0 and version == 0 and not names:
        return 0
    if app_id != APPLICATION_ID:
        raise InputError(str(path), f"is not a forecast ledger (an SQLite database with application_id "
                                    f"{app_id:#x}, not {APPLICATION_ID:#x})")
    if version > SCHEMA_VERSION:
        raise InputError(str(path), f"has ledger schema version {version}, newer than this code's "
                                    f"{SCHEMA_VERSION}: upgrade the toolkit to open it")
    if version < 1 or "forecasts" not in names:
        raise InputError(str(path), f"is not a forecast ledger (schema version {version}, tables missing)")
    return version


def _probe(path: Path) -> int | None:
    """Look at an existing file without writing to it: its schema version, or None if absent/empty."""
    if not path.exists():
        return None
    if not path.is_file():
        raise InputError(str(path), "is not a forecast ledger (not a regular file)")
    with path.open("rb") as fh:
        head = fh.read(100)
    if not head:
        return None
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        raise InputError(str(path), "is not a forecast ledger (not an SQLite file)")
    app_id, version = int.from_bytes(head[68:72], "big"), int.from_bytes(head[60:64], "big")
    if app_id not in (0, APPLICATION_ID) or version > SCHEMA_VERSION:  # refused without opening it
        _check_state(path, app_id, version, set())
    try:  # the header may be stale while a write-ahead log is live: ask SQLite, read-only
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                              autocommit=True)
        try:
            con.execute("BEGIN")  # one snapshot for the three reads
            state = _state(con)
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc):
            raise
        raise InputError(str(path), f"is not a forecast ledger (unreadable as SQLite: {exc})") from None
    return _check_state(path, *state)


class Ledger:
    """A forecast ledger in one SQLite file; use as a context manager.

    Parameters
    ----------
    path : str or Path
        The file; created with its parent directory when missing (if ``create``). An existing file
        that is not a ledger, or one of a newer schema, raises :class:`InputError` untouched.
    create : bool
        Whether a missing (or empty) file may be set up as a new ledger.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        version = _probe(self.path)
        if version is None and not create:
            raise InputError(str(self.path), "no forecast ledger here")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, autocommit=True)
        try:
            self._con.row_factory = sqlite3.Row
            self._wal()
            self._con.execute("PRAGMA synchronous = FULL")
            if version != SCHEMA_VERSION:  # set up or migrate, in one transaction
                with self._write() as con:  # re-checked under the lock: another process may be first
                    for script in MIGRATIONS[_check_state(self.path, *_state(con)):]:
                        con.executescript(script)
                    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            self._con.close()
            raise

    def _wal(self) -> None:
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while self._con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                self._con.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:  # another process holds the lock
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one(self, sql: str, *args: Any) -> Any:
        return self._con.execute(sql, args).fetchone()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    # -- forecasts ------------------------------------------------------------------------------

    @staticmethod
    def _prepare(rec: ForecastRecord) -> tuple[str, dict[str, Any]]:
        """Validate a record; its uid (of the record as it will read back) and its row."""
        if not isinstance(rec, ForecastRecord):
            raise InputError("forecast record", f"expected a ForecastRecord, got {type(rec).__name__}")
        where = f"forecast of '{rec.case_id}' as of {rec.as_of}"
        if not rec.case_id or not all(type(d) is date for d in (rec.start_date, rec.as_of)):
            raise InputError(where, "needs a case_id and start_date/as_of dates")
        if rec.as_of < rec.start_date:
            raise InputError(where, f"as_of is before the start date {rec.start_date}")
        try:
            fields = record_fields(rec)
        except (TypeError, ValueError) as exc:
            raise InputError(where, f"summary, claims and extra must be JSON data ({exc})") from None
        p = rec.predictive
        return record_from_fields(fields, p, where).uid(), {
            **fields, "held_days": rec.held_days,
            "grid": p.days.astype("<f8").tobytes(), "cdf": p.cdf.astype("<f8").tobytes()}

    def _insert(self, recs: Iterable[ForecastRecord]) -> list[tuple[int, bool]]:
        """Store records in one transaction: (id, newly written) of each."""
        prepared, out = [self._prepare(r) for r in recs], []
        with self._write() as con:
            for uid, row in prepared:
                if found := self._one("SELECT id FROM forecasts WHERE uid = ?", uid):
                    out.append((found[0], False))
                    continue
                cur = con.execute(f"INSERT INTO forecasts (uid, {', '.join(row)}) VALUES "
                                  f"(?{', ?' * len(row)})", (uid, *row.values()))
                out.append((int(cur.lastrowid or 0), True))
        return out

    def record(self, rec: ForecastRecord) -> int:
        """Store one forecast (``issued_at`` = now, UTC, if empty); its id. A uid already stored
        returns the existing id and writes nothing."""
        return self._insert([rec])[0][0]

    def record_many(self, recs: Iterable[ForecastRecord]) -> list[int]:
        """Store many forecasts in one transaction; their ids, in order."""
        return [i for i, _ in self._insert(recs)]

    def _select(self, where: str = "", args: tuple = (), extra_filter: dict | None = None
                ) -> Iterator[tuple[int, str, ForecastRecord]]:
        sql = f"SELECT * FROM forecasts {where} ORDER BY as_of, issued_at, id"
        for row in self._con.execute(sql, args):
            if extra_filter:
                extra = json.loads(row["extra_json"])
                if any(k not in extra or extra[k] != v for k, v in extra_filter.items()):
                    continue
            pred = Predictive(*(np.frombuffer(row[c], dtype="<f8").astype(float) for c in ("grid", "cdf")))
            yield row["id"], row["uid"], record_from_fields(row, pred, str(self.path))

    def forecasts(self, case_id: str | None = None, kind: str | None = None, model: str | None = None,
                  extra_filter: dict[str, Any] | None = None) -> list[tuple[int, ForecastRecord]]:
        """(id, record) of the stored forecasts matching every filter given, by as_of then issue
        time; ``extra_filter`` keys must be in a record's ``extra`` with equal values."""
        if kind is not None and kind not in KINDS:
            raise InputError("kind", f"'{kind}' is not one of: {', '.join(KINDS)}")
        conds = {k: v for k, v in (("case_id", case_id), ("kind", kind), ("model", model)) if v is not None}
        where = ("WHERE " + " AND ".join(f"{k} = ?" for k in conds)) if conds else ""
        return [(i, rec) for i, _, rec in self._select(where, tuple(conds.values()), extra_filter)]

    def get(self, forecast_id: int) -> ForecastRecord:
        """The forecast stored under ``forecast_id``."""
        for _, _, rec in self._select("WHERE id = ?", (int(forecast_id),)):
            return rec
        raise InputError(str(self.path), f"has no forecast with id {forecast_id}")

    def cases(self) -> list[str]:
        """The case ids with at least one forecast, sorted."""
        return [r[0] for r in self._con.execute("SELECT DISTINCT case_id FROM forecasts ORDER BY case_id")]

    # -- outcomes -------------------------------------------------------------------------------

    def record_outcome(self, case_id: str, type: str, end_date: date, *, note: str | None = None,
                       source: str | None = None) -> bool:
        """Record how a case ended (or that it was still standing on ``end_date``).

        A final end (one of the fall or other-end types) is recorded once: the same end again is a
        no-op; a different one is refused. ``standing`` adds an observation before any end.
        Returns True when something was written.
        """
        where = f"outcome of case '{case_id}'"
        if type not in OUTCOME_TYPES:
            raise InputError(where, f"type '{type}' is not one of: {', '.join(OUTCOME_TYPES)}")
        end = _as_date(end_date, where)
        with self._write() as con:
            start = self._one("SELECT MIN(start_date) FROM forecasts WHERE case_id = ?", case_id)[0]
            if start is None:
                raise InputError(where, f"unknown case '{case_id}': the ledger has no forecast of it")
            if end < date.fromisoformat(start):
                raise InputError(where, f"date {end} is before the case's start date {start}")
            final = self._one("SELECT type, end_date FROM outcomes WHERE case_id = ?", case_id)
            if type == STANDING:
                if final and end >= date.fromisoformat(final[1]):
                    raise InputError(where, f"standing on {end} is not before its recorded end "
                                            f"({final[0]} on {final[1]})")
                if con.execute("SELECT 1 FROM standing WHERE case_id = ? AND on_date = ?",
                               (case_id, end.isoformat())).fetchone():
                    return False
                con.execute("INSERT INTO standing (case_id, on_date, recorded_at, note, source) "
                            "VALUES (?, ?, ?, ?, ?)", (case_id, end.isoformat(), utc_now(), note, source))
                return True
            if final:
                if (final[0], final[1]) == (type, end.isoformat()):
                    return False
                raise InputError(where, f"already recorded as {final[0]} on {final[1]} "
                                        "(outcomes are immutable)")
            last = self._one("SELECT MAX(on_date) FROM standing WHERE case_id = ?", case_id)[0]
            if last is not None and end <= date.fromisoformat(last):
                raise InputError(where, f"end date {end} is not after it was recorded standing on {last}")
            con.execute("INSERT INTO outcomes (case_id, type, end_date, recorded_at, note, source) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (case_id, type, end.isoformat(), utc_now(), note, source))
            return True

    def outcome(self, case_id: str) -> tuple[str, date] | None:
        """The final end (type, date); else ("standing", latest standing date); else None."""
        row = self._one("SELECT type, end_date FROM outcomes WHERE case_id = ?", case_id)
        if row is None:
            row = self._one("SELECT 'standing', MAX(on_date) FROM standing WHERE case_id = ?", case_id)
        return None if row is None or row[1] is None else (row[0], date.fromisoformat(row[1]))

    def outcomes(self) -> dict[str, tuple[str, date]]:
        """:meth:`outcome` of every case that has one."""
        return {c: o for c in self.cases() if (o := self.outcome(c)) is not None}

    # -- claims ---------------------------------------------------------------------------------

    def record_claims(self, case_id: str, start_date: date, rows: Iterable[dict[str, Any]]) -> int:
        """Keep the claims a forecast used (once per case and claim label; a claim already kept is
        left as it was). Each row: label, statement_id, speaker, role, stated_day, kind, by_lo,
        by_hi, start_lo, start_hi, p, logit_var, base_rate, source_group, conditional. Returns
        how many were new."""
        cols = ("label", "statement_id", "speaker", "role", "stated_day", "kind", "by_lo", "by_hi",
                "start_lo", "start_hi", "p", "logit_var", "base_rate", "source_group", "conditional")
        n = 0
        with self._write() as con:
            for r in rows:
                if con.execute("SELECT 1 FROM claims WHERE case_id = ? AND label = ?",
                               (case_id, r["label"])).fetchone():
                    continue
                con.execute(f"INSERT INTO claims (case_id, start_date, recorded_at, {', '.join(cols)}) "
                            f"VALUES (?, ?, ?, {', '.join('?' * len(cols))})",
                            (case_id, _as_date(start_date, "claims").isoformat(), utc_now(),
                             *[r.get(c) for c in cols]))
                n += 1
        return n

    def claims(self, case_id: str | None = None) -> list[dict[str, Any]]:
        """The kept claims (all cases, or one), oldest first."""
        sql = "SELECT * FROM claims" + (" WHERE case_id = ?" if case_id else "") + " ORDER BY id"
        return [dict(r) for r in self._con.execute(sql, (case_id,) if case_id else ())]

    # -- backtest runs --------------------------------------------------------------------------

    def store_backtest(self, run_id: str, summary: dict[str, Any], table_csv: str) -> bool:
        """Store a backtest run's summary and per-case table (CSV text) once; True when written.
        The same run again is a no-op; a different one under the same id is refused."""
        try:
            text = json.dumps(summary, default=jsonable)
        except (TypeError, ValueError) as exc:
            raise InputError(f"backtest run '{run_id}'", f"summary must be JSON data ({exc})") from None
        with self._write() as con:
            old = con.execute("SELECT summary_json, table_csv FROM backtest_runs WHERE run_id = ?",
                              (run_id,)).fetchone()
            if old is not None:
                if (json.loads(old[0]), old[1]) == (json.loads(text), table_csv):
                    return False
                raise InputError(f"backtest run '{run_id}'", "is already stored with other results")
            con.execute("INSERT INTO backtest_runs VALUES (?, ?, ?, ?)", (run_id, utc_now(), text, table_csv))
            return True

    def backtests(self) -> list[dict[str, Any]]:
        """The stored backtest runs, oldest first: run_id, created_at, summary, table_csv."""
        rows = self._con.execute("SELECT * FROM backtest_runs ORDER BY created_at, run_id")
        return [{"run_id": r["run_id"], "created_at": r["created_at"],
                 "summary": json.loads(r["summary_json"]), "table_csv": r["table_csv"]} for r in rows]

    # -- hubverse -------------------------------------------------------------------------------

    def export_hubverse(self, path: str | os.PathLike[str] | None = None, *, case_id: str | None = None,
                        output_types: Iterable[str] = hubverse.OUTPUT_TYPES) -> pd.DataFrame:
        """The forecasts (of one case, or all) in the hubverse long format (:mod:`forecast.hubverse`);
        also written to ``path`` as CSV (atomically: a temporary file, then renamed) when given."""
        rows = self._select(*(("WHERE case_id = ?", (case_id,)) if case_id is not None else ()))
        frame = hubverse.to_frame(((uid, rec) for _, uid, rec in rows), output_types)
        if path is not None:
            hubverse.write_csv(frame, path)
        return frame

    def import_hubverse(self, path: str | os.PathLike[str]) -> int:
        """Rebuild the forecasts of an :meth:`export_hubverse` CSV from their cdf rows and record
        them in one transaction; the number newly written. A bad file writes nothing."""
        return sum(new for _, new in self._insert(hubverse.read(path)))
