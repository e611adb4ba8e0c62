"""Property-based fuzzing of the two loaders: any file gives a valid object or an InputError.

For any contents of a holdouts CSV (:func:`forecast.data.load_holdouts`) or a case file
(:func:`forecast.cases.load_case`) -- random bytes, random text, valid files with fields replaced by
random strings, numbers, dates and YAML scalars (``.inf``, ``.nan``, ``yes``, ``~``, ``[]``, ...),
keys or columns deleted or repeated, lines repeated, files cut short -- the loader returns an
object that satisfies the schema or raises :class:`InputError` with a one-line message naming the
file. Nothing else: no ValueError, OverflowError, KeyError, RecursionError, ...

The default suite tries a few hundred inputs per test; the same tests with 10,000 inputs each are
marked ``slow`` (``make test-slow``). Each test counts the inputs it actually tried and prints the
count (``pytest -s`` shows it).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import COLUMNS_V1, HOLDOUTS, PANJSHIR, VALID_ROWS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.cases import ROLES, Case, load_case
from forecast.data import COLUMNS, STRENGTHS, Dataset, load_holdouts
from forecast.describe import format_case
from forecast.errors import InputError
from forecast.indicators import CATEGORIES, DATE_PRECISIONS, EARLIEST_DATE, OUTCOMES, PLAUSIBLE, REGIONS

FAST, SLOW = 300, 10_000
TODAY = date.today()
COUNTS: Counter[str] = Counter()

# --- what a "valid object" is --------------------------------------------------------------------


def _check_error(exc: InputError, path: Path) -> None:
    msg = str(exc)
    assert len(msg.splitlines()) == 1, msg
    assert str(path) in msg, msg


def _check_range(r: Any, name: str) -> None:
    if r is None:
        return
    assert math.isfinite(r.low) and math.isfinite(r.high)
    assert 0 <= r.low <= r.high <= PLAUSIBLE[name].hard
    if name == "defender_strength":
        assert r.low > 0


def _check_case(case: Case) -> None:
    assert isinstance(case.id, str) and case.id and isinstance(case.name, str) and case.name
    assert EARLIEST_DATE <= case.start_date <= case.as_of
    assert case.hypothetical or case.as_of <= TODAY
    if case.outcome is not None:
        assert case.outcome.status in OUTCOMES
        assert (case.outcome.end_date is None) == (case.outcome.status == "ongoing")
        if case.outcome.end_date is not None:
            assert case.start_date <= case.as_of <= case.outcome.end_date
    for name, value in case.indicators.categorical().items():
        assert value is None or value in CATEGORIES[name]
    for name in PLAUSIBLE:
        _check_range(getattr(case.indicators, name), name)
    ids = [s.id for s in case.statements]
    assert len(ids) == len(set(ids))
    for s in case.statements:
        assert all(isinstance(x, str) and x for x in (s.id, s.quote, s.speaker, s.source))
        assert s.role in ROLES and isinstance(s.date, date) and s.date >= EARLIEST_DATE
        assert s.weight is None or 0 <= s.weight <= 1
        assert all(isinstance(c, dict) for c in s.claims)
        assert all(x is None or isinstance(x, str) for x in (s.affiliation, s.date_note, s.context))
    assert all(isinstance(v, str) for v in case.indicator_sources.values())
    assert all(isinstance(w, str) and len(w.splitlines()) == 1 for w in case.warnings)
    format_case(case)  # what `forecast case check` prints


def _check_dataset(ds: Dataset) -> None:
    f = ds.frame
    assert len(ds) >= 1 and list(f.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert f["case_id"].is_unique and (f["case_id"].str.len() > 0).all()
    assert np.all(np.isfinite(ds.durations)) and np.all(ds.durations >= 1)
    assert set(f["outcome"]) <= set(OUTCOMES) and set(f["date_precision"]) <= set(DATE_PRECISIONS)
    starts = f["start_date"].dt.date
    assert (starts >= EARLIEST_DATE).all() and (starts <= ds.data_date).all()
    ends = f["end_date"].dropna().dt.date
    assert (ends <= ds.data_date).all()
    for name in STRENGTHS:
        lo, hi = f[f"{name}_low"].to_numpy(float), f[f"{name}_high"].to_numpy(float)
        assert np.array_equal(np.isnan(lo), np.isnan(hi))
        known = ~np.isnan(lo)
        assert np.all(lo[known] >= 0) and np.all(lo[known] <= hi[known])
        assert np.all(hi[known] <= PLAUSIBLE[name].hard)
    pop = f["population"].to_numpy(float)
    assert np.all(pop[~np.isnan(pop)] <= PLAUSIBLE["population"].hard)
    for i in range(len(ds)):
        ds.indicators(i)
    assert all(isinstance(w, str) and len(w.splitlines()) == 1 for w in ds.warnings)


def _try_case(path: Path, text: str | bytes, key: str) -> None:
    COUNTS[key] += 1
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        case = load_case(path)
    except InputError as exc:
        _check_error(exc, path)
        COUNTS[key + ":refused"] += 1
        return
    _check_case(case)
    COUNTS[key + ":loaded"] += 1


def _try_csv(path: Path, content: str | bytes, key: str) -> None:
    COUNTS[key] += 1
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass", newline="")
    try:
        ds = load_holdouts(path)
    except InputError as exc:
        _check_error(exc, path)
        COUNTS[key + ":refused"] += 1
        return
    _check_dataset(ds)
    COUNTS[key + ":loaded"] += 1


def _report(key: str, n: int) -> None:
    tried, loaded, refused = COUNTS[key], COUNTS[key + ":loaded"], COUNTS[key + ":refused"]
    print(f"\nfuzz {key}: {tried} inputs tried ({loaded} loaded, {refused} refused with InputError)")
    assert tried >= n // 2, f"only {tried} inputs tried"
    assert loaded + refused == tried


# --- strategies ----------------------------------------------------------------------------------

YAML_SCALARS = [
    ".inf", "-.inf", "+.inf", ".nan", ".NaN", "yes", "no", "on", "off", "y", "n", "true", "false",
    "True", "~", "null", "", "[]", "{}", "[1, 2]", "{a: 1}", "1e308", "1.0e+308", "1e999", "-1e999",
    "-1", "0", "-0", "+12", "1.5", ".5", "1e-3", "010", "0x1F", "0o17", "0b101", "1:30", "1_000",
    "1" + "0" * 400, "9" * 5000, "2025-13-45", "2021-02-29", "2021-02-30", "2099-01-01",
    "1683-07-14", "0001-01-01", "9999-12-31", "2021-08-20T10:00:00", "2021-08-20 25:00:00",
    "2021-08-20T10:00:00+25:00", "2021-8-2", "20210820", "''", '""', "!!float abc", "!!int ''",
    "!!int 1.5", "!!bool maybe", "!!timestamp x", "!!binary '###'", "!!set {a}", "!!omap [a]",
    "!!str", "!!null x", "!!python/object:os.system x", "&a [*a]", "*undefined", "&x 1", "=",
    "- a", "? x", "|", ">", "'unterminated", '"bad \\q escape"', "{a: 1, a: 2}", "[[[[[[[[[[",
    "@", "`", "%", "\t", "NaN", "Infinity", "inf", "mountain", "partial", "single", "fell",
    "independent_analyst", "2021-08-15", "2021-09-06", "5000", "60000", "2000000", "6000000",
]
CSV_VALUES = [
    "", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "1e309", "1e999", "-1", "0", "-0",
    "1.5", "1e3", "1_000", "0x10", "１２３", "1" + "0" * 400, "10,000", "2000000", "6000000",
    "45000000", "2025-13-45", "2021-02-29", "2030-01-01", "2024-12-31", "2025-01-01", "1799-12-31",
    "1683-07-14", "0001-01-01", "9999-12-31", "20210820", "2021-W33-5", "2021-08-20T10:00",
    "\u00a0", "\x00", "a\nb", "a\rb", "\u2028", '"', '""', "a,b", "\ufeff", "\x85",
    *[lvl for levels in CATEGORIES.values() for lvl in levels], *OUTCOMES, *DATE_PRECISIONS,
]

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=-(10**500), max_value=10**500),
    st.floats(allow_nan=True, allow_infinity=True),
)
dates = st.one_of(st.dates(), st.dates(min_value=date(1790, 1, 1), max_value=date(2100, 1, 1)))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=30), dates, st.datetimes(),
                    st.sampled_from([s for s in YAML_SCALARS if not s.startswith(("!", "&", "*"))]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=10), st.integers()),
                                                  inner, max_size=4)), max_leaves=12)
raw_scalar = st.one_of(st.sampled_from(YAML_SCALARS), st.text(max_size=30),
                       numbers.map(repr), dates.map(date.isoformat))
csv_value = st.one_of(st.sampled_from(CSV_VALUES), st.text(max_size=30), numbers.map(repr),
                      numbers.map(str), dates.map(date.isoformat))
DATE_COLUMNS = ("start_date", "end_date")
COUNT_COLUMNS = (*(f"{p}_{e}" for p in STRENGTHS for e in ("low", "high")), "population")


def _csv_field(column: str) -> st.SearchStrategy[str]:
    """A value for ``column``: half the time of the column's own kind, else anything."""
    if column in DATE_COLUMNS:
        typed = st.one_of(dates.map(date.isoformat), st.sampled_from(
            ["", "2025-13-45", "2021-02-29", "2024-12-31", "2025-01-01", "1677-09-21", "1799-12-31",
             "0001-01-01", "9999-12-31", "20210820", "2021-W33-5", " 2021-08-20 "]))
    elif column in COUNT_COLUMNS:
        typed = st.one_of(numbers.map(repr), numbers.map(str), st.integers(0, 10**8).map(str),
                          st.sampled_from(["", "nan", "inf", "1e308", "1e999", "-0", "0", "4999999",
                                           "5000001", "500001", "39999999", "40000001"]))
    elif column in CATEGORIES:
        typed = st.sampled_from(["", "yes", "no", "true", "Yes", *CATEGORIES[column]])
    elif column in ("outcome", "date_precision", "start_precision", "end_precision"):
        typed = st.sampled_from(["", "ongoing", "Fell", *OUTCOMES, *DATE_PRECISIONS])
    elif column == "region":
        typed = st.sampled_from(["", "Europe", "asia", *REGIONS])
    elif column in ("war", "parent"):
        typed = st.sampled_from(["", "Syrian civil war", "Syrian Civil War", "Syria civil war",
                                 "World War II", *(r["case_id"] for r in SHIPPED_ROWS)])
    else:
        typed = st.text(max_size=20)
    return st.one_of(typed, csv_value)

