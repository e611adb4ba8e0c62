"""MCMC with the claims in the model: the fallback when reweighted draws cannot carry them.

The joint target is the one importance sampling approximates: the posterior of the duration
model given the reference class, times the effect claims' tempered priors, times the
probability that the case held until as_of and then fell as the duration claims say. The claims'
step function L(T) is constant on cells of T (``Combination.edges``), so the case's own
duration is summed out exactly instead of being sampled:

    p(theta | data) * sum_c L_c * P_theta(T in cell c, and it held until t0),

with P_theta(T in (a, b]) = p [S(a) - S(b)] and, for the last cell, + (1 - p) S_o(t0) (the
holdout never falls) under competing ends (p = 1 for a single end); S runs on the clock of the
indicators in force at as_of when they changed while it held
(:func:`forecast.predict.effective_held`). Having held is evidence about theta; sampling the
tilted posterior puts draws where the claims put the probability, which reweighting cannot do
when the claims sit in the forecast's far tail. Within each draw, T's law is then tilted by L
exactly (:func:`forecast.elicit.combine.reweighted`).

The case's parameters enter as in :func:`forecast.predict.case_params`: its war's fitted effect
(or a new war's, as a latent), force sizes as latents inside their ranges under the fit's
population law. One simplification: an indicator the case does not know, whose ``unknown`` level
the fit never saw, takes the reference class's frequency-weighted mean effect.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from forecast.cases import Case
from forecast.elicit.claims import ReadClaim
from forecast.elicit.combine import Combination, reweighted
from forecast.fit import SamplerConfig
from forecast.predict import Forecast, forecast_from_eta
from models.base import DurationModel
from models.design import Design, _log_range, era_of


def _effect(pm_model, var: str, name: str, level: str | None, design: Design, pt):
    """The effect of ``level`` of indicator ``name`` (frequency-weighted mean when unknown and
    the fit never saw 'unknown')."""
    j = design.cat_names.index(name)
    levels = design.levels[j]
    effect = pm_model[var]
    counts = np.asarray(design.level_counts()[name], dtype=float)
    if level is None and counts[-1] < 1 and counts.sum() > 0:
        return pt.dot(effect, counts / counts.sum())
    return effect[levels.index(level or "unknown")]


def _predictor(pm_model, model: DurationModel, design: Design, case: Case, ind, prefix: str, pt,
               war_term):
    eta = pm_model[f"{prefix}intercept"]
    for name in design.cat_names:
        eta = eta + _effect(pm_model, f"{prefix}effect_{name}", name, getattr(ind, name), design, pt)
    if f"{prefix}effect_era" in pm_model.named_vars:
        eta = eta + pm_model[f"{prefix}effect_era"][era_of(case.start_date.year)]
    if war_term is not None:
        eta = eta + war_term
    return eta


def _war_term(pm_model, design: Design, case: Case, prefix: str, pm):
    if f"{prefix}effect_war" not in pm_model.named_vars:
        return None
    if case.war in design.wars:
        return pm_model[f"{prefix}effect_war"][design.wars.index(case.war)]
    return pm_model[f"{prefix}tau_war"] * pm.Normal(f"case_{prefix}z_war", 0.0, 1.0)


def _force_terms(pm_model, design: Design, ind, pm, pt):
    """beta_force * z_force (+ beta_size * z_size) of the case, as latents under the fit's law."""
    f = design.force
    if f is None:
        return 0.0
    att, dfn = _log_range(ind.attacker_strength), _log_range(ind.defender_strength)
    size = "beta_size" in pm_model.named_vars
    term = 0.0
    log_def = None
    if dfn is not None:
        log_def = dfn[0] + (dfn[1] - dfn[0]) * pm.Uniform("case_u_def", 0.0, 1.0)
    if att is not None and log_def is not None:
        lfr = att[0] + (att[1] - att[0]) * pm.Uniform("case_u_att", 0.0, 1.0) - log_def
        z = (lfr - f.center) / f.scale
        pm.Potential("case_force_population",
                     pm.logp(pm.Normal.dist(pm_model["force_mu"], pm_model["force_sd"]), z))
    else:
        z = pm_model["force_mu"] + pm_model["force_sd"] * pm.Normal("case_force_e", 0.0, 1.0)
    term = pm_model["beta_force"] * z
    if size:
        if log_def is not None:
            zs = (log_def - f.size_center) / f.size_scale
            pm.Potential("case_size_population",
                         pm.logp(pm.Normal.dist(pm_model["size_mu"], pm_model["size_sd"]), zs))
        else:
            zs = pm_model["size_mu"] + pm_model["size_sd"] * pm.Normal("case_size_e", 0.0, 1.0)
        term = term + pm_model["beta_size"] * zs
    return term


