"""Statements as evidence: the properties the combination must have (real posterior draws).

Each claim is a likelihood against the base rate (forecast.elicit.likelihood). The properties
below are those the issue names; each fails on the old sequential Jeffrey/raking combination
(where the last statement dominated, a claim at the base rate still moved the forecast towards
its p, and two claims sharing a source counted twice). Closed forms: with a sharp boundary and
reliability 1, a claim multiplies the forecast's odds of its event by exactly
exp(beta (logit p - logit pi)).
"""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import yaml
from conftest import PANJSHIR, small_sampler

from forecast.cases import ROLES, parse_case
from forecast.elicit.calibration import Beta, Calibration
from forecast.elicit.likelihood import BaseRate, Boundary, Event, logit
from forecast.elicit.update import update
from forecast.errors import InputError
from forecast.predict import predict

#: Stand-in calibration: every role at beta 1 (statements override it with `weight:`).
CALIBRATION = Calibration(roles={r: Beta(1.0, 0.5, 1.5, 10) for r in ROLES}, signal_var=3.0)
LEXICON = (None, None, CALIBRATION)
AS_OF_HELD = 5  # Panjshir as of 2021-08-20: held 5 days


def case_with(*claim_sets, weight=1.0, groups=None):
    """The Panjshir case with its statements replaced by ones carrying these claims (statement
    i in source group ``groups[i]`` when given)."""
    doc = yaml.safe_load(PANJSHIR.read_text())
    template = doc["statements"][1]
    template.pop("source_group", None)
    doc["statements"] = []
    for i, claims in enumerate(claim_sets):
        st = copy.deepcopy(template)
        st["id"] = f"s{i}"
        st["weight"] = weight
        st["claims"] = claims
        if groups and groups[i]:
            st["source_group"] = groups[i]
        doc["statements"].append(st)
    return parse_case(doc, "test-case.yaml")


def falls_by(days_from_start, p, **extra):
    return {"kind": "falls_by", "by": {"days_from_start": days_from_start},
            "probability": p if isinstance(p, dict) else {"value": p}, **extra}


def total_prob(fc, days_from_start):
    return fc.p_fall_within(days_from_start - AS_OF_HELD)


def odds(p):
    return p / (1 - p)


def base_rate(dataset, days_from_start, stated_day):
    return BaseRate.from_dataset(dataset).probability(
        Event("falls_by", Boundary(days_from_start, days_from_start)), stated_day)


def run(post, dataset, seed, *claim_sets, **kw):
    return update(post, case_with(*claim_sets, **kw), dataset, seed=seed, lexicons=LEXICON)


def test_any_order_of_the_statements_gives_the_same_forecast(weibull_posterior, synthetic_dataset,
                                                             seed):
    claims = [[falls_by(40, 0.7)], [falls_by(200, 0.4)], [falls_by(90, {"beta": [6, 4]})]]
    seen = []
    for order in itertools.permutations(range(3)):
        ev = run(weibull_posterior, synthetic_dataset, seed, *[claims[i] for i in order])
        seen.append([ev.forecast.p_fall_within(h) for h in (10, 40, 100, 400)])
    np.testing.assert_allclose(seen, np.repeat(seen[:1], len(seen), axis=0), rtol=0, atol=1e-12)


def test_beta_zero_reproduces_the_indicator_forecast_exactly(weibull_posterior, synthetic_dataset,
                                                             seed):
    case = case_with([falls_by(40, 0.9)], [falls_by(300, 0.2)], weight=0.0)
    ev = update(weibull_posterior, case, synthetic_dataset, seed=seed, lexicons=LEXICON)
    base = predict(weibull_posterior, case, seed=seed)
    assert ev.method == "none"
    np.testing.assert_array_equal(ev.forecast.weights, base.weights)
    np.testing.assert_array_equal(ev.forecast.remaining, base.remaining)
    assert ev.forecast.summary() == base.summary()


def test_a_claim_at_the_base_rate_changes_nothing(weibull_posterior, synthetic_dataset, seed):
    pi = base_rate(synthetic_dataset, 60, AS_OF_HELD)
    assert 0.05 < pi < 0.95
    base = predict(weibull_posterior, case_with(), seed=seed)
    ev = run(weibull_posterior, synthetic_dataset, seed, [falls_by(60, pi)])
    assert ev.weighed[0].log_bf == pytest.approx(0.0, abs=1e-12)
    for h in (10, 55, 200):
        assert ev.forecast.p_fall_within(h) == pytest.approx(base.p_fall_within(h), abs=1e-10)
    # while the old rule (move q towards p) would have moved it: the model disagrees with pi
    assert abs(total_prob(base, 60) - pi) > 0.03


