"""Compare duration models by PSIS-LOO (ArviZ) on one reference class."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd

from forecast.fit import Posterior, fitted_rows


@dataclass(frozen=True)
class Comparison:
    """``table`` is ArviZ's comparison (rank, elpd_loo, p_loo, elpd_diff, weight, se, dse, ...);
    ``pareto_k`` counts observations per model whose Pareto k exceeds 0.7 (LOO unreliable there)."""

    table: pd.DataFrame
    pareto_k_bad: dict[str, int]
    n_obs: int


def compare(posteriors: dict[str, Posterior]) -> Comparison:
    """PSIS-LOO for each fitted model and ArviZ's ranking of them."""
    import arviz as az

    traces = {name: fitted_rows(p.trace) for name, p in posteriors.items()}
    bad, n_obs = {}, 0
    for name, trace in traces.items():
        with warnings.catch_warnings():  # high Pareto k is reported below, per model
            warnings.simplefilter("ignore", UserWarning)
            loo = az.loo(trace, pointwise=True)
        k = loo.pareto_k.values
        bad[name] = int((k > 0.7).sum())
        n_obs = k.size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = az.compare(traces, round_to="none")
    return Comparison(table=table, pareto_k_bad=bad, n_obs=n_obs)


def format_comparison(c: Comparison, title: str) -> str:
    """Plain-text LOO table with Pareto-k warnings."""
    t = c.table
    cols = [col for col in ("rank", "elpd", "p", "elpd_diff", "weight", "se", "dse") if col in t.columns]
    lines = [f"PSIS-LOO comparison: {title}",
             t[cols].to_string(float_format=lambda v: f"{v:.1f}")]
    for name, n_bad in c.pareto_k_bad.items():
        if n_bad:
            lines.append(f"warning: {name}: {n_bad} of {c.n_obs} observations have Pareto k > 0.7;"
                         " LOO is unreliable for them (exact refits would be needed)")
    return "\n".join(lines)
