"""forecast: Bayesian forecasts of how long a holdout lasts.

The public API is what this module exports; everything else is private by name.
"""

from forecast.cases import Case, Statement, load_case
from forecast.data import Dataset, load_holdouts
from forecast.errors import InputError, UnreliablePosteriorError
from forecast.indicators import Indicators, Range
from forecast.reference import kaplan_meier, summarize

__all__ = [
    "Case",
    "Dataset",
    "Indicators",
    "InputError",
    "Range",
    "Statement",
    "UnreliablePosteriorError",
    "kaplan_meier",
    "load_case",
    "load_holdouts",
    "summarize",
]
