"""forecast: Bayesian forecasts of how long a holdout lasts.

The public API is what this module exports (listed in ``__all__``); everything else is private
by name. Names are imported on first use so that the command line starts quickly.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Case": "forecast.cases",
    "Statement": "forecast.cases",
    "load_case": "forecast.cases",
    "Dataset": "forecast.data",
    "load_holdouts": "forecast.data",
    "InputError": "forecast.errors",
    "UnreliablePosteriorError": "forecast.errors",
    "Indicators": "forecast.indicators",
    "Range": "forecast.indicators",
    "kaplan_meier": "forecast.reference",
    "summarize": "forecast.reference",
    "Posterior": "forecast.fit",
    "SamplerConfig": "forecast.fit",
    "load_posterior": "forecast.fit",
    "Forecast": "forecast.predict",
    "survival_fan": "forecast.charts",
    "write_forecast": "forecast.report",
    "load_cdb90": "forecast.cdb90",
    "update": "forecast.elicit.update",
    "Evidence": "forecast.elicit.update",
    "format_decomposition": "forecast.elicit.update",
    "propose": "forecast.elicit.parse",
    "load_probability_lexicon": "forecast.elicit.lexicon",
    "load_time_lexicon": "forecast.elicit.lexicon",
    "run_case": "forecast.workflow",
    "CaseRun": "forecast.workflow",
    "Ledger": "forecast.ledger",
    "score_ledger": "forecast.track_record",
    "Predictive": "forecast.predictive",
    "ForecastRecord": "forecast.predictive",
    "resolve": "forecast.outcomes",
    "score_table": "forecast.score",
    "relative_skill": "forecast.score",
    "BacktestConfig": "forecast.backtest",
    "run_backtest": "forecast.backtest",
    "LocalExecutor": "forecast.executor",
    "DaskExecutor": "forecast.executor",
}

# These three share their module's name, so they are bound eagerly: a lazy lookup would find
# the submodule (set on the package when it is first imported) instead of the function.
from forecast.compare import compare as compare  # noqa: E402
from forecast.fit import fit as fit  # noqa: E402
from forecast.predict import predict as predict  # noqa: E402

__all__ = sorted([*_EXPORTS, "compare", "fit", "predict"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
