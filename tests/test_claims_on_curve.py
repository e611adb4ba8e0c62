"""The experts-only baseline: the claims' likelihood applied to a base-rate curve instead of a
model, checked against closed forms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from forecast.elicit.combine import claims_on_curve
from forecast.elicit.likelihood import Boundary, Event, Weighed, logit

DAYS = np.arange(0.0, 2001.0)
CDF = 1 - np.exp(-DAYS / 200.0)  # exponential, mean 200 days


def _claim(p: float, day: float, *, pi: float = 0.3, beta: float = 1.0, rel: float = 1.0,
           label: str = "c", lo: float | None = None) -> Weighed:
    by = Boundary(day if lo is None else lo, day)
    return Weighed(label=label, event=Event("falls_by", by), p=p, pi=pi, beta=beta, reliability=rel)


def odds(p):
    return p / (1 - p)


def test_a_claim_shifts_the_odds_by_its_bayes_factor_and_keeps_the_shape():
    held = 10.0
    w = _claim(0.8, held + 30)
    out = claims_on_curve(DAYS, CDF, [w], held)
    assert np.log(odds(out[30]) / odds(CDF[30])) == pytest.approx(logit(0.8) - logit(0.3), abs=1e-9)
    # inside each cell the base curve's shape is kept: conditional CDFs are unchanged
    np.testing.assert_allclose(out[:31] / out[30], CDF[:31] / CDF[30], atol=1e-12)
    tail_new = (out[31:] - out[30]) / (1 - out[30])
    tail_old = (CDF[31:] - CDF[30]) / (1 - CDF[30])
    np.testing.assert_allclose(tail_new, tail_old, atol=1e-9)


def test_beta_zero_or_a_claim_at_the_base_rate_leaves_the_curve_as_it_was():
    np.testing.assert_allclose(claims_on_curve(DAYS, CDF, [_claim(0.9, 30.0, beta=0.0)], 0.0), CDF,
                               atol=1e-12)
    np.testing.assert_allclose(claims_on_curve(DAYS, CDF, [_claim(0.3, 30.0, pi=0.3)], 0.0), CDF,
                               atol=1e-12)


def test_a_less_reliable_claim_moves_less():
    point = claims_on_curve(DAYS, CDF, [_claim(0.7, 30.0)], 0.0)[30]
    vague = claims_on_curve(DAYS, CDF, [_claim(0.7, 30.0, rel=0.4)], 0.0)[30]
    assert CDF[30] < vague < point


def test_claims_in_any_order_give_the_same_curve():
    claims = [_claim(0.7, 30.0, label="a"), _claim(0.2, 300.0, pi=0.6, label="b"),
              _claim(0.5, 90.0, lo=60.0, label="c")]
    curves = [claims_on_curve(DAYS, CDF, list(order), 0.0) for order in itertools.permutations(claims)]
    for c in curves[1:]:
        np.testing.assert_allclose(c, curves[0], atol=1e-13)


def test_an_improper_curve_keeps_its_never_mass_outside_a_falls_by_window():
    """A base rate that never reaches 1 (other ends): a falls_by claim scales the mass inside its
    window against everything else, the never-falls share included."""
    improper = 0.6 * CDF
    out = claims_on_curve(DAYS, improper, [_claim(0.8, 30.0)], 0.0)
    assert np.log(odds(out[30]) / odds(improper[30])) == pytest.approx(logit(0.8) - logit(0.3),
                                                                       abs=1e-9)
    # outside the window, the later falls and the never mass keep their ratio
    later, never = improper[-1] - improper[30], 1 - improper[-1]
    later_new, never_new = out[-1] - out[30], 1 - out[-1]
    assert later_new / never_new == pytest.approx(later / never, rel=1e-9)