def test_a_claim_multiplies_the_odds_by_its_bayes_factor(weibull_posterior, synthetic_dataset, seed):
    """Closed form: a sharp claim with reliability 1 (a number) at beta multiplies the forecast's
    odds of its event by exp(beta (logit p - logit pi)), whatever the forecast was."""
    pi = base_rate(synthetic_dataset, 60, AS_OF_HELD)
    base = total_prob(predict(weibull_posterior, case_with(), seed=seed), 60)
    for beta, p in ((1.0, 0.8), (0.4, 0.8), (1.0, 0.1), (2.5, 0.3)):
        ev = run(weibull_posterior, synthetic_dataset, seed, [falls_by(60, p)], weight=beta)
        after = total_prob(ev.forecast, 60)
        want = beta * (logit(p) - logit(pi))
        assert np.log(odds(after) / odds(base)) == pytest.approx(float(want), abs=1e-6), (beta, p)


def test_a_vaguer_phrase_moves_less_than_a_precise_one_of_the_same_mean(weibull_posterior,
                                                                        synthetic_dataset, seed):
    base = total_prob(predict(weibull_posterior, case_with(), seed=seed), 60)
    moves = {}
    for name, spec in (("vague", {"beta": [2.4, 0.6]}), ("firm", {"beta": [40, 10]}),
                       ("number", {"value": 0.8})):
        ev = run(weibull_posterior, synthetic_dataset, seed, [falls_by(60, spec)])
        moves[name] = total_prob(ev.forecast, 60) - base
    assert 0 < moves["vague"] < moves["firm"] < moves["number"]


def test_two_independent_agreeing_claims_move_further_than_one_and_beyond_either(
        weibull_posterior, synthetic_dataset, seed):
    claim = falls_by(60, 0.8)
    base = total_prob(predict(weibull_posterior, case_with(), seed=seed), 60)
    one = total_prob(run(weibull_posterior, synthetic_dataset, seed, [claim]).forecast, 60)
    two = total_prob(run(weibull_posterior, synthetic_dataset, seed, [claim], [claim]).forecast, 60)
    assert base < one < two
    # extremizing: two agreeing speakers at beta 1 take it beyond what either said
    assert two > 0.8 and np.log(odds(two) / odds(base)) == pytest.approx(
        2 * np.log(odds(one) / odds(base)), abs=1e-6)


def test_two_claims_sharing_a_source_move_no_further_than_one(weibull_posterior,
                                                             synthetic_dataset, seed):
    claim = falls_by(60, 0.8)
    one = run(weibull_posterior, synthetic_dataset, seed, [claim]).forecast
    shared = run(weibull_posterior, synthetic_dataset, seed, [claim], [claim],
                 groups=["same report", "same report"]).forecast
    for h in (20, 55, 300):
        assert shared.p_fall_within(h) == pytest.approx(one.p_fall_within(h), abs=1e-10)


def test_a_conditional_claim_speaks_only_as_far_as_its_condition(weibull_posterior,
                                                                 synthetic_dataset, seed):
    """L = a exp(b w) / Z + (1 - a): a = 1 is the plain claim; a = 0 is no claim; in between it
    moves the forecast part of the way."""
    base = total_prob(predict(weibull_posterior, case_with(), seed=seed), 40)

    def with_condition(a):
        claims = [{"id": "attack", "kind": "event", "event": "they attack",
                   "probability": {"value": a}}, falls_by(40, 0.9, given="attack")]
        return total_prob(run(weibull_posterior, synthetic_dataset, seed, claims).forecast, 40)

    plain = total_prob(run(weibull_posterior, synthetic_dataset, seed,
                           [falls_by(40, 0.9)]).forecast, 40)
    assert with_condition(0.0) == pytest.approx(base, abs=1e-10)
    assert with_condition(1.0) == pytest.approx(plain, abs=1e-10)
    assert base < with_condition(0.4) < plain


def test_a_soft_boundary_is_a_ramp_between_its_ends(weibull_posterior, synthetic_dataset, seed):
    """A span (days_low-days_high) moves the forecast between what the two sharp ends do."""
    ends = {}
    for name, by in (("lo", {"days": 30}), ("hi", {"days": 90}),
                     ("span", {"days_low": 30, "days_high": 90})):
        claim = {"kind": "falls_by", "by": by, "probability": {"value": 0.9}}
        ends[name] = total_prob(run(weibull_posterior, synthetic_dataset, seed, [claim]).forecast, 150)
    assert min(ends["lo"], ends["hi"]) < ends["span"] < max(ends["lo"], ends["hi"])


def test_decomposition_has_every_stage(weibull_posterior, synthetic_dataset, seed):
    case = case_with([falls_by(60, 0.7)], [falls_by(200, 0.9)], weight=0.5)
    ev = update(weibull_posterior, case, synthetic_dataset, seed=seed, lexicons=LEXICON)
    names = [row["stage"] for row in ev.decomposition]
    assert names[0].startswith("reference class") and names[1] == "+ indicators"
    assert names[2].startswith("+ s0 alone") and names[3].startswith("+ s1 alone")
    assert names[-1].startswith("all statements together")
    record = ev.record()
    assert {"claims", "evidence", "pareto_k", "decomposition"} <= set(record)
    assert record["claims"][0]["beta"] == 0.5 and "reading" in record["claims"][0]
    row = record["evidence"][0]
    assert row["log_bayes_factor"] == pytest.approx(
        0.5 * (logit(0.7) - logit(row["base_rate"])), abs=2e-3)
    assert row["forecast_after"] != row["forecast_before"]


