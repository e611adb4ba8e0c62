from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from forecast.cdb90 import DEFAULT_DIR, REQUIRED, load_cdb90
from forecast.errors import InputError


@pytest.fixture(scope="module")
def cdb90() -> pd.DataFrame:
    return load_cdb90()


@pytest.fixture
def copy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "cdb90"
    shutil.copytree(DEFAULT_DIR, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def _csv_row(path: Path, key: str, value: str) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(row for row in csv.DictReader(fh) if row[key] == value)


def test_one_row_per_battle_with_usable_durations(cdb90):
    assert 650 <= len(cdb90) <= 660
    assert cdb90["isqno"].is_unique
    assert cdb90.attrs["dropped_isqno"] == [429, 435]
    assert len(cdb90) + len(cdb90.attrs["dropped_isqno"]) == 660
    assert cdb90["duration_days"].notna().all() and (cdb90["duration_days"] >= 1).all()
    assert (cdb90["span_days"] >= 1).all()
    assert cdb90["duration_days"].median() == 2.0
    assert cdb90["year"].between(1600, 1982).all()


def test_events_and_censored_both_present(cdb90):
    events = int(cdb90["event"].sum())
    assert 300 < events < len(cdb90) - 200
    assert (cdb90["event"] == (cdb90["wina"] == 1)).all()
    assert set(cdb90["wina"].dropna().unique()) == {-1.0, 0.0, 1.0}
    unknown = cdb90["wina"].isna()
    assert unknown.sum() == 2 and cdb90["attacker_won"][unknown].isna().all()
    assert not cdb90["event"][unknown].any()


def test_codes_and_force_ratio(cdb90):
    assert set(cdb90["terrain"].dropna()) == {"flat", "rolling", "rugged", "urban"}
    assert (cdb90["terrain"] == "urban").sum() == 12
    assert set(cdb90["defender_posture"].dropna()) == {"HD", "PD", "FD", "DL", "WD"}
    known = cdb90.dropna(subset=["attacker_strength", "defender_strength"])
    expected = (known["attacker_strength"] / known["defender_strength"]).map(math.log)
    assert known["log_force_ratio"].tolist() == pytest.approx(expected.tolist())
    assert cdb90["log_force_ratio"].isna().sum() == len(cdb90) - len(known)


def test_waterloo_matches_the_csv_files(cdb90):
    row = cdb90.loc[cdb90["name"] == "WATERLOO"].iloc[0]
    flat = _csv_row(DEFAULT_DIR / "CDB90-patched.csv", "NAME", "WATERLOO")
    assert row["isqno"] == int(flat["ISQNO"]) == 145
    assert row["attacker_strength"] == float(flat["STRA"]) == 68265
    assert row["defender_strength"] == float(flat["STRD"]) == 137547
    assert row["wina"] == float(flat["WINA"]) == -1
    assert not row["attacker_won"] and not row["event"]
    assert row["year"] == 1815 and row["duration_days"] == 1.0
    assert row["defender_posture"] == "HD" and row["terrain"] == "rolling"


def test_sub_engagement_points_to_parent_and_long_span(cdb90):
    somme = cdb90.set_index("isqno")
    assert somme.loc[305, "parent"] == 304
    assert somme.loc[304, "duration_days"] == 125.0
    assert somme.loc[304, "span_days"] == 147.0


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_missing_file_is_named(copy_dir, name):
    (copy_dir / name).unlink()
    with pytest.raises(InputError) as err:
        load_cdb90(copy_dir)
    assert name in err.value.where and "not found" in err.value.rule


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("belligerents.csv", "str"),
        ("battle_durations.csv", "duration1"),
        ("CDB90-patched.csv", "WINA"),
        ("terrain.csv", "terra1"),
    ],
)
def test_missing_column_is_named(copy_dir, name, column):
    path = copy_dir / name
    frame = pd.read_csv(path, low_memory=False).drop(columns=[column])
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        load_cdb90(copy_dir)
    assert name in err.value.where and f"'{column}'" in err.value.where


def test_repeated_battle_number_is_named(copy_dir):
    path = copy_dir / "battle_durations.csv"
    frame = pd.read_csv(path)
    pd.concat([frame, frame.iloc[[5]]]).to_csv(path, index=False)
    with pytest.raises(InputError, match="battle_durations.csv, line 662, column 'isqno'"):
        load_cdb90(copy_dir)


def test_missing_side_is_named(copy_dir):
    path = copy_dir / "belligerents.csv"
    frame = pd.read_csv(path)
    frame.drop(index=frame.index[(frame["isqno"] == 7) & (frame["attacker"] == 1)]).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match="belligerents.csv, isqno 7"):
        load_cdb90(copy_dir)


def test_unknown_posture_code_is_named(copy_dir):
    path = copy_dir / "battles.csv"
    frame = pd.read_csv(path, low_memory=False)
    frame.loc[3, "post1"] = "XX"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match="battles.csv, line 5, column 'post1'"):
        load_cdb90(copy_dir)
