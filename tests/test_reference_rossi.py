"""Reference check: the Bayesian AFT models reproduce lifelines' fits of the Rossi recidivism data.

lifelines documents a Weibull AFT fit of ``load_rossi()`` (432 rows, 318 censored; duration
``week``, event ``arrest``) with every covariate (fin, age, race, wexp, mar, paro, prio):
log-likelihood -679.917, lambda coefficients prio -0.066, fin 0.272, age 0.041, intercept 3.990,
rho 1.404 (see /work/shared/research/anchors.md). With flat-ish priors the posterior means must sit
within two posterior SD of those maximum-likelihood values. Under the AFT parametrization
log T = eta + sigma * W, lifelines' lambda coefficients are our intercept and beta, and its rho is
1 / sigma (computed per draw). The log-normal model is checked the same way against lifelines'
``LogNormalAFTFitter`` fitted here (its mu coefficients and sigma).
"""

from __future__ import annotations

from functools import cache

import lifelines
import numpy as np
import pytest

from forecast.fit import Posterior, SamplerConfig, sample_design
from models import get_model
from models.base import Priors
from models.design import Design

#: lifelines' documented model uses every Rossi covariate (checked: this set, and no smaller
#: one, gives the documented log-likelihood -679.917).
COVARIATES = ("fin", "age", "race", "wexp", "mar", "paro", "prio")
DOCUMENTED_WEIBULL = {"intercept": 3.990, "prio": -0.066, "fin": 0.272, "age": 0.041, "rho": 1.404}
DOCUMENTED_LOGLIK = -679.917
DOCUMENTED_LOGNORMAL_LOGLIK = -683.234

FLAT = Priors(intercept_mu=0.0, intercept_sd=10.0, sigma_sd=5.0, beta_sd=10.0)
SAMPLER = SamplerConfig(draws=1000, tune=1000, chains=2)


@cache
def rossi():
    from lifelines.datasets import load_rossi

    return load_rossi()


def rossi_design() -> Design:
    frame = rossi()
    return Design(
        y=frame["week"].to_numpy(dtype=float),
        event=frame["arrest"].to_numpy(dtype=float),
        numeric=frame[list(COVARIATES)].to_numpy(dtype=float),
        numeric_names=COVARIATES,
    )


@cache
def bayes_fit(model_name: str, seed: int) -> Posterior:
    """One fit per model and seed for the whole module (compiling costs ~10-30 s a graph)."""
    return sample_design(get_model(f"{model_name}-plain", FLAT), rossi_design(), seed=seed, sampler=SAMPLER)


@cache
def lifelines_fit(model_name: str):
    fitter = {"weibull": lifelines.WeibullAFTFitter,
              "lognormal": lifelines.LogNormalAFTFitter}[model_name]()
    frame = rossi()[["week", "arrest", *COVARIATES]]
    return fitter.fit(frame, duration_col="week", event_col="arrest")


def draws(posterior: Posterior) -> dict[str, np.ndarray]:
    """Flattened draws of the intercept, each coefficient by name, sigma and rho = 1 / sigma."""
    flat = posterior.draws
    out = {"intercept": flat["intercept"], "sigma": flat["sigma"]}
    names = list(posterior.meta["numeric_names"])
    for name in COVARIATES:
        out[name] = flat["beta"][:, names.index(name)]
    out["rho"] = 1.0 / out["sigma"]
    return out


def within_two_sd(samples: dict[str, np.ndarray], reference: dict[str, float]) -> dict[str, str]:
    """The parameters whose posterior mean is more than 2 posterior SD from the reference."""
    bad = {}
    for name, value in reference.items():
        mean, sd = float(samples[name].mean()), float(samples[name].std())
        if not abs(mean - value) <= 2 * sd:
            bad[name] = f"posterior {mean:.4f} +/- {sd:.4f} vs reference {value:.4f}"
    return bad


def test_lifelines_reproduces_its_documented_weibull_fit_with_all_covariates():
    fit = lifelines_fit("weibull")
    assert len(rossi()) == 432 and int((rossi()["arrest"] == 0).sum()) == 318
    assert fit.log_likelihood_ == pytest.approx(DOCUMENTED_LOGLIK, abs=1e-3)
    lam = fit.params_["lambda_"]
    for name in ("prio", "fin", "age"):
        assert lam[name] == pytest.approx(DOCUMENTED_WEIBULL[name], abs=5e-4)
    assert lam["Intercept"] == pytest.approx(DOCUMENTED_WEIBULL["intercept"], abs=5e-4)
    assert np.exp(fit.params_["rho_"]["Intercept"]) == pytest.approx(DOCUMENTED_WEIBULL["rho"],
                                                                    abs=5e-4)
    assert lifelines_fit("lognormal").log_likelihood_ == pytest.approx(
        DOCUMENTED_LOGNORMAL_LOGLIK, abs=1e-3)


def test_weibull_posterior_means_are_within_two_sd_of_lifelines_documented_values(seed):
    bad = within_two_sd(draws(bayes_fit("weibull", seed)), DOCUMENTED_WEIBULL)
    assert not bad, bad


def test_weibull_posterior_means_are_within_two_sd_of_every_lifelines_coefficient(seed):
    lam = lifelines_fit("weibull").params_["lambda_"]
    reference = {name: float(lam[name]) for name in COVARIATES}
    reference["intercept"] = float(lam["Intercept"])
    reference["rho"] = float(np.exp(lifelines_fit("weibull").params_["rho_"]["Intercept"]))
    bad = within_two_sd(draws(bayes_fit("weibull", seed)), reference)
    assert not bad, bad


def test_weibull_fit_of_rossi_passes_the_diagnostics_gate(seed):
    diag = bayes_fit("weibull", seed).diagnostics
    assert diag.reliable, diag.failures
    assert diag.divergences == 0


def test_lognormal_posterior_means_are_within_two_sd_of_lifelines_lognormal_fit(seed):
    params = lifelines_fit("lognormal").params_
    reference = {name: float(params["mu_"][name]) for name in COVARIATES}
    reference["intercept"] = float(params["mu_"]["Intercept"])
    reference["sigma"] = float(np.exp(params["sigma_"]["Intercept"]))
    bad = within_two_sd(draws(bayes_fit("lognormal", seed)), reference)
    assert not bad, bad


def test_lognormal_fit_of_rossi_passes_the_diagnostics_gate(seed):
    diag = bayes_fit("lognormal", seed).diagnostics
    assert diag.reliable, diag.failures
    assert diag.divergences == 0
