"""Charts for a briefing: one function per chart, each returning a matplotlib Figure.

No statistics here: every number drawn comes from ``forecast.predict`` (``fan_table``, the
forecast's exact predictive curve) or ``forecast.score``. One style throughout: plain titles with
the case's name, axes with units and dates, and a source line (model, its id, the reference data,
as_of, when the chart was made).
"""

from __future__ import annotations

from datetime import date, timedelta

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from forecast.predict import FAN_LEVELS, Forecast, fan_table  # noqa: E402

BLUE = "#1f5fa8"
RED = "#b2182b"
GREY = "#666666"
#: Event labels on the evolution chart are cut to this many characters.
EVENT_CHARS = 110
#: Each fan band's opacity; the bands stack, so the centre is darkest.
BAND_ALPHA = 0.10
#: The focus panel shows the first weeks: up to the forecast's own 75% point of the fall, kept
#: between these many days.
FOCUS_DAYS = (14, 120)


def _style(ax) -> None:
    ax.grid(alpha=0.25, linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def source_line(forecast: Forecast, made: date | None = None) -> str:
    """Model, its id, the reference data's hash, as_of and the day the chart was made."""
    made = made or date.today()
    return (f"Source: holdout-forecast; model {forecast.model} (id {forecast.model_id}), "
            f"reference data {forecast.dataset_hash[:12]}, as of {forecast.as_of}, made {made}, "
            f"seed {forecast.seed}.")


def _heading(fig: Figure, name: str, question: str, subtitle: str) -> float:
    """Bold title (the case's name, wrapped to the figure's width) with the question, and a
    one-line subtitle; returns the top of the plotting area (figure fraction)."""
    import textwrap

    lines = textwrap.wrap(f"{name}: {question}", int(fig.get_figwidth() * 8.5))
    fig.suptitle("\n".join(lines), fontsize=12, x=0.01, ha="left", fontweight="bold")
    line_h = 0.25 / fig.get_figheight()  # about a 12-point line, as a share of the height
    top = 0.985 - line_h * len(lines) - 0.01
    fig.text(0.01, top, subtitle, fontsize=9, ha="left", va="top", transform=fig.transFigure)
    return top - 0.8 * line_h


def _horizon(forecast: Forecast, *, least: int, unreached: int) -> int:
    """Days a chart shows: 1.3 times the forecast's 90% point (``unreached`` when the fall never
    gets there), at least ``least``, at most 20 years."""
    q90 = forecast.quantile(0.9)
    return int(min(7300, max(least, 1.3 * q90 if np.isfinite(q90) else unreached)))


def _focus_days(forecast: Forecast) -> int:
    q75 = forecast.quantile(0.75)
    lo, hi = FOCUS_DAYS
    return int(np.clip(np.ceil(q75 * 1.2) if np.isfinite(q75) else hi, lo, hi))


def survival_fan(forecast: Forecast, *, name: str | None = None, title: str | None = None,
                 outcome_date: date | None = None, standing_date: date | None = None,
                 max_days: int | None = None, made: date | None = None) -> Figure:
    """The fan chart: P(still holding) by calendar date after as_of.

    With competing ends the blue curve is P(not fallen), split into "still holding" (below the
    dashed line) and "ended otherwise" (hatched: relief, withdrawal or the war's end came first);
    the shares of fallen, ended otherwise and still holding at the horizon's end are written at
    the right.

    Two panels on the same vertical scale: the first weeks (up to 1.2 times the forecast's 75%
    point, 14-120 days), where the question is usually decided, and the whole horizon. The mean
    curve is the predictive the printed numbers come from; around it, bands of the curve across
    posterior draws at 10%-steps to 90%. The as_of date, and the fall (``outcome_date``) or the
    last day it was seen standing (``standing_date``), are marked.
    """
    max_days = max_days or _horizon(forecast, least=90, unreached=730)
    focus = min(_focus_days(forecast), max_days)
    days = np.unique(np.concatenate([np.arange(0.0, focus + 1.0),
                                     np.linspace(0.0, max_days, 400)]))
    table = fan_table(forecast, days)
    split = bool(table["other_ended"].max() > 1e-3)
    curve = "P(not fallen)" if split else "P(still holding)"
    fig, (ax_f, ax_w) = plt.subplots(1, 2, figsize=(11, 5.8), width_ratios=[1.2, 1],
                                     layout="constrained", sharey=True)
    for ax, limit in ((ax_f, focus), (ax_w, max_days)):
        t = table[table["days"] <= limit]
        x = t["date"]
        for b in sorted(FAN_LEVELS, reverse=True):
            pct = int(round(b * 100))
            ax.fill_between(x, t[f"lo{pct}"], t[f"hi{pct}"], color=BLUE, alpha=BAND_ALPHA,
                            linewidth=0)
        if split:  # the part of "not fallen" where another end has come: it no longer holds
            ax.fill_between(x, t["holding"], t["mean"], facecolor="none", edgecolor=GREY,
                            hatch="///", linewidth=0, label="ended otherwise (relief, withdrawal, war's end)")
            ax.plot(x, t["holding"], color=GREY, linewidth=1.2, linestyle="--",
                    label="P(still holding: no end yet)")
        ax.plot(x, t["mean"], color=BLUE, linewidth=2.2, label=f"{curve} (mean)")
        ax.axvline(forecast.as_of, color=GREY, linestyle=":", linewidth=1)
        end = forecast.as_of + timedelta(days=float(limit))
        if outcome_date is not None and forecast.as_of <= outcome_date <= end:
            ax.axvline(outcome_date, color=RED, linewidth=1.6, label=f"fell {outcome_date}")
        if standing_date is not None and forecast.as_of <= standing_date <= end:
            ax.axvline(standing_date, color=RED, linestyle="--", linewidth=1.2,
                       label=f"still standing {standing_date}")
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator(),
                                                                 show_offset=False))
        _style(ax)
    ax_f.set_ylabel(curve)
    last = table.iloc[-1]
    shares = [("fallen", 1.0, float(last["mean"]), RED)]
    if split:
        shares += [("ended otherwise", float(last["mean"]), float(last["holding"]), GREY),
                   ("still holding", float(last["holding"]), 0.0, BLUE)]
    else:
        shares += [("still holding", float(last["mean"]), 0.0, BLUE)]
    for label, top_y, bottom_y, colour in shares:  # the shares at the horizon's end, on the right
        if top_y - bottom_y >= 0.04:
            ax_w.annotate(f"{label} {top_y - bottom_y:.0%}", (1.0, (top_y + bottom_y) / 2),
                          xycoords=("axes fraction", "data"), xytext=(4, 0),
                          textcoords="offset points", fontsize=8, color=colour, va="center")
    ax_f.set_title(f"First {focus} days after {forecast.as_of:%d %B %Y}", fontsize=9, color=GREY,
                   loc="left")
    horizon_end = forecast.as_of + timedelta(days=max_days)
    ax_w.set_title(f"Whole horizon: {max_days} days, to {horizon_end:%B %Y}", fontsize=9,
                   color=GREY, loc="left")
    ax_f.annotate(f"as of {forecast.as_of}", (mdates.date2num(forecast.as_of), 0.02),
                  textcoords="offset points", xytext=(4, 2), fontsize=8, color=GREY)
    handles, labels = ax_f.get_legend_handles_labels()
    for b in (0.5, 0.9):  # the stacked bands' shade: a 50% band lies under 5 of the 9 layers
        layers = sum(1 for level in FAN_LEVELS if level >= b - 1e-9)
        handles.append(Patch(color=BLUE, alpha=1 - (1 - BAND_ALPHA) ** layers, linewidth=0))
        labels.append(f"{int(round(b * 100))}% of posterior curves")
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.03), ncols=4, fontsize=8,
               frameon=False)
    s = forecast.summary()
    p30 = s["p_fall_within"]["30"]
    med = s["days_remaining"].get("0.5")
    med_text = "beyond the data" if med is None else f"{med:.0f} days"
    other = forecast.p_other_end_first()
    other_text = "" if other is None else f"; P(another end comes first) {other:.2f}"
    basis = "indicators and statements" if forecast.extra.get("claims") else "indicators"
    top = _heading(fig, name or forecast.case_id, title or "how long will it hold?",
                   f"P(falls within 30 days) {p30:.2f}; median time to the fall {med_text}"
                   f"{other_text}. Forecast from {basis}.")
    fig.get_layout_engine().set(rect=(0, 0.1, 1, top - 0.1))
    fig.text(0.01, 0.01, source_line(forecast, made), fontsize=7, color=GREY, ha="left")
    return fig


