"""Load and validate the reference class of historical holdouts (``data/holdouts.csv``).

Duration convention: T = days from ``start_date`` to ``end_date`` (at least 1 day). Outcomes in
:data:`~forecast.indicators.EVENT_OUTCOMES` are events; the others are right-censored at
``end_date``; ``ongoing`` rows are censored at the dataset's ``data_date``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import InputError
from forecast.indicators import (
    CATEGORIES,
    DATE_PRECISIONS,
    EARLIEST_DATE,
    EVENT_OUTCOMES,
    OUTCOMES,
    REGIONS,
    Indicators,
    Range,
    implausible,
    parse_iso_date,
    shown,
    unusual,
)

#: The columns of ``holdouts.csv``, in the order the shipped file uses (schema v2).
COLUMNS: tuple[str, ...] = (
    "case_id", "name", "war", "parent", "region", "country", "source",
    "start_date", "start_precision", "end_date", "end_precision", "outcome",
    "defender_strength_low", "defender_strength_high",
    "attacker_strength_low", "attacker_strength_high",
    "terrain", "encircled", "approach_routes", "external_support", "population",
    "conflict_type", "notes",
)
#: Columns a file must have. A file without ``war``, ``parent``, ``region`` and ``country`` (the
#: first version of the schema) still loads: those values are then unknown.
CORE_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in ("war", "parent", "region", "country", "start_precision",
                                    "end_precision")
)
#: Either one ``date_precision`` (the coarser of the two dates; schema v1) or one per date.
PRECISION_COLUMNS: tuple[str, ...] = ("start_precision", "end_precision")
OPTIONAL_COLUMNS: tuple[str, ...] = ("war", "parent", "region", "country", "date_precision",
                                     *PRECISION_COLUMNS)
REQUIRED_VALUES: tuple[str, ...] = (
    "case_id", "name", "source", "start_date", "outcome",
)
#: Required when the column is present.
REQUIRED_IF_PRESENT: tuple[str, ...] = ("war", "region", "start_precision", "end_precision",
                                        "date_precision")
STRENGTHS: tuple[str, ...] = ("defender_strength", "attacker_strength")

#: Where ongoing holdouts are censored unless the caller says otherwise (documented in data/README.md).
DEFAULT_DATA_DATE = date(2024, 12, 31)
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "holdouts.csv"


@dataclass(frozen=True)
class Dataset:
    """A validated reference class.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per case: the CSV columns typed (dates as ``datetime64``, strengths and population
        as float with NaN for unknown, categories as ordered ``Categorical``), plus
        ``duration_days`` (float, >= 1) and ``event`` (bool; False = right-censored).
    path : str
        Where it was read from.
    sha256 : str
        Hash of the file's bytes and the data date: the dataset's identity in stamps.
    data_date : datetime.date
        Where ``ongoing`` rows are censored; no date in the file may be later.
    warnings : tuple of str
        One-line notes on accepted but unusual values (a force or population above the soft bound
        in :data:`~forecast.indicators.PLAUSIBLE`), each naming file, line and column. The library
        never prints them; the caller decides.
    """

    frame: pd.DataFrame
    path: str
    sha256: str
    data_date: date
    warnings: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def durations(self) -> np.ndarray:
        """Durations in days (float)."""
        return self.frame["duration_days"].to_numpy(dtype=float)

    @property
    def events(self) -> np.ndarray:
        """True where the holdout ended (fell), False where right-censored."""
        return self.frame["event"].to_numpy(dtype=bool)

    @property
    def nested(self) -> np.ndarray:
        """True for a row with a ``parent``: a stage of a larger holdout, kept for display and
        checks, never fitted (its ending is the parent's ending; ``data/CODING.md`` section 1)."""
        return self.frame["parent"].notna().to_numpy(dtype=bool)

    def top_level(self) -> Dataset:
        """The rows a model fits: those without a ``parent``."""
        return self if not self.nested.any() else self.subset(~self.nested)

    def indicators(self, i: int) -> Indicators:
        """The indicators of row ``i`` (positional)."""
        row = self.frame.iloc[i]
        return indicators_from_row(row)

    def subset(self, mask: np.ndarray) -> Dataset:
        """The cases where ``mask`` is true, with a hash that says so."""
        frame = self.frame.loc[np.asarray(mask, dtype=bool)].reset_index(drop=True)
        digest = hashlib.sha256(
            (self.sha256 + ",".join(frame["case_id"])).encode()
        ).hexdigest()
        return Dataset(frame=frame, path=self.path, sha256=digest, data_date=self.data_date,
                       warnings=self.warnings)


def indicators_from_row(row: pd.Series) -> Indicators:
    """Build :class:`Indicators` from one typed dataset row."""

    def rng(prefix: str) -> Range | None:
        lo, hi = row[f"{prefix}_low"], row[f"{prefix}_high"]
        return None if pd.isna(lo) else Range(float(lo), float(hi))

    pop = row["population"]
    cats = {name: (None if pd.isna(row[name]) else str(row[name])) for name in CATEGORIES}
    return Indicators(
        **cats,
        defender_strength=rng("defender_strength"),
        attacker_strength=rng("attacker_strength"),
        population=None if pd.isna(pop) else Range(float(pop), float(pop)),
    )


def load_holdouts(path: str | Path | None = None, *,
                  data_date: date | str = DEFAULT_DATA_DATE) -> Dataset:
    """Read and validate a holdouts CSV.

    Parameters
    ----------
    path : path-like, optional
        The CSV (default: the shipped ``data/holdouts.csv``).
    data_date : datetime.date or str
        Censoring date for ``ongoing`` rows (an ISO string is read as a date); no date in the
        file may be later.

    Raises
    ------
    InputError
        Naming the file, line, column and rule, for: a missing file or column, an empty file, a
        malformed line, an unparseable date, an end before its start, an unknown category or
        outcome, a negative, non-numeric, non-finite or implausibly large strength or population
        (bounds in :data:`~forecast.indicators.PLAUSIBLE`), low > high, a duplicate ``case_id``, a
        missing required value, a date before 1800 or after ``data_date``, a month- or
        year-precision date not written as the first of its month or year, an unknown region, a
        ``parent`` that is not in the file, is the row itself, has a parent of its own or ends
        before its child starts, and two ``war`` names that differ only in spelling.
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    label = str(path)
    data_date = _as_date(data_date, "data_date")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(label, "file not found") from None
    except IsADirectoryError:
        raise InputError(label, "is a directory, not a CSV file") from None
    except OSError as exc:
        raise InputError(label, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(label, f"not UTF-8 text (byte {exc.start})") from None
    rows = _read_rows(text, label)
    records, seen, warnings = [], {}, []
    for line, rec in rows:
        out = _validate_row(rec, line, label, data_date, warnings)
        if out["case_id"] in seen:
            raise InputError(
                f"{label}, line {line}, column 'case_id'",
                f"duplicate case_id '{shown(out['case_id'])}' (first on line {seen[out['case_id']]})",
            )
        seen[out["case_id"]] = line
        records.append(out)
    _check_parents(records, label, data_date)
    _check_war_spelling(records, label)
    frame = pd.DataFrame.from_records(
        records, columns=list(COLUMNS) + ["date_precision", "duration_days", "event"])
    for col in ("start_date", "end_date"):
        frame[col] = pd.to_datetime(frame[col])
    for name, levels in CATEGORIES.items():
        frame[name] = pd.Categorical(frame[name], categories=levels, ordered=False)
    digest = hashlib.sha256(raw + data_date.isoformat().encode()).hexdigest()
    return Dataset(frame=frame, path=label, sha256=digest, data_date=data_date,
                   warnings=tuple(warnings))


def _as_date(value: date | str, where: str) -> date:
    """A date given as a ``datetime.date`` (a datetime keeps its date) or an ISO string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return parse_date(value, where)
    raise InputError(where, f"{shown(value)} ({type(value).__name__}) is not a date")


def _read_rows(text: str, label: str) -> list[tuple[int, dict[str, str]]]:
    if not text.strip():
        raise InputError(label, "file is empty (expected a header line and at least one case)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        header = [h.strip() for h in header]
        repeated = [h for i, h in enumerate(header) if h in header[:i]]
        if repeated:
            raise InputError(f"{label}, line 1", f"column '{shown(repeated[0])}' appears twice")
        missing = [c for c in CORE_COLUMNS if c not in header]
        if missing:
            raise InputError(f"{label}, line 1", f"missing required column '{missing[0]}'")
        unknown = [h for h in header if h not in CORE_COLUMNS + OPTIONAL_COLUMNS]
        if unknown:
            raise InputError(f"{label}, line 1", f"unknown column '{shown(unknown[0])}'")
        split = [c for c in PRECISION_COLUMNS if c in header]
        if "date_precision" in header and split:
            raise InputError(f"{label}, line 1", f"has both 'date_precision' and '{split[0]}'; give "
                                                 "date_precision or start_precision and end_precision")
        if "date_precision" not in header and len(split) < 2:
            gone = next((c for c in PRECISION_COLUMNS if c not in header), "date_precision")
            raise InputError(f"{label}, line 1", f"missing required column '{gone}' (or one "
                                                 "'date_precision' for both dates)")
        rows = []
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise InputError(
                    f"{label}, line {line}",
                    f"has {len(fields)} fields, the header has {len(header)}",
                )
            rows.append((line, {h: f.strip() for h, f in zip(header, fields, strict=True)}))
    except csv.Error as exc:
        raise InputError(f"{label}, line {reader.line_num}", f"malformed CSV ({exc})") from None
    if not rows:
        raise InputError(label, "has a header but no cases")
    return rows


def parse_date(value: str, where: str) -> date:
    """Parse an ISO date ``YYYY-MM-DD`` or raise :class:`InputError` at ``where``."""
    parsed = parse_iso_date(value)
    if parsed is None:
        raise InputError(where, f"'{shown(value)}' is not an ISO date (YYYY-MM-DD)")
    return parsed


_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)


def parse_count(value: str, where: str, name: str | None = None) -> float:
    """Parse a non-negative count (people) or raise :class:`InputError` at ``where``.

    With ``name`` (an indicator in :data:`~forecast.indicators.PLAUSIBLE`), a count beyond its
    plausible bound is refused too.
    """
    text = value.strip()
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise InputError(where, f"'{shown(text)}' is not a finite number; counts must be >= 0")
    if not _NUMBER.fullmatch(text):
        raise InputError(where, f"'{shown(text)}' is not a number")
    number = float(text)
    if number < 0:
        raise InputError(where, f"{shown(text)} is negative; counts must be >= 0")
    rule = implausible(name, number, shown(text)) if name is not None else None
    if rule is not None:  # also 1e999, which float() reads as inf
        raise InputError(where, rule)
    if not math.isfinite(number):
        raise InputError(where, f"{shown(text)} is not a finite number")
    return number


def _validate_row(rec: dict[str, str], line: int, label: str, data_date: date,
                  warnings: list[str]) -> dict:
    cid = rec.get("case_id", "")
    here = f"{label}, line {line}" + (f" (case_id '{shown(cid)}')" if cid else "")

    def at(col: str) -> str:
        return f"{here}, column '{col}'"

    for col in REQUIRED_VALUES + tuple(c for c in REQUIRED_IF_PRESENT if c in rec):
        if not rec[col]:
            raise InputError(at(col), "is required but empty")
    out: dict = {c: rec.get(c, "") for c in COLUMNS}
    if rec["outcome"] not in OUTCOMES:
        raise InputError(at("outcome"), f"'{shown(rec['outcome'])}' is not one of {', '.join(OUTCOMES)}")
    for col in ("date_precision",) + PRECISION_COLUMNS:
        if col in rec and rec[col] not in DATE_PRECISIONS:
            raise InputError(at(col), f"'{shown(rec[col])}' is not one of {', '.join(DATE_PRECISIONS)}")
    split = "date_precision" not in rec
    start_prec = rec["start_precision"] if split else rec["date_precision"]
    end_prec = rec["end_precision"] if split else rec["date_precision"]
    out["start_precision"], out["end_precision"] = start_prec, end_prec
    out["date_precision"] = max(start_prec, end_prec, key=DATE_PRECISIONS.index)
    if rec.get("region") and rec["region"] not in REGIONS:
        raise InputError(at("region"), f"'{shown(rec['region'])}' is not one of {', '.join(REGIONS)}")
    for col in ("war", "parent", "region", "country"):
        out[col] = rec.get(col) or None
    start = _row_date(rec["start_date"], at("start_date"), data_date)
    if split:
        _check_precision(start, start_prec, at("start_date"))
    if rec["end_date"]:
        end = _row_date(rec["end_date"], at("end_date"), data_date)
        if split:
            _check_precision(end, end_prec, at("end_date"))
        if end < start:
            raise InputError(at("end_date"), f"{end} is before start_date {start}")
    elif rec["outcome"] != "ongoing":
        raise InputError(at("end_date"), "is empty; only an 'ongoing' holdout may have no end date")
    else:
        end = None
    if rec["outcome"] == "ongoing" and end is not None:
        raise InputError(at("end_date"), "must be empty for an 'ongoing' holdout")
    stop = end if end is not None else data_date
    out["start_date"], out["end_date"] = start, end
    out["_line"] = line
    out["duration_days"] = float(max((stop - start).days, 1))
    out["event"] = rec["outcome"] in EVENT_OUTCOMES
    for prefix in STRENGTHS:
        lo_col, hi_col = f"{prefix}_low", f"{prefix}_high"
        lo_s, hi_s = rec[lo_col], rec[hi_col]
        if bool(lo_s) != bool(hi_s):
            empty = hi_col if lo_s else lo_col
            raise InputError(at(empty), "is empty while its pair is given; give both or neither")
        if lo_s:
            lo, hi = parse_count(lo_s, at(lo_col), prefix), parse_count(hi_s, at(hi_col), prefix)
            if lo > hi:
                raise InputError(at(lo_col), f"low {shown(lo_s)} is greater than high {shown(hi_s)}")
            if prefix == "defender_strength" and lo == 0:
                raise InputError(at(lo_col), "a holdout has at least one defender")
            note = unusual(prefix, hi, shown(hi_s))
            if note is not None:
                warnings.append(f"{at(hi_col)}: {note}")
        else:
            lo = hi = np.nan
        out[lo_col], out[hi_col] = lo, hi
    if rec["population"]:
        out["population"] = parse_count(rec["population"], at("population"), "population")
        note = unusual("population", out["population"], shown(rec["population"]))
        if note is not None:
            warnings.append(f"{at('population')}: {note}")
    else:
        out["population"] = np.nan
    for name, levels in CATEGORIES.items():
        value = rec[name]
        if value and value not in levels:
            raise InputError(at(name), f"'{shown(value)}' is not one of {', '.join(levels)}")
        out[name] = value or None
    return out


def _check_precision(when: date, precision: str, where: str) -> None:
    """A date known to the month is the 1st of the month; to the year, 1 January."""
    if precision == "month" and when.day != 1:
        raise InputError(where, f"{when} has precision 'month' but is not the 1st of its month "
                                "(data/CODING.md: write a month-precision date as its first day)")
    if precision == "year" and (when.month, when.day) != (1, 1):
        raise InputError(where, f"{when} has precision 'year' but is not 1 January "
                                "(data/CODING.md: write a year-precision date as 1 January)")


def _check_parents(records: list[dict], label: str, data_date: date) -> None:
    """A ``parent`` names another row of the file, one level deep, that has not ended before its
    child starts."""
    by_id = {r["case_id"]: r for r in records}
    for rec in records:
        parent = rec["parent"]
        if parent is None:
            continue
        where = f"{label}, line {rec['_line']} (case_id '{shown(rec['case_id'])}'), column 'parent'"
        if parent == rec["case_id"]:
            raise InputError(where, "a holdout cannot be its own parent")
        if parent not in by_id:
            raise InputError(where, f"'{shown(parent)}' is not a case_id in the file")
        outer = by_id[parent]
        if outer["parent"] is not None:
            raise InputError(where, f"'{shown(parent)}' has a parent of its own "
                                    f"('{shown(outer['parent'])}'); nest one level only")
        outer_end = outer["end_date"] or data_date
        if outer_end < rec["start_date"]:
            raise InputError(where, f"parent '{shown(parent)}' ends on {outer_end}, before this "
                                    f"holdout starts on {rec['start_date']}")


def war_key(name: str) -> str:
    """A war name without case, accents, punctuation, spacing or a leading 'the'."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = re.findall(r"[a-z0-9]+", plain)
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


_ROMAN_OR_NUMBER = re.compile(r"(?:[ivxlcdm]+|[0-9]+)")


def _one_edit(x: str, y: str) -> bool:
    """True when ``y`` is ``x`` with one letter added, dropped or changed."""
    if abs(len(x) - len(y)) > 1:
        return False
    if len(x) > len(y):
        x, y = y, x
    i = next((k for k, (a, b) in enumerate(zip(x, y, strict=False)) if a != b), len(x))
    return x[i + (len(x) == len(y)):] == y[i + 1:]


def _spelling_variants(a: str, b: str) -> bool:
    """True when two war names are the same name spelt differently: equal once case, accents and
    punctuation are dropped, or one word apart by one letter ('Syrian' / 'Syria') that is not a
    numeral ('World War I' / 'World War II' are different wars, and so are 'Eastern' and
    'Western' fronts)."""
    ka, kb = war_key(a), war_key(b)
    if ka == kb:
        return True
    wa, wb = ka.split(), kb.split()
    if len(wa) != len(wb):
        return False
    diff = [(x, y) for x, y in zip(wa, wb, strict=True) if x != y]
    if len(diff) != 1:
        return False
    x, y = diff[0]
    if _ROMAN_OR_NUMBER.fullmatch(x) or _ROMAN_OR_NUMBER.fullmatch(y):
        return False
    return min(len(x), len(y)) >= 4 and _one_edit(x, y)


def _check_war_spelling(records: list[dict], label: str) -> None:
    first: dict[str, int] = {}
    for rec in records:
        war = rec["war"]
        if war is None or war in first:
            continue
        for other, line in first.items():
            if _spelling_variants(war, other):
                raise InputError(
                    f"{label}, line {rec['_line']} (case_id '{shown(rec['case_id'])}'), column 'war'",
                    f"'{shown(war)}' differs only in spelling from '{shown(other)}' (line {line}); "
                    "use one name per war",
                )
        first[war] = rec["_line"]


def _row_date(value: str, where: str, data_date: date) -> date:
    """An ISO date in a row: from :data:`~forecast.indicators.EARLIEST_DATE` to the data date."""
    when = parse_date(value, where)
    if when < EARLIEST_DATE:
        raise InputError(where, f"{when} is before {EARLIEST_DATE}, the earliest date the dataset "
                                "accepts (its holdouts start in 1877)")
    if when > data_date:
        raise InputError(where, f"{when} is after the data date {data_date}; the file can only "
                                "record what was known by then")
    return when
