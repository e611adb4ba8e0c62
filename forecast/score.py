"""Scores of a forecast of the fall time once its outcome is (partly) known.

A forecast is a :class:`~forecast.predictive.Predictive` (the CDF ``F`` of the fall time, in days
after as_of); what happened is a :class:`~forecast.outcomes.Resolution`, the one rule for competing
ends: a holdout that ended otherwise did not fall (``T_fall = inf``), one still standing is
right-censored at ``known_until``. All scores are negatively oriented (lower is better) except
the PIT and interval coverage, which are calibration diagnostics. The forecast says nothing
beyond the last day of its grid, so a score that needs ``F`` there is NaN.

References
----------
Brier (1950), Mon. Weather Rev. 78:1-3. Gneiting & Raftery (2007), JASA 102:359-378.
Gneiting & Ranjan (2011), J. Bus. Econ. Stat. 29:411-422. Allen, Ginsbourger & Ziegel (2023),
SIAM/ASA JUQ 11:906-940. Taggart (2022), Electron. J. Stat. 16:201-231. Czado, Gneiting & Held
(2009), Biometrics 65:1254-1261. Bosse et al. (2022), scoringutils, arXiv:2205.07090.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scoringrules as sr

from forecast.errors import InputError
from forecast.outcomes import Resolution
from forecast.predictive import Predictive

#: Horizons (days after as_of) of the "falls within h days" questions.
HORIZONS: tuple[int, ...] = (7, 30, 90, 365)
#: The scoring horizon tau of the threshold-weighted CRPS (days after as_of).
TAU: float = 365.0
#: Nominal levels of the central intervals whose coverage is checked.
LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9)
#: Probabilities are clipped to [EPS, 1 - EPS] in the binary log score.
EPS: float = 1e-6
#: The censored log score is capped here (a floor on the density/survival of exp(-10)).
LOG_CAP: float = 10.0
#: Scores compared by their difference, not by a skill ratio (log scores can be negative).
DIFFERENCE_SCORES: tuple[str, ...] = ("log_mean", "censored_log")


@dataclass(frozen=True)
class ForecastScore:
    """The scores of one forecast against one resolution (see :func:`score_forecast`).

    ``brier`` and ``log`` map each horizon to its score (NaN when unresolvable); ``coverage``
    maps each nominal level to 1.0 (covered), 0.0 (not covered) or NaN (unresolved).
    ``pit_interval`` is ``(F(c), 1)`` for an observation censored at ``c`` and ``(F(T), F(T))``
    for a fall at ``T``, for non-randomized PIT plots.
    """

    brier: dict[int, float]
    log: dict[int, float]
    brier_mean: float
    log_mean: float
    twcrps: float
    censored_log: float
    pit: float
    pit_interval: tuple[float, float]
    coverage: dict[float, float]
    status: str
    #: per horizon: the forecast's P(falls within h) and what happened (1, 0; NaN unresolved)
    prob: dict[int, float] = field(default_factory=dict)
    fell: dict[int, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Flat columns: ``brier_7``, ``log_7``, ..., ``pit_lo``, ``pit_hi``, ``cov50``, ...,
        ``p_7``, ``fell_7``, ..."""
        out: dict[str, Any] = {f"brier_{h}": v for h, v in self.brier.items()}
        out |= {f"log_{h}": v for h, v in self.log.items()}
        out |= {"brier_mean": self.brier_mean, "log_mean": self.log_mean, "twcrps": self.twcrps,
                "censored_log": self.censored_log, "pit": self.pit,
                "pit_lo": self.pit_interval[0], "pit_hi": self.pit_interval[1]}
        out |= {_cov_col(p): v for p, v in self.coverage.items()}
        out["status"] = self.status
        out |= {f"p_{h}": v for h, v in self.prob.items()}
        out |= {f"fell_{h}": v for h, v in self.fell.items()}
        return out


