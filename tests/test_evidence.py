"""Statements as evidence: the properties the combination must have (real posterior draws)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml
from conftest import PANJSHIR, small_sampler

from forecast.cases import parse_case
from forecast.elicit.update import update
from forecast.errors import InputError
from forecast.predict import predict

NO_LEXICON = (None, None, {"independent_analyst": 0.6, "third_party_government": 0.3,
                           "party_to_conflict": 0.15, "state_affiliated_expert": 0.3,
                           "journalist": 0.4, "other": 0.3})
AS_OF_HELD = 5  # Panjshir as of 2021-08-20: held 5 days


def case_with(*claim_sets, weight=1.0):
    """The Panjshir case with its statements replaced by ones carrying these claims."""
    doc = yaml.safe_load(PANJSHIR.read_text())
    template = doc["statements"][1]
    doc["statements"] = []
    for i, claims in enumerate(claim_sets):
        st = copy.deepcopy(template)
        st["id"] = f"s{i}"
        st["weight"] = weight
        st["claims"] = claims
        doc["statements"].append(st)
    return parse_case(doc, "test-case.yaml")


def falls_by(days_from_start, p, **extra):
    return {"kind": "falls_by", "by": {"days_from_start": days_from_start},
            "probability": p if isinstance(p, dict) else {"value": p}, **extra}


def total_prob(fc, days_from_start):
    return fc.p_fall_within(days_from_start - AS_OF_HELD)


def test_weight_zero_reproduces_the_indicator_forecast_exactly(weibull_posterior, synthetic_dataset, seed):
    case = case_with([falls_by(40, 0.9)], [falls_by(300, 0.2)], weight=0.0)
    ev = update(weibull_posterior, case, synthetic_dataset, seed=seed, lexicons=NO_LEXICON)
    base = predict(weibull_posterior, case, seed=seed)
    assert ev.method == "none"
    np.testing.assert_array_equal(ev.forecast.weights, base.weights)
    np.testing.assert_array_equal(ev.forecast.remaining, base.remaining)
    assert ev.forecast.summary() == base.summary()


def test_weight_one_point_claim_is_honoured(weibull_posterior, synthetic_dataset, seed):
    base = predict(weibull_posterior, case_with(), seed=seed)
    q = total_prob(base, 60)
    p = 0.5 if abs(q - 0.5) > 0.2 else 0.85
    ev = update(weibull_posterior, case_with([falls_by(60, p)]), synthetic_dataset, seed=seed,
                lexicons=NO_LEXICON)
    assert ev.method == "importance"
    assert abs(total_prob(ev.forecast, 60) - p) < 0.01


def test_wide_claim_moves_less_than_narrow_claim(weibull_posterior, synthetic_dataset, seed):
    base = total_prob(predict(weibull_posterior, case_with(), seed=seed), 60)
    # same mean 0.8, one as wide as a vague phrase, one as narrow as a firm one
    wide = update(weibull_posterior, case_with([falls_by(60, {"beta": [2.4, 0.6]})]),
                  synthetic_dataset, seed=seed, lexicons=NO_LEXICON)
    narrow = update(weibull_posterior, case_with([falls_by(60, {"beta": [40, 10]})]),
                    synthetic_dataset, seed=seed, lexicons=NO_LEXICON)
    move_wide = total_prob(wide.forecast, 60) - base
    move_narrow = total_prob(narrow.forecast, 60) - base
    assert 0 < move_wide < move_narrow


def test_conditional_claim_gives_at_least_the_joint_probability(weibull_posterior,
                                                                synthetic_dataset, seed):
    p1, p2 = 0.4, 0.9
    claims = [{"id": "attack", "kind": "event", "event": "they attack", "probability": {"value": p1}},
              falls_by(40, p2, given="attack")]
    ev = update(weibull_posterior, case_with(claims), synthetic_dataset, seed=seed,
                lexicons=NO_LEXICON)
    assert total_prob(ev.forecast, 40) >= p1 * p2 - 0.01


def test_two_agreeing_claims_move_further_than_one(weibull_posterior, synthetic_dataset, seed):
    claim = falls_by(60, {"beta": [8, 2]})
    base = total_prob(predict(weibull_posterior, case_with(), seed=seed), 60)
    one = update(weibull_posterior, case_with([claim]), synthetic_dataset, seed=seed,
                 lexicons=NO_LEXICON)
    two = update(weibull_posterior, case_with([claim], [claim]), synthetic_dataset, seed=seed,
                 lexicons=NO_LEXICON)
    assert base < total_prob(one.forecast, 60) < total_prob(two.forecast, 60) <= 0.8 + 1e-9


def test_decomposition_has_every_stage(weibull_posterior, synthetic_dataset, seed):
    case = case_with([falls_by(60, 0.7)], [falls_by(200, 0.9)], weight=0.5)
    ev = update(weibull_posterior, case, synthetic_dataset, seed=seed, lexicons=NO_LEXICON)
    names = [row["stage"] for row in ev.decomposition]
    assert names[0].startswith("reference class") and names[1] == "+ indicators"
    assert names[2].startswith("+ s0") and names[3].startswith("+ s1") and names[-1] == "final"
    assert ev.decomposition[-2]["p_fall_within"] == ev.decomposition[-1]["p_fall_within"]
    record = ev.record()
    assert {"claims", "pareto_k", "decomposition"} <= set(record)
    assert record["claims"][0]["weight"] == 0.5 and "reading" in record["claims"][0]


def test_effect_claim_shifts_the_forecast_in_its_direction(weibull_posterior, synthetic_dataset,
                                                           seed):
    base = predict(weibull_posterior, case_with(), seed=seed).quantile(0.5)
    longer = [{"kind": "effect", "indicator": "terrain", "level": "mountain",
               "direction": "longer", "strength": "strong"}]
    ev = update(weibull_posterior, case_with(longer), synthetic_dataset, seed=seed,
                lexicons=NO_LEXICON)
    assert ev.forecast.quantile(0.5) > base


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ([falls_by(60, 1.5)], "not a probability in [0, 1]"),
        ([falls_by(60, 0.5, given="attack")], "a conditional needs its condition"),
        ([{"kind": "effect", "indicator": "weather", "direction": "longer"}],
         "'weather' is not an indicator of the model"),
        ([{"kind": "guess"}], "'guess' is not one of"),
    ],
)
def test_bad_claims_name_the_statement(weibull_posterior, synthetic_dataset, claims, message):
    with pytest.raises(InputError) as info:
        update(weibull_posterior, case_with(claims), synthetic_dataset, lexicons=NO_LEXICON)
    assert "statement 's0'" in str(info.value) and message in str(info.value)


def test_sharp_conflict_falls_back_to_mcmc_which_meets_the_claim(
        weibull_posterior, synthetic_dataset, seed):
    case = case_with([falls_by(7, 0.9)])  # the model gives falling within 2 more days almost no chance
    ev = update(weibull_posterior, case, synthetic_dataset, seed=seed, lexicons=NO_LEXICON,
                sampler=small_sampler())
    assert ev.method == "mcmc"
    got = total_prob(ev.forecast, 7)
    assert abs(got - 0.9) < 0.04


def test_mcmc_fallback_agrees_with_importance_sampling_where_that_is_reliable(
        weibull_posterior, synthetic_dataset, seed):
    """Two independent ways to the same target: reweighting the stored draws (exact cell
    arithmetic, k-hat small) and sampling the model with the claims in it."""
    from forecast.elicit.claims import read_claims
    from forecast.elicit.combine import combine, reweighted
    from forecast.elicit.fallback import mcmc_forecast
    from forecast.elicit.update import context
    from models.design import from_dataset

    case = case_with([falls_by(60, 0.5)])
    base = predict(weibull_posterior, case, seed=seed)
    claims, _ = read_claims(context(case, synthetic_dataset, weibull_posterior, NO_LEXICON))
    comb = combine(base, claims)
    assert comb.pareto_k < 0.7
    importance = reweighted(base, comb)
    mcmc = mcmc_forecast(weibull_posterior.model, from_dataset(synthetic_dataset), case, base,
                         comb, claims, seed=seed + 1, sampler=small_sampler())
    for h in (30, 90, 365):
        assert mcmc.p_fall_within(h) == pytest.approx(importance.p_fall_within(h), abs=0.04), h
    # and both differ from the forecast without the claim where the claim speaks
    assert abs(importance.p_fall_within(60) - base.p_fall_within(60)) > 0.05


def test_realistic_possibility_moves_less_than_almost_certain(weibull_posterior, synthetic_dataset,
                                                              seed):
    from forecast.elicit.lexicon import load_probability_lexicon, load_role_weights, load_time_lexicon

    lex = (load_probability_lexicon(), load_time_lexicon(), load_role_weights())
    base = total_prob(predict(weibull_posterior, case_with(), seed=seed), 40)
    assert base < 0.4  # both phrases push the same way, upwards
    moves = {}
    for phrase in ("realistic possibility", "almost certain"):
        ev = update(weibull_posterior, case_with([falls_by(40, {"phrase": phrase})], weight=1.0),
                    synthetic_dataset, seed=seed, lexicons=lex)
        moves[phrase] = total_prob(ev.forecast, 40) - base
    assert 0 < moves["realistic possibility"] < moves["almost certain"]
