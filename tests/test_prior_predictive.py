"""Prior predictive check: the default priors put a typical holdout's median duration in a
plausible range (1 day to 20 years) for every model.

For each prior draw, the median duration of a case with linear predictor eta is
exp(eta + sigma * isf_w(0.5)). A "typical case" is the row-average of the per-row ``eta``
deterministic of the holdout design (categorical effects, latent force ratio). The likelihood
(a ``pm.Potential``) is ignored by prior sampling, as it should be; so is the force-population
potential, which leaves the latent force ratios of known rows inside their ranges and the others
drawn from the population prior.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import HOLDOUTS

from forecast.data import load_holdouts
from models import get_model, registry
from models.design import Design, from_dataset

DAY, TWENTY_YEARS = 1.0, 7305.0
DRAWS = 2000
#: Every registered model (weibull, lognormal, loglogistic, and any model added later).
MODELS = tuple(registry())


_PRIOR_DRAWS: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]] = {}


def prior_eta_sigma(model_name: str, design: Design, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Prior draws of the per-row eta, shape (draws, n), and of sigma, shape (draws,)."""
    key = (model_name, id(design), seed)
    if key not in _PRIOR_DRAWS:
        _PRIOR_DRAWS[key] = _sample_prior(model_name, design, seed)
    return _PRIOR_DRAWS[key]


def _sample_prior(model_name: str, design: Design, seed: int) -> tuple[np.ndarray, np.ndarray]:
    import pymc as pm

    model = get_model(model_name).build(design)
    with warnings.catch_warnings():
        # "The effect of Potentials ... is ignored": intended here (see the module docstring).
        warnings.filterwarnings("ignore", message="The effect of Potentials", category=UserWarning)
        tree = pm.sample_prior_predictive(draws=DRAWS, model=model, var_names=["eta", "sigma"],
                                          random_seed=seed)
    prior = tree["prior"].dataset
    return prior["eta"].values.reshape(-1, design.n), prior["sigma"].values.ravel()


def typical_median_days(model_name: str, design: Design, seed: int) -> np.ndarray:
    """Per prior draw, the median duration (days) of the row-average case."""
    eta, sigma = prior_eta_sigma(model_name, design, seed)
    return np.exp(eta.mean(axis=1) + sigma * get_model(model_name).isf_w(0.5))


def row_median_days(model_name: str, design: Design, seed: int) -> np.ndarray:
    """Per prior draw and row, the median duration (days) of that row's case."""
    eta, sigma = prior_eta_sigma(model_name, design, seed)
    return np.exp(eta + sigma[:, None] * get_model(model_name).isf_w(0.5))


@pytest.fixture(scope="module")
def synthetic_design(synthetic_csv) -> Design:
    return from_dataset(load_holdouts(synthetic_csv))


@pytest.fixture(scope="module")
def shipped_design() -> Design:
    return from_dataset(load_holdouts(HOLDOUTS))


def test_the_three_standard_models_are_checked():
    assert {"weibull", "lognormal", "loglogistic"} <= set(MODELS)


@pytest.mark.parametrize("model_name", MODELS)
def test_prior_median_of_a_typical_holdout_lies_between_a_day_and_twenty_years(
        model_name, synthetic_design, seed):
    median = typical_median_days(model_name, synthetic_design, seed)
    assert median.shape == (DRAWS,)
    inside = np.mean((median >= DAY) & (median <= TWENTY_YEARS))
    assert inside >= 0.9, (inside, np.quantile(median, [0.05, 0.5, 0.95]))


@pytest.mark.parametrize("model_name", MODELS)
def test_prior_median_of_each_single_holdout_lies_between_a_day_and_twenty_years_mostly(
        model_name, synthetic_design, seed):
    median = row_median_days(model_name, synthetic_design, seed)
    assert median.shape == (DRAWS, synthetic_design.n)
    inside = np.mean((median >= DAY) & (median <= TWENTY_YEARS))
    assert inside >= 0.9, (inside, np.quantile(median, [0.05, 0.5, 0.95]))


@pytest.mark.parametrize("model_name", MODELS)
def test_prior_median_of_a_typical_shipped_holdout_lies_between_a_day_and_twenty_years(
        model_name, shipped_design, seed):
    median = typical_median_days(model_name, shipped_design, seed)
    inside = np.mean((median >= DAY) & (median <= TWENTY_YEARS))
    assert inside >= 0.9, (inside, np.quantile(median, [0.05, 0.5, 0.95]))


def test_median_formula_is_where_each_model_survives_with_probability_one_half():
    eta = np.array([0.0, 2.5, 4.5, 7.0])[:, None]
    sigma = np.array([0.2, 0.8, 1.5, 3.0])[None, :]
    for name in MODELS:
        model = get_model(name)
        median = np.exp(eta + sigma * model.isf_w(0.5))
        np.testing.assert_allclose(np.exp(model.log_survival(median, eta, sigma)), 0.5, rtol=1e-9)