def reliability(p: np.ndarray, y: np.ndarray, *, n_boot: int = 500, level: float = 0.9,
                seed: int = 0) -> dict[str, np.ndarray]:
    """The CORP reliability diagram (Dimitriadis, Gneiting & Jordan 2021): the isotonic
    regression of outcomes on forecast probabilities (scikit-learn, pool-adjacent-violators),
    and a consistency band — where the recalibrated curve of a *calibrated* forecaster would lie,
    from outcomes resampled as Bernoulli(p) (``n_boot`` times, seeded).

    Returns ``x`` (sorted forecasts), ``fit`` (the recalibrated probabilities), ``lo``/``hi``
    (the band at ``x``), and ``n``."""
    from sklearn.isotonic import IsotonicRegression

    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(p) & np.isfinite(y)
    order = np.argsort(p[keep], kind="stable")
    x, obs = p[keep][order], y[keep][order]
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    fit = iso.fit(x, obs).predict(x)
    rng = np.random.default_rng(seed)
    sims = np.empty((n_boot, x.size))
    for b in range(n_boot):
        sims[b] = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            x, (rng.uniform(size=x.size) < x).astype(float)).predict(x)
    alpha = (1 - level) / 2
    return {"x": x, "fit": fit, "lo": np.quantile(sims, alpha, axis=0),
            "hi": np.quantile(sims, 1 - alpha, axis=0), "n": np.array(x.size)}


def _cov_col(p: float) -> str:
    return f"cov{round(100 * p)}"


def _censoring_point(res: Resolution) -> float:
    """Where the fall time is censored: the end for an other end, what is known when standing."""
    return res.end_after if res.status == "ended_otherwise" else res.known_until


def binary_scores(pred: Predictive, res: Resolution, horizons: Sequence[int] = HORIZONS,
                  ) -> tuple[dict[int, float], dict[int, float]]:
    """Brier and log scores of ``q(h) = P(falls within h days)`` for each horizon.

    Brier score (Brier 1950): ``(q - o)^2`` with ``o = 1`` if it fell within ``h`` days, else 0.
    Log score (Gneiting & Raftery 2007): ``-log`` of the probability given to what happened,
    ``-log q`` or ``-log(1 - q)``, with ``q`` clipped to ``[1e-6, 1 - 1e-6]`` (so at most 13.8).
    Both proper and negatively oriented. A horizon is scored only if it is resolvable
    (``res.falls_within(h)`` is not None) and within the forecast's grid; else NaN, never "no".
    An ended-otherwise holdout resolves every horizon as no: its Brier score is ``q(h)^2``.
    """
    brier: dict[int, float] = {}
    log: dict[int, float] = {}
    for h in horizons:
        outcome = res.falls_within(h)
        if outcome is None or h > pred.horizon:
            brier[int(h)] = log[int(h)] = math.nan
            continue
        q = pred.p_fall_within(h)
        o = 1.0 if outcome else 0.0
        qc = min(max(q, EPS), 1.0 - EPS)
        brier[int(h)] = (q - o) ** 2
        log[int(h)] = -math.log(qc if outcome else 1.0 - qc)
    return brier, log


def twcrps(pred: Predictive, res: Resolution, tau: float = TAU, *, members: int = 1000) -> float:
    """Threshold-weighted CRPS of the fall time, in days, on ``[0, tau_i]``.

    ``twCRPS(F, y) = int_0^{tau_i} (F(z) - 1{y <= z})^2 dz`` with weight ``1{z <= tau_i}``,
    ``tau_i = min(tau, known_until)`` and ``y = min(T_fall, tau_i)`` (Gneiting & Ranjan 2011).
    It is proper for observations censored at ``tau_i`` (Taggart 2022): a holdout that ended
    otherwise (``T_fall = inf``) or fell after ``tau_i`` has ``y = tau_i``. Computed with
    scoringrules' ensemble form (Allen et al. 2023) on the quantile ensemble
    ``pred.ensemble(members)`` under the chaining function ``v(z) = min(z, tau_i)``; members
    that never fall (inf) are chained to ``tau_i``. Negatively oriented. NaN when ``tau_i``
    lies beyond the forecast's grid.
    """
    tau_i = min(tau, res.known_until)
    if tau_i > pred.horizon:
        return math.nan
    y = res.observed_fall_time(tau)
    ens = np.minimum(pred.ensemble(members), tau_i)
    return float(sr.twcrps_ensemble(y, ens, a=0.0, b=tau_i, sorted_ensemble=True, backend="numpy"))


