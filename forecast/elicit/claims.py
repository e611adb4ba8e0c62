"""Claims: the machine-readable meaning of statements, read against the lexicons and the case.

A claim lives under its statement in the case file (schema in data/cases/README.md). Reading a
claim turns its words into numbers and says how:

- a probability (``{phrase: ...}``, ``{value: p}`` or ``{beta: [a, b]}``) becomes a mean, a
  variance and the variance of its logit — a phrase keeps its spread from the lexicon (a Beta);
- a time (``{days: n}`` from the statement date, ``{days_from_start: n}``, ``{date: ...}``,
  ``{days_low, days_high}``, ``{vague: quickly}`` or ``{phrase: "a couple of months"}``) becomes
  a :class:`~forecast.elicit.likelihood.Boundary` in days since the case's start: sharp for a
  number or a date, a range for a span ("a couple of months" = 45-75 days after the statement) and
  for a vague word, read against comparable holdouts ("quickly" = between the 15% and 35%
  Kaplan–Meier quantiles of holdouts on the same terrain, or of all if fewer than 30 fell there);
- every duration claim becomes an :class:`~forecast.elicit.likelihood.Event` about the fall time
  T, which :mod:`forecast.elicit.likelihood` weighs against the base rate.

Claims about indicators (``kind: effect``) become priors on the model's effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from forecast.cases import Case, Statement
from forecast.elicit.likelihood import Boundary, Event
from forecast.errors import InputError


def beta_logit_var(a: float, b: float) -> float:
    """Var(logit p) for p ~ Beta(a, b), with p kept inside [EPS, 1 - EPS] as every stated
    probability is (the unclipped variance, trigamma(a) + trigamma(b), explodes for a phrase whose
    answers pile up at 0 or 1): by the Beta's quantiles on a fine midpoint grid, deterministic."""
    from scipy.special import betaincinv  # the Beta's quantile function (scipy.stats' beta.ppf)

    from forecast.elicit.likelihood import logit

    u = (np.arange(4000) + 0.5) / 4000
    return float(np.var(logit(betaincinv(a, b, u))))


DURATION_KINDS = ("falls_by", "holds_beyond", "falls_eventually", "quantile", "interval")
KINDS = (*DURATION_KINDS, "event", "effect")
#: Effect sizes on the log-duration scale for words in effect claims (a factor of e^mean).
EFFECT_SIZES = {"weak": (0.2, 0.2), "moderate": (0.5, 0.3), "strong": (1.0, 0.4)}
#: A vague time word's quantile q is read as the day meant lying between q - VAGUE_HALF_WIDTH
#: and q + VAGUE_HALF_WIDTH of comparable holdouts.
VAGUE_HALF_WIDTH = 0.10
#: Comparable holdouts: the same terrain when at least this many of them fell, else all.
MIN_COMPARABLE = 30
_CLAIM_KEYS = {"id", "kind", "event", "probability", "by", "from", "to", "q", "given", "indicator",
               "level", "direction", "strength", "mean", "sd", "note"}


@dataclass(frozen=True)
class Probability:
    """A stated probability: mean, variance (0 for a point value), the variance of its logit
    (what lowers the claim's reliability), and how it was read."""

    mean: float
    var: float
    reading: str
    logit_var: float = 0.0


@dataclass(frozen=True)
class ReadClaim:
    """A claim read into numbers.

    Duration claims: "P(``event``) = ``prob``" about the fall time T (days since the case's
    start), said on day ``stated_day``, possibly ``given`` an event claim (``condition``).
    ``weight`` is the speaker's calibration beta (0: the words carry nothing; 1: face value).
    Effect claims: a Normal(``mean``, ``sd``) prior on ``effect`` (a model variable and level),
    tempered by ``weight``.
    """

    label: str
    statement_id: str
    kind: str
    weight: float
    reading: str
    event: Event | None = None
    prob: Probability | None = None
    condition: Probability | None = None
    stated_day: float = 0.0
    group: str | None = None
    speaker: str = ""
    role: str = ""
    effect: tuple[str, str] | None = None
    mean: float = 0.0
    sd: float = 1.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hi(self) -> float:
        """The last day on which the event is still undecided (inf when it never is)."""
        return np.inf if self.event is None else self.event.last_day()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"claim": self.label, "statement": self.statement_id,
                               "kind": self.kind, "beta": self.weight, "reading": self.reading}
        if self.kind == "effect":
            out |= {"effect": list(self.effect or ()), "prior_mean": self.mean, "prior_sd": self.sd}
        else:
            out |= {"event": self.event.describe(), "stated_day": self.stated_day,
                    "probability_mean": round(self.prob.mean, 4),
                    "probability_sd": round(float(np.sqrt(self.prob.var)), 4),
                    "source_group": self.group}
            if self.condition is not None:
                out["condition_probability_mean"] = round(self.condition.mean, 4)
        return out