def fall_date_chart(forecast: Forecast, *, name: str | None = None,
                    outcome_date: date | None = None, standing_date: date | None = None,
                    max_days: int | None = None, made: date | None = None) -> Figure:
    """The fall date's distribution: P(fallen by date) (the CDF, improper when the holdout may
    end otherwise) above its density per day, with the fall or "still standing" marked — as a
    continuous forecasting question shows it."""
    max_days = max_days or _horizon(forecast, least=60, unreached=365)
    days = np.arange(0.0, max_days + 1.0)
    table = fan_table(forecast, days, levels=())
    cdf = table["fallen"].to_numpy()
    density = np.diff(cdf, prepend=0.0)
    fig, (ax_c, ax_d) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, layout="constrained",
                                     height_ratios=[1.3, 1])
    x = table["date"]
    ax_c.plot(x, cdf, color=BLUE, linewidth=2, label="P(fallen by date)")
    ax_c.set_ylim(0, 1.02)
    ax_c.set_ylabel("P(fallen by date)")
    ax_d.fill_between(x, density, step="mid", color=BLUE, alpha=0.35, linewidth=0)
    ax_d.plot(x, density, color=BLUE, linewidth=1, drawstyle="steps-mid",
              label="P(falls on the day)")
    ax_d.set_ylabel("P(falls on the day)")
    for ax in (ax_c, ax_d):
        ax.axvline(forecast.as_of, color=GREY, linestyle=":", linewidth=1)
        if outcome_date is not None:
            ax.axvline(outcome_date, color=RED, linewidth=1.6, label=f"fell {outcome_date}")
        if standing_date is not None:
            ax.axvline(standing_date, color=RED, linestyle="--", linewidth=1.2,
                       label=f"still standing {standing_date}")
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        _style(ax)
    ax_c.legend(loc="lower right", fontsize=8, frameon=False)
    falls = 1.0 - (forecast.p_other_end_first() or 0.0)
    median_date = forecast.summary().get("median_date")
    top = _heading(fig, name or forecast.case_id, "when would it fall?",
                   f"P(it falls at all) {falls:.2f}; even odds that it has fallen by "
                   f"{median_date or 'beyond the data'}.")
    fig.get_layout_engine().set(rect=(0, 0.04, 1, top - 0.04))  # (left, bottom, width, height)
    fig.text(0.01, 0.01, source_line(forecast, made), fontsize=7, color=GREY, ha="left")
    return fig