def censored_log_score(pred: Predictive, res: Resolution) -> float:
    """Censored log score of the fall time (Gneiting & Raftery 2007; Taggart 2022).

    ``-log f(T)`` for a fall at ``T`` (``f`` = ``pred.density``, per day: the slope of the
    CDF on the grid interval starting at ``T``); ``-log(1 - F(c))`` for a holdout censored at
    ``c``: ``c = end_after`` for one that ended otherwise (log survival at its end), ``c =
    known_until`` for one still standing. Negatively oriented; it can be negative (a density
    above 1 per day). Capped at 10 (a floor of ``exp(-10)`` on the density or survival, as in
    FluSight's log score), since a density of 0 — e.g. a Kaplan-Meier step with no mass on
    that day — gives infinity. NaN when ``T`` or ``c`` lies beyond the forecast's grid.
    """
    if res.status == "fell":
        value = pred.density(res.fall_after)
    else:
        c = _censoring_point(res)
        value = math.nan if c > pred.horizon else 1.0 - pred.p_fall_within(c)
    if math.isnan(value):
        return math.nan
    return LOG_CAP if value <= math.exp(-LOG_CAP) else -math.log(value)


def randomized_pit(pred: Predictive, res: Resolution, rng: np.random.Generator,
                   ) -> tuple[float, tuple[float, float]]:
    """The (randomized) probability integral transform and its interval.

    ``F(T)`` for a fall at ``T``; for a holdout censored at ``c`` (as in
    :func:`censored_log_score`) a draw from ``Uniform(F(c), 1)`` (Czado, Gneiting & Held 2009):
    uniform on (0, 1) when the forecast is calibrated and censoring is independent. Returns
    ``(pit, (lo, hi))``; NaN beyond the forecast's grid. ``rng`` is always advanced by one draw,
    so a sequence of calls is reproducible from one seed.
    """
    u = float(rng.random())
    if res.status == "fell":
        if res.fall_after > pred.horizon:
            return math.nan, (math.nan, math.nan)
        f = pred.p_fall_within(res.fall_after)
        return f, (f, f)
    c = _censoring_point(res)
    if c > pred.horizon:
        return math.nan, (math.nan, math.nan)
    f = pred.p_fall_within(c)
    return f + u * (1.0 - f), (f, 1.0)


def interval_coverage(pred: Predictive, res: Resolution, levels: Sequence[float] = LEVELS,
                      ) -> dict[float, float]:
    """Whether the central ``p`` intervals ``(Q((1-p)/2), Q((1+p)/2))`` cover the fall time.

    A fall at ``T``: covered if ``lo <= T <= hi``. Ended otherwise (``T = inf``): covered only
    if ``hi`` is inf (the forecast gave at least ``(1-p)/2`` to "not fallen by the end of the
    grid"). Still standing at ``s``: not covered if ``s > hi``, else unresolved (NaN).
    """
    out: dict[float, float] = {}
    for p in levels:
        lo, hi = pred.quantile((1 - p) / 2), pred.quantile((1 + p) / 2)
        if res.status == "fell":
            out[p] = float(lo <= res.fall_after <= hi)
        elif res.status == "ended_otherwise":
            out[p] = float(math.isinf(hi))
        else:
            out[p] = 0.0 if res.known_until > hi else math.nan
    return out


def _nanmean(values: Iterable[float]) -> float:
    arr = np.array([v for v in values if not math.isnan(v)])
    return float(arr.mean()) if arr.size else math.nan


