"""The one path from a case to a record: the same seed gives the same record and scores."""

from __future__ import annotations

from datetime import date

import numpy as np
from conftest import PANJSHIR

from forecast.cases import load_case
from forecast.outcomes import resolve
from forecast.score import score_table
from forecast.workflow import run_case


def test_same_seed_gives_identical_records_and_scores(weibull_posterior, synthetic_dataset, seed):
    case = load_case(PANJSHIR)
    a = run_case(case, synthetic_dataset, posterior=weibull_posterior, seed=seed,
                 use_statements=False, allow_unreliable=True)
    b = run_case(case, synthetic_dataset, posterior=weibull_posterior, seed=seed,
                 use_statements=False, allow_unreliable=True)
    ra, rb = a.record(), b.record()
    assert ra.uid() == rb.uid()
    np.testing.assert_array_equal(ra.predictive.cdf, rb.predictive.cdf)
    res = resolve(case.as_of, outcome="fell", end_date=date(2021, 9, 6), scoring_date=date(2025, 1, 1))
    rows = [({"model": r.model}, r.predictive, res) for r in (ra, *a.baseline_records())]
    first, second = score_table(rows, seed=seed), score_table(rows, seed=seed)
    assert first.equals(second)
    assert set(first["model"]) == {"weibull", "climatology_km", "climatology_aj"}


def test_the_record_is_the_forecast_it_came_from(weibull_posterior, synthetic_dataset, seed):
    case = load_case(PANJSHIR)
    run = run_case(case, synthetic_dataset, posterior=weibull_posterior, seed=seed,
                   use_statements=False, allow_unreliable=True)
    rec = run.record()
    for h in (7, 30, 90, 365):  # the grid is daily to a year: the record's CDF is the forecast's
        assert abs(rec.predictive.p_fall_within(h) - run.forecast.p_fall_within(h)) < 1e-9
    assert rec.summary == run.forecast.summary()
    assert (rec.case_id, rec.as_of, rec.kind) == (case.id, case.as_of, "forecast")
