"""`forecast report`: one self-contained HTML file of a forecast and its record.

Everything is inside the file: the charts as PNG data URIs, the tables as HTML, no script, no
stylesheet or font from elsewhere. Every text that comes from an input file (case name, quotes,
sources, notes) is escaped, so a case named ``<script>alert(1)</script>`` shows as text. The
numbers come from the forecast objects; this module only lays them out. The CSV tables beside the
report hold the same numbers.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

STYLE = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.8em;
border-bottom: 1px solid #ccc; } table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.lede { font-size: 1.05em; } .note { color: #555; font-size: 0.85em; } img { max-width: 100%; }
.flag { color: #b2182b; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _png(fig) -> str:
    """A figure as an <img> with a PNG data URI (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, numeric: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for _, r in frame.iterrows():
        cells = "".join(f'<td class="num">{_e(r[c])}</td>' if c in numeric else f"<td>{_e(r[c])}</td>"
                        for c in frame.columns)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def tables(run) -> dict[str, pd.DataFrame]:
    """The report's tables (also written as CSV): horizons, statements, indicators, diagnostics."""
    fc, case = run.forecast, run.case
    s = fc.summary()
    horizons = pd.DataFrame({"days after as_of": ["7", "30", "90", "365"],
                             "P(falls within)": [s["p_fall_within"][h] for h in ("7", "30", "90", "365")]})
    weighing = {r["claim"]: r for r in (run.evidence.evidence if run.evidence else [])}
    st_rows = []
    for st in case.statements:
        claims = [c for c in (run.evidence.claims if run.evidence else []) if c.statement_id == st.id]
        if not claims:
            st_rows.append({"statement": st.id, "speaker": st.speaker, "role": st.role,
                            "date": st.date.isoformat(), "quote": st.quote, "source": st.source,
                            "claim": "(no claim about the duration)", "beta": "", "stated p": "",
                            "base rate": "", "log Bayes factor": ""})
        for c in claims:
            w = weighing.get(c.label, {})
            st_rows.append({"statement": st.id, "speaker": st.speaker, "role": st.role,
                            "date": st.date.isoformat(), "quote": st.quote, "source": st.source,
                            "claim": c.event.describe() if c.event is not None else c.reading,
                            "beta": f"{c.weight:.2f}", "stated p": w.get("stated_p", ""),
                            "base rate": w.get("base_rate", ""),
                            "log Bayes factor": w.get("log_bayes_factor", "")})
    sparse = {f["indicator"] for f in fc.extra.get("sparse_levels", []) if isinstance(f, dict)}
    ind = []
    for name, value in vars(case.indicators).items():
        shown = (f"{value.low:,.0f}-{value.high:,.0f}" if hasattr(value, "low") else value)
        ind.append({"indicator": name, "value": "unknown" if value is None else shown,
                    "thin support": "yes: few reference cases at this level" if name in sparse else ""})
    diag = pd.DataFrame([{"statistic": k, "value": v} for k, v in fc.diagnostics.items()
                         if not isinstance(v, dict | list)])
    return {"horizons": horizons, "statements": pd.DataFrame(st_rows), "indicators": pd.DataFrame(ind),
            "diagnostics": diag}


def build(run, *, backtest: pd.DataFrame | None = None, record=None, history=None,
          made: date | None = None, tabled: dict[str, pd.DataFrame] | None = None,
          record_note: str | None = None) -> str:
    """The report's HTML for a :class:`forecast.workflow.CaseRun` (``tabled``: its
    :func:`tables`, when already computed; ``history``: the case's recorded forecasts, one per
    as_of, drawn as the evolution chart when there are two or more)."""
    from forecast import charts
    from forecast.describe import format_forecast

    fc, case = run.forecast, run.case
    made = made or date.today()
    outcome = case.outcome.end_date if case.outcome and case.outcome.status != "ongoing" else None
    if outcome is not None and outcome < fc.as_of:
        outcome = None
    t = tabled if tabled is not None else tables(run)
    words = format_forecast(run, n_reference=len(run.dataset)).split("\n")
    lede = "".join(f"<p class='lede'>{_e(line.strip())}</p>" for line in words[2:4])
    numbers = "".join(f"<li>{_e(line.strip())}</li>" for line in words[4:]
                      if line.strip() and not line.startswith(("  how the forecast", "  each claim",
                                                               "    ")))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(case.name)}: forecast as of {_e(fc.as_of)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(case.name)}</h1>",
        f"<p class='note'>Forecast as of {_e(fc.as_of)} (held {fc.held_days:.0f} days since "
        f"{_e(fc.start_date)}); model {_e(fc.model)} ({_e(fc.model_id)}); reference data "
        f"{_e(fc.dataset_hash[:12])}; made {_e(made)}.</p>",
        lede, f"<ul>{numbers}</ul>",
        "<h2>How long will it hold?</h2>",
        _png(charts.survival_fan(fc, name=case.name, outcome_date=outcome, made=made)),
        _table(t["horizons"], numeric=("P(falls within)",)),
        "<h2>When would it fall?</h2>",
        _png(charts.fall_date_chart(fc, name=case.name, outcome_date=outcome, made=made)),
    ]
    if run.evidence is not None and run.evidence.decomposition:
        parts += ["<h2>How the forecast was built</h2>",
                  _png(charts.decomposition_chart(run.evidence, case, made=made))]
    if history is not None and len({r.as_of for r in history}) >= 2:
        shown = sorted(history, key=lambda r: r.as_of)
        parts += ["<h2>How the forecast changed</h2>",
                  _png(charts.evolution_chart(shown, name=case.name, outcome_date=outcome,
                                              events=[(e.date, e.event) for e in case.events])),
                  "<p class='note'>Recorded forecasts (as of " + ", ".join(
                      _e(r.as_of) for r in shown) + ") and the case's events:</p>",
                  _table(pd.DataFrame({"date": [e.date for e in case.events],
                                       "event": [e.event for e in case.events],
                                       "source": [e.source for e in case.events]}))]
    parts += ["<h2>Statements, their readings and weights</h2>",
              "<p class='note'>Each claim is weighed against the base rate the speaker could have "
              "read off the reference class; beta is the speaker's fitted calibration.</p>",
              _table(t["statements"]),
              "<h2>Indicators</h2>", _table(t["indicators"]),
              "<h2>Model checks</h2>", _table(t["diagnostics"])]
    if backtest is not None and len(backtest):
        parts += ["<h2>The model's record (backtest)</h2>",
                  "<p class='note'>Out-of-sample skill against the base rate, with 90% intervals "
                  "(positive: better than the base rate).</p>"]
        if record_note:
            parts.append(f"<p class='note'>{_e(record_note)}</p>")
        parts.append(_table(backtest))
        if record is not None:
            table, skill, model = record
            parts.append(_png(charts.record_chart(table, skill, model=model)))
    else:
        parts += ["<h2>The model's record (backtest)</h2>",
                  "<p class='note'>No backtest in the ledger yet: run <code>forecast backtest</code>."
                  "</p>"]
    for flag in fc.flags:
        parts.append(f"<p class='note flag'>{_e(flag)}</p>")
    parts.append(f"<p class='note'>{_e(charts.source_line(fc, made))}</p></body></html>")
    return "\n".join(parts)


def write(run, out_dir: str | Path, *, backtest: pd.DataFrame | None = None, record=None,
          history=None, made: date | None = None, record_note: str | None = None) -> Path:
    """Write report.html and its CSV tables into ``out_dir``; returns the report's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tabled = tables(run)
    text = build(run, backtest=backtest, record=record, history=history, made=made, tabled=tabled,
                 record_note=record_note)
    for name, frame in tabled.items():
        frame.to_csv(out / f"report_{name}.csv", index=False)
    path = out / "report.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
