"""Out-of-sample forecasts of every historical holdout, scored against how it turned out.

Two schemes:

- ``loo`` (leave-one-out by exact refits): for each case — or each war, when the dataset has a
  ``war`` column, so that holdouts of one war are left out together — the model is refitted with
  those rows' weights set to 0 (compiled once, data swapped) and forecasts the left-out cases as
  of their start and as of 30, 90 and 365 days held (for cases still standing then).
- ``rolling`` (rolling origin): cases are forecast from a fit to what was known at an origin
  before they started: only holdouts that started earlier (at least ``min_train``), each
  censored at the origin (one still holding then is "standing", whatever came later). With
  ``origin_years = N`` (the command's default, 2) there is one origin on 1 January of every N-th
  year, for the cases starting in the N years from it; with 0, one origin per case at its start
  date (one fit per case: slower, and the same out-of-sample footing). The same fit forecasts a
  case as of 30, 90 and 365 days held, so no later information enters.

The climatologies (Kaplan–Meier and Aalen–Johansen) are computed from exactly the same training
rows, so every comparison is paired and equally out of sample. Folds run through an executor
(:mod:`forecast.executor`); each task gets the CSV's bytes and its config, and a seed spawned
from one ``SeedSequence``, so local and Dask runs with the same seed give the same scores.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecast.baselines import BASELINES, climatologies
from forecast.data import Dataset, load_holdouts
from forecast.outcomes import FALL_TYPES, resolve
from forecast.predictive import Predictive, standard_grid
from models import DEFAULT as DEFAULT_MODEL

SCHEMES: tuple[str, ...] = ("loo", "rolling")
#: Days held at which each case is forecast (0 = as of its start), if still standing then.
OFFSETS: tuple[int, ...] = (0, 30, 90, 365)
MIN_TRAIN = 40


@dataclass(frozen=True)
class BacktestConfig:
    """What a backtest runs: models, scheme, sampler settings and the seed."""

    models: tuple[str, ...] = (DEFAULT_MODEL,)
    scheme: str = "loo"
    draws: int = 500
    tune: int = 500
    chains: int = 2
    seed: int = 0
    offsets: tuple[int, ...] = OFFSETS
    min_train: int = MIN_TRAIN
    #: rolling origin: one origin (fit) per this many years of start dates, on 1 January of
    #: the first (0: one origin per case, at its start date)
    origin_years: int = 0
    tau: float = 365.0
    #: only these cases are forecast (all when empty)
    cases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FoldTask:
    """One refit and the forecasts it makes: data and config only (sent to workers)."""

    csv: bytes
    data_date: str
    model: str
    sampler: dict[str, Any]
    seed: int
    fold: str
    weight: tuple[float, ...]
    cutoff: str | None  # rolling origin: training rows censored at this date
    targets: tuple[tuple[str, int], ...]  # (case_id, days held at as_of)
    baselines: bool = True  # also the climatologies (once per fold: the first model's task)


@dataclass
class BacktestResult:
    """``table``: one row per (model or baseline, case, as_of) with its scores; ``summary``:
    mean scores and relative skill by model; ``elpd``: exact-LOO and PSIS-LOO sums."""

    config: BacktestConfig
    table: pd.DataFrame
    summary: pd.DataFrame
    skill: pd.DataFrame
    run_id: str
    elpd: dict[str, dict[str, float]] = field(default_factory=dict)
    diagnostics: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: (identity, Predictive, Resolution) of every scored forecast
    predictives: list = field(default_factory=list)
    model_ids: dict[str, str] = field(default_factory=dict)
    dataset_hash: str = ""

    def summary_dict(self) -> dict[str, Any]:
        """What the ledger keeps of a run: config, mean scores, skill, elpd."""
        return {"config": asdict(self.config), "dataset_hash": self.dataset_hash,
                "summary": self.summary.to_dict(orient="records"),
                "skill": self.skill.to_dict(orient="records"), "elpd": self.elpd}


def _groups(dataset: Dataset) -> pd.Series:
    frame = dataset.frame
    if "war" in frame and frame["war"].notna().any():
        return frame["war"].fillna(frame["case_id"]).astype(str)
    return frame["case_id"].astype(str)


def _targets(frame: pd.DataFrame, idx, offsets) -> tuple[tuple[str, int], ...]:
    out = []
    for i in idx:
        row = frame.loc[i]
        for off in offsets:
            if off == 0 or row["duration_days"] > off:  # still standing at start + offset
                out.append((str(row["case_id"]), int(off)))
    return tuple(out)


def plan(dataset: Dataset, config: BacktestConfig, raw: bytes) -> list[FoldTask]:
    """The folds of a backtest, for every model, with their seeds."""
    frame = dataset.frame
    fitted = ~dataset.nested  # stages of a larger holdout are neither fitted nor scored
    sampler = {"draws": config.draws, "tune": config.tune, "chains": config.chains}
    folds: list[tuple[str, tuple[float, ...], str | None, tuple]] = []
    if config.scheme == "loo":
        groups = _groups(dataset)
        for g in dict.fromkeys(groups[fitted]):
            out = (groups == g).to_numpy()
            folds.append((f"loo:{g}", tuple((~out & fitted).astype(float)), None,
                          _targets(frame, frame.index[out & fitted], config.offsets)))
    elif config.scheme == "rolling" and config.origin_years > 0:
        starts = frame["start_date"]
        block = (starts.dt.year // config.origin_years) * config.origin_years
        for first in sorted(set(block[fitted])):
            cutoff = pd.Timestamp(year=int(first), month=1, day=1)
            train = (starts < cutoff).to_numpy() & fitted
            members = frame.index[(block == first).to_numpy() & fitted]
            if train.sum() < config.min_train:
                continue
            folds.append((f"rolling:{first}", tuple(train.astype(float)),
                          cutoff.date().isoformat(), _targets(frame, members, config.offsets)))
    elif config.scheme == "rolling":
        starts = frame["start_date"]
        for i in frame.loc[fitted].sort_values(["start_date", "case_id"]).index:
            cutoff = starts[i]
            train = (starts < cutoff).to_numpy() & fitted
            if train.sum() < config.min_train:
                continue
            folds.append((f"rolling:{frame.loc[i, 'case_id']}", tuple(train.astype(float)),
                          cutoff.date().isoformat(), _targets(frame, [i], config.offsets)))
    else:
        from forecast.errors import InputError

        raise InputError("--scheme", f"'{config.scheme}' is not one of {', '.join(SCHEMES)}")
    seeds = np.random.SeedSequence(config.seed).spawn(len(folds))
    if config.cases:
        wanted = set(config.cases)
        folds = [(n, w, c, tuple(t for t in ts if t[0] in wanted)) for n, w, c, ts in folds]
        seeds = [s for s, f in zip(seeds, folds, strict=True) if f[3]]
        folds = [f for f in folds if f[3]]
    return [FoldTask(csv=raw, data_date=dataset.data_date.isoformat(), model=m, sampler=sampler,
                     seed=int(seeds[k].generate_state(1)[0]), fold=name, weight=w, cutoff=cut,
                     targets=t, baselines=m == config.models[0])
            for m in config.models for k, (name, w, cut, t) in enumerate(folds)]


def training_view(dataset: Dataset, cutoff: date | None) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Durations, events and outcomes of every row as known at ``cutoff`` (as recorded when
    None): a holdout still going then is ``ongoing``, censored at the cutoff."""
    frame = dataset.frame
    y = dataset.durations.copy()
    outcome = frame["outcome"].astype(str).copy()
    if cutoff is not None:
        cut = pd.Timestamp(cutoff)
        ended = frame["end_date"].notna() & (frame["end_date"] <= cut)
        y = np.where(ended, y, np.maximum((cut - frame["start_date"]).dt.days.to_numpy(), 1)).astype(float)
        outcome = outcome.where(ended.to_numpy(), "ongoing")
    event = outcome.isin(FALL_TYPES).to_numpy().astype(float)
    return y, event, outcome


