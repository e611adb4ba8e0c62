"""A named period in a case file's claim ("before winter") is dated from the statement date."""

from __future__ import annotations

from datetime import date

import yaml
from conftest import PANJSHIR

from forecast.cases import parse_case
from forecast.data import load_holdouts
from forecast.elicit.update import check_claims


def _case(said_on: date):
    doc = yaml.safe_load(PANJSHIR.read_text())
    doc["statements"] = [{
        "id": "w", "quote": "The valley will likely fall before winter.", "speaker": "X",
        "role": "journalist", "date": said_on, "source": "test",
        "claims": [{"kind": "falls_by", "by": {"phrase": "before winter"},
                    "probability": {"phrase": "likely"}}],
    }]
    return parse_case(doc, "test case")


def test_before_winter_is_the_next_first_of_december_after_the_statement():
    (claim,) = check_claims(_case(date(2021, 8, 20)), load_holdouts())
    assert claim.hi == (date(2021, 12, 1) - date(2021, 8, 15)).days
    assert "2021-12-01" in claim.reading
