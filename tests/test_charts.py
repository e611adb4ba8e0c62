from __future__ import annotations

from datetime import date

from conftest import PANJSHIR
from matplotlib.collections import PolyCollection

from forecast.cases import load_case
from forecast.charts import survival_fan
from forecast.predict import predict


def test_survival_fan_draws_three_bands_the_median_and_the_outcome(weibull_posterior, seed):
    fc = predict(weibull_posterior, load_case(PANJSHIR), seed=seed)
    fig = survival_fan(fc, outcome_date=date(2021, 9, 6))
    ax = fig.axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3
    labels = [line.get_label() for line in ax.get_lines()]
    assert "median" in labels and "fell 2021-09-06" in labels
    median = next(line for line in ax.get_lines() if line.get_label() == "median")
    assert median.get_ydata()[0] == 1.0  # it has held at as_of
    assert "indicators" in ax.get_title() and ax.get_ylabel() == "P(still holding)"