_DATASETS: dict[str, Dataset] = {}


def _dataset_from_bytes(raw: bytes, data_date: str) -> Dataset:
    key = hashlib.sha256(raw + data_date.encode()).hexdigest()
    if key not in _DATASETS:
        d = os.path.join(tempfile.gettempdir(), "forecast-backtest-data")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{key[:16]}.csv")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(raw)
            os.replace(tmp, path)
        _DATASETS[key] = load_holdouts(path, data_date=date.fromisoformat(data_date))
    return _DATASETS[key]


def run_fold(task: FoldTask) -> dict[str, Any]:
    """Refit on the fold's training rows and forecast its targets (runs in a worker)."""
    from forecast.executor import worker_setup

    worker_setup()

    from forecast.cases import Case
    from forecast.fit import SamplerConfig, sample_design
    from forecast.predict import predict
    from forecast.workflow import predictive_of
    from models import get_model
    from models.design import from_dataset, with_outcomes

    dataset = _dataset_from_bytes(task.csv, task.data_date)
    weight = np.asarray(task.weight, dtype=float)
    cutoff = date.fromisoformat(task.cutoff) if task.cutoff else None
    y, event, outcome = training_view(dataset, cutoff)
    design = with_outcomes(from_dataset(dataset), y, outcome, weight)
    model = get_model(task.model)
    post = sample_design(model, design, seed=task.seed, sampler=SamplerConfig(**task.sampler), cores=1)
    ll = post.trace["log_likelihood"].dataset["duration"].values
    ll = ll.reshape(-1, ll.shape[-1])
    frame = dataset.frame
    train = weight > 0
    grid = standard_grid()
    out = []
    for case_id, off in task.targets:
        i = int(np.flatnonzero(frame["case_id"].to_numpy() == case_id)[0])
        start = frame.loc[i, "start_date"].date()
        case = Case(id=case_id, name=str(frame.loc[i, "name"]), start_date=start,
                    as_of=start + timedelta(days=off), indicators=dataset.indicators(i),
                    war=(str(frame.loc[i, "war"]) if "war" in frame and pd.notna(frame.loc[i, "war"])
                         else None))
        fc = predict(post, case, seed=task.seed)
        preds = {task.model: predictive_of(fc, grid).cdf}
        if task.baselines:
            preds |= {name: p.cdf for name, p in
                      climatologies(y[train], outcome[train], float(off), grid=grid).items()}
        elpd = None
        if off == 0 and task.cutoff is None:  # exact LOO: the left-out row's log predictive
            row = ll[:, i]
            elpd = float(np.logaddexp.reduce(row) - np.log(row.size))
        out.append({"case_id": case_id, "offset": off, "cdf": preds, "elpd_exact": elpd})
    d = post.diagnostics
    return {"fold": task.fold, "model": task.model, "model_id": post.stamp["model_id"], "targets": out,
            "diagnostics": {"rhat_max": d.rhat_max, "ess_bulk_min": d.ess_bulk_min,
                            "divergences": d.divergences}}