def score_forecast(pred: Predictive, res: Resolution, *, horizons: Sequence[int] = HORIZONS,
                   tau: float = TAU, rng: np.random.Generator, members: int = 1000,
                   levels: Sequence[float] = LEVELS) -> ForecastScore:
    """Score one forecast against what is known of its outcome.

    Parameters
    ----------
    pred : Predictive
        The forecast CDF of the fall time (days after as_of).
    res : Resolution
        From :func:`forecast.outcomes.resolve`.
    horizons : sequence of int
        Days of the "falls within h" questions (:func:`binary_scores`).
    tau : float
        Scoring horizon of the twCRPS, days (:func:`twcrps`).
    rng : numpy.random.Generator
        For the randomized PIT (:func:`randomized_pit`); the same seed gives the same PIT.
    members : int
        Size of the quantile ensemble of the twCRPS.
    levels : sequence of float
        Nominal levels of the central intervals (:func:`interval_coverage`).

    Returns
    -------
    ForecastScore
        ``brier_mean`` and ``log_mean`` average the resolvable horizons only (NaN if none).
    """
    if not (math.isfinite(tau) and tau > 0):
        raise InputError("tau", f"the scoring horizon must be a positive number of days, got {tau}")
    brier, log = binary_scores(pred, res, horizons)
    pit, pit_interval = randomized_pit(pred, res, rng)
    prob, fell = {}, {}
    for h in horizons:
        outcome = res.falls_within(h)
        resolvable = outcome is not None and h <= pred.horizon
        prob[int(h)] = pred.p_fall_within(h) if h <= pred.horizon else math.nan
        fell[int(h)] = (1.0 if outcome else 0.0) if resolvable else math.nan
    return ForecastScore(
        brier=brier, log=log, brier_mean=_nanmean(brier.values()), log_mean=_nanmean(log.values()),
        twcrps=twcrps(pred, res, tau, members=members), censored_log=censored_log_score(pred, res),
        pit=pit, pit_interval=pit_interval, coverage=interval_coverage(pred, res, levels),
        status=res.status, prob=prob, fell=fell)


def score_table(rows: Iterable[tuple[Mapping[str, Any], Predictive, Resolution]], *,
                horizons: Sequence[int] = HORIZONS, tau: float = TAU, seed: int = 0,
                members: int = 1000) -> pd.DataFrame:
    """Score many forecasts: one row per forecast, identity columns first.

    ``rows`` yields ``(identity, predictive, resolution)``; the identity (case_id, model,
    as_of, ...) is carried through. Columns follow :meth:`ForecastScore.to_dict`. Row ``i``'s
    PIT uses a generator from ``SeedSequence(seed).spawn(n)[i]``, so the table is reproducible.
    """
    rows = list(rows)
    children = np.random.SeedSequence(seed).spawn(len(rows))
    records = []
    for i, ((identity, pred, res), child) in enumerate(zip(rows, children, strict=True)):
        scores = score_forecast(pred, res, horizons=horizons, tau=tau,
                                rng=np.random.default_rng(child), members=members).to_dict()
        clash = set(identity) & set(scores)
        if clash:
            raise InputError(f"rows[{i}]", f"identity keys {sorted(clash)} clash with score columns")
        records.append({**identity, **scores})
    return pd.DataFrame.from_records(records)


def _paired(table: pd.DataFrame, model_col: str, case_cols: list[str], score: str) -> pd.DataFrame:
    """Cases x models matrix of one score; duplicates are an error."""
    for col in [model_col, *case_cols, score]:
        if col not in table.columns:
            raise InputError("score table", f"has no column '{col}'")
    dup = table.duplicated([*case_cols, model_col])
    if dup.any():
        raise InputError(f"score table, row {int(np.flatnonzero(dup)[0])}",
                         f"more than one row for the same {case_cols + [model_col]}")
    return table.pivot(index=case_cols, columns=model_col, values=score).astype(float)


def _stat(m: np.ndarray, b: np.ndarray, difference: bool) -> np.ndarray:
    """Mean difference, or skill ``1 - mean_m / mean_b`` (NaN where the baseline mean is 0)."""
    mm, mb = m.mean(axis=-1), b.mean(axis=-1)
    if difference:
        return mm - mb
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mb != 0, 1.0 - mm / mb, np.nan)


