"""Statements as likelihoods on the case's outcome, against the base rate: order-free.

A claim says "P(B) = p" for an event B about the fall time T (days since the case's start; T is
infinite when the holdout never falls because another end comes first). The speaker could have read
a base rate pi_B off the reference class (the Aalen–Johansen law of falling, given that the holdout
still stood on the day of the statement). What the claim adds is how far p departs from pi_B; it
enters as a likelihood ratio on T (Morris 1974; Lindley 1985: an expert's stated probability is
data, whose likelihood the decision maker models):

    log L(T) = b * w_B(T),    b = beta * lambda * (logit p - logit pi_B)

- ``w_B(T)`` in [0, 1] is the probability that an outcome at T counts as B: 1 or 0 for a sharp
  boundary, a linear ramp across the range a vague time word or a span stands for ("a couple of
  months" = 45-75 days: the day meant is uniform on it).
- ``beta`` is the speaker's calibration, fitted per role with partial pooling from the scored
  record in data/statements.csv (:mod:`forecast.elicit.calibration`): 1 for a speaker whose
  departures from the base rate are worth their face value, 0 for one whose words carry nothing,
  above 1 for one who understates.
- ``lambda = V / (V + s^2)`` is the reliability of the reading: ``s^2`` is the variance of logit p
  under the phrase's Beta (0 for a number), ``V`` the spread of stated logits across the record
  (measurement error in a predictor attenuates its coefficient by this ratio; Fuller 1987). A vague
  phrase therefore moves the forecast less than a number with the same mean.

Claims multiply — the log-likelihoods add — so the result does not depend on their order (the
logarithmic opinion pool of Genest & Zidek 1986, with the base rate as the common prior). A claim
that states the base rate has b = 0 and changes nothing; two independent claims that depart from
the base rate in the same direction move the forecast further than either (extremizing, as in
Satopää et al. 2014). Claims that share a source (``source_group``) are not independent: a group of
n claims counts as one, each with b / n.

A claim ``given`` an event A (probability a, itself read from a phrase) is a mixture: with
probability a the condition holds and the claim speaks; otherwise it says nothing about T:

    L(T) = a * exp(b w_B(T)) / Z + (1 - a),   Z = E_ref[exp(b w_B(T))]

so that, like every claim, it leaves a forecast equal to the base rate unchanged on average, and
the duration without A is the model's own.

The product of the claims' L is evaluated on cells of T (the claims' boundaries, points across
every ramp, and a last cell for "never falls"): ``edges`` and ``cell_log_weights`` are what
:mod:`forecast.elicit.combine` applies to the forecast's draws, exactly.

References: Morris PA (1974) Decision analysis expert use, Management Science 20:1233-1241.
Lindley DV (1985) Reconciliation of discrete probability distributions, Bayesian Statistics 2.
Genest C, Zidek JV (1986) Combining probability distributions: a critique and an annotated
bibliography, Statistical Science 1:114-148. Satopää VA et al. (2014) Combining multiple
probability predictions using a simple logit model, International Journal of Forecasting
30:344-356. Fuller WA (1987) Measurement Error Models, Wiley.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

#: Days since start that stand for "never falls": beyond every holdout in the record.
NEVER = 1.0e6
#: Points across a soft boundary (a ramp); cells between them approximate the linear ramp.
RAMP_POINTS = 24
#: Stated and base-rate probabilities are kept inside [EPS, 1 - EPS] before taking logits.
EPS = 0.005


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Boundary:
    """A time in days since start, sharp (lo == hi) or soft: the day meant is uniform on [lo, hi]."""

    lo: float
    hi: float

    def before(self, t: np.ndarray) -> np.ndarray:
        """P(T <= the day meant) for fall times t (inf allowed): 1 before lo, 0 after hi."""
        t = np.asarray(t, dtype=float)
        if self.hi <= self.lo:
            return (t <= self.lo).astype(float)
        return np.clip((self.hi - t) / (self.hi - self.lo), 0.0, 1.0)

    def points(self) -> list[float]:
        if self.hi <= self.lo:
            return [self.lo]
        return list(np.linspace(self.lo, self.hi, RAMP_POINTS + 1))


@dataclass(frozen=True)
class Event:
    """The event a claim is about, as a membership w(T) in [0, 1] of fall times T.

    ``kind``: ``falls_by`` (T <= by), ``holds_beyond`` (T > by), ``falls_eventually`` (T < inf),
    ``interval`` (start < T <= by).
    """

    kind: str
    by: Boundary | None = None
    start: Boundary | None = None

    def membership(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        if self.kind == "falls_eventually":
            return (t < NEVER).astype(float)
        if self.kind == "falls_by":
            return self.by.before(t)
        if self.kind == "holds_beyond":
            return 1.0 - self.by.before(t)
        if self.kind == "interval":
            return np.clip(self.by.before(t) - self.start.before(t), 0.0, 1.0)
        raise ValueError(f"unknown event kind {self.kind!r}")

    def points(self) -> list[float]:
        out = [] if self.by is None else self.by.points()
        return out + ([] if self.start is None else self.start.points())

    def last_day(self) -> float:
        """The last day on which the event can still change: after it, it is decided."""
        if self.kind == "falls_eventually":
            return np.inf
        return max(b.hi for b in (self.by, self.start) if b is not None)

    def describe(self) -> str:
        def span(b: Boundary) -> str:
            return f"{b.lo:.0f}" if b.hi <= b.lo else f"{b.lo:.0f}-{b.hi:.0f}"

        if self.kind == "falls_eventually":
            return "falls at all (before another end)"
        if self.kind == "falls_by":
            return f"falls by day {span(self.by)}"
        if self.kind == "holds_beyond":
            return f"still holds after day {span(self.by)}"
        return f"falls between day {span(self.start)} and day {span(self.by)}"


class BaseRate:
    """The reference class's law of the fall time (days since start), with other ends as
    competing events: the Aalen–Johansen cumulative incidence of falling (lifelines), given that
    the holdout still stood on a day t."""

    def __init__(self, durations, outcomes, *, seed: int = 0) -> None:
        import pandas as pd

        from forecast.baselines import aj_curves, competing_codes

        durations = np.asarray(durations, dtype=float)
        codes = competing_codes(pd.Series(list(outcomes)))
        self.cif, self.s_any = aj_curves(durations, codes, seed=seed)
        self.cif_end = float(self.cif(np.array([durations.max() + 1.0]))[0])

    @classmethod
    def from_dataset(cls, dataset, *, exclude_cases=(), seed: int = 0) -> BaseRate:
        frame = dataset.frame
        keep = ~frame["case_id"].isin(list(exclude_cases)) & frame["duration_days"].notna()
        return cls(frame.loc[keep, "duration_days"], frame.loc[keep, "outcome"], seed=seed)

    def cell_probabilities(self, edges: np.ndarray, t: float) -> np.ndarray:
        """P(T in (edges[i], edges[i + 1]] | standing at day t) for edges from t to inf; the
        last cell (from the last finite edge) holds the falls after it and the never-falls."""
        edges = np.asarray(edges, dtype=float)
        s = float(self.s_any(np.array([t]))[0])
        if s <= 0:  # beyond everything the class has seen: nothing to read off it
            out = np.zeros(edges.size - 1)
            out[-1] = 1.0
            return out
        finite = np.where(np.isinf(edges), np.nan, np.maximum(edges, t))
        c = self.cif(np.nan_to_num(finite, nan=0.0))
        probs = np.diff(np.where(np.isinf(edges), np.nan, c)) / s
        probs[-1] = 1.0 - np.nansum(probs[:-1])  # the rest: later falls and never
        return np.clip(probs, 0.0, 1.0)

    def probability(self, event: Event, t: float) -> float:
        """pi_B: the base rate of ``event`` for a holdout still standing at day ``t``."""
        edges, mids = cells([event], t)
        return float(self.cell_probabilities(edges, t) @ event.membership(mids))


def cells(events: list[Event], t0: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges (days since start) from ``t0`` through every boundary point, NEVER and inf,
    and a representative fall time in each cell (its midpoint; inf for the never cell)."""
    inner = sorted({p for e in events for p in e.points() if t0 < p < NEVER})
    edges = np.array([t0, *inner, NEVER, np.inf])
    mids = np.append((edges[:-2] + edges[1:-1]) / 2, np.inf)
    return edges, mids


