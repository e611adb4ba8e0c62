from __future__ import annotations

import pytest
from conftest import small_sampler

from forecast.compare import compare, format_comparison
from forecast.fit import fit


@pytest.mark.slow  # a long MCMC check: `make test-slow`, run by .ci/run after make test
def test_loo_comparison_ranks_all_three_models(synthetic_dataset, cache_dir):
    posts = {name: fit(synthetic_dataset, name, seed=11, sampler=small_sampler(),
                       cache_dir=cache_dir, full_trace=True)
             for name in ("weibull", "lognormal", "loglogistic")}
    result = compare(posts)
    assert set(result.table.index) == {"weibull", "lognormal", "loglogistic"}
    assert result.n_obs == len(synthetic_dataset)
    # the synthetic data are Weibull: it should not lose clearly to the others
    assert result.table.index[0] == "weibull" or result.table.loc["weibull", "elpd_diff"] < 2 * max(
        result.table.loc["weibull", "dse"], 1.0)
    text = format_comparison(result, "synthetic")
    assert "elpd" in text and "weibull" in text