def relative_skill(table: pd.DataFrame, model_col: str = "model",
                   case_col: str | Sequence[str] = ("case_id", "as_of"), score: str = "twcrps",
                   baseline: str = "climatology_km", *, n_boot: int = 2000, seed: int = 0,
                   interval: float = 0.9) -> pd.DataFrame:
    """Each model's skill against a baseline on the cases both scored, with a paired bootstrap.

    For each model, the rows keyed by ``case_col`` (case and as_of) where both the model and the
    baseline have a (non-NaN) score are paired. For a non-negative score (Brier, twCRPS) the
    skill is ``1 - mean_model / mean_baseline`` (positive: better than the baseline, 1: perfect),
    a ratio of mean scores as in scoringutils' pairwise comparison (Bosse et al. 2022). For the
    log scores (:data:`DIFFERENCE_SCORES` and ``log_<h>``) ratios are meaningless, so the mean
    difference ``model - baseline`` is reported instead (negative: better); column ``measure``
    says which. The interval is a percentile bootstrap that resamples the paired cases jointly
    (``n_boot`` replicates). Each model's resampling starts from ``seed``: models scored on the
    same cases are resampled alike, and a model's interval does not depend on the others.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model, score, baseline, measure, n, mean, baseline_mean, estimate,
        lower, upper``.
    """
    case_cols = [case_col] if isinstance(case_col, str) else list(case_col)
    wide = _paired(table, model_col, case_cols, score)
    if baseline not in wide.columns:
        raise InputError("score table", f"has no rows of the baseline model '{baseline}'")
    difference = score in DIFFERENCE_SCORES or score.startswith("log_")
    alpha = (1 - interval) / 2
    out = []
    for model in wide.columns:
        pair = wide[[model, baseline]].dropna().to_numpy()  # the baseline pairs with itself
        m, b = pair[:, 0], pair[:, 1]
        n = m.size
        row = {model_col: model, "score": score, "baseline": baseline,
               "measure": "difference" if difference else "skill", "n": n,
               "mean": m.mean() if n else math.nan, "baseline_mean": b.mean() if n else math.nan,
               "estimate": math.nan, "lower": math.nan, "upper": math.nan}
        if n:
            rng = np.random.default_rng(seed)  # the same resamples for every model with these cases
            idx = rng.integers(0, n, size=(n_boot, n))
            boot = _stat(m[idx], b[idx], difference)
            row["estimate"] = float(_stat(m, b, difference))
            if np.isfinite(boot).any():
                row["lower"], row["upper"] = np.nanquantile(boot, [alpha, 1 - alpha]).tolist()
        out.append(row)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class Summary:
    """Scores and calibration by model (see :func:`summarize`).

    ``scores``: one row per model, ``n`` and the mean of each score column (over its non-NaN
    rows; not paired across models — use :func:`relative_skill` to compare). ``pit_histogram``:
    ``model, bin_lo, bin_hi, count``. ``coverage``: ``model, level, n, rate`` (resolved only).
    """

    scores: pd.DataFrame
    pit_histogram: pd.DataFrame
    coverage: pd.DataFrame


def summarize(table: pd.DataFrame, model_col: str = "model", *, bins: int = 10,
              levels: Sequence[float] = LEVELS) -> Summary:
    """Mean scores, PIT histogram counts and interval coverage rates of each model."""
    if model_col not in table.columns:
        raise InputError("score table", f"has no column '{model_col}'")
    score_cols = [c for c in table.columns if c.startswith(("brier_", "log_"))
                  or c in ("twcrps", "censored_log")]
    groups = table.groupby(model_col, sort=True)
    scores = groups[score_cols].mean()
    scores.insert(0, "n", groups.size())
    edges = np.linspace(0.0, 1.0, bins + 1)
    hist, cov = [], []
    for model, g in groups:
        pit = g["pit"].to_numpy(dtype=float)
        counts, _ = np.histogram(pit[np.isfinite(pit)], bins=edges)
        hist += [{model_col: model, "bin_lo": lo, "bin_hi": hi, "count": int(k)}
                 for lo, hi, k in zip(edges[:-1], edges[1:], counts, strict=True)]
        for p in levels:
            x = g[_cov_col(p)].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            cov.append({model_col: model, "level": p, "n": x.size,
                        "rate": float(x.mean()) if x.size else math.nan})
    return Summary(scores.reset_index(), pd.DataFrame(hist), pd.DataFrame(cov))
