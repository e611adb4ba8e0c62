"""The forecast with statements as evidence, and how each statement moved it.

``update`` reads the case's claims, weighs each against the base rate
(:mod:`forecast.elicit.likelihood`), applies their joint likelihood to the indicator forecast's
draws (falling back to MCMC when the weights cannot carry it) and builds the decomposition:
reference class only -> + indicators -> + each statement alone -> all statements (final). The
claims' likelihoods multiply, so the final forecast does not depend on their order; each
statement's row shows what it does on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forecast.cases import Case
from forecast.data import Dataset
from forecast.elicit.claims import Context, ReadClaim, read_claims
from forecast.elicit.combine import combine, event_probability, reweighted, weigh_claims
from forecast.elicit.likelihood import BaseRate, Weighed
from forecast.fit import Posterior, SamplerConfig, design_of
from forecast.predict import HORIZONS, QUANTILES, Forecast, predict, with_bands
from forecast.reference import km_quantile, km_remaining


@dataclass
class Evidence:
    """The final forecast, the indicators-only forecast it started from, and the bookkeeping."""

    forecast: Forecast
    base: Forecast
    claims: list[ReadClaim]
    weighed: list[Weighed]
    notes: list[str]
    pareto_k: float
    ess: float
    method: str
    decomposition: list[dict[str, Any]] = field(default_factory=list)
    #: per claim: its weighing (stated p, base rate, beta, reliability, log Bayes factor) and the
    #: forecast's probability of its event before and after the statements
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """What the forecast JSON gains: claims, pareto_k, method, decomposition."""
        return {
            "claims": [c.to_dict() for c in self.claims],
            "evidence": self.evidence,
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
    design = design_of(dataset)
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
                    lexicon.load_calibration())
    prob, time, calibration = lexicons
    comparable, label = comparable_holdouts(case, dataset)
    whole = km_quantile(dataset)
    return Context(case=case, km_quantile=whole, effect_levels=levels,
                   prob_lexicon=prob, time_lexicon=time, calibration=calibration,
                   comparable_quantile=whole if comparable is dataset else km_quantile(comparable),
                   comparable=label)


def comparable_holdouts(case: Case, dataset: Dataset, min_fell: int | None = None
                        ) -> tuple[Dataset, str]:
    """The holdouts a vague time word is read against: those on the case's terrain when at least
    ``min_fell`` of them fell (``MIN_COMPARABLE``), else the whole reference class."""
    from dataclasses import replace as dc_replace

    from forecast.elicit.claims import MIN_COMPARABLE
    from forecast.outcomes import FALL_TYPES

    min_fell = MIN_COMPARABLE if min_fell is None else min_fell
    terrain = case.indicators.terrain
    frame = dataset.frame
    if terrain and "terrain" in frame:
        same = frame[frame["terrain"] == terrain]
        if int(same["outcome"].isin(list(FALL_TYPES)).sum()) >= min_fell:
            return dc_replace(dataset, frame=same.reset_index(drop=True)), f"holdouts on {terrain} terrain"
    return dataset, "all holdouts"


def evidence_row(w: Weighed) -> dict[str, Any]:
    """One claim's weighing, for the record and the decomposition."""
    return {"claim": w.label, "event": w.event.describe(), "stated_p": round(w.p, 4),
            "base_rate": round(w.pi, 4), "beta": round(w.beta, 3),
            "reliability": round(w.reliability, 3), "condition": round(w.condition, 3),
            "source_group_size": w.group_size, "log_bayes_factor": round(w.log_bf, 3)}


def _stage(name: str, fc: Forecast | None = None, summary: dict | None = None) -> dict[str, Any]:
    s = summary if summary is not None else fc.summary()
    q = s["days_remaining"]
    return {"stage": name, "median_days_remaining": q.get("0.5"),
            "p_fall_within": s["p_fall_within"]}


def apply(base: Forecast, claims: list[ReadClaim], weighed: list[Weighed], *, case: Case,
          posterior: Posterior, dataset: Dataset, seed: int, sampler: SamplerConfig | None = None,
          bands: bool = True) -> tuple[Forecast, float, float, str]:
    """Apply the claims' likelihood to the indicator forecast: reweighting, or MCMC when k-hat or
    the effective number of draws say so. Returns the forecast, k-hat, the effective number of
    draws and the method used."""
    effects = [c for c in claims if c.kind == "effect" and c.weight > 0]
    if not weighed and not effects:
        from forecast.elicit.combine import effective_sample_size

        return base, 0.0, effective_sample_size(np.log(base.weights)), "none"
    comb = combine(base, effects, weighed)
    if not comb.needs_mcmc:
        return reweighted(base, comb, bands=bands), comb.pareto_k, comb.ess, "importance"
    from forecast.elicit.fallback import mcmc_forecast

    fc = mcmc_forecast(posterior.model, design_of(dataset), case, base, comb, effects,
                       seed=seed, sampler=sampler)
    return fc, comb.pareto_k, comb.ess, "mcmc"


