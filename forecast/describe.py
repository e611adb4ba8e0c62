"""Plain-text renderings of cases (what ``forecast case check`` prints)."""

from __future__ import annotations

from forecast.cases import Case
from forecast.indicators import Range


def _range(r: Range | None) -> str:
    if r is None:
        return "unknown"
    return f"{r.low:,.0f}" if r.is_point else f"{r.low:,.0f} - {r.high:,.0f}"


def format_case(case: Case) -> str:
    """Render a case: dates, indicators with their sources, statements, outcome."""
    ind = case.indicators
    lines = [
        f"case {case.id}: {case.name}",
        f"  start {case.start_date}  as of {case.as_of}  (held {case.held_days:.0f} days)",
        "  indicators:",
    ]
    for name, value in ind.categorical().items():
        lines.append(f"    {name:<18} {value or 'unknown'}")
    for name in ("defender_strength", "attacker_strength", "population"):
        lines.append(f"    {name:<18} {_range(getattr(ind, name))}")
    lines.append(f"  statements: {len(case.statements)}")
    for st in case.statements:
        quote = st.quote if len(st.quote) <= 90 else st.quote[:87] + "..."
        lines.append(f"    [{st.id}] {st.speaker} ({st.role}, {st.date}): \"{quote}\"")
    if case.outcome is not None:
        o = case.outcome
        lines.append(f"  outcome: {o.status} {o.end_date or ''}".rstrip())
    else:
        lines.append("  outcome: not yet known")
    return "\n".join(lines)


def format_forecast(forecast, case: Case, *, n_reference: int | None = None) -> str:
    """Render a forecast's headline numbers."""
    s = forecast.summary()
    p = s["p_fall_within"]
    q = s["days_remaining"]
    ref = f", {n_reference} reference cases" if n_reference else ""
    lines = [
        f"{case.name}",
        f"  as of {forecast.as_of} (held {forecast.held_days:.0f} days since {forecast.start_date}); "
        f"model {forecast.model} ({forecast.model_id}){ref}",
        "  P(falls within 7 / 30 / 90 / 365 days): "
        + " / ".join(f"{p[h]:.2f}" for h in ("7", "30", "90", "365")),
        f"  days remaining: median {q['0.5']:.0f} (50% {q['0.25']:.0f}-{q['0.75']:.0f}; "
        f"90% {q['0.05']:.0f}-{q['0.95']:.0f}); median fall date {s['median_date']}",
    ]
    for flag in forecast.flags:
        lines.append(f"  note: {flag}")
    return "\n".join(lines)


_SCORE_NAMES = {"twcrps": "twCRPS (days)", "brier_mean": "Brier", "log_mean": "log score",
                "censored_log": "censored log score"}


def format_backtest(result, dataset) -> str:
    """Render a backtest: what was run, mean scores by model, skill against the climatologies."""
    cfg = result.config
    t = result.table
    n_cases = t["case_id"].nunique()
    lines = [
        f"backtest ({cfg.scheme}) on {dataset.path}: {n_cases} cases, "
        f"{len(t[t['model'] == t['model'].iloc[0]])} forecasts per model (as of the start and "
        f"after {', '.join(str(o) for o in cfg.offsets if o)} days held); "
        f"draws {cfg.draws} x {cfg.chains} chains, seed {cfg.seed}; run {result.run_id}",
        "  mean scores (lower is better):",
    ]
    summ = result.summary.copy()
    lines.append("    " + summ.to_string(index=False, float_format=lambda v: f"{v:.3f}")
                 .replace("\n", "\n    "))
    lines.append("  relative skill = 1 - mean score / climatology's (log scores: mean difference), "
                 "90% paired bootstrap interval:")
    sk = result.skill
    for baseline in sorted(sk["baseline"].unique()):
        lines.append(f"    against {baseline}:")
        part = sk[(sk["baseline"] == baseline) & (sk["model"] != baseline)]
        for _, r in part.iterrows():
            what = "skill" if r["measure"] == "skill" else "diff "
            lines.append(f"      {r['model']:<16} {_SCORE_NAMES.get(r['score'], r['score']):<20} "
                         f"{what} {r['estimate']:+.3f} ({r['lower']:+.3f} to {r['upper']:+.3f}), "
                         f"n={int(r['n'])}")
    for m, e in result.elpd.items():
        parts = [f"exact LOO elpd {e['exact_loo']:.1f} over {e['cases']} cases"] if "exact_loo" in e else []
        if "psis_loo" in e:
            parts.append(f"PSIS-LOO elpd {e['psis_loo']:.1f} ({e['psis_k_over_0.7']} rows with k > 0.7)")
        if parts:
            lines.append(f"  {m}: " + "; ".join(parts))
    d = result.diagnostics
    if len(d):
        lines.append(f"  refits: {len(d)}; max R-hat {d['rhat_max'].max():.3f}, min bulk ESS "
                     f"{d['ess_bulk_min'].min():.0f}, "
                     f"divergences in {int((d['divergences'] > 0).sum())} refits")
    return "\n".join(lines)


def format_backtest_skill(runs: list[dict], ledger: str) -> str:
    """Out-of-sample skill from the latest stored backtest of each scheme (``forecast compare``)."""
    if not runs:
        return (f"backtest skill: no backtest of this dataset in {ledger} "
                "(run `forecast backtest --model all --scheme all`)")
    latest = {}
    for run in runs:  # oldest first: later runs of a scheme replace earlier ones
        latest[run["summary"]["config"]["scheme"]] = run
    lines = ["out-of-sample skill against the Aalen-Johansen climatology (1 - score / climatology's; "
             "90% interval), from the ledger's latest backtests:"]
    for scheme, run in sorted(latest.items()):
        lines.append(f"  {scheme} (run {run['run_id']}, {run['created_at']}):")
        for row in run["summary"]["skill"]:
            if row["baseline"] != "climatology_aj" or row["model"] == "climatology_aj":
                continue
            if row["score"] not in ("twcrps", "brier_mean"):
                continue
            lines.append(f"    {row['model']:<16} {_SCORE_NAMES[row['score']]:<14} {row['estimate']:+.3f} "
                         f"({row['lower']:+.3f} to {row['upper']:+.3f}), n={int(row['n'])}")
    return "\n".join(lines)
