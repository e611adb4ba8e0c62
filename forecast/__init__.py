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
    "fit": "forecast.fit",
    "load_posterior": "forecast.fit",
    "Forecast": "forecast.predict",
    "predict": "forecast.predict",
    "compare": "forecast.compare",
    "survival_fan": "forecast.charts",
    "write_forecast": "forecast.report",
    "load_cdb90": "forecast.cdb90",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
