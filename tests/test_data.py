from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from conftest import COLUMNS_V1 as COLUMNS
from conftest import HOLDOUTS, write_csv

from forecast.data import load_holdouts
from forecast.errors import InputError
from forecast.indicators import CENSORED_OUTCOMES, EVENT_OUTCOMES
from forecast.reference import format_summary, summarize


def test_small_file_loads_with_durations_and_events(small_csv):
    ds = load_holdouts(small_csv, data_date=date(2024, 12, 31))
    assert list(ds.frame["case_id"]) == ["alpha", "beta", "gamma"]
    assert ds.durations[0] == (date(1941, 11, 27) - date(1941, 4, 10)).days
    assert ds.events.tolist() == [False, True, False]
    # ongoing rows are censored at the data date
    assert ds.durations[2] == (date(2024, 12, 31) - date(2023, 10, 1)).days


def test_unknown_values_stay_unknown(small_csv):
    ds = load_holdouts(small_csv)
    ind = ds.indicators(2)
    assert ind.terrain is None and ind.defender_strength is None
    assert ds.indicators(1).defender_strength.low == 1800


def test_hash_changes_with_content_and_data_date(small_csv, tmp_path, valid_rows):
    a = load_holdouts(small_csv)
    b = load_holdouts(small_csv, data_date=date(2025, 6, 30))
    valid_rows[1]["end_date"] = "1991-11-19"
    c = load_holdouts(write_csv(tmp_path / "c.csv", valid_rows))
    assert len({a.sha256, b.sha256, c.sha256}) == 3
    assert load_holdouts(small_csv).sha256 == a.sha256


def _error_for(tmp_path, rows, columns=COLUMNS) -> InputError:
    path = write_csv(tmp_path / "bad.csv", rows, columns)
    with pytest.raises(InputError) as info:
        load_holdouts(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("end_date", "1941-01-01", "before start_date"),
        ("start_date", "10/04/1941", "not an ISO date"),
        ("terrain", "swamp", "'swamp' is not one of"),
        ("encircled", "maybe", "not one of"),
        ("outcome", "won", "not one of"),
        ("defender_strength_low", "-5", "negative"),
        ("defender_strength_high", "lots", "not a number"),
        ("defender_strength_low", "30000", "greater than high"),
        ("population", "-1", "negative"),
        ("date_precision", "week", "not one of"),
        ("name", "", "required"),
        ("end_date", "", "only an 'ongoing'"),
    ],
)
def test_bad_value_names_line_column_and_rule(tmp_path, valid_rows, column, value, rule):
    valid_rows[0][column] = value
    err = _error_for(tmp_path, valid_rows)
    assert "line 2" in str(err)
    assert f"column '{column}'" in str(err)
    assert rule in str(err)


def test_duplicate_case_id_is_refused(tmp_path, valid_rows):
    valid_rows[2]["case_id"] = "alpha"
    err = _error_for(tmp_path, valid_rows)
    assert "duplicate case_id 'alpha'" in str(err) and "line 4" in str(err)


def test_half_a_strength_range_is_refused(tmp_path, valid_rows):
    valid_rows[0]["defender_strength_high"] = ""
    err = _error_for(tmp_path, valid_rows)
    assert "defender_strength_high" in str(err) and "give both or neither" in str(err)


def test_missing_column_is_named(tmp_path, valid_rows):
    cols = [c for c in COLUMNS if c != "encircled"]
    err = _error_for(tmp_path, valid_rows, cols)
    assert "missing required column 'encircled'" in str(err)


def test_empty_and_header_only_files_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="file is empty"):
        load_holdouts(empty)
    header = write_csv(tmp_path / "header.csv", [])
    with pytest.raises(InputError, match="no cases"):
        load_holdouts(header)


def test_ragged_line_is_refused(tmp_path, small_csv):
    text = small_csv.read_text().splitlines()
    text[2] = text[2] + ",extra"
    bad = tmp_path / "ragged.csv"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError, match=r"line 3: has 19 fields, the header has 18"):
        load_holdouts(bad)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_holdouts(tmp_path / "nope.csv")


def test_summary_uses_kaplan_meier(small_csv):
    s = summarize(load_holdouts(small_csv))
    assert (s.cases, s.events, s.censored) == (3, 1, 2)
    # one event among three: the KM curve drops to 2/3 at beta's duration and never reaches 0.5
    assert not np.isfinite(s.km_median_days)
    assert "not reached" in format_summary(s)


