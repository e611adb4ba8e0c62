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
    if case.war:
        lines.append(f"  war: {case.war}")
    if case.changes:
        lines.append("  indicator changes while it held:")
        for ch in case.changes:
            new = ", ".join(f"{k} -> {v}" for k, v in ch.values.items())
            used = "" if ch.date <= case.as_of else "  (after as_of: not used)"
            lines.append(f"    {ch.date}  {new}{used}")
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


def in_words(p: float) -> str:
    """A probability as an analyst would say it: "about 4 in 10"."""
    if p < 0.05:
        return "less than 1 in 20"
    if p > 0.95:
        return "more than 19 in 20"
    tenths = int(round(p * 10))
    if tenths in (0, 10):
        return "about 1 in 20" if tenths == 0 else "about 19 in 20"
    return f"about {tenths} in 10"


def _days(x: float | None) -> str:
    return "beyond the data" if x is None or x == float("inf") else f"{x:,.0f}"


def diagnostics_line(d: dict) -> str:
    """The posterior's diagnostics (``Diagnostics.to_dict()``), with the statistics named."""
    state = "reliable" if d["reliable"] else "UNRELIABLE: " + "; ".join(d["failures"])
    return (f"diagnostics: max R-hat {d['rhat_max']:.3f}, min ESS bulk {d['ess_bulk_min']:.0f} / tail "
            f"{d['ess_tail_min']:.0f}, divergences {d['divergences']}: {state}")


def reference_gap(durations, events, held_days: float) -> tuple[float, float] | None:
    """When no past holdout fell within a year after ``held_days``: (last fall before or at it,
    next fall after it), in days since start; else None."""
    import numpy as np

    falls = np.sort(np.asarray(durations)[np.asarray(events, dtype=bool)])
    later = falls[falls > held_days]
    if later.size and later[0] - held_days <= 365:
        return None
    before = falls[falls <= held_days]
    return (float(before[-1]) if before.size else 0.0, float(later[0]) if later.size else float("inf"))


def format_forecast(run, *, verbose: bool = False, n_reference: int | None = None) -> str:
    """A case's forecast for an analyst: the headline in words, then the numbers; with
    ``verbose``, the statistics (diagnostics, claim readings, PSIS) too."""
    fc, case = run.forecast, run.case
    s = fc.summary()
    p = s["p_fall_within"]
    q = s["days_remaining"]
    by30 = fc.date_of(30).isoformat()
    ref = f", {n_reference} reference cases" if n_reference else ""
    lines = [
        f"{case.name}",
        f"  as of {fc.as_of} (held {fc.held_days:.0f} days since {fc.start_date})",
        f"  {in_words(p['30']).capitalize()} that it falls within 30 days (by {by30}); "
        f"{in_words(p['365'])} that it falls within a year.",
        (f"  Even odds that it has fallen by {s['median_date']} ({_days(q['0.5'])} days after "
         f"{fc.as_of}); " if s["median_date"] else
         "  It is more likely than not never to fall (another end comes first); ")
        + (f"one chance in four that it holds beyond {_days(q['0.75'])} days."
           if q["0.75"] is not None else "one chance in four or more that it never falls."),
        "  P(falls within 7 / 30 / 90 / 365 days): "
        + " / ".join(f"{p[h]:.2f}" for h in ("7", "30", "90", "365")),
        f"  days remaining: median {_days(q['0.5'])} (50% {_days(q['0.25'])}-{_days(q['0.75'])}; "
        f"90% {_days(q['0.05'])}-{_days(q['0.95'])})",
        *_competing_lines(s),
        f"  model {fc.model}{ref}; "
        + ("model checks passed" if fc.diagnostics.get("reliable") else
           "UNRELIABLE: the fitted model failed its convergence checks; sample longer")
        + ("" if verbose else " (--verbose shows the statistics)"),
    ]
    for flag in fc.flags:
        lines.append(f"  note: {flag}")
    gap = reference_gap(run.dataset.durations, run.dataset.events, case.held_days)
    if run.evidence is not None:
        from forecast.elicit.update import format_decomposition

        if gap is not None:
            lines.append(f"  note: no past holdout in the reference class fell between {gap[0]:,.0f} and "
                         f"{_days(gap[1])} days after its start; the reference-class line has nothing "
                         f"to say about the next year")
        lines.append(format_decomposition(run.evidence, verbose=verbose))
    if verbose:
        lines.append("  " + diagnostics_line(fc.diagnostics))
    return "\n".join(lines)