def update(posterior: Posterior, case: Case, dataset: Dataset, *, seed: int = 0,
           lexicons=None, sampler: SamplerConfig | None = None) -> Evidence:
    """The forecast of ``case`` with its statements' claims as evidence, and the decomposition."""
    ctx = context(case, dataset, posterior, lexicons)
    claims, notes = read_claims(ctx)
    base_rate = BaseRate.from_dataset(dataset)  # its tie-breaking jitter fixed: one base rate
    weighed = weigh_claims(claims, base_rate, ctx.calibration.signal_var)
    # the bands across draws only for the forecast that is published: the claims reweight the base
    base = predict(posterior, case, seed=seed, bands=False)
    final, k_hat, ess, method = apply(base, claims, weighed, case=case, posterior=posterior,
                                      dataset=dataset, seed=seed, sampler=sampler)
    if final is base:
        base = final = with_bands(base)
    stages = [
        _stage("reference class (Kaplan-Meier)",
               summary=km_remaining(dataset, case.held_days, HORIZONS, QUANTILES)),
        _stage("+ indicators", base),
    ]
    by_label = {w.label: w for w in weighed}
    rows: list[dict[str, Any]] = []
    statement_ids = list(dict.fromkeys(c.statement_id for c in claims))
    for sid in statement_ids:
        mine = [c for c in claims if c.statement_id == sid]
        mine_w = [by_label[c.label] for c in mine if c.label in by_label]
        if len(statement_ids) == 1:
            fc, how = final, method
        else:
            fc, _, _, how = apply(base, mine, mine_w, case=case, posterior=posterior,
                                  dataset=dataset, seed=seed, sampler=sampler, bands=False)
        st = next(s for s in case.statements if s.id == sid)
        row = _stage(f"+ {sid} alone ({st.speaker}, beta={mine[0].weight:.2f})", fc)
        row["combination"] = how
        row["log_bayes_factors"] = [round(w.log_bf, 3) for w in mine_w]
        stages.append(row)
    stages.append(_stage("all statements together (final)", final))
    for w in weighed:  # each claim's event: the forecast's probability before and after
        row = evidence_row(w)
        row["forecast_before"] = round(event_probability(base, w.event), 4)
        row["forecast_after"] = round(event_probability(final, w.event), 4)
        rows.append(row)
    final.flags = list(dict.fromkeys([*final.flags, *notes]))
    return Evidence(forecast=final, base=base, claims=claims, weighed=weighed, notes=notes,
                    pareto_k=k_hat, ess=ess, method=method, decomposition=stages, evidence=rows)


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
        lines.append(f"    {row['stage']:<64} {med_s:>10}   {ps}")
    if ev.evidence:
        lines.append("  each claim against the base rate (stated p, base rate, beta x reliability, "
                     "log Bayes factor; the forecast's P(event) before -> after):")
        for r in ev.evidence:
            cond = f", if its condition (P {r['condition']:.2f})" if r["condition"] < 1 else ""
            group = f", 1/{r['source_group_size']} (shared source)" if r["source_group_size"] > 1 else ""
            lines.append(f"    {r['claim']}: {r['event']}{cond}: p {r['stated_p']:.2f} vs base "
                         f"{r['base_rate']:.2f}, beta {r['beta']:.2f} x {r['reliability']:.2f}{group}"
                         f" -> log BF {r['log_bayes_factor']:+.2f}; forecast "
                         f"{r['forecast_before']:.2f} -> {r['forecast_after']:.2f}")
    if not verbose:
        return "\n".join(lines)
    for c in ev.claims:
        lines.append(f"  claim {c.label}: {c.reading}")
    lines.append(f"  combination: {ev.method}; PSIS k-hat {ev.pareto_k:.2f}, "
                 f"effective draws {ev.ess:,.0f}")
    return "\n".join(lines)


__all__ = ["Evidence", "apply", "context", "format_decomposition", "update"]
