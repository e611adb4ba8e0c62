"""Charts: one function per chart, each returning a matplotlib Figure. No statistics here:
every number drawn comes from ``forecast.predict`` (or ``forecast.score``)."""

from __future__ import annotations

from datetime import timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from forecast.predict import Forecast  # noqa: E402

_BAND_ALPHA = {95: 0.15, 80: 0.25, 50: 0.4}


def survival_fan(forecast: Forecast, *, title: str | None = None, outcome_date=None,
                 max_days: int | None = None) -> Figure:
    """P(still holding) after as_of: median curve with 50/80/95% bands across posterior draws.

    ``outcome_date``, if given, is marked with a vertical line.
    """
    s = forecast.survival
    if max_days is None:
        max_days = int(min(s["days"].iloc[-1], max(30, 1.3 * forecast.quantile(0.9))))
    s = s[s["days"] <= max_days]
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    x = s["date"]
    for pct in (95, 80, 50):
        ax.fill_between(x, s[f"lo{pct}"], s[f"hi{pct}"], color="tab:blue", alpha=_BAND_ALPHA[pct],
                        linewidth=0, label=f"{pct}% band")
    ax.plot(x, s["median"], color="tab:blue", linewidth=2, label="median")
    ax.axvline(forecast.as_of, color="grey", linestyle=":", linewidth=1)
    ax.annotate(f"as of {forecast.as_of}", (forecast.as_of, 0.0), textcoords="offset points",
                xytext=(4, 4), fontsize=8, color="grey")
    if outcome_date is not None and outcome_date <= forecast.as_of + timedelta(days=max_days):
        ax.axvline(outcome_date, color="tab:red", linewidth=1.5, label=f"fell {outcome_date}")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("P(still holding)")
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    basis = "indicators + statements" if forecast.extra.get("claims") else "indicators"
    ax.set_title(title or f"{forecast.case_id}: P(still holding) after {forecast.as_of}\n"
                 f"{forecast.model} model, {basis}", fontsize=11)
    return fig


def save(fig: Figure, stem) -> list:
    """Save a figure as PNG and SVG next to each other; returns the paths."""
    paths = []
    for ext in ("png", "svg"):
        path = f"{stem}.{ext}"
        fig.savefig(path, dpi=120)
        paths.append(path)
    plt.close(fig)
    return paths
