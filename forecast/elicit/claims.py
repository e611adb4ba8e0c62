"""Claims: the machine-readable meaning of statements, read against the lexicons and the case.

A claim lives under its statement in the case file (schema in data/cases/README.md). Reading a
claim turns its words into numbers and says how:

- a probability (``{phrase: ...}``, ``{value: p}`` or ``{beta: [a, b]}``) becomes a mean and a
  variance — a phrase keeps its spread from the lexicon (a Beta distribution);
- a time (``{days: n}`` from the statement date, ``{days_from_start: n}``, ``{date: ...}``,
  ``{days_low, days_high}``, ``{vague: quickly}`` or ``{phrase: "a couple of months"}``) becomes
  a threshold in days since the case's start; vague words are read against the reference class
  (e.g. "quickly" = shorter than its 25th percentile, from the Kaplan–Meier curve);
- every duration claim becomes a statement about P(T in (lo, hi]) with T in days since start.

Claims about indicators (``kind: effect``) become priors on the model's effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from forecast.cases import Case, Statement
from forecast.errors import InputError

DURATION_KINDS = ("falls_by", "holds_beyond", "quantile", "interval")
KINDS = (*DURATION_KINDS, "event", "effect")
#: Effect sizes on the log-duration scale for words in effect claims (a factor of e^mean).
EFFECT_SIZES = {"weak": (0.2, 0.2), "moderate": (0.5, 0.3), "strong": (1.0, 0.4)}
_CLAIM_KEYS = {"id", "kind", "event", "probability", "by", "from", "to", "q", "given", "indicator",
               "level", "direction", "strength", "mean", "sd", "note"}


@dataclass(frozen=True)
class Probability:
    """A stated probability: mean and variance (0 for a point value), and how it was read."""

    mean: float
    var: float
    reading: str


@dataclass(frozen=True)
class ReadClaim:
    """A claim read into numbers.

    Duration claims: P(lo < T <= hi) = ``prob`` (T in days since the case's start), possibly
    ``given`` an event claim (``condition``). Effect claims: a Normal(``mean``, ``sd``) prior on
    ``effect`` (a model variable and level). ``weight`` is the credibility weight w in [0, 1].
    """

    label: str
    statement_id: str
    kind: str
    weight: float
    reading: str
    lo: float = 0.0
    hi: float = float("inf")
    prob: Probability | None = None
    condition: Probability | None = None
    effect: tuple[str, str] | None = None
    mean: float = 0.0
    sd: float = 1.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"claim": self.label, "statement": self.statement_id,
                               "kind": self.kind, "weight": self.weight, "reading": self.reading}
        if self.kind == "effect":
            out |= {"effect": list(self.effect or ()), "prior_mean": self.mean, "prior_sd": self.sd}
        else:
            out |= {"interval_days_since_start": [self.lo, None if np.isinf(self.hi) else self.hi],
                    "probability_mean": round(self.prob.mean, 4),
                    "probability_sd": round(float(np.sqrt(self.prob.var)), 4)}
            if self.condition is not None:
                out["condition_probability_mean"] = round(self.condition.mean, 4)
        return out


@dataclass
class Context:
    """What reading claims needs besides the claim: the case, lexicons, the reference class's
    Kaplan–Meier quantile function (days since start), and the model's effect names."""

    case: Case
    km_quantile: Any
    effect_levels: dict[str, tuple[str, ...]]
    prob_lexicon: Any = None
    time_lexicon: Any = None
    role_weights: dict[str, float] = field(default_factory=dict)


def _where(case: Case, st: Statement, i: int | None = None) -> str:
    base = f"{case.path or case.id}, statement '{st.id}'"
    return base if i is None else f"{base}, claims[{i}]"


def read_probability(spec: Any, where: str, ctx: Context) -> Probability:
    """Read ``{phrase: ...}``, ``{value: p}`` or ``{beta: [a, b]}`` into a :class:`Probability`."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise InputError(f"{where}, key 'probability'",
                         "must be one of {phrase: ...}, {value: p}, {beta: [a, b]}")
    (key, value), = spec.items()
    if key == "value":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InputError(f"{where}, key 'probability'", f"{value!r} is not a probability in [0, 1]")
        return Probability(float(value), 0.0, f"stated as {value:g}")
    if key == "beta":
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int | float) and v > 0 for v in value)):
            raise InputError(f"{where}, key 'probability'", "beta needs two positive numbers [a, b]")
        a, b = map(float, value)
        m = a / (a + b)
        return Probability(m, m * (1 - m) / (a + b + 1), f"Beta({a:g}, {b:g}), mean {m:.2f}")
    if key == "phrase":
        if not isinstance(value, str):
            raise InputError(f"{where}, key 'probability'", "phrase must be text")
        try:
            r = ctx.prob_lexicon.lookup(value)
        except InputError as exc:
            raise InputError(f"{where}, key 'probability'", f"'{value}': {exc.rule}") from None
        m = r.a / (r.a + r.b)
        via = f" via '{r.phrase}'" if r.phrase.lower() != value.strip().lower() else ""
        reading = (f"'{value}'{via}: Beta({r.a:.2f}, {r.b:.2f}), mean {r.mean:.2f}, "
                   f"90% {r.q05:.2f}-{r.q95:.2f} ({r.source})")
        return Probability(m, m * (1 - m) / (r.a + r.b + 1), reading)
    raise InputError(f"{where}, key 'probability'", f"unknown form '{key}' (phrase, value or beta)")


def read_time(spec: Any, where: str, st: Statement, ctx: Context) -> tuple[float, str]:
    """A time in a claim, as days since the case's start, and how it was read."""
    offset = float((st.date - ctx.case.start_date).days)
    key_where = f"{where}, key 'by'"
    if not isinstance(spec, dict) or not spec:
        raise InputError(key_where, "must be a mapping such as {days: 60} or {vague: quickly}")
    if "vague" in spec or "phrase" in spec:
        word = spec.get("vague", spec.get("phrase"))
        try:
            r = ctx.time_lexicon.lookup(str(word), on=st.date)
        except InputError as exc:
            raise InputError(key_where, f"'{word}': {exc.rule}") from None
        if r.kind == "calendar" and r.date is not None:  # "before winter", said on st.date
            t = float((r.date - ctx.case.start_date).days)
            return t, f"'{word}': {r.description}: {r.date.isoformat()}, {t:.0f} days after the start"
        if r.kind == "vague":
            t = float(ctx.km_quantile(r.quantile))
            return t, (f"'{word}': {r.description}; the reference class's {r.quantile:.0%} "
                       f"Kaplan-Meier quantile is {t:.0f} days from the start")
        known = [d for d in (r.days_low, r.days_high) if d is not None]
        mid = r.days if getattr(r, "days", None) is not None else sum(known) / len(known)
        return offset + mid, (f"'{word}': {r.description}, read as {mid:g} days after the "
                              f"statement ({st.date})")
    if "days" in spec:
        d = _positive(spec["days"], key_where)
        return offset + d, f"{d:g} days after the statement ({st.date})"
    if "days_from_start" in spec:
        d = _positive(spec["days_from_start"], key_where)
        return d, f"{d:g} days after the start ({ctx.case.start_date})"
    if "days_low" in spec and "days_high" in spec:
        lo, hi = _positive(spec["days_low"], key_where), _positive(spec["days_high"], key_where)
        if lo > hi:
            raise InputError(key_where, f"days_low {lo:g} is greater than days_high {hi:g}")
        return offset + (lo + hi) / 2, f"{lo:g}-{hi:g} days after the statement, read as the midpoint"
    if "date" in spec:
        d = spec["date"]
        try:
            d = d if isinstance(d, date) else date.fromisoformat(str(d))
        except ValueError:
            raise InputError(key_where, f"'{d}' is not an ISO date") from None
        return float((d - ctx.case.start_date).days), f"by {d}"
    raise InputError(key_where, "needs days, days_from_start, days_low/days_high, date or vague")


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError(where, f"{value!r} is not a non-negative number of days")
    return float(value)


def statement_weight(st: Statement, ctx: Context, where: str) -> tuple[float, str]:
    """The credibility weight of a statement: its own ``weight``, else its role's default."""
    if st.weight is not None:
        return st.weight, f"weight {st.weight:g} set on the statement"
    if st.role not in ctx.role_weights:
        raise InputError(f"{where}, key 'role'", f"no default weight for role '{st.role}'")
    w = ctx.role_weights[st.role]
    return w, f"weight {w:g}: default for role {st.role}"


def read_claims(ctx: Context) -> tuple[list[ReadClaim], list[str]]:
    """Read every claim of the case's statements known by ``as_of``.

    Returns the duration and effect claims (event claims are folded into the claims that are
    ``given`` them) and notes on what was left out and why.
    """
    case = ctx.case
    out: list[ReadClaim] = []
    notes: list[str] = []
    events: dict[str, Probability] = {}
    for st in case.statements:
        if not st.claims:
            continue
        if st.date > case.as_of:
            notes.append(f"statement '{st.id}' ({st.date}) is after as_of {case.as_of}: left out")
            continue
        where0 = _where(case, st)
        weight, wreading = statement_weight(st, ctx, where0)
        for i, raw in enumerate(st.claims):
            where = _where(case, st, i)
            claim = _read_one(raw, i, st, where, weight, wreading, ctx, events)
            if claim is None:
                continue
            if claim.kind != "effect" and claim.hi <= case.held_days:
                notes.append(f"{claim.label}: its time ({claim.hi:.0f} days) had passed by as_of; "
                             "already resolved, left out")
                continue
            out.append(claim)
    return out, notes


def _read_one(raw: dict, i: int, st: Statement, where: str, weight: float, wreading: str,
              ctx: Context, events: dict[str, Probability]) -> ReadClaim | None:
    for key in raw:
        if key not in _CLAIM_KEYS:
            allowed = ", ".join(sorted(_CLAIM_KEYS))
            raise InputError(f"{where}, key '{key}'", f"unknown key (allowed: {allowed})")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise InputError(f"{where}, key 'kind'", f"'{kind}' is not one of {', '.join(KINDS)}")
    label = f"{st.id}#{raw.get('id', i)}"
    if kind == "event":
        if not raw.get("id"):
            raise InputError(f"{where}, key 'id'", "an event claim needs an id for 'given' to name")
        if raw.get("probability") is None:
            raise InputError(f"{where}, key 'probability'",
                             "an event claim needs a probability ({phrase: ...} or {value: p})")
        prob = read_probability(raw.get("probability"), where, ctx)
        if "given" in raw:  # an event given another is taken to need it: P(A) = P(B) P(A | B)
            cond = _given(raw, where, events)
            mean = prob.mean * cond.mean
            var = (prob.var + prob.mean**2) * (cond.var + cond.mean**2) - mean**2
            prob = Probability(mean, max(var, 0.0),
                               f"{prob.reading}, given an event of P {cond.mean:.2f}")
        events[str(raw["id"])] = prob
        return None
    if kind == "effect":
        return _read_effect(raw, label, st, where, weight, wreading, ctx)
    condition = _given(raw, where, events) if "given" in raw else None
    lo, hi = 0.0, float("inf")
    if kind == "quantile":
        q = raw.get("q")
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 1:
            raise InputError(f"{where}, key 'q'", f"{q!r} is not a quantile level in (0, 1)")
        hi, treading = read_time(raw.get("by"), where, st, ctx)
        prob = Probability(float(q), 0.0, f"quantile {q:g}")
    elif kind == "interval":
        lo, r1 = read_time(raw.get("from"), where.replace("'by'", "'from'"), st, ctx)
        hi, r2 = read_time(raw.get("to"), where, st, ctx)
        if hi <= lo:
            raise InputError(f"{where}, key 'to'", "the interval's end is not after its start")
        treading = f"from {r1} to {r2}"
        prob = read_probability(raw.get("probability"), where, ctx)
    else:
        hi, treading = read_time(raw.get("by"), where, st, ctx)
        prob = read_probability(raw.get("probability"), where, ctx)
        if kind == "holds_beyond":  # P(T > t) = p  <=>  P(T <= t) = 1 - p
            prob = Probability(1 - prob.mean, prob.var, f"holds beyond: {prob.reading}")
    cond = (f"given the event (P {condition.mean:.2f}), " if condition else "")
    reading = (f"{cond}P(T in ({lo:.0f}, {'inf' if np.isinf(hi) else f'{hi:.0f}'}] days since start)"
               f" = {prob.mean:.2f}; time: {treading}; probability: {prob.reading}; {wreading}")
    return ReadClaim(label=label, statement_id=st.id, kind=kind, weight=weight, reading=reading,
                     lo=lo, hi=hi, prob=prob, condition=condition)


def _given(raw: dict, where: str, events: dict[str, Probability]) -> Probability:
    given = str(raw["given"])
    if given not in events:
        raise InputError(f"{where}, key 'given'",
                         f"names no earlier event claim '{given}' (a conditional needs its condition)")
    return events[given]


def _read_effect(raw: dict, label: str, st: Statement, where: str, weight: float, wreading: str,
                 ctx: Context) -> ReadClaim:
    name = raw.get("indicator")
    if name not in ctx.effect_levels:
        raise InputError(f"{where}, key 'indicator'",
                         f"'{name}' is not an indicator of the model ({', '.join(ctx.effect_levels)})")
    levels = ctx.effect_levels[name]
    level = raw.get("level", "")
    if levels and level not in levels:
        raise InputError(f"{where}, key 'level'", f"'{level}' is not a level of {name} ({', '.join(levels)})")
    if "mean" in raw:
        mean, sd = raw["mean"], raw.get("sd", 0.3)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (mean, sd)) or sd <= 0:
            raise InputError(f"{where}, key 'mean'", "mean and sd must be numbers (sd > 0)")
        text = f"N({mean:g}, {sd:g}) on log-duration"
    else:
        direction = raw.get("direction")
        if direction not in ("longer", "shorter"):
            raise InputError(f"{where}, key 'direction'", "must be 'longer' or 'shorter' (or give mean, sd)")
        strength = raw.get("strength", "moderate")
        if strength not in EFFECT_SIZES:
            raise InputError(f"{where}, key 'strength'", f"must be one of {', '.join(EFFECT_SIZES)}")
        m, sd = EFFECT_SIZES[strength]
        mean = m if direction == "longer" else -m
        text = f"{strength}ly {direction}: N({mean:g}, {sd:g}) on log-duration (x{np.exp(mean):.2f})"
    var = "beta_force" if name == "force_ratio" else f"effect_{name}"
    reading = f"prior on {var}[{level}] " if levels else f"prior on {var} "
    return ReadClaim(label=label, statement_id=st.id, kind="effect", weight=weight,
                     reading=reading + text + f"; {wreading}", effect=(var, level),
                     mean=float(mean), sd=float(sd))