def test_effect_claim_shifts_the_forecast_in_its_direction(weibull_posterior, synthetic_dataset,
                                                           seed):
    base = predict(weibull_posterior, case_with(), seed=seed).quantile(0.5)
    longer = [{"kind": "effect", "indicator": "terrain", "level": "mountain",
               "direction": "longer", "strength": "strong"}]
    ev = run(weibull_posterior, synthetic_dataset, seed, longer)
    assert ev.forecast.quantile(0.5) > base


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ([falls_by(60, 1.5)], "not a probability in [0, 1]"),
        ([falls_by(60, 0.5, given="attack")], "a conditional needs its condition"),
        ([{"kind": "falls_eventually", "by": {"days": 3}, "probability": {"value": 0.5}}],
         "a falls_eventually claim has no time"),
        ([{"kind": "effect", "indicator": "weather", "direction": "longer"}],
         "'weather' is not an indicator of the model"),
        ([{"kind": "guess"}], "'guess' is not one of"),
    ],
)
def test_bad_claims_name_the_statement(weibull_posterior, synthetic_dataset, claims, message):
    with pytest.raises(InputError) as info:
        update(weibull_posterior, case_with(claims), synthetic_dataset, lexicons=LEXICON)
    assert "statement 's0'" in str(info.value) and message in str(info.value)


@pytest.mark.slow  # a long MCMC check: `make test-slow`, run by .ci/run after make test
def test_sharp_claim_falls_back_to_mcmc_which_meets_the_closed_form(
        weibull_posterior, synthetic_dataset, seed):
    """A strong claim on a short window the draws barely cover: PSIS gives up and MCMC samples
    the model with the claims in it; its P(event) matches the closed-form odds shift."""
    case = case_with([falls_by(7, 0.999)], weight=5.0)
    ev = update(weibull_posterior, case, synthetic_dataset, seed=seed, lexicons=LEXICON,
                sampler=small_sampler())
    assert ev.method == "mcmc"
    base = total_prob(predict(weibull_posterior, case, seed=seed), 7)
    b = ev.weighed[0].log_bf
    want = odds(base) * np.exp(b) / (1 + odds(base) * np.exp(b))
    assert total_prob(ev.forecast, 7) == pytest.approx(want, abs=0.04)


@pytest.mark.slow  # a long MCMC check: `make test-slow`, run by .ci/run after make test
def test_mcmc_fallback_agrees_with_importance_sampling_where_that_is_reliable(
        weibull_posterior, synthetic_dataset, seed):
    """Two independent ways to the same target: reweighting the stored draws (exact cell
    arithmetic, k-hat small) and sampling the model with the claims in it."""
    from forecast.elicit.claims import read_claims
    from forecast.elicit.combine import combine, reweighted, weigh_claims
    from forecast.elicit.fallback import mcmc_forecast
    from forecast.elicit.update import context
    from models.design import from_dataset

    case = case_with([falls_by(60, 0.8)])
    base = predict(weibull_posterior, case, seed=seed)
    claims, _ = read_claims(context(case, synthetic_dataset, weibull_posterior, LEXICON))
    weighed = weigh_claims(claims, BaseRate.from_dataset(synthetic_dataset), 3.0)
    comb = combine(base, [], weighed)
    assert comb.pareto_k < 0.7
    importance = reweighted(base, comb)
    mcmc = mcmc_forecast(weibull_posterior.model, from_dataset(synthetic_dataset), case, base,
                         comb, [], seed=seed + 1, sampler=small_sampler())
    for h in (30, 90, 365):
        assert mcmc.p_fall_within(h) == pytest.approx(importance.p_fall_within(h), abs=0.04), h
    # and both differ from the forecast without the claim where the claim speaks
    assert abs(importance.p_fall_within(55) - base.p_fall_within(55)) > 0.05


def test_fitted_role_calibrations_are_used_by_default(weibull_posterior, synthetic_dataset, seed):
    from forecast.elicit.lexicon import load_calibration, load_probability_lexicon, load_time_lexicon

    cal = load_calibration()
    doc = yaml.safe_load(PANJSHIR.read_text())
    case = parse_case(doc, "panjshir.yaml")
    ev = update(weibull_posterior, case, synthetic_dataset, seed=seed,
                lexicons=(load_probability_lexicon(), load_time_lexicon(), cal))
    for c in ev.claims:
        st = next(s for s in case.statements if s.id == c.statement_id)
        assert c.weight == cal.beta_for(st.speaker, st.role)[0]
