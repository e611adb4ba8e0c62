"""MCMC with the claims in the model: the fallback when reweighted draws cannot carry them.

The joint target is the one importance sampling approximates: the posterior of the duration
model given the reference class, times the effect claims' tempered priors, times the density of
the case's own duration T restricted to T > t0 (it held until as_of: p(theta) f(T | theta)
1{T > t0}, *not* divided by S(t0 | theta) — having held is evidence about theta), weighted by the
duration claims' step function L(T) (from :func:`forecast.elicit.combine.combine`, smoothed at
its edges so NUTS can move across them). Sampling it jointly puts draws where the claims put the
probability, which reweighting cannot do when the claims sit in the forecast's far tail.
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
from models.design import Design, case_codes, force_row


def _smooth_step_log_weight(t, edges: np.ndarray, cell_lw: np.ndarray):
    """log L(T): cell_lw[0] plus a logistic step of height (cell_lw[j] - cell_lw[j-1]) at each
    inner edge, a day wide (or 1% of the edge, if larger)."""
    import pytensor.tensor as pt

    out = cell_lw[0] + 0.0 * t
    for j in range(1, len(cell_lw)):
        e = float(edges[j])
        width = max(0.5, 0.01 * e)
        out = out + (cell_lw[j] - cell_lw[j - 1]) * pt.sigmoid((t - e) / width)
    return out


def mcmc_forecast(model: DurationModel, design: Design, case: Case, base: Forecast,
                  comb: Combination, claims: list[ReadClaim], *, seed: int,
                  sampler: SamplerConfig | None = None) -> Forecast:
    """Forecast ``case`` by sampling the model jointly with the case's duration and the claims."""
    import nutpie
    import pymc as pm
    import pytensor.tensor as pt

    sampler = sampler or SamplerConfig()
    meta_levels = dict(base.effect_levels)
    t0 = case.held_days
    pm_model = model.build(design)
    with pm_model:
        eta = pm_model["intercept"]
        codes = case_codes(case.indicators, design.cat_names, design.levels)
        for j, name in enumerate(design.cat_names):
            eta = eta + pm_model[f"effect_{name}"][int(codes[j])]
        if design.force is not None:
            f = design.force
            fr = force_row(case.indicators)
            if fr is None:
                e = pm.Normal("case_force_e", 0.0, 1.0)
                z = pm_model["force_mu"] + pm_model["force_sd"] * e
            else:
                ua = pm.Uniform("case_u_att", 0.0, 1.0)
                ud = pm.Uniform("case_u_def", 0.0, 1.0)
                lfr = fr[0] + (fr[1] - fr[0]) * ua - (fr[2] + (fr[3] - fr[2]) * ud)
                z = (lfr - f.center) / f.scale
            eta = eta + pm_model["beta_force"] * z
        eta = pm.Deterministic("case_eta", eta)
        sigma = pm_model["sigma"]
        u = pm.Flat("case_log_excess", initval=np.log(max(base.quantile(0.5), 1.0)))
        total = pm.Deterministic("case_total_days", t0 + pt.exp(u))
        zt = (pt.log(total) - eta) / sigma
        # f(T | theta) on T = t0 + e^u > t0 (with the Jacobian e^u); no 1 / S(t0 | theta): the
        # draws of theta then come from the posterior given that the case held until t0
        pm.Potential("case_duration",
                     model.logpdf_w_pt(zt) - pt.log(sigma) - pt.log(total) + u)
        pm.Potential("duration_claims",
                     _smooth_step_log_weight(total, comb.edges, comb.cell_log_weights))
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
    eta_s = post["case_eta"].values.reshape(-1)
    sigma_s = post["sigma"].values.reshape(-1)
    remaining = post["case_total_days"].values.reshape(-1) - t0
    rng = np.random.default_rng(seed)
    # the draws already condition on having held: uniform draw weights, not S(t0) again
    mc = forecast_from_eta(case, eta_s, sigma_s, model, rng, stamp=base, draws_per_eta=1,
                           condition_draws=False)
    mc = replace(mc, remaining=np.maximum(remaining, 0.0), draw_index=np.arange(eta_s.size),
                 weights=np.full(eta_s.size, 1.0 / eta_s.size), flags=list(base.flags))
    flat = Combination(log_weights=np.zeros(eta_s.size), targets=comb.targets,
                       effect_log_weights=np.zeros(eta_s.size), pareto_k=float("nan"),
                       edges=comb.edges, cell_log_weights=comb.cell_log_weights, ess=eta_s.size)
    out = reweighted(mc, flat, smooth=False, tilt_draws=False)
    divergences = int(trace["sample_stats"]["diverging"].values.sum())
    out.extra = dict(out.extra) | {"mcmc": {"draws": int(eta_s.size), "divergences": divergences}}
    return out