def _competing_lines(s: dict) -> list[str]:
    """The competing-ends lines of a forecast summary (none for a single-end model)."""
    if "p_other_end_first" not in s:
        return []
    f = s["days_remaining_if_it_falls"]
    return [
        f"  P(another end comes first: relieved, attacker withdraws or the war ends): "
        f"{s['p_other_end_first']:.2f}; P(it falls at all): {s['p_falls_eventually']:.2f}",
        f"  if it falls (if nothing else intervenes): median {_days(f['0.5'])} days remaining "
        f"(50% {_days(f['0.25'])}-{_days(f['0.75'])}; 90% {_days(f['0.05'])}-{_days(f['0.95'])})",
    ]


def format_run_table(runs) -> str:
    """Forecasts of one case at several dates: P(falls within 7/30/90/365 days), median."""
    lines = ["  as_of        held   P(7 d)  P(30 d)  P(90 d)  P(365 d)  median days left  median date"]
    for run in runs:
        s = run.forecast.summary()
        p = s["p_fall_within"]
        lines.append(f"  {run.case.as_of}  {run.case.held_days:>5.0f}   {p['7']:.2f}     {p['30']:.2f}     "
                     f"{p['90']:.2f}     {p['365']:.2f}   {_days(s['days_remaining']['0.5']):>16}  "
                     f"{s['median_date'] or 'not reached'}")
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


def format_scores(table, *, tau: float, case_id: str | None = None) -> str:
    """The ledger's scores by case (``forecast score``)."""
    if table.empty:
        return ("nothing to score: no recorded forecast has a recorded outcome"
                + (f" for '{case_id}'" if case_id else ""))
    cols = [c for c in ("as_of", "model", "p30", "brier_mean", "log_mean", "twcrps", "censored_log", "pit")
            if c in table]
    lines = [f"scores (lower is better; Brier and log score over the resolved horizons 7/30/90/365 d; "
             f"twCRPS in days to {tau:g} d; censored log score of the fall day):"]
    for cid, part in table.groupby("case_id", sort=True):
        lines.append(f"  {cid}")
        text = part[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")
        lines += ["    " + ln for ln in text.splitlines()]
    return "\n".join(lines)


def format_history(case_id: str, records, scores, known) -> str:
    """A case's recorded forecasts over as_of dates, with their scores once resolved."""
    by_id = scores.set_index("id") if not scores.empty else None
    lines = [f"{case_id} ({records[0][1].case_name}): {len(records)} recorded forecasts"
             + (f"; outcome: {known[0]} on {known[1].isoformat()}" if known else "; no outcome recorded"),
             "     id  as_of       model            kind       P(30 d)  median days  Brier   twCRPS  issued"]
    for fid, rec in records:
        med = rec.predictive.quantile(0.5)
        med_s = "beyond grid" if med == float("inf") else f"{med:,.0f}"
        b = t = "-"
        if by_id is not None and fid in by_id.index:
            b, t = f"{by_id.loc[fid, 'brier_mean']:.3f}", f"{by_id.loc[fid, 'twcrps']:.1f}"
        p30 = rec.predictive.p_fall_within(30)
        lines.append(f"  {fid:>5}  {rec.as_of.isoformat()}  {rec.model:<16} {rec.kind:<9} "
                     f"{p30:>7.2f}  {med_s:>11}  {b:>6}  {t:>6}  {rec.issued_at}")
    return "\n".join(lines)


def format_agreement(table, first: str, second: str) -> str:
    """The double-coding agreement table (:func:`forecast.agreement.agreement`) as plain text."""
    import math

    rows = int(table["rows"].iloc[0])
    lines = [f"agreement of {second} with {first} on {rows} rows both coded",
             f"  {'field':<20}{'compared as':<16}{'agree':>7}{'share':>8}{'kappa':>8}"]
    for r in table.itertuples():
        kappa = "" if math.isnan(r.kappa) else f"{r.kappa:.2f}"
        lines.append(f"  {r.field:<20}{r.kind:<16}{r.agree:>7}{r.share:>8.0%}{kappa:>8}")
    return "\n".join(lines)