def decomposition_chart(evidence, case, *, made: date | None = None) -> Figure:
    """How the forecast was built: P(falls within 30 days) and the median days remaining at each
    stage — the reference class, + the indicators, each statement alone (its speaker and the start
    of its quote), and all statements together. The numbers are the decomposition's."""
    import textwrap

    rows = evidence.decomposition
    quotes = {st.id: st for st in case.statements}
    labels = []
    for r in rows:
        stage = r["stage"]
        sid = stage[2:].split(" alone", 1)[0] if stage.startswith("+ ") and " alone" in stage else None
        if sid in quotes:
            st = quotes[sid]
            excerpt = textwrap.shorten(st.quote, 60, placeholder=" ...")
            labels.append(f"+ {st.speaker} alone\n\u201c{excerpt}\u201d")
        else:
            labels.append(stage)
    p30 = [r["p_fall_within"]["30"] for r in rows]
    med = [r["median_days_remaining"] for r in rows]
    y = np.arange(len(rows))[::-1]
    fig, (ax_p, ax_m) = plt.subplots(1, 2, figsize=(11, 0.75 * len(rows) + 1.8), sharey=True,
                                     layout="constrained")
    ax_p.plot(p30, y, "o", color=BLUE, label="P(falls within 30 days)")
    ax_p.set_xlim(0, 1)
    ax_p.set_xlabel("P(falls within 30 days after as_of)")
    shown = [m if m is not None else np.nan for m in med]
    ax_m.plot(shown, y, "o", color=BLUE, label="median days remaining")
    if len(rows) > 1:  # the indicators-only forecast, which each statement starts from
        ax_p.axvline(p30[1], color=GREY, linestyle="--", linewidth=0.8)
        if shown[1] == shown[1]:
            ax_m.axvline(shown[1], color=GREY, linestyle="--", linewidth=0.8)
    ax_m.set_xlabel("median days remaining (beyond the data: not drawn)")
    for ax, values, fmt in ((ax_p, p30, "{:.2f}"), (ax_m, shown, "{:.0f}")):
        for yi, v in zip(y, values, strict=True):
            if v == v:  # not NaN
                ax.annotate(fmt.format(v), (v, yi), textcoords="offset points", xytext=(6, 4),
                            fontsize=8)
        _style(ax)
    ax_p.set_yticks(y, labels, fontsize=8)
    top = _heading(fig, case.name, "how the forecast was built",
                   "Each statement is shown alone on top of the indicators; together they multiply "
                   "(their order does not matter).")
    fig.get_layout_engine().set(rect=(0, 0.04, 1, top - 0.04))  # (left, bottom, width, height)
    fig.text(0.01, 0.01, source_line(evidence.forecast, made), fontsize=7, color=GREY, ha="left")
    return fig


