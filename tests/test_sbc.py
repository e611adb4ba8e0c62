"""Simulation-based calibration (Talts et al. 2018) of the full holdout model.

Parameters are drawn from the priors, a reference class is simulated from them by an
independent NumPy implementation of the generative story (war and era effects, a monotone
ordered indicator, a pooled one, force ratio and defender size as latents inside recorded
ranges and missing for some rows, competing ends, administrative censoring, month-precision
intervals), and the model is fitted to it. If the model and the story agree, the rank of each
true parameter among its posterior draws is uniform; a sign error, a wrong scale or a
mis-specified likelihood piles the ranks at the ends. Slow: 40 fits (one compilation, data
swapped).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from forecast.fit import SamplerConfig, sample_design  # forecast before models (import order)
from models import get_model
from models.base import Priors
from models.design import ORDERED, ORDERED_REFERENCE, Design, ForceInputs

pytestmark = pytest.mark.slow

N, WARS, REPS, KEEP = 80, 8, 40, 99
CAT_NAMES = ("encircled", "terrain")
LEVELS = (("no", "partial", "yes", "unknown"),
          ("open", "urban", "mountain", "forest", "fortified", "mixed", "unknown"))
CHECKED = ("intercept", "sigma", "p_intercept", "o_intercept", "o_sigma", "tau_war",
           "beta_force", "beta_size", "b_encircled", "force_mu")


def _zero_sum(rng, k, tau):
    z = rng.standard_normal(k)
    return tau * (z - z.mean())


def _monotone(rng, name, levels, pr):
    order = ORDERED[name]
    b = rng.normal(0.0, pr.mono_sd)
    cum = np.concatenate([[0.0], np.cumsum(rng.dirichlet(np.ones(len(order) - 1)))])
    ref = cum[order.index(ORDERED_REFERENCE[name])]
    eff = [b * (cum[order.index(lv)] - ref) for lv in levels if lv in order]
    return b, np.array(eff + [rng.normal(0.0, pr.tau_sd)])


def _predictor(rng, pr, codes, wars, eras, mu, sd):
    truth = {"intercept": rng.normal(mu, sd)}
    eta = np.full(N, truth["intercept"])
    truth["b_encircled"], eff = _monotone(rng, "encircled", LEVELS[0], pr)
    eta += eff[codes[:, 0]]
    eta += _zero_sum(rng, len(LEVELS[1]), abs(rng.normal(0, pr.tau_sd)))[codes[:, 1]]
    eta += _zero_sum(rng, 4, abs(rng.normal(0, pr.tau_sd)))[eras]
    truth["tau_war"] = abs(rng.normal(0, pr.war_sd))
    eta += (truth["tau_war"] * rng.standard_normal(WARS))[wars]
    return eta, truth


def simulate(seed: int, model) -> tuple[Design, dict[str, float]]:
    """One reference class from parameters drawn from the priors, and those parameters."""
    rng = np.random.default_rng(seed)
    pr = Priors()
    codes = np.column_stack([rng.integers(0, 3, N), rng.integers(0, 6, N)])
    wars, eras = rng.integers(0, WARS, N), rng.integers(0, 4, N)
    eta, truth = _predictor(rng, pr, codes, wars, eras, pr.intercept_mu, pr.intercept_sd)
    eta_p, p_truth = _predictor(rng, pr, codes, wars, eras, pr.p_intercept_mu, pr.p_intercept_sd)
    truth["p_intercept"] = p_truth["intercept"]
    # force ratio and defender size (standardized with centre 0, scale 1), inside ranges
    f = {"force_mu": rng.normal(), "force_sd": abs(rng.normal()), "size_mu": rng.normal(),
         "size_sd": abs(rng.normal())}
    z = f["force_mu"] + f["force_sd"] * rng.standard_normal(N)
    zs = f["size_mu"] + f["size_sd"] * rng.standard_normal(N)
    truth["force_mu"] = f["force_mu"]
    truth["beta_force"] = rng.normal(0, pr.force_sd)
    truth["beta_size"] = rng.normal(0, pr.force_sd)
    eta += truth["beta_force"] * z + truth["beta_size"] * zs
    log_def, log_att = zs, z + zs
    w = 0.4
    u1, u2 = rng.uniform(size=N), rng.uniform(size=N)
    def_known = rng.uniform(size=N) < 0.8
    known = def_known & (rng.uniform(size=N) < 0.8)
    force = ForceInputs(
        att_lo=np.where(known, log_att - w * u1, 0.0), att_hi=np.where(known, log_att + w * (1 - u1), 0.0),
        def_lo=np.where(def_known, log_def - w * u2, 0.0),
        def_hi=np.where(def_known, log_def + w * (1 - u2), 0.0),
        known=known, center=0.0, scale=1.0, def_known=def_known, size_center=0.0, size_scale=1.0)
    # ends: it falls with p, at T; or ends otherwise at T_o; administrative censoring at C
    truth["sigma"] = abs(rng.normal(0, pr.sigma_sd))
    truth["o_intercept"] = rng.normal(pr.intercept_mu, pr.intercept_sd)
    truth["o_sigma"] = abs(rng.normal(0, pr.sigma_sd))
    falls = rng.uniform(size=N) < 1.0 / (1.0 + np.exp(-eta_p))
    t_fall = model.quantile_days(rng.uniform(size=N), eta, truth["sigma"])
    t_other = model.quantile_days(rng.uniform(size=N), truth["o_intercept"], truth["o_sigma"])
    t = np.clip(np.where(falls, t_fall, t_other), 0.05, 1e7)
    c = rng.uniform(30.0, 3000.0, N)
    ended = t <= c
    y = np.where(ended, t, c)
    # a fifth of the ended rows known only to the month
    month = ended & (rng.uniform(size=N) < 0.2)
    lo = np.where(month, np.maximum(np.floor(y / 30.0) * 30.0, 0.5), y)
    hi = np.where(month, np.floor(y / 30.0) * 30.0 + 30.0, y)
    y = np.where(month, (lo + hi) / 2, y)
    design = Design(y=y, event=(ended & falls).astype(float), other=(ended & ~falls).astype(float),
                    numeric=np.zeros((N, 0)), codes=codes, cat_names=CAT_NAMES, levels=LEVELS,
                    force=force, y_lo=lo, y_hi=hi, war_codes=wars,
                    wars=tuple(f"w{i}" for i in range(WARS)), era_codes=eras)
    return design, truth


def test_ranks_of_true_parameters_are_uniform():
    model = get_model("weibull")
    ranks = {k: [] for k in CHECKED}
    for rep in range(REPS):
        design, truth = simulate(1000 + rep, model)
        post = sample_design(model, design, seed=rep, sampler=SamplerConfig(draws=400, tune=400, chains=2))
        for k in CHECKED:
            draws = post.draws[k].reshape(-1)
            thin = draws[np.linspace(0, draws.size - 1, KEEP).astype(int)]
            ranks[k].append(int(np.sum(thin < truth[k])))
    bins = 5
    for k, r in ranks.items():
        counts = np.bincount(np.minimum(np.asarray(r) * bins // (KEEP + 1), bins - 1), minlength=bins)
        p = stats.chisquare(counts).pvalue
        assert p > 0.001, f"{k}: SBC ranks are not uniform (counts by fifth {counts.tolist()}, p={p:.2g})"