PANJSHIR_TEXT = PANJSHIR.read_text(encoding="utf-8")
PANJSHIR_DOC = yaml.safe_load(PANJSHIR_TEXT)
SHIPPED_ROWS = list(csv.DictReader(io.StringIO(HOLDOUTS.read_text(encoding="utf-8"))))[:12]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a YAML document (dict keys and list indices)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PANJSHIR_PATHS = _paths(PANJSHIR_DOC)


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def _mutate_doc(data: st.DataObject) -> dict:
    """The Panjshir document with 1-4 keys replaced, deleted, renamed or added (structurally)."""
    doc = _copy(PANJSHIR_DOC)
    if data.draw(st.booleans()):  # a live case (no outcome): as_of and the future matter
        doc.pop("outcome")
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(PANJSHIR_PATHS))
        parent = doc
        try:
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            op = data.draw(st.sampled_from(["replace", "replace", "delete", "rename", "add"]))
            if op == "replace":
                parent[last] = data.draw(values)
            elif op == "delete":
                del parent[last]
            elif op == "rename" and isinstance(parent, dict):
                names = ["id", "as_of", "value", "low", "high", "weight", "claims", "as_of_is_hypothetical"]
                new = data.draw(st.one_of(st.text(max_size=12), st.sampled_from(names)))
                parent[new] = parent.pop(last)
            elif op == "add" and isinstance(parent, dict):
                parent[data.draw(st.sampled_from(["as_of_is_hypothetical", "outcome", "notes", "sources",
                                                  "end_date", "low", "high", "value", "extra"]))] = \
                    data.draw(values)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced this path
    return doc


