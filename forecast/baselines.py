"""Baselines that every model is scored against: the reference class's own base rates.

- ``climatology_km``: the Kaplan–Meier curve of the reference class, conditioned on having held
  until as_of, S(t0 + d) / S(t0). Other ends (relief, attacker withdrawal, war end) are treated as
  censoring, so it answers "how long if nothing else intervenes" and overstates falling.
- ``climatology_aj``: the Aalen–Johansen cumulative incidence of *falling*, with the other ends
  as competing events, conditioned on no end of either kind by t0:
  P(falls in (t0, t0 + d] | still standing at t0) = (CIF(t0 + d) - CIF(t0)) / S_any(t0).
  This is the fair base rate under competing ends: its CDF stays below 1 by the share that
  ends otherwise.

Both come from lifelines (KaplanMeierFitter, AalenJohansenFitter). Their step curves are made
continuous by linear interpolation between the estimator's change points (so a fall between two
past falls has a density), and both are tabulated on the forecast grid as a
:class:`~forecast.predictive.Predictive`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecast.outcomes import FALL_TYPES, OTHER_END_TYPES
from forecast.predictive import Predictive, standard_grid

BASELINES: tuple[str, ...] = ("climatology_km", "climatology_aj")
#: AalenJohansenFitter breaks tied times with a seeded jitter of this size (days).
_AJ_JITTER = 1e-4


def competing_codes(outcomes: pd.Series) -> np.ndarray:
    """0 = still standing (censored), 1 = fell, 2 = ended otherwise."""
    out = np.zeros(len(outcomes), dtype=int)
    values = outcomes.astype(str).to_numpy()
    out[np.isin(values, FALL_TYPES)] = 1
    out[np.isin(values, OTHER_END_TYPES)] = 2
    return out


def _linear_curve(times: np.ndarray, values: np.ndarray, at: np.ndarray, start: float) -> np.ndarray:
    """A step function (value ``values[k]`` from ``times[k]`` on, ``start`` at time 0) with its
    change points joined by straight lines, evaluated at ``at``; flat beyond the last one."""
    t = np.concatenate([[0.0], np.asarray(times, dtype=float)])
    v = np.concatenate([[start], np.asarray(values, dtype=float)])
    keep = np.concatenate([np.diff(t) > 0, [True]])  # at a repeated time keep the later value
    return np.interp(at, t[keep], v[keep])


def km_curve(durations: np.ndarray, fell: np.ndarray):
    """The Kaplan–Meier survival of falling (other ends censored) as a function of days since
    start, linear between change points."""
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter().fit(durations, event_observed=fell)
    sf = km.survival_function_
    times, values = sf.index.to_numpy(dtype=float), sf.iloc[:, 0].to_numpy(dtype=float)
    return lambda t: _linear_curve(times, values, np.asarray(t, dtype=float), 1.0)


def aj_curves(durations: np.ndarray, codes: np.ndarray, *, seed: int = 0):
    """The Aalen–Johansen cumulative incidence of falling and the all-cause survival (Kaplan–
    Meier of any end), as functions of days since start, linear between change points."""
    from forecast.curve_cache import stored_curves

    durations = np.asarray(durations, dtype=float)
    codes = np.asarray(codes)

    def fit() -> dict[str, np.ndarray]:
        from lifelines import AalenJohansenFitter, KaplanMeierFitter

        anyend = KaplanMeierFitter().fit(durations, event_observed=codes > 0).survival_function_
        out = {"s_t": anyend.index.to_numpy(dtype=float), "s_v": anyend.iloc[:, 0].to_numpy(dtype=float)}
        if (codes == 1).any():
            aj = AalenJohansenFitter(jitter_level=_AJ_JITTER, seed=seed, calculate_variance=False)
            with warnings.catch_warnings():  # "tied event times were detected": jittered, as documented
                warnings.simplefilter("ignore")
                aj.fit(durations, codes, event_of_interest=1)
            cif = aj.cumulative_density_
            out |= {"c_t": cif.index.to_numpy(dtype=float), "c_v": cif.iloc[:, 0].to_numpy(dtype=float)}
        return out

    required = ("s_t", "s_v", "c_t", "c_v") if (codes == 1).any() else ("s_t", "s_v")
    z = stored_curves("aj", (durations, codes, _AJ_JITTER, seed), fit, required=required)
    s_t, s_v = z["s_t"], z["s_v"]
    if "c_t" not in z:
        return (lambda t: np.zeros_like(np.asarray(t, dtype=float)),
                lambda t: _linear_curve(s_t, s_v, np.asarray(t, dtype=float), 1.0))
    c_t, c_v = z["c_t"], z["c_v"]
    return (lambda t: _linear_curve(c_t, c_v, np.asarray(t, dtype=float), 0.0),
            lambda t: _linear_curve(s_t, s_v, np.asarray(t, dtype=float), 1.0))


def climatology(kind: str, durations: np.ndarray, outcomes: pd.Series, held_days: float, *,
                grid: np.ndarray | None = None, seed: int = 0) -> Predictive:
    """The base-rate forecast of a case that has held ``held_days``, from a reference class
    given as durations (days) and outcomes (dataset outcome names; ``ongoing`` = censored).

    Parameters
    ----------
    kind : {"climatology_km", "climatology_aj"}
    grid : array, optional
        Days after as_of (default :func:`~forecast.predictive.standard_grid`).
    """
    grid = standard_grid() if grid is None else np.asarray(grid, dtype=float)
    durations = np.asarray(durations, dtype=float)
    codes = competing_codes(outcomes)
    if kind == "climatology_km":
        surv = km_curve(durations, codes == 1)
        s0 = float(surv(held_days))
        if s0 <= 0:  # beyond everything the class has seen fall: no basis for any fall
            return Predictive(grid, np.zeros_like(grid))
        return Predictive.from_survival(grid, np.clip(surv(held_days + grid) / s0, 0.0, 1.0))
    if kind == "climatology_aj":
        cif, s_any = aj_curves(durations, codes, seed=seed)
        s0 = float(s_any(held_days))
        if s0 <= 0:
            return Predictive(grid, np.zeros_like(grid))
        cdf = (cif(held_days + grid) - cif(held_days)) / s0
        cdf[0] = 0.0
        return Predictive(grid, np.clip(cdf, 0.0, 1.0))
    raise ValueError(f"unknown baseline '{kind}' (known: {', '.join(BASELINES)})")


def climatologies(durations: np.ndarray, outcomes: pd.Series, held_days: float, *,
                  grid: np.ndarray | None = None, seed: int = 0) -> dict[str, Predictive]:
    """Every baseline of :data:`BASELINES` for a case that has held ``held_days``."""
    return {name: climatology(name, durations, outcomes, held_days, grid=grid, seed=seed)
            for name in BASELINES}
