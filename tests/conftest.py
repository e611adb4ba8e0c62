"""Shared fixtures: one seed, small valid inputs to mutate, paths to the shipped files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from forecast.data import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
HOLDOUTS = ROOT / "data" / "holdouts.csv"
PANJSHIR = ROOT / "data" / "cases" / "panjshir_2021.yaml"

VALID_ROWS = [
    {"case_id": "alpha", "name": "Siege of Alpha", "source": "Test source A",
     "start_date": "1941-04-10", "end_date": "1941-11-27", "date_precision": "day",
     "outcome": "relieved", "defender_strength_low": "20000", "defender_strength_high": "27000",
     "attacker_strength_low": "", "attacker_strength_high": "", "terrain": "fortified",
     "encircled": "yes", "approach_routes": "few", "external_support": "substantial",
     "population": "", "conflict_type": "interstate", "notes": "test row"},
    {"case_id": "beta", "name": "Battle of Beta", "source": "Test source B",
     "start_date": "1991-08-25", "end_date": "1991-11-18", "date_precision": "day",
     "outcome": "fell", "defender_strength_low": "1800", "defender_strength_high": "1800",
     "attacker_strength_low": "36000", "attacker_strength_high": "36000", "terrain": "urban",
     "encircled": "yes", "approach_routes": "many", "external_support": "none",
     "population": "15000", "conflict_type": "civil", "notes": ""},
    {"case_id": "gamma", "name": "Siege of Gamma", "source": "Test source C",
     "start_date": "2023-10-01", "end_date": "", "date_precision": "month",
     "outcome": "ongoing", "defender_strength_low": "", "defender_strength_high": "",
     "attacker_strength_low": "", "attacker_strength_high": "", "terrain": "",
     "encircled": "partial", "approach_routes": "", "external_support": "limited",
     "population": "", "conflict_type": "insurgency", "notes": "still holding"},
]


def write_csv(path: Path, rows: list[dict], columns: tuple[str, ...] | list[str] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def seed() -> int:
    """The one seed the suite uses."""
    return 20210820


@pytest.fixture
def valid_rows() -> list[dict]:
    return [dict(r) for r in VALID_ROWS]


@pytest.fixture
def small_csv(tmp_path: Path, valid_rows: list[dict]) -> Path:
    return write_csv(tmp_path / "holdouts.csv", valid_rows)
