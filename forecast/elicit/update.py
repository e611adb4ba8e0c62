"""The forecast with statements as evidence, and how each statement moved it.

``update`` reads the case's claims, reweights the indicator forecast's draws (falling back to
MCMC when the weights cannot carry the claims) and builds the decomposition: reference class
only -> + indicators -> + each statement in turn -> final.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forecast.cases import Case
from forecast.data import Dataset
from forecast.elicit.claims import Context, ReadClaim, read_claims
from forecast.elicit.combine import combine, reweighted
from forecast.fit import Posterior, SamplerConfig
from forecast.predict import HORIZONS, QUANTILES, Forecast, predict
from forecast.reference import km_quantile, km_remaining
from models.design import from_dataset


@dataclass
class Evidence:
    """The final forecast, the indicators-only forecast it started from, and the bookkeeping."""

    forecast: Forecast
    base: Forecast
    claims: list[ReadClaim]
    notes: list[str]
    pareto_k: float
    ess: float
    method: str
    decomposition: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """What the forecast JSON gains: claims, pareto_k, method, decomposition."""
        return {
            "claims": [c.to_dict() for c in self.claims],
            "claim_notes": list(self.notes),
            "pareto_k": round(self.pareto_k, 3),
            "effective_draws": round(self.ess, 1),
            "combination": self.method,
            "decomposition": self.decomposition,
        }


def effect_levels(cat_names, levels, with_force: bool) -> dict[str, tuple[str, ...]]:
    """The indicators an effect claim may name, with their levels."""
    out = {name: tuple(lv) for name, lv in zip(cat_names, levels, strict=True)}
    if with_force:
        out["force_ratio"] = ()
    return out


def check_claims(case: Case, dataset: Dataset, lexicons=None) -> list[ReadClaim]:
    """Read the case's claims before any fitting, so that bad claims fail fast."""
    design = from_dataset(dataset)
    levels = effect_levels(design.cat_names, design.levels, design.force is not None)
    return read_claims(_context(case, dataset, levels, lexicons))[0]


def context(case: Case, dataset: Dataset, posterior: Posterior, lexicons=None) -> Context:
    """Everything claims are read against: lexicons, role weights, the reference class."""
    meta = posterior.meta
    levels = effect_levels(meta["cat_names"], meta["levels"], "force" in meta)
    return _context(case, dataset, levels, lexicons)


def _context(case: Case, dataset: Dataset, levels: dict, lexicons) -> Context:
    if lexicons is None:
        from forecast.elicit import lexicon

        lexicons = (lexicon.load_probability_lexicon(), lexicon.load_time_lexicon(),
                    lexicon.load_role_weights())
    prob, time, roles = lexicons
    return Context(case=case, km_quantile=km_quantile(dataset), effect_levels=levels,
                   prob_lexicon=prob, time_lexicon=time, role_weights=roles)


def _stage(name: str, fc: Forecast | None = None, summary: dict | None = None) -> dict[str, Any]:
    s = summary if summary is not None else fc.summary()
    q = s["days_remaining"]
    return {"stage": name, "median_days_remaining": q.get("0.5"),
            "p_fall_within": s["p_fall_within"]}


def apply(base: Forecast, claims: list[ReadClaim], *, case: Case, posterior: Posterior,
          dataset: Dataset, seed: int, sampler: SamplerConfig | None = None, bands: bool = True
          ) -> tuple[Forecast, float, float, str]:
    """Apply claims to the indicator forecast: reweighting, or MCMC when k-hat or ESS say so.

    Returns the forecast, k-hat, the effective number of draws and the method used.
    """
    active = [c for c in claims if c.weight > 0]
    if not active:
        from forecast.elicit.combine import effective_sample_size

        return base, 0.0, effective_sample_size(np.log(base.weights)), "none"
    comb = combine(base, active)
    if not comb.needs_mcmc:
        return reweighted(base, comb, bands=bands), comb.pareto_k, comb.ess, "importance"
    from forecast.elicit.fallback import mcmc_forecast

    fc = mcmc_forecast(posterior.model, from_dataset(dataset), case, base, comb, active,
                       seed=seed, sampler=sampler)
    return fc, comb.pareto_k, comb.ess, "mcmc"


def update(posterior: Posterior, case: Case, dataset: Dataset, *, seed: int = 0,
           lexicons=None, sampler: SamplerConfig | None = None) -> Evidence:
    """The forecast of ``case`` with its statements' claims as evidence, and the decomposition."""
    ctx = context(case, dataset, posterior, lexicons)
    claims, notes = read_claims(ctx)
    base = predict(posterior, case, seed=seed)
    final, k_hat, ess, method = apply(base, claims, case=case, posterior=posterior,
                                      dataset=dataset, seed=seed, sampler=sampler)
    stages = [
        _stage("reference class (Kaplan-Meier)",
               summary=km_remaining(dataset, case.held_days, HORIZONS, QUANTILES)),
        _stage("+ indicators", base),
    ]
    seen: list[str] = []
    for st in case.statements:
        mine = [c for c in claims if c.statement_id == st.id]
        if not mine:
            continue
        seen.append(st.id)
        upto = [c for c in claims if c.statement_id in seen]
        if len(seen) == len({c.statement_id for c in claims}):
            fc, how = final, method
        else:
            fc, _, _, how = apply(base, upto, case=case, posterior=posterior, dataset=dataset,
                                  seed=seed, sampler=sampler, bands=False)
        row = _stage(f"+ {st.id} ({st.speaker}, w={mine[0].weight:g})", fc)
        row["combination"] = how
        stages.append(row)
    stages.append(_stage("final", final))
    final.flags = list(dict.fromkeys([*final.flags, *notes]))
    return Evidence(forecast=final, base=base, claims=claims, notes=notes, pareto_k=k_hat,
                    ess=ess, method=method, decomposition=stages)


def format_decomposition(ev: Evidence, *, verbose: bool = True) -> str:
    """The decomposition as a table: median days remaining and P(fall within 7/30/90/365).

    ``verbose`` adds each claim's full reading (phrase distributions, time readings) and the
    combination's statistics (PSIS k-hat, effective draws). The claims' notes are the
    forecast's flags, printed with the forecast.
    """
    lines = ["  how the forecast was built (median days remaining; P(fall within 7/30/90/365 d)):"]
    for row in ev.decomposition:
        med = row["median_days_remaining"]
        med_s = "beyond data" if med is None else f"{med:,.0f}"
        p = row["p_fall_within"]
        ps = " / ".join(f"{p[str(h)]:.2f}" for h in HORIZONS)
        lines.append(f"    {row['stage']:<58} {med_s:>10}   {ps}")
    if not verbose:
        return "\n".join(lines)
    for c in ev.claims:
        lines.append(f"  claim {c.label}: {c.reading}")
    lines.append(f"  combination: {ev.method}; PSIS k-hat {ev.pareto_k:.2f}, "
                 f"effective draws {ev.ess:,.0f}")
    return "\n".join(lines)


__all__ = ["Evidence", "apply", "context", "format_decomposition", "update"]