def test_shipped_dataset_is_valid_and_large_enough():
    ds = load_holdouts(HOLDOUTS)
    frame = ds.frame
    assert len(ds) >= 200  # issue 9: the reference class v2
    assert frame["event"].sum() >= 20 and (~frame["event"]).sum() >= 15
    assert set(frame["outcome"]) <= set(EVENT_OUTCOMES + CENSORED_OUTCOMES)
    assert frame["start_date"].dt.year.min() >= 1850
    assert (frame["source"].str.len() > 0).all()
    ids = set(frame["case_id"])
    assert not any("2021" in i and "panjshir" in i for i in ids), "the live case is not reference data"
    assert np.isfinite(summarize(ds).km_median_days)


# --- numbers beyond the plausible, non-finite numbers, dates outside the data, one-line messages ---

@pytest.mark.parametrize(("column", "value", "rule"), [
    ("defender_strength_high", "1e308", "1e308 is beyond the plausible bound for defender_strength"),
    ("defender_strength_high", "1e999", "1e999 is beyond the plausible bound for defender_strength"),
    ("attacker_strength_low", "1e30", "1e30 is beyond the plausible bound for attacker_strength"),
    ("population", "50000000", "beyond the plausible bound for population (40,000,000 persons"),
    ("defender_strength_high", "nan", "'nan' is not a finite number"),
    ("defender_strength_high", "inf", "'inf' is not a finite number"),
    ("population", "-Infinity", "not a finite number"),
    ("population", "１２３", "not a number"),
])
def test_number_rules_are_said_plainly(tmp_path, valid_rows, column, value, rule):
    valid_rows[1][column] = value
    if column == "attacker_strength_low":
        valid_rows[1]["attacker_strength_high"] = "1e31"
    err = _error_for(tmp_path, valid_rows)
    assert "line 3" in str(err) and f"column '{column}'" in str(err) and rule in str(err)


@pytest.mark.parametrize(("column", "value"), [("start_date", "2025-03-01"), ("end_date", "2025-01-01")])
def test_dates_after_the_data_date_are_refused(tmp_path, valid_rows, column, value):
    valid_rows[1][column] = value
    err = _error_for(tmp_path, valid_rows)
    assert "line 3" in str(err) and f"column '{column}'" in str(err)
    assert "is after the data date 2024-12-31" in str(err)


def test_dates_must_be_plain_iso_and_not_before_1800(tmp_path, valid_rows):
    for value, rule in [("19910825", "not an ISO date"), ("1991-W34-7", "not an ISO date"),
                        ("1683-07-14", "before 1800-01-01")]:
        rows = [dict(r) for r in valid_rows]
        rows[1]["start_date"] = value
        err = _error_for(tmp_path, rows)
        assert "column 'start_date'" in str(err) and rule in str(err)


def test_repeated_column_is_refused(tmp_path, valid_rows):
    path = tmp_path / "dup.csv"
    path.write_text(",".join((*COLUMNS, "terrain")) + "\n")
    with pytest.raises(InputError, match="line 1: column 'terrain' appears twice"):
        load_holdouts(path)


def test_a_value_with_line_breaks_is_shown_on_one_line(tmp_path, valid_rows):
    valid_rows[0]["terrain"] = "swamp\r\nmarsh\u2028bog"
    err = _error_for(tmp_path, valid_rows)
    assert len(str(err).splitlines()) == 1 and "'swamp\\r\\nmarsh\\u2028bog' is not one of" in str(err)


def test_data_check_cli_gives_one_line_for_number_and_date_rules(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from conftest import VALID_ROWS

    exe = Path(sys.executable).with_name("forecast")
    for column, value, rule in [("defender_strength_high", "1e308", "beyond the plausible bound"),
                                ("end_date", "2030-01-01", "after the data date")]:
        rows = [dict(r) for r in VALID_ROWS]
        rows[1][column] = value
        path = write_csv(tmp_path / "bad.csv", rows)
        out = subprocess.run([str(exe), "data", "check", str(path)], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2 and out.stdout == ""
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in out.stderr
        assert "line 3" in lines[0] and column in lines[0] and rule in lines[0]


def test_data_date_may_be_an_iso_string_or_a_datetime(small_csv):
    from datetime import datetime

    a = load_holdouts(small_csv, data_date="2025-06-30")
    b = load_holdouts(small_csv, data_date=datetime(2025, 6, 30, 12))
    assert a.data_date == b.data_date == date(2025, 6, 30) and a.sha256 == b.sha256
    with pytest.raises(InputError, match=r"data_date: 20250630 \(int\) is not a date"):
        load_holdouts(small_csv, data_date=20250630)