def run_backtest(dataset: Dataset, config: BacktestConfig, *, executor=None, progress=None,
                 psis: bool = False) -> BacktestResult:
    """Run the backtest of ``config.models`` on ``dataset`` and score it.

    Parameters
    ----------
    executor : object with ``.map(fn, items, progress)``, optional
        Default: :class:`forecast.executor.LocalExecutor`.
    progress : callable(done, total), optional
    psis : bool
        Also fit each model to all rows and compute PSIS-LOO, to set beside the exact LOO.
    """
    from pathlib import Path

    from forecast.executor import LocalExecutor
    from forecast.score import relative_skill, score_table

    raw = Path(dataset.path).read_bytes()
    tasks = plan(dataset, config, raw)
    executor = executor or LocalExecutor()
    results = list(executor.map(run_fold, tasks, progress))
    grid = standard_grid()
    frame = dataset.frame.set_index("case_id")
    rows, elpd_exact = [], {}
    diag, model_ids = [], {}
    for res in results:
        model_ids[res["model"]] = res["model_id"]
        diag.append({"model": res["model"], "fold": res["fold"], **res["diagnostics"]})
        for t in res["targets"]:
            case = frame.loc[t["case_id"]]
            start = case["start_date"].date()
            as_of = start + timedelta(days=t["offset"])
            end = None if pd.isna(case["end_date"]) else case["end_date"].date()
            outcome = None if case["outcome"] == "ongoing" else str(case["outcome"])
            resolution = resolve(as_of, outcome=outcome, end_date=end, scoring_date=dataset.data_date)
            ident = {"scheme": config.scheme, "fold": res["fold"], "case_id": t["case_id"],
                     "offset": t["offset"], "as_of": as_of.isoformat()}
            for name, cdf in t["cdf"].items():
                rows.append((ident | {"model": name}, Predictive(grid, np.asarray(cdf)), resolution))
            if t["elpd_exact"] is not None:
                elpd_exact.setdefault(res["model"], {})[t["case_id"]] = t["elpd_exact"]
    table = score_table(rows, tau=config.tau, seed=config.seed)
    table = table.sort_values(["model", "case_id", "offset"], kind="stable").reset_index(drop=True)
    skill = skill_table(table, relative_skill, seed=config.seed)
    summary = summary_table(table)
    run_id = hashlib.sha256(json.dumps({"config": asdict(config), "data": dataset.sha256},
                                       sort_keys=True).encode()).hexdigest()[:16]
    result = BacktestResult(
        config=config, table=table, summary=summary, skill=skill, run_id=run_id,
        elpd={m: {"exact_loo": float(sum(v.values())), "cases": len(v)} for m, v in elpd_exact.items()},
        diagnostics=pd.DataFrame(diag), predictives=rows, model_ids=model_ids,
        dataset_hash=dataset.sha256)
    if psis and config.scheme == "loo":
        for m in config.models:
            result.elpd.setdefault(m, {}).update(psis_loo(dataset, m, config))
    return result


