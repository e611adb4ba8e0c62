"""Forecast records in the hubverse long format: export to a table or CSV, import from a CSV.

One row per forecast and output: ``target`` is ``days_to_fall``; a ``cdf`` row gives, for
``output_type_id`` = d days after ``as_of`` (the record's grid), ``value`` = P(fallen within d
days); a ``quantile`` row gives, for a level in :data:`QUANTILE_LEVELS`, the day by which that
share has fallen (levels the CDF never reaches are left out). The columns after ``value`` identify
the record so that :func:`read` can rebuild it from its cdf rows; ``summary_json``, ``claims_json``
and ``extra_json`` are given once per forecast, on its cdf row at day 0, and are empty elsewhere::

    model_id,case_id,as_of,target,output_type,output_type_id,value,forecast_uid,model,kind,...
    3f2a9c,panjshir_2021,2021-08-20,days_to_fall,cdf,0.0,0.0,9be1c0d4aa51e07f2c3d8b19,weibull,...
    3f2a9c,panjshir_2021,2021-08-20,days_to_fall,cdf,1.0,0.00995,9be1c0d4aa51e07f2c3d8b19,...
    3f2a9c,panjshir_2021,2021-08-20,days_to_fall,quantile,0.5,69.31,9be1c0d4aa51e07f2c3d8b19,...

(the remaining columns: ``dataset_hash, seed, start_date, case_name, issued_at, summary_json,
claims_json, extra_json``).

A record's identity as text and integers (:func:`record_fields`, :func:`record_from_fields`) is
also the row of the ledger's forecasts table; :mod:`forecast.ledger` imports it from here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import InputError
from forecast.predictive import KINDS, ForecastRecord, Predictive

TARGET = "days_to_fall"
QUANTILE_LEVELS: tuple[float, ...] = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)
OUTPUT_TYPES: tuple[str, ...] = ("cdf", "quantile")
_TEXT = ("case_id", "case_name", "model", "model_id", "dataset_hash")
_JSON = ("summary", "claims", "extra")
_IDENTITY = ("model_id", "case_id", "as_of", "model", "kind", "dataset_hash", "seed", "start_date",
             "case_name", "issued_at")
_JSON_COLS = ("summary_json", "claims_json", "extra_json")
HUBVERSE_COLUMNS: tuple[str, ...] = (
    "model_id", "case_id", "as_of", "target", "output_type", "output_type_id", "value",
    "forecast_uid", *_IDENTITY[3:], *_JSON_COLS)


def utc_now() -> str:
    """The current time, UTC, in ISO format to the microsecond."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def jsonable(obj: Any) -> Any:
    """``default`` for :func:`json.dumps`: numpy scalars and arrays, dates."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, date):
        return obj.isoformat()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def record_fields(rec: ForecastRecord) -> dict[str, Any]:
    """A record's identity as text and integers: a row of the forecasts table, a hubverse row."""
    return {**{k: getattr(rec, k) for k in (*_TEXT, "kind")}, "issued_at": rec.issued_at or utc_now(),
            "start_date": rec.start_date.isoformat(), "as_of": rec.as_of.isoformat(), "seed": int(rec.seed),
            **{f"{k}_json": json.dumps(getattr(rec, k), default=jsonable) for k in _JSON}}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"'{kind}' is not one of: {', '.join(KINDS)}")
    return kind


def record_from_fields(fields: Any, predictive: Predictive, where: str) -> ForecastRecord:
    """The record of :func:`record_fields`; a bad value raises InputError naming ``where`` and the column."""
    def parse(col: str, fn: Any) -> Any:
        try:
            return fn(fields[col])
        except ValueError as exc:
            raise InputError(f"{where}, column '{col}'", f"is not valid ({exc})") from None

    return ForecastRecord(
        **{k: fields[k] for k in (*_TEXT, "issued_at")}, predictive=predictive, kind=parse("kind", _kind),
        start_date=parse("start_date", date.fromisoformat), as_of=parse("as_of", date.fromisoformat),
        seed=parse("seed", int), **{k: parse(f"{k}_json", json.loads) for k in _JSON})


