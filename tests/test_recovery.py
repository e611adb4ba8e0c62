"""Parameter recovery on simulated, right-censored Weibull AFT data.

The slow check is simulation-based calibration in its simplest form: the true intercept,
coefficients and sigma of each simulated dataset are drawn from the model's own prior, so the
posterior's 90% central intervals must cover the truth 90% of the time, averaged over datasets.
Every dataset has the same n and covariate names, so the model graph is compiled once and each
refit only swaps data. Censoring is independent and uniform, C = U * c, with c set from the true
parameters (never from the observed sample) so that about 30% of rows are censored.

The fast check fits one larger dataset with fixed parameters and asks for each to be recovered
within 3 posterior SD.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import pytest
from scipy import optimize, stats

from forecast.fit import Posterior, SamplerConfig, sample_design
from models import get_model
from models.base import Priors
from models.design import Design

NAMES = ("x1", "x2", "x3")
CENSORED_SHARE = 0.30
N_DATASETS = 100
N_ROWS = 120
SAMPLER = SamplerConfig(draws=1000, tune=1000, chains=2)


def censoring_scale(eta_ref: np.ndarray, sigma: float, rng: np.random.Generator,
                    share: float = CENSORED_SHARE) -> float:
    """c such that P(U * c < T) = ``share`` for U ~ Uniform(0, 1) and T from the true model.

    P(U c < T) = E[min(1, T / c)], estimated on a large reference sample of T.
    """
    w = np.log(-np.log(rng.uniform(size=eta_ref.size)))  # standard minimum-Gumbel
    t_ref = np.exp(eta_ref + sigma * w)

    def excess(log_c: float) -> float:
        return float(np.mean(np.minimum(1.0, t_ref / np.exp(log_c)))) - share

    lo, hi = np.log(t_ref.min()) - 5.0, np.log(t_ref.max()) + 5.0
    return float(np.exp(optimize.brentq(excess, lo, hi)))


def simulate(n: int, intercept: float, beta: np.ndarray, sigma: float,
             rng: np.random.Generator) -> Design:
    """Censored Weibull AFT data: log T = intercept + x . beta + sigma * W, W minimum-Gumbel."""
    p = len(beta)
    x = rng.normal(size=(n, p))
    eta = intercept + x @ beta
    t = np.exp(eta + sigma * np.log(-np.log(rng.uniform(size=n))))
    eta_ref = intercept + rng.normal(size=(20_000, p)) @ beta
    c = censoring_scale(eta_ref, sigma, rng) * rng.uniform(size=n)
    event = (t <= c).astype(float)
    y = np.minimum(t, c)
    return Design(y=y, event=event, numeric=x, numeric_names=NAMES[:p])


def draw_from_prior(priors: Priors, p: int, rng: np.random.Generator):
    intercept = rng.normal(priors.intercept_mu, priors.intercept_sd)
    beta = rng.normal(0.0, priors.beta_sd, size=p)
    sigma = abs(rng.normal(0.0, priors.sigma_sd))
    return intercept, beta, sigma


def coefficient(fit: Posterior, name: str) -> np.ndarray:
    """All draws (chains concatenated) of the coefficient of covariate ``name``."""
    return fit.draws["beta"][:, list(fit.meta["numeric_names"]).index(name)]


def central_interval(samples: np.ndarray, prob: float = 0.90) -> tuple[float, float]:
    lo, hi = np.quantile(samples, [(1 - prob) / 2, (1 + prob) / 2])
    return float(lo), float(hi)


@cache
def calibration_run(seed: int) -> dict:
    """Fit ``N_DATASETS`` prior-drawn datasets; count how often each 90% interval covers."""
    model = get_model("weibull-plain")
    children = np.random.SeedSequence(seed).spawn(N_DATASETS)
    covered = {"beta": 0, "intercept": 0, "sigma": 0}
    totals = {"beta": 0, "intercept": 0, "sigma": 0}
    censored, unreliable, per_fit = [], 0, []
    start = time.perf_counter()
    for i, child in enumerate(children):
        rng = np.random.default_rng(child)
        intercept, beta, sigma = draw_from_prior(model.priors, len(NAMES), rng)
        design = simulate(N_ROWS, intercept, beta, sigma, rng)
        censored.append(1.0 - design.event.mean())
        t0 = time.perf_counter()
        fit = sample_design(model, design, seed=seed + i, sampler=SAMPLER)
        per_fit.append(time.perf_counter() - t0)
        unreliable += not fit.diagnostics.reliable
        for j, name in enumerate(NAMES):
            lo, hi = central_interval(coefficient(fit, name))
            covered["beta"] += lo <= beta[j] <= hi
            totals["beta"] += 1
        for key, truth in (("intercept", intercept), ("sigma", sigma)):
            lo, hi = central_interval(fit.draws[key])
            covered[key] += lo <= truth <= hi
            totals[key] += 1
    return {"covered": covered, "totals": totals, "censored": np.array(censored),
            "unreliable": unreliable, "seconds": time.perf_counter() - start,
            "first_fit_seconds": per_fit[0], "median_fit_seconds": float(np.median(per_fit))}


def describe(run: dict) -> str:
    rates = {k: f"{run['covered'][k]}/{run['totals'][k]}" for k in run["covered"]}
    return (f"coverage {rates}; censored share mean {run['censored'].mean():.2f} "
            f"(range {run['censored'].min():.2f}-{run['censored'].max():.2f}); "
            f"{run['unreliable']} of {N_DATASETS} fits failed the gate; "
            f"{run['seconds']:.0f} s total, first fit {run['first_fit_seconds']:.1f} s, "
            f"median refit {run['median_fit_seconds']:.2f} s")


@pytest.mark.slow
def test_ninety_percent_intervals_of_coefficients_cover_the_truth_about_ninety_percent(seed):
    run = calibration_run(seed)
    k, n = run["covered"]["beta"], run["totals"]["beta"]
    p_value = stats.binomtest(k, n, 0.90).pvalue
    assert 0.80 <= k / n <= 0.97, describe(run)
    assert p_value >= 0.01, f"binomial p = {p_value:.4f}; " + describe(run)


@pytest.mark.slow
def test_ninety_percent_intervals_of_intercept_and_sigma_cover_the_truth_about_ninety_percent(seed):
    run = calibration_run(seed)
    k = run["covered"]["intercept"] + run["covered"]["sigma"]
    n = run["totals"]["intercept"] + run["totals"]["sigma"]
    assert 0.80 <= k / n <= 0.97, describe(run)


@pytest.mark.slow
def test_simulated_datasets_are_about_thirty_percent_censored(seed):
    censored = calibration_run(seed)["censored"]
    assert 0.25 <= censored.mean() <= 0.35


def test_censoring_scale_gives_the_requested_censored_share(seed):
    rng = np.random.default_rng(seed)
    design = simulate(20_000, 4.0, np.array([0.5, -0.3, 0.2]), 0.8, rng)
    assert 1.0 - design.event.mean() == pytest.approx(CENSORED_SHARE, abs=0.015)


def test_one_large_dataset_recovers_every_parameter_within_three_posterior_sd(seed):
    truth = {"intercept": 4.0, "sigma": 0.8}
    beta = np.array([0.5, -0.3, 0.2])
    design = simulate(300, truth["intercept"], beta, truth["sigma"], np.random.default_rng(seed))
    fit = sample_design(get_model("weibull-plain"), design, seed=seed, sampler=SAMPLER)
    assert fit.diagnostics.reliable, fit.diagnostics.failures
    samples = {"intercept": fit.draws["intercept"], "sigma": fit.draws["sigma"]}
    for j, name in enumerate(NAMES):
        samples[name] = coefficient(fit, name)
        truth[name] = float(beta[j])
    far = {name: (float(s.mean()), float(s.std()), truth[name]) for name, s in samples.items()
           if abs(s.mean() - truth[name]) > 3 * s.std()}
    assert not far, far
