"""Plain words for analysts, and the reference class's own limits said out loud."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import PANJSHIR

from forecast.cases import load_case
from forecast.describe import in_words, reference_gap
from forecast.errors import InputError
from forecast.workflow import prepare_reference, run_case


@pytest.mark.parametrize(("p", "words"), [(0.43, "about 4 in 10"), (0.02, "less than 1 in 20"),
                                          (0.97, "more than 19 in 20"), (0.06, "about 1 in 10"),
                                          (0.5, "about 5 in 10")])
def test_probabilities_in_words(p, words):
    assert in_words(p) == words


def test_a_gap_in_the_reference_class_is_found():
    dur = np.array([10, 40, 300, 870, 1200.0])
    ev = np.array([1, 1, 1, 1, 0])
    assert reference_gap(dur, ev, 387) == (300.0, 870.0)   # nothing fell between 387 and 752
    assert reference_gap(dur, ev, 20) is None               # the next fall (40) is within a year
    assert reference_gap(dur, ev, 900) == (870.0, float("inf"))


def test_a_case_that_is_a_reference_row_is_left_out_and_said(synthetic_dataset, weibull_posterior, seed):
    frame = synthetic_dataset.frame
    row = frame.iloc[3]
    case = replace(load_case(PANJSHIR), id=str(row["case_id"]))
    kept, left = prepare_reference(synthetic_dataset, case)
    assert left == [row["case_id"]] and len(kept) == len(synthetic_dataset) - 1
    assert row["case_id"] not in set(kept.frame["case_id"])
    # the same holdout under another id: same name and start date
    twin = replace(load_case(PANJSHIR), id="other", name=str(row["name"]),
                   start_date=row["start_date"].date(), as_of=row["start_date"].date())
    assert prepare_reference(synthetic_dataset, twin)[1] == [row["case_id"]]
    # by hand
    assert prepare_reference(synthetic_dataset, load_case(PANJSHIR), exclude=["sim_001"])[1] == ["sim_001"]
    with pytest.raises(InputError, match="not a case_id"):
        prepare_reference(synthetic_dataset, load_case(PANJSHIR), exclude=["nope"])
    run = run_case(load_case(PANJSHIR), synthetic_dataset, posterior=weibull_posterior, seed=seed,
                   use_statements=False, allow_unreliable=True, left_out=left)
    assert any("left out of the reference class" in f and row["case_id"] in f for f in run.forecast.flags)


def test_no_row_left_out_for_a_new_case(synthetic_dataset):
    kept, left = prepare_reference(synthetic_dataset, load_case(PANJSHIR))
    assert left == [] and kept is synthetic_dataset
