"""Do statements help? A backtest on the holdouts of data/statements.csv.

For every holdout with scored statements, and every day on which a statement about it was made
(as_of = that day), four forecasts of its remaining life are scored against what happened:

- ``climatology_aj``: the base rate (Aalen–Johansen, other ends competing), the baseline;
- ``indicators``: the duration model (refitted without the holdout's war: leave one war out);
- ``statements``: the base rate times the likelihood of the claims made by as_of;
- ``both``: the model's forecast times the same likelihood.

Everything learned is learned without the holdout's war: the model's fit, and the speakers'
calibrations (beta per role and the signal variance V, refitted on the other wars' claims). Only
unconditional claims enter (a conditional claim would need its condition's probability, which
the record does not code). The claims' likelihood multiplies the predictive mixture, which equals
tilting each posterior draw and reweighting them (:func:`forecast.elicit.combine.claims_on_curve`).

Scores are those of ``forecast backtest`` (twCRPS up to a year, Brier at 7/30/90/365 days) with
skill against the base rate and paired-bootstrap intervals (resampling forecasts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecast.data import Dataset

MODELS = ("climatology_aj", "indicators", "statements", "both")


@dataclass
class StatementsBacktest:
    table: pd.DataFrame  # one row per (model, case, as_of): scores
    skill: pd.DataFrame  # skill against climatology_aj, by score
    folds: pd.DataFrame  # per war: claims used for the calibration, betas


def plan_targets(resolved: list, dataset: Dataset) -> dict[str, list[tuple[str, int]]]:
    """By war: (case_id, days held) on each day a statement about the holdout was made while it
    stood (claims before the start count from day 0)."""
    frame = dataset.frame.set_index("case_id")
    by_war: dict[str, set] = {}
    for r in resolved:
        h = frame.loc[r.case_id]
        day = int(max(r.stated_day, 0))
        if day == 0 or float(h["duration_days"]) > day:
            war = str(h["war"]) if pd.notna(h.get("war")) else r.case_id
            by_war.setdefault(war, set()).add((r.case_id, day))
    return {w: sorted(t) for w, t in sorted(by_war.items())}


def run(dataset: Dataset, statements: pd.DataFrame, *, model: str, seed: int = 0,
        draws: int = 500, tune: int = 500, chains: int = 2, calib_draws: int = 500,
        executor=None, progress=None) -> StatementsBacktest:
    from pathlib import Path

    from forecast.backtest import FoldTask, _groups, run_fold
    from forecast.elicit.calibration import Calibration, fit, resolve, scored
    from forecast.elicit.combine import claims_on_curve
    from forecast.elicit.likelihood import Weighed, group_sizes, reliability
    from forecast.executor import LocalExecutor
    from forecast.outcomes import resolve as resolve_outcome
    from forecast.predictive import Predictive, standard_grid
    from forecast.score import relative_skill, score_table

    resolved = resolve(statements, dataset, seed=seed)
    table_all = scored(resolved)
    targets = plan_targets(resolved, dataset)
    groups = _groups(dataset)
    fitted = ~dataset.nested
    raw = Path(dataset.path).read_bytes()
    seeds = np.random.SeedSequence(seed).spawn(len(targets))
    tasks = []
    for k, (war, tg) in enumerate(targets.items()):
        out = (groups == war).to_numpy()
        tasks.append(FoldTask(csv=raw, data_date=dataset.data_date.isoformat(), model=model,
                              sampler={"draws": draws, "tune": tune, "chains": chains},
                              seed=int(seeds[k].generate_state(1)[0]), fold=f"loo:{war}",
                              weight=tuple((~out & fitted).astype(float)), cutoff=None,
                              targets=tuple(tg), baselines=True))
    results = list((executor or LocalExecutor()).map(run_fold, tasks, progress))
    grid = standard_grid()
    frame = dataset.frame.set_index("case_id")
    rows: list[tuple[dict, Predictive, Any]] = []
    fold_rows = []
    for task, res in zip(tasks, results, strict=True):
        war = task.fold.removeprefix("loo:")
        train = table_all[table_all["war"] != war] if "war" in table_all else table_all
        cal: Calibration = fit(train, seed=seed, draws=calib_draws, tune=calib_draws)
        fold_rows.append({"war": war, "claims_fitted": len(train),
                          **{f"beta_{r}": round(b.mean, 3) for r, b in cal.roles.items()}})
        for t in res["targets"]:
            cid, off = t["case_id"], t["offset"]
            mine = [r for r in resolved if r.case_id == cid and max(r.stated_day, 0) <= off
                    and r.outcome is not None and not r.conditional and r.event.last_day() > off]
            sizes = group_sizes([r.group or None for r in mine])
            weighed = [Weighed(label=r.statement_id, event=r.event, p=r.p, pi=r.pi,
                               beta=cal.beta_for(r.speaker, r.role)[0],
                               reliability=reliability(r.logit_var, cal.signal_var), group_size=n)
                       for r, n in zip(mine, sizes, strict=True)]
            case = frame.loc[cid]
            start = case["start_date"].date()
            as_of = start + timedelta(days=off)
            end = None if pd.isna(case["end_date"]) else case["end_date"].date()
            outcome = None if case["outcome"] == "ongoing" else str(case["outcome"])
            resolution = resolve_outcome(as_of, outcome=outcome, end_date=end,
                                         scoring_date=dataset.data_date)
            model_cdf = np.asarray(t["cdf"][model])
            aj_cdf = np.asarray(t["cdf"]["climatology_aj"])
            cdfs = {"climatology_aj": aj_cdf, "indicators": model_cdf,
                    "statements": claims_on_curve(grid, aj_cdf, weighed, float(off)),
                    "both": claims_on_curve(grid, model_cdf, weighed, float(off))}
            ident = {"fold": task.fold, "case_id": cid, "offset": off, "as_of": as_of.isoformat(),
                     "claims": len(weighed)}
            for name, cdf in cdfs.items():
                rows.append((ident | {"model": name}, Predictive(grid, cdf), resolution))
    table = score_table(rows, seed=seed)
    skill = pd.concat([relative_skill(table, score=s, baseline="climatology_aj", seed=seed)
                       for s in ("twcrps", "brier_30", "brier_90", "brier_365")], ignore_index=True)
    return StatementsBacktest(table=table, skill=skill, folds=pd.DataFrame(fold_rows))


def format_result(bt: StatementsBacktest) -> str:
    t = bt.table
    n_cases = t["case_id"].nunique()
    n_fc = len(t[t["model"] == "indicators"])
    lines = [f"statements backtest: {n_fc} forecasts of {n_cases} holdouts (as of each day a "
             "statement was made), leave one war out; skill against the base rate (climatology_aj), "
             "90% paired-bootstrap intervals:"]
    for score in ("twcrps", "brier_30", "brier_90", "brier_365"):
        s = bt.skill[bt.skill["score"] == score].set_index("model")
        cells = []
        for m in MODELS[1:]:
            if m in s.index:
                r = s.loc[m]
                cells.append(f"{m} {r['estimate']:+.3f} ({r['lower']:+.3f}..{r['upper']:+.3f})")
        lines.append(f"  {score:<9} " + "; ".join(cells))
    return "\n".join(lines) + "\n"
