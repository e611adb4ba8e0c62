"""Posterior predictive checks of a fitted duration model, by how holdouts ended.

For every fitted row that has ended (fell, or ended otherwise) and a subset of posterior draws,
replicate the row's end and duration from the model: with competing ends it falls with
probability p_i at T ~ S_i, or else ends otherwise at T_o ~ S_o; a single-end model can only
make it fall. The observed share that fell and the quartiles (and 90th percentile) of the
durations of each kind of end are set against the spread of the same statistics across the
replicates. A statistic outside the replicates' 90% interval is a misfit the model has not
learned (a single-end model, for example, puts every relieved holdout among the fallen).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.fit import Posterior
from models.design import Design

#: Quantiles of the durations compared.
PPC_QUANTILES: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9)


def _statistics(days: np.ndarray, fell: np.ndarray) -> dict[str, float]:
    out = {("all", "share that fell"): float(np.mean(fell))}
    for label, mask in (("fell", fell), ("other end", ~fell)):
        for q in PPC_QUANTILES:
            out[(label, f"duration q{int(q * 100)} (days)")] = (
                float(np.quantile(days[mask], q)) if mask.sum() >= 5 else float("nan"))
    return out


def ppc_by_outcome(posterior: Posterior, design: Design, *, draws: int = 200,
                   seed: int = 0) -> pd.DataFrame:
    """Observed against replicated statistics of the ended rows, one row per statistic: the
    observed value, the replicates' 5%, 50% and 95% points and whether it lies outside them."""
    d = posterior.draws
    if "eta" not in d:
        raise ValueError("the posterior has no per-row eta (fitted before it was kept); refit it")
    rng = np.random.default_rng(seed)
    ended = (design.weights() > 0) & ((design.event > 0) | (design.others() > 0))
    idx = rng.choice(d["eta"].shape[0], size=min(draws, d["eta"].shape[0]), replace=False)
    model = posterior.model
    observed = _statistics(design.y[ended], design.event[ended] > 0)
    reps = []
    for s in idx:
        eta = d["eta"][s, ended]
        u = rng.uniform(size=eta.size)
        t_fall = model.quantile_days(u, eta, d["sigma"][s])
        if "eta_p" in d:
            p = 1.0 / (1.0 + np.exp(-d["eta_p"][s, ended]))
            fell = rng.uniform(size=eta.size) < p
            t_other = model.quantile_days(rng.uniform(size=eta.size), d["o_intercept"][s], d["o_sigma"][s])
            days = np.where(fell, t_fall, t_other)
        else:
            fell = np.ones(eta.size, dtype=bool)
            days = t_fall
        reps.append(_statistics(days, fell))
    rows = []
    for key, obs in observed.items():
        values = np.array([r[key] for r in reps], dtype=float)
        values = values[np.isfinite(values)]
        lo, mid, hi = (np.quantile(values, [0.05, 0.5, 0.95]) if values.size else (np.nan,) * 3)
        rows.append({"ended": key[0], "statistic": key[1], "observed": obs, "rep_05": lo,
                     "rep_50": mid, "rep_95": hi,
                     "outside_90": bool(values.size and not lo <= obs <= hi)})
    return pd.DataFrame(rows)


def format_ppc(table: pd.DataFrame, title: str) -> str:
    """The check as a plain-text table."""
    lines = [f"posterior predictive check by end: {title}",
             "  ended      statistic                    observed   replicates 5% / 50% / 95%"]
    for r in table.itertuples():
        flag = "  <- outside" if r.outside_90 else ""
        lines.append(f"  {r.ended:<10} {r.statistic:<28} {r.observed:>8.2f}   "
                     f"{r.rep_05:>8.2f} / {r.rep_50:>8.2f} / {r.rep_95:>8.2f}{flag}")
    return "\n".join(lines)


def hazard_by_held(dataset, posterior: Posterior, *, held: tuple[int, ...] = (0, 30, 90, 365),
                   horizons: tuple[int, ...] = (90, 365), seed: int = 0) -> pd.DataFrame:
    """Does the chance of falling soon shrink the longer a holdout has held — in the data, and
    in the model? For each number of days held: the holdouts of the reference class still
    standing then, the Aalen–Johansen probability that such a holdout falls within each
    horizon (the data), and the mean of the model's forecasts for the same holdouts as of that
    day (in-sample). The out-of-sample version of the question is the backtest's calibration by
    days held."""
    from datetime import timedelta

    from forecast.cases import Case
    from forecast.predict import predict
    from forecast.workflow import climatologies

    top = dataset.top_level()
    frame = top.frame
    rows = []
    for h0 in held:
        at_risk = [i for i in range(len(top)) if frame.loc[i, "duration_days"] > h0]
        aj = climatologies(top, float(h0))["climatology_aj"]
        model_p = {h: [] for h in horizons}
        for i in at_risk:
            start = frame.loc[i, "start_date"].date()
            war = frame.loc[i, "war"] if "war" in frame and pd.notna(frame.loc[i, "war"]) else None
            case = Case(id=str(frame.loc[i, "case_id"]), name=str(frame.loc[i, "name"]),
                        start_date=start, as_of=start + timedelta(days=h0),
                        indicators=top.indicators(i), war=war)
            fc = predict(posterior, case, seed=seed, grid_days=max(horizons))
            for h in horizons:
                model_p[h].append(fc.p_fall_within(h))
        row = {"held_days": h0, "at_risk": len(at_risk)}
        for h in horizons:
            row[f"data_p{h}"] = float(aj.p_fall_within(h))
            row[f"model_p{h}"] = float(np.mean(model_p[h])) if at_risk else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)