def mcmc_forecast(model: DurationModel, design: Design, case: Case, base: Forecast,
                  comb: Combination, claims: list[ReadClaim], *, seed: int,
                  sampler: SamplerConfig | None = None) -> Forecast:
    """Forecast ``case`` by sampling the model jointly with the case's having held and the claims."""
    import nutpie
    import pymc as pm
    import pytensor.tensor as pt

    sampler = sampler or SamplerConfig()
    meta_levels = dict(base.effect_levels)
    t0 = case.held_days
    pm_model = model.build(design)
    edges = np.asarray(comb.edges, dtype=float)
    cell_lw = np.asarray(comb.cell_log_weights, dtype=float)
    with pm_model:
        war = _war_term(pm_model, design, case, "", pm)
        force = _force_terms(pm_model, design, case.indicators_at(case.as_of), pm, pt)
        segments = case.segments()
        etas = [_predictor(pm_model, model, design, case, ind, "", pt, war) + force
                for _, ind in segments]
        eta = pm.Deterministic("case_eta", etas[-1])
        sigma = pm_model["sigma"]
        # days held on the current indicators' clock (t0 when nothing changed)
        t_eff = sum(days * pt.exp(eta - e) for (days, _), e in zip(segments, etas, strict=True))
        t_eff = pm.Deterministic("case_held_eff", t_eff if t0 > 0 else pt.as_tensor(0.0))
        finite = edges[np.isfinite(edges)]
        clock = t_eff + (finite - t0)  # the edges on the current clock (the first edge is t0)
        log_s = pt.concatenate([model._logsf(pt.maximum(clock, 1e-9), eta, sigma, pt),
                                pt.full((edges.size - finite.size,), -np.inf)])
        if t0 <= 0:
            log_s = pt.set_subtensor(log_s[0], 0.0)
        # log P(T in cell c) = log S(a) + log(1 - S(b) / S(a))
        log_cell = log_s[:-1] + pt.log1mexp(pt.minimum(log_s[1:] - log_s[:-1], -1e-12))
        if model.competing:
            p_war = _war_term(pm_model, design, case, "p_", pm)
            eta_p = pm.Deterministic("case_eta_p", _predictor(
                pm_model, model, design, case, case.indicators_at(case.as_of), "p_", pt, p_war))
            log_p, log_q = -pt.softplus(-eta_p), -pt.softplus(eta_p)
            log_so0 = (model._logsf(pt.as_tensor(float(t0)), pm_model["o_intercept"],
                                    pm_model["o_sigma"], pt) if t0 > 0 else pt.as_tensor(0.0))
            log_cell = log_p + log_cell
            log_never = log_q + log_so0
            mass = pt.logsumexp(pt.concatenate([cell_lw + log_cell, [cell_lw[-1] + log_never]]))
        else:
            mass = pt.logsumexp(cell_lw + log_cell)
        pm.Potential("case_held_and_claims", mass)
        for c in claims:
            if c.kind == "effect" and c.weight > 0:
                var, level = c.effect
                value = pm_model[var]
                if level:
                    value = value[meta_levels[var].index(level)]
                pm.Potential(f"claim_{len(pm_model.potentials)}",
                             c.weight * pm.logp(pm.Normal.dist(c.mean, c.sd), value))
    compiled = nutpie.compile_pymc_model(pm_model)
    trace = nutpie.sample(compiled, draws=sampler.draws, tune=sampler.tune, chains=sampler.chains,
                          seed=int(seed), target_accept=sampler.target_accept, progress_bar=False,
                          save_warmup=False)
    post = trace["posterior"]

    def flat(name):
        return post[name].values.reshape(-1)

    eta_s, sigma_s = flat("case_eta"), flat("sigma")
    competing = None
    if model.competing:
        competing = {"eta_p": flat("case_eta_p"), "eta_o": flat("o_intercept"),
                     "sigma_o": flat("o_sigma")}
    held_eff = flat("case_held_eff") if len(case.segments()) > 1 else None
    rng = np.random.default_rng(seed)
    # the draws already condition on having held and on the claims: uniform draw weights
    mc = forecast_from_eta(case, eta_s, sigma_s, model, rng, stamp=base, condition_draws=False,
                           competing=competing, held_eff=held_eff)
    mc = replace(mc, flags=list(base.flags))
    # within each draw, T's law tilted by the claims' step function: predictive draws weighted
    # by their cell's L over the draw's normalizer
    surv = mc.conditional_survival(edges)
    cell_l = np.exp(cell_lw - cell_lw.max())
    z = (cell_l[:, None] * (surv[:-1] - surv[1:])).sum(axis=0)
    total = t0 + mc.remaining
    cell_of = np.clip(np.searchsorted(edges, total, side="left") - 1, 0, cell_lw.size - 1)
    log_w = (cell_lw - cell_lw.max())[cell_of] - np.log(np.maximum(z, 1e-300))[mc.draw_index]
    flat_comb = Combination(log_weights=log_w, weighed=comb.weighed,
                            effect_log_weights=np.zeros(eta_s.size), pareto_k=float("nan"),
                            edges=edges, cell_log_weights=cell_lw, ess=eta_s.size)
    out = reweighted(mc, flat_comb, smooth=False, tilt_draws=False)
    divergences = int(trace["sample_stats"]["diverging"].values.sum())
    out.extra = dict(out.extra) | {"mcmc": {"draws": int(eta_s.size), "divergences": divergences}}
    return out