def _mutate_text(data: st.DataObject, text: str) -> str:
    """The Panjshir file with 1-4 line-level edits: raw YAML scalars, deleted, repeated or cut lines."""
    lines = text.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 4))):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["value", "value", "value", "delete", "repeat", "insert",
                                        "truncate", "indent"]))
        line = lines[i]
        if op == "value" and ":" in line:
            head = line.split(":", 1)[0]
            lines[i] = f"{head}: {data.draw(raw_scalar)}\n"
        elif op == "delete":
            del lines[i]
        elif op == "repeat":
            lines.insert(i, line)
        elif op == "insert":
            key = data.draw(st.sampled_from(["as_of", "as_of_is_hypothetical", "value", "low", "  high",
                                             "- id", "  - x", "<<", "? k", "extra"]))
            lines.insert(i, f"{key}: {data.draw(raw_scalar)}\n")
        elif op == "truncate":
            lines = lines[:i] + [line[: data.draw(st.integers(0, len(line)))]]
        elif op == "indent":
            lines[i] = data.draw(st.sampled_from(["", " ", "    ", "\t"])) + line.lstrip(" ")
    return "".join(lines)


def _csv_text(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue()


def _mutate_csv(data: st.DataObject) -> str | bytes:
    """Valid rows (test rows and shipped ones) with fields, columns and rows changed, then maybe cut."""
    source, schema = data.draw(st.sampled_from([(VALID_ROWS, COLUMNS_V1), (SHIPPED_ROWS, COLUMNS)]))
    rows = [dict(r) for r in source]
    columns = list(schema)
    for _ in range(data.draw(st.integers(1, 5))):
        op = data.draw(st.sampled_from(["field", "field", "field", "field", "drop_column",
                                        "repeat_column", "repeat_row", "drop_row", "swap_columns",
                                        "empty_pair"]))
        if op == "field" and rows:
            row = data.draw(st.sampled_from(rows))
            column = data.draw(st.sampled_from(columns))
            row[column] = data.draw(_csv_field(column))
        elif op == "drop_column" and columns:
            columns.remove(data.draw(st.sampled_from(columns)))
        elif op == "repeat_column" and columns:
            columns.append(data.draw(st.sampled_from(columns)))
        elif op == "repeat_row" and rows:
            rows.append(dict(data.draw(st.sampled_from(rows))))
        elif op == "drop_row" and rows:
            rows.pop(data.draw(st.integers(0, len(rows) - 1)))
        elif op == "swap_columns" and len(columns) > 1:
            i, j = data.draw(st.integers(0, len(columns) - 1)), data.draw(st.integers(0, len(columns) - 1))
            columns[i], columns[j] = columns[j], columns[i]
        elif op == "empty_pair" and rows:
            row = data.draw(st.sampled_from(rows))
            prefix = data.draw(st.sampled_from(STRENGTHS))
            row[f"{prefix}_{data.draw(st.sampled_from(['low', 'high']))}"] = ""
    text = _csv_text(rows, columns)
    cut = data.draw(st.sampled_from(["none", "none", "none", "truncate", "bytes", "raw_line"]))
    if cut == "truncate":
        return text[: data.draw(st.integers(0, len(text)))]
    if cut == "bytes":
        raw = text.encode("utf-8")
        i = data.draw(st.integers(0, len(raw)))
        return raw[:i] + data.draw(st.binary(max_size=8)) + raw[i:]
    if cut == "raw_line":
        lines = text.splitlines(keepends=True)
        lines.insert(data.draw(st.integers(0, len(lines))), data.draw(st.text(max_size=60)) + "\n")
        return "".join(lines)
    return text


# --- the tests, run at two sizes -----------------------------------------------------------------

HEADER = ",".join(COLUMNS) + "\n"
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _settings(n: int):
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def _fuzz_csv_bytes(tmp_path: Path, n: int) -> None:
    @_settings(n)
    @given(st.one_of(st.binary(max_size=2000), st.binary(max_size=500).map(lambda b: HEADER.encode() + b)))
    def run(content: bytes) -> None:
        _try_csv(tmp_path / "h.csv", content, f"csv_bytes/{n}")

    run()
    _report(f"csv_bytes/{n}", n)


def _fuzz_csv_text(tmp_path: Path, n: int) -> None:
    @_settings(n)
    @given(st.one_of(st.text(max_size=1000), st.text(max_size=400).map(lambda t: HEADER + t)))
    def run(content: str) -> None:
        _try_csv(tmp_path / "h.csv", content, f"csv_text/{n}")

    run()
    _report(f"csv_text/{n}", n)


def _fuzz_csv_mutated(tmp_path: Path, n: int) -> None:
    @_settings(n)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        _try_csv(tmp_path / "h.csv", _mutate_csv(data), f"csv_mutated/{n}")

    run()
    _report(f"csv_mutated/{n}", n)


def _fuzz_case_bytes_and_text(tmp_path: Path, n: int) -> None:
    @_settings(n)
    @given(st.one_of(st.binary(max_size=1000), st.text(max_size=1000),
                     st.lists(st.sampled_from(YAML_SCALARS + ["id: x", "as_of: ", "indicators:", "  - ",
                                                              "  terrain: ", "\n", ": ", "- "]),
                              max_size=30).map("".join)))
    def run(content: str | bytes) -> None:
        _try_case(tmp_path / "case.yaml", content, f"case_random/{n}")

    run()
    _report(f"case_random/{n}", n)


def _fuzz_case_structure(tmp_path: Path, n: int) -> None:
    @_settings(n)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        doc = _mutate_doc(data)
        text = yaml.dump(doc, Dumper=DUMPER, sort_keys=False, allow_unicode=True)
        _try_case(tmp_path / "case.yaml", text, f"case_structure/{n}")

    run()
    _report(f"case_structure/{n}", n)


def _fuzz_case_text(tmp_path: Path, n: int) -> None:
    @_settings(n)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        _try_case(tmp_path / "case.yaml", _mutate_text(data, PANJSHIR_TEXT), f"case_text/{n}")

    run()
    _report(f"case_text/{n}", n)


FUZZERS = [_fuzz_csv_bytes, _fuzz_csv_text, _fuzz_csv_mutated, _fuzz_case_bytes_and_text,
           _fuzz_case_structure, _fuzz_case_text]


@pytest.mark.parametrize("fuzz", FUZZERS, ids=lambda f: f.__name__.removeprefix("_fuzz_"))
def test_loaders_return_valid_objects_or_input_errors(tmp_path, fuzz):
    fuzz(tmp_path, FAST)


@pytest.mark.slow
@pytest.mark.parametrize("fuzz", FUZZERS, ids=lambda f: f.__name__.removeprefix("_fuzz_"))
def test_loaders_return_valid_objects_or_input_errors_at_scale(tmp_path, fuzz):
    fuzz(tmp_path, SLOW)
