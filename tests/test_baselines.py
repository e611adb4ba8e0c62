"""Climatologies: Kaplan-Meier and Aalen-Johansen base rates, against answers known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.baselines import climatology

# four holdouts: fell at 10 and 30 days, relieved at 20 and 40 days
DUR = np.array([10.0, 20.0, 30.0, 40.0])
OUT = pd.Series(["fell", "relieved", "fell", "relieved"])
GRID = np.arange(0.0, 201.0)


def test_aalen_johansen_counts_relief_as_not_falling():
    # standing after day 10: three holdouts (20 relieved, 30 fell, 40 relieved); one of three
    # falls (curves are linear between change points; at change points they are exact)
    p = climatology("climatology_aj", DUR, OUT, 10.0, grid=GRID)
    assert p.p_fall_within(20) == pytest.approx(1 / 3, abs=1e-3)   # day 30
    assert p.p_fall_within(150) == pytest.approx(1 / 3, abs=1e-3)
    # from the start: half of them fell, whatever the horizon beyond the last end
    p0 = climatology("climatology_aj", DUR, OUT, 0.0, grid=GRID)
    assert p0.p_fall_within(100) == pytest.approx(0.5, abs=1e-3)


def test_kaplan_meier_treats_relief_as_censoring_and_overstates_falling():
    # KM: S(10) = 3/4; at 30, 2 at risk, 1 falls: S = 3/8. Given standing at 15 (S = 3/4):
    # P(fall by 30) = 1 - (3/8)/(3/4) = 1/2 > the 1/3 that actually fell
    p = climatology("climatology_km", DUR, OUT, 15.0, grid=GRID)
    assert p.p_fall_within(15) == pytest.approx(0.5, abs=1e-9)
    aj = climatology("climatology_aj", DUR, OUT, 10.0, grid=GRID)
    assert p.p_fall_within(150) > aj.p_fall_within(150) + 0.1


def test_kaplan_meier_matches_lifelines_at_its_change_points():
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(3)
    dur = np.round(rng.exponential(100, 60)) + 1
    out = pd.Series(rng.choice(["fell", "relieved", "war_ended", "ongoing"], 60, p=[.6, .2, .1, .1]))
    km = KaplanMeierFitter().fit(dur, event_observed=out.isin(["fell"]))
    p = climatology("climatology_km", dur, out, 0.0, grid=np.arange(0.0, 2000.0))
    times = km.survival_function_.index.to_numpy()
    times = times[(times > 0) & (times < 1999)]
    expected = 1 - km.survival_function_at_times(times).to_numpy()
    np.testing.assert_allclose(p.cdf_at(times), expected, atol=1e-12)


def test_a_class_with_no_falls_gives_no_chance_of_falling():
    p = climatology("climatology_aj", DUR, pd.Series(["relieved"] * 4), 0.0, grid=GRID)
    assert p.cdf.max() == 0.0


def test_unknown_baseline_is_refused():
    with pytest.raises(ValueError, match="unknown baseline"):
        climatology("persistence", DUR, OUT, 0.0)
