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