def evolution_chart(records, *, name: str | None = None, events=None,
                    outcome_date: date | None = None) -> Figure:
    """A case's recorded forecasts over their as_of dates (ledger records of one model).

    Above: the median fall date and its 80% band (10%-90% of the fall date); where the 90% point
    is never reached (another end may come first) the band runs to the top and says so. Below:
    P(falls within 30 days of the forecast date). Dated ``events`` (a mapping or (date, text)
    pairs) are numbered lines on both panels, listed under them (texts longer than
    ``EVENT_CHARS`` are cut)."""
    recs = sorted(records, key=lambda r: r.as_of)
    if not recs:
        raise ValueError("no recorded forecasts to draw")
    as_of = [r.as_of for r in recs]

    def fall_date(r, q):
        d = r.predictive.quantile(q)
        return None if not np.isfinite(d) else r.as_of + timedelta(days=float(d))

    lo, mid, hi = ([fall_date(r, q) for r in recs] for q in (0.1, 0.5, 0.9))
    pairs = sorted(events.items() if isinstance(events, dict) else (events or ()),
                   key=lambda p: p[0])
    fig, (ax, ax_p) = plt.subplots(2, 1, figsize=(9, 7 + 0.18 * len(pairs)), sharex=True,
                                   layout="constrained", height_ratios=[1.6, 1])
    known = [d for d in (*lo, *mid, *hi, outcome_date, *as_of) if d is not None]
    top = max(known) + timedelta(days=max(7, 0.08 * (max(known) - min(known)).days))
    ok = [i for i in range(len(recs)) if lo[i] is not None]
    if ok:
        upper = [hi[i] if hi[i] is not None else top for i in ok]
        ax.fill_between([as_of[i] for i in ok], [mdates.date2num(lo[i]) for i in ok],
                        [mdates.date2num(u) for u in upper], color=BLUE, alpha=0.2, linewidth=0,
                        label="80% band of the fall date")
        beyond = [as_of[i] for i in ok if hi[i] is None]
        if beyond:
            ax.plot(beyond, [mdates.date2num(top)] * len(beyond), "^", color=BLUE, markersize=6,
                    label="90% point beyond the chart (it may never fall)")
    okm = [i for i in range(len(recs)) if mid[i] is not None]
    ax.plot([as_of[i] for i in okm], [mdates.date2num(mid[i]) for i in okm], "o-", color=BLUE,
            label="median fall date")
    ax.plot([as_of[0], as_of[-1]], [mdates.date2num(as_of[0]), mdates.date2num(as_of[-1])],
            color=GREY, linestyle=":", linewidth=1, label="forecast date (the fall cannot come before it)")
    if outcome_date is not None:
        ax.axhline(mdates.date2num(outcome_date), color=RED, linewidth=1.5,
                   label=f"fell {outcome_date}")
    ax.set_ylim(top=mdates.date2num(top) + 0.04 * (mdates.date2num(top) - mdates.date2num(min(known))))
    ax.yaxis_date()
    ax.yaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))
    ax.set_ylabel("fall date")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    p30 = [float(r.predictive.cdf_at(30.0)) for r in recs]
    ax_p.plot(as_of, p30, "o-", color=BLUE, label="P(falls within 30 days)")
    ax_p.set_ylim(0, 1)
    ax_p.set_ylabel("P(falls within 30 days)")
    for i, (when, _text) in enumerate(pairs, start=1):
        for a in (ax, ax_p):
            a.axvline(when, color=GREY, linewidth=0.8, alpha=0.6)
        ax.annotate(str(i), (mdates.date2num(when), 1.0), xycoords=("data", "axes fraction"),
                    xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                    fontsize=8, color=GREY, fontweight="bold")
    ax_p.set_xlabel("forecast date (as of)")
    ax_p.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax_p.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    for a in (ax, ax_p):
        _style(a)
    r0 = recs[-1]
    head = _heading(fig, name or r0.case_name, "how the forecast changed",
                    f"{len(recs)} recorded forecasts of model {r0.model}, "
                    f"as of {as_of[0]} to {as_of[-1]}.")
    listed = [f"{i}  {when}: " + (t if len(t) <= EVENT_CHARS else t[:EVENT_CHARS - 1].rstrip() + "…")
              for i, (when, t) in enumerate(pairs, start=1)]
    foot = (0.03 + 0.13 * len(listed) / fig.get_figheight()) if listed else 0.04
    fig.get_layout_engine().set(rect=(0, foot, 1, head - foot))  # (left, bottom, width, height)
    for k, line in enumerate(listed):
        fig.text(0.01, foot - 0.01 - k * 0.13 / fig.get_figheight(), line, fontsize=7.5,
                 color=GREY, ha="left", va="top")
    fig.text(0.01, 0.005, f"Source: holdout-forecast ledger; model {r0.model} (id {r0.model_id}), "
             f"reference data {r0.dataset_hash[:12]}.", fontsize=7, color=GREY, ha="left")
    return fig