@dataclass
class Context:
    """What reading claims needs besides the claim: the case, lexicons, the reference class's
    Kaplan–Meier quantile function (days since start; ``comparable_quantile`` for the holdouts
    comparable to the case), the model's effect names and the speakers' calibrations."""

    case: Case
    km_quantile: Any
    effect_levels: dict[str, tuple[str, ...]]
    prob_lexicon: Any = None
    time_lexicon: Any = None
    calibration: Any = None
    comparable_quantile: Any = None
    comparable: str = "all holdouts"

def _where(case: Case, st: Statement, i: int | None = None) -> str:
    base = f"{case.path or case.id}, statement '{st.id}'"
    return base if i is None else f"{base}, claims[{i}]"


def read_probability(spec: Any, where: str, prob_lexicon) -> Probability:
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
        return Probability(m, m * (1 - m) / (a + b + 1), f"Beta({a:g}, {b:g}), mean {m:.2f}",
                           beta_logit_var(a, b))
    if key == "phrase":
        if not isinstance(value, str):
            raise InputError(f"{where}, key 'probability'", "phrase must be text")
        try:
            r = prob_lexicon.lookup(value)
        except InputError as exc:
            raise InputError(f"{where}, key 'probability'", f"'{value}': {exc.rule}") from None
        m = r.a / (r.a + r.b)
        via = f" via '{r.phrase}'" if r.phrase.lower() != value.strip().lower() else ""
        reading = (f"'{value}'{via}: Beta({r.a:.2f}, {r.b:.2f}), mean {r.mean:.2f}, "
                   f"90% {r.q05:.2f}-{r.q95:.2f} ({r.source})")
        return Probability(m, m * (1 - m) / (r.a + r.b + 1), reading, beta_logit_var(r.a, r.b))
    raise InputError(f"{where}, key 'probability'", f"unknown form '{key}' (phrase, value or beta)")


def read_time(spec: Any, where: str, st: Statement, ctx: Context) -> tuple[Boundary, str]:
    """A time in a claim as a :class:`Boundary` in days since the case's start (sharp for a
    number or date; a range for a span or a vague word), and how it was read."""
    return time_boundary(spec, f"{where}, key 'by'", said=st.date, start=ctx.case.start_date,
                         time_lexicon=ctx.time_lexicon,
                         quantile=ctx.comparable_quantile or ctx.km_quantile,
                         comparable=ctx.comparable)


def time_boundary(spec: Any, key_where: str, *, said: date, start: date, time_lexicon, quantile,
                  comparable: str = "comparable holdouts") -> tuple[Boundary, str]:
    """:func:`read_time` without a case file: ``spec`` said on ``said`` about a holdout that
    started on ``start``; ``quantile`` reads vague words (``(q, after=day) -> day``). The record
    of past statements (:mod:`forecast.elicit.calibration`) reads its times here too."""
    offset = float((said - start).days)
    if not isinstance(spec, dict) or not spec:
        raise InputError(key_where, "must be a mapping such as {days: 60} or {vague: quickly}")
    if "vague" in spec or "phrase" in spec:
        word = spec.get("vague", spec.get("phrase"))
        try:
            r = time_lexicon.lookup(str(word), on=said)
        except InputError as exc:
            raise InputError(key_where, f"'{word}': {exc.rule}") from None
        if r.kind == "calendar" and r.date is not None:  # "before winter", said on that day
            t = float((r.date - start).days)
            return Boundary(t, t), f"'{word}': {r.description}: {r.date.isoformat()}, day {t:.0f}"
        if r.kind == "vague":
            lo, hi, q_lo, q_hi = vague_boundary(quantile, r.quantile, max(offset, 0.0))
            return Boundary(lo, hi), (
                f"'{word}': {r.description}; the day meant between the {q_lo:.0%} and {q_hi:.0%} "
                f"Kaplan-Meier quantiles of {comparable} still standing on the statement's day "
                f"{max(offset, 0):.0f}: days {lo:.0f}-{hi:.0f} from the start")
        known = [d for d in (r.days_low, r.days_high) if d is not None]
        lo, hi = offset + min(known), offset + max(known)
        return Boundary(lo, hi), (f"'{word}': {r.description}, days {min(known):g}-{max(known):g} "
                                  f"after the statement ({said}), the day meant uniform on them")
    if "days" in spec:
        d = _positive(spec["days"], key_where)
        return Boundary(offset + d, offset + d), f"{d:g} days after the statement ({said})"
    if "days_from_start" in spec:
        d = _positive(spec["days_from_start"], key_where)
        return Boundary(d, d), f"{d:g} days after the start ({start})"
    if "days_low" in spec and "days_high" in spec:
        lo, hi = _positive(spec["days_low"], key_where), _positive(spec["days_high"], key_where)
        if lo > hi:
            raise InputError(key_where, f"days_low {lo:g} is greater than days_high {hi:g}")
        return Boundary(offset + lo, offset + hi), (f"{lo:g}-{hi:g} days after the statement, "
                                                    "the day meant uniform on them")
    if "date" in spec:
        d = spec["date"]
        try:
            d = d if isinstance(d, date) else date.fromisoformat(str(d))
        except ValueError:
            raise InputError(key_where, f"'{d}' is not an ISO date") from None
        t = float((d - start).days)
        return Boundary(t, t), f"by {d}"
    raise InputError(key_where, "needs days, days_from_start, days_low/days_high, date or vague")


