from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr
from conftest import small_sampler

from forecast.errors import InputError
from forecast.fit import (
    Gate,
    cache_path,
    diagnose,
    expected_stamp,
    fit,
    load_posterior,
    sample_design,
)
from models import get_model
from models.design import from_dataset


def test_posterior_is_stored_with_stamp_and_reused(weibull_posterior, synthetic_dataset, cache_dir):
    post = weibull_posterior
    assert post.path is not None and post.path.exists()
    stamp = post.stamp
    assert stamp["model"] == "weibull" and stamp["dataset_hash"] == synthetic_dataset.sha256
    assert stamp["seed"] == 11 and {"pymc", "nutpie", "arviz"} <= set(stamp["versions"])
    assert stamp["model_id"].startswith("weibull-") and "created_at" in stamp
    again = fit(synthetic_dataset, "weibull", seed=11, sampler=small_sampler(), cache_dir=cache_dir)
    assert again.stamp["created_at"] == stamp["created_at"]  # read back, not resampled
    np.testing.assert_array_equal(again.draws["sigma"], post.draws["sigma"])
    assert again.diagnostics == post.diagnostics


def test_changed_dataset_or_seed_does_not_reuse(weibull_posterior, synthetic_dataset, cache_dir):
    smaller = synthetic_dataset.subset(np.arange(len(synthetic_dataset)) != 0)
    wanted = expected_stamp(get_model("weibull"), from_dataset(smaller), smaller.sha256, 11,
                                   small_sampler())
    assert cache_path(cache_dir, wanted) != weibull_posterior.path
    other_seed = expected_stamp(get_model("weibull"), from_dataset(synthetic_dataset),
                                       synthetic_dataset.sha256, 12, small_sampler())
    assert cache_path(cache_dir, other_seed) != weibull_posterior.path


def test_same_seed_gives_the_same_posterior_bit_for_bit(weibull_posterior, synthetic_dataset):
    design = from_dataset(synthetic_dataset)
    model = get_model("weibull")
    a = sample_design(model, design, seed=3, sampler=small_sampler())
    b = sample_design(model, design, seed=3, sampler=small_sampler())
    c = sample_design(model, design, seed=4, sampler=small_sampler())
    np.testing.assert_array_equal(a.draws["intercept"], b.draws["intercept"])
    assert not np.array_equal(a.draws["intercept"], c.draws["intercept"])


def test_refit_with_changed_data_reuses_the_compiled_graph(weibull_posterior, synthetic_dataset,
                                                           monkeypatch):
    import nutpie

    calls = []
    real = nutpie.compile_pymc_model
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    design = from_dataset(synthetic_dataset)
    held_out = replace(design, weight=np.r_[0.0, np.ones(design.n - 1)])
    post = sample_design(get_model("weibull"), held_out, seed=5, sampler=small_sampler())
    assert calls == []  # compiled once per process, refit by swapping data
    # leaving a row out really changes the likelihood: its log-lik is still reported
    assert post.trace["log_likelihood"].dataset["duration"].shape[-1] == design.n


def test_log_likelihood_matches_the_censored_definition(weibull_posterior, synthetic_dataset):
    from scipy import stats

    # log-density for events, log-survival for censored rows, against scipy's Weibull
    y = np.array([3.0, 40.0, 400.0, 3.0, 40.0])
    event = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    eta, sigma = np.log(60.0), 0.8
    dist = stats.weibull_min(1 / sigma, scale=np.exp(eta))
    expected = np.where(event > 0, dist.logpdf(y), dist.logsf(y))
    got = get_model("weibull").pointwise_loglik(y, event, eta, sigma)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    # and the stored pointwise log-likelihood has one column per reference case
    full = load_posterior(weibull_posterior.path, full=True)
    ll = full.trace["log_likelihood"].dataset["duration"].values
    assert ll.shape[-1] == len(synthetic_dataset)
    assert np.all(np.isfinite(ll)) and np.all(ll[..., ~synthetic_dataset.events] <= 0)


def test_corrupt_posterior_is_refused_with_its_path(tmp_path):
    bad = tmp_path / "broken.nc"
    bad.write_bytes(b"not a netcdf file")
    with pytest.raises(InputError, match="broken.nc: is not a readable stored posterior"):
        load_posterior(bad)


def test_gate_reports_each_failure():
    rng = np.random.default_rng(0)
    stuck = np.stack([rng.normal(0, 1, 200), rng.normal(5, 1, 200)])  # chains disagree
    trace = xr.DataTree.from_dict({
        "/posterior": xr.Dataset({"a": (("chain", "draw"), stuck)}),
        "/sample_stats": xr.Dataset({"diverging": (("chain", "draw"), np.eye(2, 200, dtype=bool))}),
    })
    d = diagnose(trace, chains=2, gate=Gate())
    assert not d.reliable
    assert any("R-hat" in f for f in d.failures) and any("divergent" in f for f in d.failures)