def to_frame(items: Iterable[tuple[str, ForecastRecord]],
             output_types: Iterable[str] = OUTPUT_TYPES) -> pd.DataFrame:
    """The (uid, record) pairs in the hubverse long format of the module docstring, in order."""
    output_types = tuple(output_types)
    if bad := set(output_types) - set(OUTPUT_TYPES):
        raise InputError("output_types", f"{sorted(bad)} not supported: use 'cdf' and/or 'quantile'")
    blocks = [pd.DataFrame(columns=HUBVERSE_COLUMNS)]
    for uid, rec in items:
        p, fields = rec.predictive, record_fields(rec)
        points = [("cdf", d, v) for d, v in zip(p.days, p.cdf, strict=True) if "cdf" in output_types]
        points += [("quantile", q, x) for q in QUANTILE_LEVELS
                   if "quantile" in output_types and np.isfinite(x := p.quantile(q))]
        block = pd.DataFrame(points, columns=["output_type", "output_type_id", "value"], dtype=object)
        for c in ("target", "forecast_uid", *_IDENTITY):
            block[c] = {"target": TARGET, "forecast_uid": uid}.get(c, fields.get(c))
        for c in _JSON_COLS:  # once per forecast, on its first row
            block[c] = [fields[c], *[""] * (len(block) - 1)]
        blocks.append(block)
    frame = pd.concat(blocks, ignore_index=True)[list(HUBVERSE_COLUMNS)]
    return frame.astype({"output_type_id": float, "value": float, "seed": "int64"})


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` to ``path`` as CSV, atomically: a temporary file, synced, then renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            frame.to_csv(fh, index=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: str | os.PathLike[str]) -> list[ForecastRecord]:
    """The records of a hubverse CSV, rebuilt from their cdf rows; InputError naming the file, row
    and column on bad input."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, f"cannot be read as UTF-8 text ({exc})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if missing := [c for c in HUBVERSE_COLUMNS if c not in (reader.fieldnames or [])]:
        raise InputError(f"{name}, row 1", f"missing column(s): {', '.join(missing)}")
    groups: dict[str, dict[str, Any]] = {}
    others: dict[str, str] = {}
    for n, row in enumerate(reader, start=2):
        at = f"{name}, row {n}"
        if None in row or None in row.values():
            raise InputError(at, "does not have as many fields as the header")
        for col, allowed in (("target", (TARGET,)), ("output_type", ("cdf", "quantile", "sample"))):
            if row[col] not in allowed:
                raise InputError(f"{at}, column '{col}'", f"'{row[col]}' is not one of: {', '.join(allowed)}")
        uid = row["forecast_uid"]
        if row["output_type"] != "cdf":  # derived from the cdf
            others.setdefault(uid, at)
            continue
        g = groups.setdefault(uid, {"at": at, "n": n, "row": row, "points": []})
        if diff := next((c for c in _IDENTITY if row[c] != g["row"][c]), None):
            raise InputError(f"{at}, column '{diff}'", f"differs from row {g['n']} of forecast {uid}")
        point = []
        for c in ("output_type_id", "value"):
            try:
                point.append(float(row[c]))
            except ValueError:
                raise InputError(f"{at}, column '{c}'", f"'{row[c]}' is not a number") from None
        g["points"].append(point)
        if point[0] == 0:  # the row with the JSON columns
            g.update(at=at, n=n, row=row)
    if lost := [at for uid, at in others.items() if uid not in groups]:
        raise InputError(lost[0], "has no cdf rows of its forecast_uid to rebuild the forecast from")
    recs = []
    for uid, g in groups.items():
        pts = np.array(sorted(g["points"]))
        try:
            if not np.isfinite(pts).all():
                raise ValueError("days and values must be finite")
            pred = Predictive(pts[:, 0], pts[:, 1])
        except ValueError as exc:
            raise InputError(f"{g['at']}, column 'value'", f"cdf rows of forecast {uid}: {exc}") from None
        rec = record_from_fields(g["row"], pred, g["at"])
        if rec.uid() != uid:
            raise InputError(f"{g['at']}, column 'forecast_uid'", f"{uid} does not match the content of "
                                                                  "its rows (edited, or rows missing?)")
        recs.append(rec)
    return recs