def vague_boundary(quantile, q: float, day: float) -> tuple[float, float, float, float]:
    """A vague word's range (days since start): the (q -/+ ``VAGUE_HALF_WIDTH``) quantiles of the
    remaining life of holdouts still standing on ``day`` (the statement's), so that "quickly" said
    on day 60 means quickly from day 60. Sharp at the q-quantile beyond the curve's reach."""
    q_lo, q_hi = max(q - VAGUE_HALF_WIDTH, 0.01), min(q + VAGUE_HALF_WIDTH, 0.99)
    lo, hi = float(quantile(q_lo, after=day)), float(quantile(q_hi, after=day))
    if not np.isfinite(hi):
        lo = hi = float(quantile(q, after=day))
    return lo, max(lo, hi), q_lo, q_hi


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError(where, f"{value!r} is not a non-negative number of days")
    return float(value)


def statement_weight(st: Statement, ctx: Context, where: str) -> tuple[float, str]:
    """The speaker's calibration beta: the statement's own ``weight``, else the speaker's fitted
    one when their record is long enough, else their role's (data/lexicon/calibration.yaml)."""
    if st.weight is not None:
        return st.weight, f"beta {st.weight:g} set on the statement"
    if ctx.calibration is None:
        raise InputError(f"{where}, key 'role'", "no calibration to give the role a beta")
    try:
        beta, how = ctx.calibration.beta_for(st.speaker, st.role)
    except KeyError:
        raise InputError(f"{where}, key 'role'", f"no fitted calibration for role '{st.role}'") from None
    return beta, how


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
        prob = read_probability(raw.get("probability"), where, ctx.prob_lexicon)
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
    start = None
    if kind == "quantile":
        q = raw.get("q")
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 1:
            raise InputError(f"{where}, key 'q'", f"{q!r} is not a quantile level in (0, 1)")
        by, treading = read_time(raw.get("by"), where, st, ctx)
        prob = Probability(float(q), 0.0, f"quantile {q:g}")
        kind_event = "falls_by"
    elif kind == "interval":
        start, r1 = read_time(raw.get("from"), where.replace("'by'", "'from'"), st, ctx)
        by, r2 = read_time(raw.get("to"), where, st, ctx)
        if by.lo <= start.hi:
            raise InputError(f"{where}, key 'to'", "the interval's end is not after its start")
        treading = f"from {r1} to {r2}"
        prob = read_probability(raw.get("probability"), where, ctx.prob_lexicon)
        kind_event = "interval"
    elif kind == "falls_eventually":
        if "by" in raw:
            raise InputError(f"{where}, key 'by'", "a falls_eventually claim has no time")
        by, treading = None, "no time stated: falls at all, before another end"
        prob = read_probability(raw.get("probability"), where, ctx.prob_lexicon)
        kind_event = "falls_eventually"
    else:
        by, treading = read_time(raw.get("by"), where, st, ctx)
        prob = read_probability(raw.get("probability"), where, ctx.prob_lexicon)
        kind_event = kind
    event = Event(kind_event, by=by, start=start)
    cond = f"given the event (P {condition.mean:.2f}), " if condition else ""
    reading = (f"{cond}P({event.describe()}) = {prob.mean:.2f}; time: {treading}; "
               f"probability: {prob.reading}; {wreading}")
    return ReadClaim(label=label, statement_id=st.id, kind=kind, weight=weight, reading=reading,
                     event=event, prob=prob, condition=condition,
                     stated_day=float((st.date - ctx.case.start_date).days),
                     group=st.source_group, speaker=st.speaker, role=st.role)


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
