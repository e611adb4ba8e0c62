"""`make bench`: the performance figures of issue 13, each the median of several runs (min-max),
with its target and whether it is met. Writes benchmarks/RESULTS.md (the newest run on top of
the older ones) and prints the same table.

Machines here are shared and noisy: the figures are wall-clock seconds of one run of this script,
and ratios are taken within it. Nothing here is asserted by the tests.

1. Warm forecast with statements: `forecast run` of Panjshir from a stored posterior (whole
   process), against the cold run (fit, compile and forecast in a fresh cache).
2. Claims update in process: 4,000 draws, 10 claims: weights and the headline probabilities.
3. Compile once across processes: building and compiling the model in a first and a second
   process (PyTensor's and numba's on-disk caches).
4. Backtest: exact leave-one-war-out refits compiled once, against a naive loop of `pm.sample`
   per fold (same model, draws, chains); and through Dask (LocalCluster, 2 workers) against
   local processes.
5. Scaling: sampling time and peak memory for 100 to 100,000 synthetic cases.
6. Reference point: lifelines' WeibullAFTFitter on the reference class.

Usage: ``make bench`` (or ``.venv/bin/python benchmarks/run.py [--quick]``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "forecast"
CASE = ROOT / "data" / "cases" / "panjshir_2021.yaml"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
MODEL = "lognormal"


@dataclass
class Figure:
    name: str
    values: list[float]
    unit: str = "s"
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    def row(self) -> str:
        v = self.values
        fmt = (lambda x: f"{x:,.3f}") if abs(self.median) < 10 else (lambda x: f"{x:,.1f}")
        spread = f" ({fmt(min(v))}-{fmt(max(v))}, n={len(v)})" if len(v) > 1 else ""
        met = {True: "met", False: "missed", None: ""}[self.met]
        return (f"| {self.name} | {fmt(self.median)} {self.unit}{spread} | {self.target} | {met} "
                f"| {self.note} |")


def _wall(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr[-800:]}")
    return time.perf_counter() - t0


def _child(code: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line last."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env or os.environ.copy(), cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-1500:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- 1. warm forecast --------------------------------------------------------------------------
def bench_warm_run(cache: Path, repeats: int) -> list[Figure]:
    env = os.environ | {"FORECAST_CACHE": str(cache)}
    out = cache.parent / "out"
    cmd = [str(BIN), "run", str(CASE), "--out", str(out), "--overwrite"]
    # the same command cold and warm: fit + forecast (the charts are the same work either way)
    cold = [_wall([*cmd, "--no-charts"], env)]  # a fresh cache: compile, sample, forecast
    warm = [_wall(cmd, env) for _ in range(repeats)]
    numbers = [_wall([*cmd, "--no-charts"], env) for _ in range(repeats)]
    ratio = cold[0] / statistics.median(numbers)
    return [
        Figure("cold `forecast run --no-charts` (fit: compile and sample; forecast)", cold),
        Figure("warm `forecast run` with statements, stored posterior (charts PNG+SVG)", warm,
               target="< 1 s", met=statistics.median(warm) < 1.0),
        Figure("warm `forecast run --no-charts` with statements", numbers, target="< 1 s",
               met=statistics.median(numbers) < 1.0),
        Figure("ratio cold / warm (fit + forecast against forecast, both --no-charts)", [ratio],
               unit="x", target=">= 20x", met=ratio >= 20),
    ]


IMPORTS_CODE = "import forecast.cli, forecast.workflow, pandas, scipy.special, arviz_stats.base"


def bench_import_floor(repeats: int) -> list[Figure]:
    """What any whole-process warm run pays before computing: the interpreter and the imports a
    warm `forecast run` needs (NumPy, pandas, scipy.special, arviz-stats for PSIS)."""
    times = [_wall([sys.executable, "-c", IMPORTS_CODE], os.environ.copy()) for _ in range(repeats)]
    return [Figure("floor of a whole-process run: Python and the imports a warm run needs "
                   "(pandas, scipy.special, arviz-stats)", times)]


def bench_watch(cache: Path, updates: int) -> list[Figure]:
    """`forecast watch`: the case file edited ``updates`` times (its as_of moved by a day and
    back); each update's time as the command prints it, numbers alone and with the files."""
    import re

    env = os.environ | {"FORECAST_CACHE": str(cache)}
    case = cache.parent / "watched.yaml"
    text = CASE.read_text(encoding="utf-8")
    case.write_text(text, encoding="utf-8")
    proc = subprocess.Popen([str(BIN), "watch", str(case), "--out", str(cache.parent / "watched"),
                             "--overwrite", "--interval", "0.05", "--max-updates", str(updates)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    found: list[tuple[float, float]] = []
    pattern = re.compile(r"updated in ([0-9.]+) s \(([0-9.]+) s with the files\)")
    for line in proc.stdout:
        m = pattern.search(line)
        if m:
            found.append((float(m.group(1)), float(m.group(2))))
        if "watching" in line or (m and len(found) > 1):
            if len(found) > updates:
                break
            day = "2021-08-21" if len(found) % 2 else "2021-08-20"
            time.sleep(0.2)
            case.write_text(text.replace("as_of: 2021-08-20", f"as_of: {day}"), encoding="utf-8")
    proc.wait(timeout=600)
    if proc.returncode != 0 or len(found) != updates + 1:
        raise RuntimeError(f"forecast watch: {proc.stderr.read()[-800:]}")
    numbers, files = [a for a, _ in found[1:]], [b for _, b in found[1:]]
    return [
        Figure("`forecast watch`: update after an edit of the case file, numbers (in process)",
               numbers, target="< 1 s", met=statistics.median(numbers) < 1.0),
        Figure("`forecast watch`: update after an edit, with forecast.json, CSV and charts written",
               files),
    ]


# --- 2. claims update in process ---------------------------------------------------------------
CLAIMS_CODE = r"""
import json, sys, time
from dataclasses import replace
import numpy as np
import forecast
from forecast.cases import load_case
from forecast.data import load_holdouts
from forecast.elicit.combine import combine, reweighted
from forecast.elicit.likelihood import Boundary, Event, Weighed
from forecast.fit import fit
from forecast.predict import predict
from forecast.workflow import prepare_reference
case = load_case(%(case)r)
dataset, _ = prepare_reference(load_holdouts(), case)  # as `forecast run` does: the warm run's posterior
post = fit(dataset, %(model)r, seed=0)
base = predict(post, case, seed=0)
t0 = case.held_days
rng = np.random.default_rng(0)
claims = []
for i in range(10):
    d = float(t0 + rng.uniform(5, 200)); kind = ("falls_by", "holds_beyond")[i %% 2]
    claims.append(Weighed(label=f"c{i}", event=Event(kind, Boundary(d, d + 10 * (i %% 3))),
                          p=float(rng.uniform(0.1, 0.9)), pi=0.5, beta=0.2, reliability=0.8,
                          stated_day=float(t0)))
bare = replace(base, curves=None)  # the update itself: weights and headline numbers, no bands
times = []
for _ in range(25):
    s = time.perf_counter()
    comb = combine(bare, [], claims)
    fc = reweighted(bare, comb)
    p = fc.survival_at(np.array([7.0, 30.0, 90.0, 365.0]))
    times.append(time.perf_counter() - s)
print(json.dumps({"draws": int(base.eta.size), "claims": len(claims), "times": times[5:]}))
"""


def bench_claims(cache: Path) -> list[Figure]:
    env = os.environ | {"FORECAST_CACHE": str(cache)}
    res = _child(CLAIMS_CODE % {"model": MODEL, "case": str(CASE)}, env)
    ms = [t * 1000 for t in res["times"]]
    return [Figure(f"claims update in process ({res['draws']:,} draws, {res['claims']} claims): "
                   "weights, PSIS k-hat, P(fall within 7/30/90/365 d)", ms, unit="ms",
                   target="< 20 ms", met=statistics.median(ms) < 20)]


# --- 3. compile across processes ---------------------------------------------------------------
COMPILE_CODE = r"""
import json, time
import forecast
from forecast.data import load_holdouts
from forecast.fit import compiled_model
from models import get_model
from models.design import from_dataset
design = from_dataset(load_holdouts())
model = get_model(%(model)r)
t = time.perf_counter()
compiled_model(model, design)
print(json.dumps({"compile": time.perf_counter() - t}))
"""


def bench_compile(cache_root: Path) -> list[Figure]:
    env = os.environ | {"PYTENSOR_FLAGS": f"base_compiledir={cache_root / 'pytensor'}",
                        "FORECAST_COMPILE_CACHE": str(cache_root / "compile")}
    first = _child(COMPILE_CODE % {"model": MODEL}, env)["compile"]
    second = [_child(COMPILE_CODE % {"model": MODEL}, env)["compile"]]
    ratio = first / statistics.median(second)
    return [Figure("compile the model, first process (empty caches)", [first]),
            Figure("compile the model, a later process (warm on-disk caches)", second,
                   target="no 20 s recompile", met=statistics.median(second) < 5.0),
            Figure("ratio first / later process", [ratio], unit="x")]


# --- 4. backtest ---------------------------------------------------------------------------------
BACKTEST_CODE = r"""
import json, time, warnings
warnings.simplefilter("ignore")
from dataclasses import replace
import numpy as np
import forecast
from forecast.backtest import BacktestConfig, plan, training_view, _dataset_from_bytes
from forecast.data import DEFAULT_PATH, load_holdouts
from forecast.fit import SamplerConfig, sample_design
from models import get_model
from models.design import from_dataset, with_outcomes
raw = DEFAULT_PATH.read_bytes()
cfg = BacktestConfig(models=(%(model)r,), scheme="loo", draws=%(draws)d, tune=%(draws)d, chains=2)
tasks = plan(load_holdouts(), cfg, raw)[: %(folds)d]
model = get_model(%(model)r)
times = []
for task in tasks:  # each fold's training data, as the backtest's workers build it
    s = time.perf_counter()
    ds = _dataset_from_bytes(task.csv, task.data_date)
    y, event, outcome = training_view(ds, None)
    design = with_outcomes(from_dataset(ds), y, outcome, np.asarray(task.weight, dtype=float))
    if %(mode)r == "ours":  # compiled once per process, the fold's data swapped in
        sample_design(model, design, seed=task.seed, sampler=SamplerConfig(draws=%(draws)d,
                      tune=%(draws)d, chains=2), cores=2)
    else:  # naive: a model built and sampled per fold (nutpie compiles it each time)
        import pymc as pm
        with model.build(design):
            pm.sample(draws=%(draws)d, tune=%(draws)d, chains=2, cores=2, nuts_sampler="nutpie",
                      random_seed=task.seed, progressbar=False, compute_convergence_checks=False)
    times.append(time.perf_counter() - s)
print(json.dumps({"times": times}))
"""


def bench_backtest(folds: int, draws: int) -> list[Figure]:
    args = {"model": MODEL, "folds": folds, "draws": draws}
    # one fold more for ours: its first fold compiles, the refits after it are what is measured
    ours = _child(BACKTEST_CODE % (args | {"mode": "ours", "folds": folds + 1}))["times"]
    naive = _child(BACKTEST_CODE % (args | {"mode": "naive"}))["times"]
    refit = statistics.median(ours[1:])
    first = ours[0]
    naive_fold = statistics.median(naive)
    n_full = 120  # folds of the leave-one-war-out backtest on data/holdouts.csv
    ours_full = first + (n_full - 1) * refit
    naive_full = n_full * naive_fold
    ratio = naive_full / ours_full
    return [
        Figure(f"backtest fold, compile-once refit ({draws} x 2 draws; the first fold compiles)",
               ours[1:], note=f"first fold {first:.1f} s"),
        Figure("backtest fold, naive `pm.sample` (nutpie) per fold", naive),
        Figure("ratio naive / compile-once, per fold", [naive_fold / refit], unit="x"),
        Figure(f"ratio naive / compile-once, whole LOO backtest ({n_full} folds, estimated)",
               [ratio], unit="x", target=">= 20x", met=ratio >= 20,
               note=f"{naive_full / 60:.0f} min vs {ours_full / 60:.1f} min"),
    ]


DASK_CODE = r"""
import json, time, warnings
warnings.simplefilter("ignore")
from dataclasses import replace
import forecast
from forecast.backtest import BacktestConfig, run_backtest
from forecast.data import load_holdouts
from forecast.executor import make_executor
dataset = load_holdouts()
f = dataset.frame
counts = f["war"].value_counts()
wars = list(counts[counts >= 3].index[: %(wars)d])
cfg = BacktestConfig(models=(%(model)r,), scheme="loo", draws=%(draws)d, tune=%(draws)d, chains=2,
                     cases=tuple(f.loc[f["war"].isin(wars), "case_id"]))
t = time.perf_counter()
res = run_backtest(dataset, cfg, executor=make_executor(%(kind)r, workers=2))
print(json.dumps({"wall": time.perf_counter() - t, "rows": len(res.table)}))
"""


def bench_dask(wars: int, draws: int) -> list[Figure]:
    args = {"model": MODEL, "wars": wars, "draws": draws}
    local = _child(DASK_CODE % (args | {"kind": "local"}))
    dask = _child(DASK_CODE % (args | {"kind": "dask"}))
    return [Figure(f"backtest of {wars} wars, local processes (2 workers)", [local["wall"]]),
            Figure(f"backtest of {wars} wars, Dask LocalCluster (2 workers x 1 thread)", [dask["wall"]],
                   note=f"same {dask['rows']} scored rows" if dask["rows"] == local["rows"] else
                   f"rows differ: {dask['rows']} vs {local['rows']}"),
            Figure("ratio Dask / local", [dask["wall"] / local["wall"]], unit="x")]


# --- 5. scaling ------------------------------------------------------------------------------------
SCALING_CODE = r"""
import json, resource, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import forecast
import nutpie
from forecast.indicators import CATEGORIES
from models import get_model
from models.design import Design
n = %(n)d
rng = np.random.default_rng(n)
names = ("terrain", "encircled")
levels = tuple(tuple(CATEGORIES[k]) for k in names)
codes = np.column_stack([rng.integers(0, len(lv), n) for lv in levels])
eta = 4.0 + 0.5 * (codes[:, 0] == 1) - 0.4 * codes[:, 1]
t = np.exp(eta + 0.9 * rng.normal(size=n))
c = rng.uniform(5, 2000, n)
falls = rng.uniform(size=n) < 0.7
y = np.maximum(np.where(falls, np.minimum(t, c), c), 1.0)
event = (falls & (t <= c)).astype(float)
design = Design(y=y, event=event, numeric=np.zeros((n, 0)), codes=codes, cat_names=names,
                levels=levels, other=np.zeros(n))
model = get_model(%(model)r)
pm_model = model.build(design)
keep = [v.name for v in pm_model.free_RVs if "row" not in pm_model.named_vars_to_dims.get(v.name, ())]
s = time.perf_counter()
compiled = nutpie.compile_pymc_model(pm_model, var_names=keep)
compile_s = time.perf_counter() - s
s = time.perf_counter()
trace = nutpie.sample(compiled, draws=%(draws)d, tune=%(draws)d, chains=2, cores=2, seed=1,
                      progress_bar=False, save_warmup=True)
sample_s = time.perf_counter() - s
steps = int(sum(trace[g]["n_steps"].values.sum() for g in ("warmup_sample_stats", "sample_stats")))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"compile": compile_s, "sample": sample_s, "peak_mb": peak, "steps": steps}))
"""


def bench_scaling(sizes: list[int], draws: int) -> list[Figure]:
    out: list[Figure] = []
    prev: tuple[int, float, float] | None = None
    for n in sizes:
        r = _child(SCALING_CODE % {"n": n, "model": MODEL, "draws": draws})
        per_grad = r["sample"] * 2 / r["steps"] * 1e3  # ms per log-density gradient (2 chains, 2 cores)
        note, met, target = (f"compile {r['compile']:.1f} s; {r['steps']:,} leapfrog steps; "
                             f"{per_grad:.3f} ms per gradient"), None, ""
        if prev is not None:
            rows_x, time_x, grad_x = n / prev[0], r["sample"] / prev[1], per_grad / prev[2]
            note += f"; x{time_x:.1f} time, x{grad_x:.1f} per gradient, for x{rows_x:.0f} rows"
            if prev[0] >= 1000:  # past 1,000 rows: no faster than linear (20% noise allowed)
                target, met = "linear past 1,000 rows", time_x <= 1.2 * rows_x
        out.append(Figure(f"sampling {n:,} synthetic cases ({draws}+{draws} draws x 2 chains)",
                          [r["sample"]], target=target, met=met, note=note))
        big = n >= 100_000
        out.append(Figure(f"peak memory, {n:,} cases", [r["peak_mb"]], unit="MB",
                          target="< 2,048 MB" if big else "", met=(r["peak_mb"] < 2048) if big else None))
        prev = (n, r["sample"], per_grad)
    return out


# --- 6. lifelines reference point ------------------------------------------------------------------
LIFELINES_CODE = r"""
import json, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
import forecast
from forecast.data import load_holdouts
from lifelines import WeibullAFTFitter
f = load_holdouts().frame
X = pd.get_dummies(f[["terrain", "encircled", "approach_routes", "external_support"]].astype(str),
                   drop_first=True).astype(float)
X["T"] = f["duration_days"].clip(lower=1).astype(float)
X["E"] = f["outcome"].isin(["fell", "surrendered", "destroyed"]).astype(float)
times = []
for _ in range(3):
    s = time.perf_counter()
    WeibullAFTFitter(penalizer=0.01).fit(X, "T", "E")
    times.append(time.perf_counter() - s)
print(json.dumps({"times": times, "rows": len(X)}))
"""

FULL_FIT_CODE = r"""
import json, time, warnings
warnings.simplefilter("ignore")
import forecast
from forecast.data import load_holdouts
from forecast.fit import SamplerConfig, sample_design
from models import get_model
from models.design import from_dataset
design = from_dataset(load_holdouts())
model = get_model(%(model)r)
s = time.perf_counter()
sample_design(model, design, seed=0, sampler=SamplerConfig())
first = time.perf_counter() - s
s = time.perf_counter()
sample_design(model, design, seed=1, sampler=SamplerConfig())
print(json.dumps({"first": first, "again": time.perf_counter() - s}))
"""


def bench_lifelines() -> list[Figure]:
    ll = _child(LIFELINES_CODE)
    ours = _child(FULL_FIT_CODE % {"model": MODEL})
    base = statistics.median(ll["times"])
    return [Figure(f"lifelines WeibullAFTFitter, {ll['rows']} cases (maximum likelihood)", ll["times"]),
            Figure(f"full posterior, {MODEL} (4 x 1,000 draws), compiled in this process", [ours["again"]],
                   note=f"{ours['again'] / base:.0f}x lifelines; with the compile {ours['first']:.1f} s "
                        f"({ours['first'] / base:.0f}x)")]


def versions() -> str:
    import importlib.metadata as md

    names = ("pymc", "pytensor", "nutpie", "numba", "arviz", "lifelines", "dask")
    return ", ".join(f"{n} {md.version(n)}" for n in names)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes (a smoke run)")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update RESULTS.md")
    args = ap.parse_args()
    t_start = time.perf_counter()
    figures: list[tuple[str, list[Figure]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sections = [
            ("1. Warm forecast", lambda: bench_warm_run(tmp / "cache", 3 if args.quick else 5)
             + bench_import_floor(5) + bench_watch(tmp / "cache", 4 if args.quick else 6)),
            ("2. Claims update", lambda: bench_claims(tmp / "cache")),
            ("3. Compile once across processes", lambda: bench_compile(tmp / "compile")),
            ("4. Backtest: compile once vs naive", lambda: bench_backtest(3, 500)),
            ("4b. Backtest: Dask vs local", lambda: bench_dask(3 if args.quick else 4, 500)),
            ("5. Scaling", lambda: bench_scaling([100, 1000, 10_000] if args.quick
                                                 else [100, 1000, 10_000, 100_000], 100)),
            ("6. Reference point: lifelines", bench_lifelines),
        ]
        for title, fn in sections:
            s = time.perf_counter()
            print(f"{title} ...", file=sys.stderr, flush=True)
            figures.append((title, fn()))
            print(f"  {time.perf_counter() - s:.0f} s", file=sys.stderr, flush=True)
    total = time.perf_counter() - t_start
    head = (f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
            f"`make bench` on {platform.node() or 'this machine'}: {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {versions()}. Whole run {total / 60:.1f} min "
            f"(target < 15 min: {'met' if total < 900 else 'missed'}).\n")
    lines = [head, "| measurement | median (min-max, n) | target | | note |",
             "| --- | --- | --- | --- | --- |"]
    for title, figs in figures:
        lines.append(f"| **{title}** | | | | |")
        lines += [f.row() for f in figs]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
        title, _, rest = old.partition("\n")
        RESULTS.write_text(f"{title}\n\n{text}\n{rest.lstrip()}", encoding="utf-8")
        print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
