"""A process that records forecasts into a ledger, for the multi-process tests of test_ledger.py.

Usage: ``python tests/ledger_worker.py LEDGER WORKER COUNT [--big] [--go FILE]``. Records
``make_record(WORKER, i)`` for i < COUNT, one transaction each, and prints ``WORKER i id`` after
each commit. ``--big`` uses a long grid (large records); ``--go`` waits until FILE exists first,
so that many workers start writing together.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from forecast.ledger import Ledger
from forecast.predictive import ForecastRecord, Predictive, standard_grid

#: Grid length (days) of a ``--big`` record: 2 x 1.6 MB of float64 per record.
BIG_DAYS = 200_000


def make_record(worker: int, i: int, *, big: bool = False) -> ForecastRecord:
    """The i-th forecast of a worker: distinct, deterministic, with irregular float bits."""
    grid = np.arange(float(BIG_DAYS)) if big else standard_grid()
    scale = 40.0 + 13.0 * worker + 0.37 * i
    survival = 0.15 + 0.85 * np.exp(-((grid / scale) ** 0.8))
    start = date(2000 + worker, 1, 1)
    return ForecastRecord(
        case_id=f"case_{worker}", case_name=f"Holdout {worker}", start_date=start,
        as_of=start + timedelta(days=i), model="weibull", model_id=f"m{worker}",
        dataset_hash="d" * 16, seed=1000 * worker + i, kind="backtest",
        predictive=Predictive.from_survival(grid, survival),
        summary={"p_fall_30": float(1 - survival[30]), "scale": scale},
        claims=[{"id": f"c{i}", "p": 0.1 * (i % 10)}], extra={"worker": worker, "i": i},
        issued_at=f"2024-01-01T00:00:{i % 60:02d}+00:00")


def main(argv: list[str]) -> None:
    path, worker, count = argv[0], int(argv[1]), int(argv[2])
    big = "--big" in argv
    if "--go" in argv:
        go = Path(argv[argv.index("--go") + 1])
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    with Ledger(path) as ledger:
        for i in range(count):
            print(worker, i, ledger.record(make_record(worker, i, big=big)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