@dataclass(frozen=True)
class Weighed:
    """One claim as evidence: its event, stated p, base rate pi, calibration beta, reliability
    lambda, the condition's probability a (1 if unconditional), its source group's size, and, for
    a conditional claim, log Z = log E_ref[exp(b w(T))]."""

    label: str
    event: Event
    p: float
    pi: float
    beta: float
    reliability: float
    condition: float = 1.0
    group_size: int = 1
    stated_day: float = 0.0
    log_z: float = 0.0

    @property
    def log_bf(self) -> float:
        """b = beta * lambda * (logit p - logit pi) / group size."""
        return float(self.beta * self.reliability * (logit(self.p) - logit(self.pi))
                     / self.group_size)

    def log_likelihood(self, t: np.ndarray) -> np.ndarray:
        """log L(T) at fall times ``t`` (inf: never falls)."""
        term = self.log_bf * self.event.membership(t)
        if self.condition >= 1.0:
            return term
        return np.log(self.condition * np.exp(term - self.log_z) + (1.0 - self.condition))


def weigh(label: str, event: Event, p: float, logit_var: float, stated_day: float, beta: float,
          base: BaseRate, signal_var: float, *, condition: float = 1.0, group_size: int = 1
          ) -> Weighed:
    """A claim as evidence: its base rate read off ``base`` on the day it was stated."""
    pi = base.probability(event, stated_day)
    w = Weighed(label=label, event=event, p=float(p), pi=pi, beta=float(beta),
                reliability=reliability(logit_var, signal_var), condition=float(condition),
                group_size=int(group_size), stated_day=float(stated_day))
    if condition < 1.0:
        e, m = cells([event], stated_day)
        z = float(base.cell_probabilities(e, stated_day) @ np.exp(w.log_bf * event.membership(m)))
        w = replace(w, log_z=float(np.log(z)))
    return w


def reliability(logit_var: float, signal_var: float) -> float:
    """lambda = V / (V + s^2): 1 for a number, less for a vaguer phrase."""
    return float(signal_var / (signal_var + max(logit_var, 0.0)))


def group_sizes(groups: list[str | None]) -> list[int]:
    """How many of the claims share each claim's source group (1 for a claim without one)."""
    counts = Counter(g for g in groups if g)
    return [counts[g] if g else 1 for g in groups]


def cell_log_weights(weighed: list[Weighed], t0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The claims' joint likelihood on cells of T for a holdout standing at ``t0``: edges, cell
    midpoints and the sum of the claims' log L (what :func:`forecast.elicit.combine.combine`
    applies; a sum, so the order of the claims does not matter)."""
    edges, mids = cells([w.event for w in weighed], t0)
    lw = np.zeros(mids.size)
    for w in weighed:
        lw += w.log_likelihood(mids)
    return edges, mids, lw


__all__ = ["NEVER", "BaseRate", "Boundary", "Event", "Weighed", "cell_log_weights", "cells",
           "group_sizes", "logit", "reliability", "weigh"]
