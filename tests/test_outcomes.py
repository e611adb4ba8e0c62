"""The one rule that resolves outcomes (competing ends), on hand-made cases."""

from __future__ import annotations

import math
from datetime import date

import pytest

from forecast.errors import InputError
from forecast.outcomes import resolve

AS_OF = date(2021, 8, 20)
TAU = date(2030, 1, 1)


def test_a_fall_resolves_every_horizon():
    r = resolve(AS_OF, outcome="fell", end_date=date(2021, 9, 6), scoring_date=TAU)
    assert r.status == "fell" and r.fall_after == 17
    assert [r.falls_within(h) for h in (7, 17, 30, 365)] == [False, True, True, True]
    assert r.observed_fall_time(365) == 17


@pytest.mark.parametrize("kind", ["relieved", "attacker_withdrew", "war_ended"])
def test_another_end_means_it_did_not_fall(kind):
    r = resolve(AS_OF, outcome=kind, end_date=date(2021, 8, 25), scoring_date=TAU)
    assert r.status == "ended_otherwise"
    assert r.fall_after == math.inf and r.end_after == 5
    # relieved after 5 days: "falls within 30 days" is a no, not unresolved
    assert [r.falls_within(h) for h in (7, 30, 365)] == [False, False, False]
    assert r.observed_fall_time(365) == 365


def test_still_standing_resolves_only_the_horizons_passed():
    r = resolve(AS_OF, outcome="standing", end_date=date(2021, 9, 29), scoring_date=TAU)
    assert r.status == "standing" and r.known_until == 40
    assert [r.falls_within(h) for h in (7, 30, 90)] == [False, False, None]
    assert r.observed_fall_time(365) == 40


def test_an_end_after_the_scoring_date_is_not_yet_known():
    r = resolve(AS_OF, outcome="fell", end_date=date(2021, 9, 6), scoring_date=date(2021, 8, 30))
    assert r.status == "standing" and r.known_until == 10
    assert r.falls_within(7) is False and r.falls_within(30) is None


def test_no_outcome_is_standing_at_the_scoring_date():
    r = resolve(AS_OF, outcome=None, end_date=None, scoring_date=date(2021, 10, 19))
    assert r.status == "standing" and r.known_until == 60


def test_bad_outcome_input_is_refused():
    with pytest.raises(InputError, match="not one of"):
        resolve(AS_OF, outcome="vanished", end_date=date(2021, 9, 6), scoring_date=TAU)
    with pytest.raises(InputError, match="before the forecast's as_of"):
        resolve(AS_OF, outcome="fell", end_date=date(2021, 8, 1), scoring_date=TAU)
