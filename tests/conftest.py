"""Shared fixtures: one seed, small valid inputs to mutate, paths to the shipped files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

#: The first schema of holdouts.csv (one date_precision, no war/parent/region): still accepted.
COLUMNS_V1: tuple[str, ...] = (
    "case_id", "name", "source", "start_date", "end_date", "date_precision", "outcome",
    "defender_strength_low", "defender_strength_high",
    "attacker_strength_low", "attacker_strength_high",
    "terrain", "encircled", "approach_routes", "external_support", "population",
    "conflict_type", "notes",
)
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


def write_csv(path: Path, rows: list[dict], columns: tuple[str, ...] | list[str] = COLUMNS_V1) -> Path:
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


def synthetic_rows(n: int, seed: int) -> list[dict]:
    """A valid holdouts table drawn from a Weibull AFT with a known force-ratio effect.

    Higher attacker/defender ratios shorten holdouts (beta_force < 0 on the log ratio); about a
    third of the rows are censored by relief. Used where the real data are not the subject.
    """
    import numpy as np

    from forecast.indicators import CATEGORIES

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        defender = float(rng.integers(500, 50_000))
        ratio = float(np.exp(rng.normal(1.0, 1.0)))
        attacker = defender * ratio
        terrain = str(rng.choice(CATEGORIES["terrain"]))
        eta = 4.5 - 0.6 * (np.log(ratio) - 1.0) + (0.8 if terrain == "mountain" else 0.0)
        t = float(np.exp(eta + 0.8 * np.log(-np.log(rng.uniform()))))
        c = float(rng.uniform(5, 600))
        days = max(int(round(min(t, c))), 1)
        start = np.datetime64("1950-01-01") + int(rng.integers(0, 20_000))
        end = start + days
        known = rng.uniform() < 0.8
        rows.append({
            "case_id": f"sim_{i:03d}", "name": f"Simulated holdout {i}", "source": "simulation",
            "start_date": str(start), "end_date": str(end), "date_precision": "day",
            "outcome": "fell" if t <= c else "relieved",
            "defender_strength_low": f"{defender * 0.8:.0f}" if known else "",
            "defender_strength_high": f"{defender * 1.2:.0f}" if known else "",
            "attacker_strength_low": f"{attacker:.0f}" if known else "",
            "attacker_strength_high": f"{attacker:.0f}" if known else "",
            "terrain": terrain,
            "encircled": str(rng.choice(CATEGORIES["encircled"])),
            "approach_routes": str(rng.choice(CATEGORIES["approach_routes"])),
            "external_support": str(rng.choice(CATEGORIES["external_support"])),
            "population": "", "conflict_type": str(rng.choice(CATEGORIES["conflict_type"])),
            "notes": "",
        })
    return rows


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("synthetic") / "holdouts.csv", synthetic_rows(90, 7))


#: Small sampler settings for tests where the sampler is exercised but not studied.
def small_sampler():
    from forecast.fit import SamplerConfig

    return SamplerConfig(draws=300, tune=300, chains=2)


@pytest.fixture(scope="session")
def synthetic_dataset(synthetic_csv):
    from forecast.data import load_holdouts

    return load_holdouts(synthetic_csv)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("posteriors")


@pytest.fixture(scope="session")
def weibull_posterior(synthetic_dataset, cache_dir):
    """A real nutpie fit of the Weibull model to the synthetic reference class (compiled once)."""
    from forecast.fit import fit

    return fit(synthetic_dataset, "weibull", seed=11, sampler=small_sampler(), cache_dir=cache_dir)