def psis_loo(dataset: Dataset, model: str, config: BacktestConfig) -> dict[str, float]:
    """PSIS-LOO (ArviZ) of ``model`` fitted to every row: its elpd and the number of rows
    whose Pareto k exceeds 0.7 (where it is unreliable and exact refits are needed)."""
    import warnings

    import arviz as az

    from forecast.fit import SamplerConfig, fit, fitted_rows

    post = fit(dataset, model, seed=config.seed, full_trace=True,
               sampler=SamplerConfig(draws=config.draws, tune=config.tune, chains=config.chains))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(fitted_rows(post.trace), pointwise=True)
    return {"psis_loo": float(loo.elpd), "psis_k_over_0.7": int((loo.pareto_k.values > 0.7).sum())}


def backtest_records(result: BacktestResult, dataset: Dataset) -> list:
    """Every out-of-sample forecast of a backtest as a ledger record (kind ``backtest``)."""
    from forecast.predictive import ForecastRecord
    from forecast.workflow import now_iso, predictive_summary

    names = dict(zip(dataset.frame["case_id"], dataset.frame["name"], strict=True))
    starts = dict(zip(dataset.frame["case_id"], dataset.frame["start_date"], strict=True))
    issued = now_iso()
    out = []
    for ident, pred, _ in result.predictives:
        m = ident["model"]
        model_id = result.model_ids.get(m, f"{m}-{dataset.sha256[:12]}")
        out.append(ForecastRecord(
            case_id=ident["case_id"], case_name=str(names[ident["case_id"]]),
            start_date=starts[ident["case_id"]].date(), as_of=date.fromisoformat(ident["as_of"]),
            model=m, model_id=model_id, dataset_hash=dataset.sha256, seed=result.config.seed,
            kind="backtest", predictive=pred, summary=predictive_summary(pred),
            extra={"run_id": result.run_id, "scheme": ident["scheme"], "fold": ident["fold"],
                   "offset": ident["offset"]},
            issued_at=issued))
    return out


SCORES: tuple[str, ...] = ("twcrps", "brier_mean", "log_mean", "censored_log")


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Mean scores, PIT spread and 50/80/90% coverage by model (all targets)."""
    cols = [c for c in (*SCORES, "cov50", "cov80", "cov90") if c in table]
    g = table.groupby("model", sort=True)
    out = g[cols].mean()
    out.insert(0, "n", g.size())
    return out.reset_index()


def skill_table(table: pd.DataFrame, relative_skill, *, seed: int = 0) -> pd.DataFrame:
    """Relative skill of every model and baseline against both climatologies, per score."""
    parts = []
    for baseline in BASELINES:
        for score in SCORES:
            parts.append(relative_skill(table, case_col=("case_id", "offset"), score=score,
                                        baseline=baseline, seed=seed))
    return pd.concat(parts, ignore_index=True)
