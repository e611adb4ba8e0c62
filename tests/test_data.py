from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from conftest import HOLDOUTS, write_csv

from forecast.data import COLUMNS, load_holdouts
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
    assert len(ds) >= 80
    assert frame["event"].sum() >= 20 and (~frame["event"]).sum() >= 15
    assert set(frame["outcome"]) <= set(EVENT_OUTCOMES + CENSORED_OUTCOMES)
    assert frame["start_date"].dt.year.min() >= 1850
    assert (frame["source"].str.len() > 0).all()
    ids = set(frame["case_id"])
    assert not any("2021" in i and "panjshir" in i for i in ids), "the live case is not reference data"
    assert sum("panjshir" in i for i in ids) >= 2, "Panjshir vs Soviets and vs Taliban rows"
    assert np.isfinite(summarize(ds).km_median_days)