def record_chart(table, skill, *, model: str, horizon: int = 30, title: str | None = None,
                 seed: int = 0) -> Figure:
    """A model's backtest record: the CORP reliability diagram of P(falls within ``horizon``
    days) with its consistency band, the PIT histogram, the coverage of central intervals, and
    the relative skill of every model and baseline with its interval. ``table`` is a backtest
    score table, ``skill`` its skill table (:func:`forecast.score.relative_skill`)."""
    from forecast.score import reliability

    rows = table[table["model"] == model]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained")
    ax_r, ax_p, ax_c, ax_s = axes.ravel()
    rel = reliability(rows[f"p_{horizon}"].to_numpy(), rows[f"fell_{horizon}"].to_numpy(), seed=seed)
    ax_r.fill_between(rel["x"], rel["lo"], rel["hi"], color=GREY, alpha=0.25, linewidth=0,
                      label="consistency band (90%)")
    ax_r.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=1)
    ax_r.plot(rel["x"], rel["fit"], color=BLUE, linewidth=2, drawstyle="steps-post",
              label="recalibrated (isotonic)")
    ax_r.set(xlim=(0, 1), ylim=(0, 1), xlabel=f"forecast P(falls within {horizon} days)",
             ylabel="observed frequency")
    ax_r.set_title(f"Reliability (CORP), {int(rel['n'])} forecasts", fontsize=9, loc="left")
    ax_r.legend(fontsize=8, frameon=False, loc="upper left")
    pit = rows["pit"].dropna().to_numpy()
    ax_p.hist(pit, bins=10, range=(0, 1), color=BLUE, alpha=0.6, edgecolor="white",
              label="randomized PIT")
    if pit.size:
        ax_p.axhline(pit.size / 10, color=GREY, linestyle=":", linewidth=1, label="uniform")
    ax_p.set(xlabel="PIT of the fall time", ylabel="forecasts")
    ax_p.set_title("PIT histogram (flat: calibrated)", fontsize=9, loc="left")
    ax_p.legend(fontsize=8, frameon=False)
    levels = [c for c in rows.columns if c.startswith("cov") and c[3:].isdigit()]
    nominal = [int(c[3:]) / 100 for c in levels]
    observed = [rows[c].mean() for c in levels]
    ax_c.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=1)
    ax_c.plot(nominal, observed, "o-", color=BLUE, label="observed coverage")
    ax_c.set(xlim=(0, 1), ylim=(0, 1), xlabel="nominal level of the central interval",
             ylabel="share of outcomes inside")
    ax_c.set_title("Interval coverage", fontsize=9, loc="left")
    ax_c.legend(fontsize=8, frameon=False, loc="upper left")
    sk = skill[(skill["score"] == "twcrps")]
    if "baseline" in sk and sk["baseline"].nunique() > 1:  # one baseline per panel: Aalen-Johansen
        base = "climatology_aj" if "climatology_aj" in set(sk["baseline"]) else sk["baseline"].iloc[0]
        sk = sk[sk["baseline"] == base]
    sk = sk.sort_values("estimate")
    y = np.arange(len(sk))
    ax_s.errorbar(sk["estimate"], y, xerr=[sk["estimate"] - sk["lower"], sk["upper"] - sk["estimate"]],
                  fmt="o", color=BLUE, ecolor=BLUE, capsize=3, label="skill, 90% interval")
    ax_s.axvline(0, color=GREY, linestyle=":", linewidth=1)
    ax_s.set_yticks(y, sk["model"], fontsize=8)
    ax_s.set_xlabel(f"twCRPS skill against {sk['baseline'].iloc[0] if len(sk) else 'the base rate'}")
    ax_s.set_title("Relative skill (positive: better than the base rate)", fontsize=9, loc="left")
    for ax in axes.ravel():
        _style(ax)
    top = _heading(fig, title or f"Model {model}", "its out-of-sample record",
                   f"{len(rows)} backtest forecasts; horizon {horizon} days for the reliability "
                   "diagram.")
    fig.get_layout_engine().set(rect=(0, 0.02, 1, top - 0.02))
    return fig


def save(fig: Figure, stem) -> list:
    """Save a figure as PNG and SVG next to each other; returns the paths."""
    paths = []
    for ext in ("png", "svg"):
        path = f"{stem}.{ext}"
        fig.savefig(path, dpi=130)
        paths.append(path)
        fig.set_layout_engine("none")  # laid out once: the SVG keeps the PNG's positions
    plt.close(fig)
    return paths
