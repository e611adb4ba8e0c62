"""Schema v2 of holdouts.csv: war, parent, region, per-date precision; nested rows counted once;
the composition report; the double-coding agreement."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import HOLDOUTS, ROOT, write_csv

from forecast.agreement import agreement, disagreements, read_coding
from forecast.backtest import BacktestConfig, plan
from forecast.data import COLUMNS, load_holdouts
from forecast.errors import InputError
from forecast.reference import composition, kaplan_meier
from models.design import from_dataset


def _row(case_id: str, start: str, end: str, outcome: str = "fell", **extra) -> dict:
    row = {c: "" for c in COLUMNS}
    row.update(case_id=case_id, name=f"Siege of {case_id}", war="Test War", region="europe",
               country="Testland", source="test", start_date=start, start_precision="day",
               end_date=end, end_precision="day", outcome=outcome, terrain="urban",
               encircled="yes", approach_routes="many", external_support="none",
               conflict_type="interstate")
    row.update(extra)
    return row


ROWS = [
    _row("outer", "2022-02-24", "2022-05-20", "surrendered"),
    _row("inner", "2022-04-22", "2022-05-20", "surrendered", parent="outer", terrain="fortified"),
    _row("other", "1941-04-10", "1941-11-27", "relieved", war="Another War",
         region="middle_east_north_africa"),
    _row("short", "1939-09-01", "1939-09-07", "surrendered", war="Another War"),
]


def _error(tmp_path, rows, columns=COLUMNS) -> str:
    path = write_csv(tmp_path / "h.csv", rows, columns)
    with pytest.raises(InputError) as err:
        load_holdouts(path)
    msg = str(err.value)
    assert len(msg.splitlines()) == 1 and str(path) in msg
    return msg


def test_v2_file_loads_with_precision_per_date(tmp_path):
    rows = [dict(r) for r in ROWS]
    rows[2].update(start_date="1941-04-01", start_precision="month")
    ds = load_holdouts(write_csv(tmp_path / "h.csv", rows, COLUMNS))
    f = ds.frame.set_index("case_id")
    assert f.loc["other", "start_precision"] == "month" and f.loc["other", "end_precision"] == "day"
    assert f.loc["other", "date_precision"] == "month"  # the coarser of the two
    assert f.loc["inner", "parent"] == "outer" and pd.isna(f.loc["outer", "parent"])
    assert f.loc["other", "war"] == "Another War"
    assert list(ds.nested) == [False, True, False, False]


@pytest.mark.parametrize("change, words", [
    ({"parent": "nowhere"}, "'nowhere' is not a case_id"),
    ({"parent": "inner"}, "cannot be its own parent"),
    ({"parent": "other"}, "parent 'other' ends on 1941-11-27, before this holdout starts"),
    ({"region": "asia"}, "'asia' is not one of"),
    ({"war": ""}, "column 'war'"),
    ({"start_precision": "week"}, "'week' is not one of"),
    ({"start_date": "2022-04-22", "start_precision": "month"}, "is not the 1st of its month"),
    ({"end_date": "2022-05-01", "end_precision": "year"}, "is not 1 January"),
])
def test_each_new_rule_is_one_line_naming_row_and_column(tmp_path, change, words):
    rows = [dict(r) for r in ROWS]
    rows[1].update(change)
    msg = _error(tmp_path, rows)
    assert words in msg
    assert "line 3" in msg and "inner" in msg


def test_a_parent_cannot_have_a_parent(tmp_path):
    rows = [dict(r) for r in ROWS] + [_row("innermost", "2022-05-01", "2022-05-20", parent="inner")]
    assert "has a parent of its own" in _error(tmp_path, rows)


@pytest.mark.parametrize("a, b", [
    ("Syrian civil war", "Syrian Civil War"),
    ("Syrian civil war", "Syria civil war"),
    ("Bosnian War", "the Bosnian war"),
    ("Russo-Ukrainian War", "Russo Ukrainian War"),
    ("Goražde war", "Gorazde war"),
])
def test_war_names_that_differ_only_in_spelling_are_refused(tmp_path, a, b):
    rows = [dict(r) for r in ROWS]
    rows[2]["war"], rows[3]["war"] = a, b
    msg = _error(tmp_path, rows)
    assert "differs only in spelling" in msg and "line 5" in msg


@pytest.mark.parametrize("a, b", [
    ("World War I: Western Front", "World War II: Western Front"),
    ("First Chechen War", "Second Chechen War"),
    ("World War II: Eastern Front", "World War II: Western Front"),
    ("Balkan Wars", "Boer War"),
])
def test_different_wars_are_not_taken_for_spellings(tmp_path, a, b):
    rows = [dict(r) for r in ROWS]
    rows[2]["war"], rows[3]["war"] = a, b
    assert len(load_holdouts(write_csv(tmp_path / "h.csv", rows, COLUMNS))) == 4


def test_date_precision_and_split_precision_together_are_refused(tmp_path):
    columns = list(COLUMNS) + ["date_precision"]
    rows = [dict(r, date_precision="day") for r in ROWS]
    assert "has both 'date_precision' and 'start_precision'" in _error(tmp_path, rows, columns)


def test_missing_precision_columns_are_named(tmp_path):
    columns = [c for c in COLUMNS if c != "end_precision"]
    assert "missing required column 'end_precision'" in _error(tmp_path, ROWS, columns)


def test_a_nested_row_is_not_fitted_nor_counted_twice(tmp_path):
    with_child = load_holdouts(write_csv(tmp_path / "a.csv", ROWS, COLUMNS))
    without = load_holdouts(write_csv(tmp_path / "b.csv", [r for r in ROWS if r["case_id"] != "inner"],
                                      COLUMNS))
    # the design gives the child weight 0, every other row weight 1
    assert list(from_dataset(with_child).weights()) == [1.0, 0.0, 1.0, 1.0]
    # Kaplan-Meier of the class is the same with and without the child
    km_a, km_b = kaplan_meier(with_child), kaplan_meier(without)
    pd.testing.assert_frame_equal(km_a.survival_function_, km_b.survival_function_)
    # the backtest neither trains on nor scores the child
    tasks = plan(with_child, BacktestConfig(models=("weibull",), scheme="loo", offsets=(0,)), b"")
    assert all(t.weight[1] == 0.0 for t in tasks)
    assert "inner" not in {cid for t in tasks for cid, _ in t.targets}
    assert {cid for t in tasks for cid, _ in t.targets} == {"outer", "other", "short"}
    # leave-one-war-out: the two rows of Another War are one fold
    folds = {t.fold: t for t in tasks}
    assert set(folds) == {"loo:Test War", "loo:Another War"}
    assert folds["loo:Another War"].weight == (1.0, 0.0, 0.0, 0.0)


def test_composition_counts_by_decade_region_terrain_band_and_outcome(tmp_path):
    ds = load_holdouts(write_csv(tmp_path / "h.csv", ROWS, COLUMNS)).top_level()
    c = composition(ds)
    assert c["decade"].to_dict() == {"1930s": 1, "1940s": 1, "2020s": 1}
    assert c["region"].to_dict() == {"europe": 2, "middle_east_north_africa": 1}
    assert c["terrain"].to_dict() == {"urban": 3}
    # 6 days, 85 days, 231 days
    assert c["duration"].to_dict() == {"under 1 week": 1, "1-3 months": 1, "3-12 months": 1}
    assert c["outcome"].to_dict() == {"surrendered": 2, "relieved": 1}


def test_data_check_prints_the_composition_and_refuses_a_bad_parent(tmp_path):
    run = [sys.executable, "-m", "forecast.cli", "data", "check"]
    ok = subprocess.run(run + [str(HOLDOUTS)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    for word in ("composition", "decade", "region", "terrain", "duration", "outcome"):
        assert word in ok.stdout
    rows = [dict(r) for r in ROWS]
    rows[1]["parent"] = "nowhere"
    path = write_csv(tmp_path / "bad.csv", rows, COLUMNS)
    bad = subprocess.run(run + [str(path)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "parent" in bad.stderr


def test_shipped_file_uses_schema_v2_with_a_war_and_region_on_every_row():
    ds = load_holdouts(HOLDOUTS)
    assert ds.frame["war"].notna().all() and ds.frame["region"].notna().all()


# --- double coding --------------------------------------------------------------------------------

def _coding(tmp_path, name, rows):
    return read_coding(write_csv(tmp_path / name, rows, COLUMNS))


def test_kappa_matches_the_closed_form_and_dates_respect_precision(tmp_path):
    # terrain on 10 rows: first coder 5 urban 5 fortified; second agrees on 8
    first_terrain = ["urban"] * 5 + ["fortified"] * 5
    second_terrain = ["urban"] * 4 + ["fortified"] + ["fortified"] * 4 + ["urban"]
    first = [_row(f"c{i}", "2000-01-10", "2000-03-01", terrain=t) for i, t in enumerate(first_terrain)]
    second = [_row(f"c{i}", "2000-01-10", "2000-03-01", terrain=t) for i, t in enumerate(second_terrain)]
    # dates: c0 same month at month precision (agree); c1 one day apart at day precision (disagree)
    second[0].update(start_date="2000-01-01", start_precision="month")
    second[1].update(start_date="2000-01-11")
    # forces: c2 ranges overlap (agree); c3 disjoint (disagree); c4 one coder empty (disagree)
    first[2].update(defender_strength_low="100", defender_strength_high="200")
    second[2].update(defender_strength_low="150", defender_strength_high="150")
    first[3].update(defender_strength_low="100", defender_strength_high="200")
    second[3].update(defender_strength_low="300", defender_strength_high="400")
    second[4].update(defender_strength_low="50", defender_strength_high="50")
    a, b = _coding(tmp_path, "a.csv", first), _coding(tmp_path, "b.csv", second)
    table = agreement(a, b).set_index("field")
    # Cohen's kappa by hand: po = 0.8; pe = 0.5*0.5 + 0.5*0.5 = 0.5; kappa = (0.8-0.5)/(1-0.5)
    assert table.loc["terrain", "agree"] == 8
    assert table.loc["terrain", "kappa"] == pytest.approx(0.6)
    assert table.loc["start_date", "agree"] == 9
    assert table.loc["end_date", "agree"] == 10
    assert table.loc["defender_strength", "agree"] == 8
    assert np.isnan(table.loc["encircled", "kappa"])  # one level only: kappa undefined
    cells = disagreements(a, b)
    assert set(map(tuple, cells[["case_id", "field"]].to_numpy())) == {
        ("c4", "terrain"), ("c9", "terrain"), ("c1", "start_date"),
        ("c3", "defender_strength"), ("c4", "defender_strength")}


def test_agree_command_prints_the_table_and_writes_disagreements(tmp_path):
    first = [_row("x", "2000-01-10", "2000-03-01"), _row("y", "2001-01-10", "2001-03-01")]
    second = [_row("x", "2000-01-10", "2000-03-01", outcome="relieved")]
    a, b = write_csv(tmp_path / "a.csv", first, COLUMNS), write_csv(tmp_path / "b.csv", second, COLUMNS)
    out = subprocess.run([sys.executable, "-m", "forecast.cli", "data", "agree", str(a), str(b),
                          "--disagreements", str(tmp_path / "d.csv")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "on 1 rows both coded" in out.stdout and "outcome" in out.stdout
    cells = pd.read_csv(tmp_path / "d.csv")
    assert set(cells["field"]) == {"outcome", "event"}
