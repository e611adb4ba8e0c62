"""Performance measurements as ratios within one run (machines here are noisy).

1. `forecast run` on the Panjshir case: first run (fit, compile, sample) vs a second run with the
   stored posterior (wall clock, subprocess, PNG and SVG included).
2. Compile once, refit many: a fresh compile + sample vs a `with_data` refit + sample of the same
   graph with changed data (a held-out row), in one process.

Usage: ``.venv/bin/python benchmarks/run.py`` (or ``make bench``). Prints a Markdown table to paste
into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "forecast"
CASE = ROOT / "data" / "cases" / "panjshir_2021.yaml"


def wall(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - t0


def bench_cached_run() -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"FORECAST_CACHE": str(Path(tmp) / "cache")}
        cmd = [str(BIN), "run", str(CASE), "--out", str(Path(tmp) / "out")]
        first = wall([*cmd, "--no-statements"], env)
        cached = min(wall([*cmd, "--no-statements"], env) for _ in range(3))
        with_claims = min(wall(cmd, env) for _ in range(3))
    return [("forecast run, first (fit + compile + sample), s", first),
            ("forecast run --no-statements, stored posterior (best of 3), s", cached),
            ("ratio first / stored", first / cached),
            ("forecast run with the statements' claims, stored posterior (best of 3), s",
             with_claims)]


def bench_refit() -> list[tuple[str, float]]:
    import nutpie

    from forecast.data import load_holdouts
    from forecast.fit import SamplerConfig, compiled_model, sample_design
    from models import get_model
    from models.design import from_dataset

    design = from_dataset(load_holdouts())
    model = get_model("weibull")
    t0 = time.perf_counter()
    compiled_model(model, design)
    sample_design(model, design, seed=1, sampler=SamplerConfig())
    first = time.perf_counter() - t0
    compiles = []
    real = nutpie.compile_pymc_model
    nutpie.compile_pymc_model = lambda *a, **k: compiles.append(1) or real(*a, **k)
    times = []
    for i in range(3):
        weight = np.ones(design.n)
        weight[i] = 0.0
        held_out = replace(design, weight=weight)
        t0 = time.perf_counter()
        sample_design(model, held_out, seed=2 + i, sampler=SamplerConfig())
        times.append(time.perf_counter() - t0)
    nutpie.compile_pymc_model = real
    best = min(times)
    return [("compile + sample (4 x 1000), s", first),
            ("refit with changed data (with_data, best of 3), s", best),
            ("recompilations during refits", float(len(compiles))),
            ("ratio compile+sample / refit", first / best)]


def main() -> None:
    rows = bench_cached_run() + bench_refit()
    print("| measurement | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value:.2f} |")


if __name__ == "__main__":
    main()
