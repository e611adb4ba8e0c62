"""The experts-only baseline: claims applied to a base-rate curve instead of a model."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.elicit.claims import Probability, ReadClaim
from forecast.elicit.combine import claims_on_curve

DAYS = np.arange(0.0, 2001.0)
CDF = 1 - np.exp(-DAYS / 200.0)  # exponential, mean 200 days


def _claim(p: float, hi: float, *, weight: float = 1.0, var: float = 0.0, sid: str = "s1") -> ReadClaim:
    return ReadClaim(label=f"{sid}.c", statement_id=sid, kind="falls_by", weight=weight, reading="test",
                     lo=0.0, hi=hi, prob=Probability(p, var, "test"))


def test_a_certain_point_claim_sets_the_probability_and_keeps_the_shape():
    held = 10.0
    out = claims_on_curve(DAYS, CDF, [_claim(0.8, held + 30)], held)
    assert out[30] == pytest.approx(0.8, abs=1e-12)
    # inside each cell the base curve's shape is kept: conditional CDFs are unchanged
    np.testing.assert_allclose(out[:31] / out[30], CDF[:31] / CDF[30], atol=1e-12)
    tail_new = (out[31:] - out[30]) / (1 - out[30])
    tail_old = (CDF[31:] - CDF[30]) / (1 - CDF[30])
    np.testing.assert_allclose(tail_new, tail_old, atol=1e-9)


def test_weight_zero_leaves_the_curve_as_it_was():
    out = claims_on_curve(DAYS, CDF, [_claim(0.9, 30.0, weight=0.0)], 0.0)
    np.testing.assert_allclose(out, CDF, atol=1e-12)


def test_a_vague_claim_moves_less_than_a_point_claim():
    q30 = CDF[30]
    point = claims_on_curve(DAYS, CDF, [_claim(0.7, 30.0)], 0.0)[30]
    vague = claims_on_curve(DAYS, CDF, [_claim(0.7, 30.0, var=0.04)], 0.0)[30]
    assert q30 < vague < point
