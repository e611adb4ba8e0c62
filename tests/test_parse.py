"""The free-text assistant: quotes in, proposed claims and readings out; never raises."""

from __future__ import annotations

import datetime as dt

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.elicit.lexicon import load_probability_lexicon, load_role_weights, load_time_lexicon
from forecast.elicit.parse import Proposal, format_proposal, propose, split_sentences

KUGELMAN = ("But if an organised military resistance forms in the region, I don't think it's out "
            "of the question that the Taliban will go against it. And if they do, they will win "
            "quickly and easily.")
#: Abdul Sayed to AFP, 20 Aug 2021, verbatim with its hedge ("I don't think", not "could not").
SAYED = ("The Taliban surround Panjshir from all sides and I don't think Massoud's son can resist "
         "much more than a couple of months.")


def _events(p: Proposal) -> list[dict]:
    return [c for c in p.claims if c["kind"] == "event"]


def test_kugelman_litotes_and_conditional():
    lex = load_probability_lexicon()
    p = propose(KUGELMAN, speaker="Michael Kugelman", role="independent_analyst",
                date="2021-08-19")
    stated = [c for c in _events(p) if "probability" in c]
    assert len(stated) == 1
    event = stated[0]
    assert event["event"] == "the Taliban will go against it"
    assert event["probability"] == {"phrase": "not out of the question"}
    assert lex.lookup(event["probability"]["phrase"]) == lex.lookup("not out of the question")
    assert lex.lookup("not out of the question").phrase == "could happen"
    # the "if" condition is itself an event claim, named before the claim conditioned on it
    cond = [c for c in _events(p) if "probability" not in c]
    assert len(cond) == 1 and "resistance forms" in cond[0]["event"]
    assert event["given"] == cond[0]["id"]
    assert p.claims.index(cond[0]) < p.claims.index(event)
    falls = [c for c in p.claims if c["kind"] == "falls_by"]
    assert falls == [{"kind": "falls_by", "by": {"vague": "quickly"},
                      "probability": {"phrase": "will"}, "given": event["id"]}]
    assert p.claims.index(event) < p.claims.index(falls[0])
    assert p.unread == []
    text = "\n".join(p.readings)
    assert "litotes" in text and "'could happen'" in text and "if they do" in text
    beta = load_role_weights()["independent_analyst"]
    assert f"fitted calibration beta {beta:+.2f}" in text


def test_ids_are_snake_case_and_unique():
    p = propose(KUGELMAN + " " + KUGELMAN)
    ids = [c["id"] for c in p.claims if "id" in c]
    assert len(ids) == len(set(ids))
    assert all(i.replace("_", "").isalnum() and i == i.lower() and i[0].isalpha() for i in ids)


def test_sayed_holds_beyond_couple_of_months():
    p = propose(SAYED)
    # the hedge as spoken, and the span as its range (45-75 days), not its midpoint
    assert p.claims == [{"kind": "holds_beyond", "by": {"days_low": 45, "days_high": 75},
                         "probability": {"phrase": "i don't think"}}]
    assert p.unread == []
    assert any("a couple of months" in r for r in p.readings)


def test_unknown_wording_goes_to_unread():
    p = propose("The weather was pleasant in Kabul.")
    assert p.claims == []
    assert p.unread == ["could not read: 'The weather was pleasant in Kabul.'"]


def test_time_words_and_verbs():
    p = propose("The Taliban will probably take Panjshir within two weeks.")
    assert p.claims == [{"kind": "falls_by", "by": {"days": 14},
                         "probability": {"phrase": "probably"}}]
    p = propose("I doubt they can hold out for more than three months.")
    assert p.claims == [{"kind": "holds_beyond", "by": {"days": 90},
                         "probability": {"phrase": "i doubt"}}]
    p = propose("The siege could become protracted.")
    assert p.claims[0]["kind"] == "holds_beyond" and p.claims[0]["by"] == {"vague": "protracted"}
    p = propose("It is almost certain that the valley falls in a couple of months.")
    assert p.claims[0]["by"] == {"days_low": 45, "days_high": 75}


def test_disbelief_and_trailing_conditional():
    p = propose("I don't think the Taliban will attack.")
    assert p.claims[0]["probability"] == {"phrase": "i don't think"}
    assert load_probability_lexicon().lookup("i don't think").phrase == "unlikely"
    p = propose("Massoud's forces won't last long if the Taliban attack.")
    cond, claim = p.claims
    assert cond["event"] == "the Taliban attack" and claim["given"] == cond["id"]
    assert claim == {"kind": "holds_beyond", "by": {"vague": "long"},
                     "probability": {"phrase": "won't"}, "given": cond["id"]}


def test_dangling_anaphor_is_not_guessed():
    p = propose("If so, they will fall quickly.")
    assert p.claims == [] and len(p.unread) == 1 and "refers back" in p.unread[0]


def test_bare_future_and_past_spans_are_not_read():
    assert propose("But we will have to wait and see.").claims == []
    assert propose("They have food for two months.").claims == []


def test_sentence_splitting():
    assert split_sentences("Mr. Smith said so. It fell! Then? no") == [
        "Mr. Smith said so.", "It fell!", "Then? no"]


def test_every_proposed_phrase_and_time_resolves():
    plex, tlex = load_probability_lexicon(), load_time_lexicon()
    for quote in (KUGELMAN, SAYED, "They may not survive the winter; it might drag on."):
        for c in propose(quote).claims:
            if "probability" in c:
                plex.lookup(c["probability"]["phrase"])
            if "vague" in c.get("by", {}):
                assert tlex.lookup(c["by"]["vague"]).kind == "vague"


def test_format_proposal_is_yaml_with_comment_readings():
    p = propose(KUGELMAN)
    statement = {"id": "kugelman_quickly", "quote": KUGELMAN, "speaker": "Michael Kugelman",
                 "role": "independent_analyst", "date": "2021-08-19", "source": "DW"}
    text = format_proposal(p, statement=statement)
    lines = text.splitlines()
    assert lines[0].startswith("#") and any("litotes" in ln for ln in lines if ln.startswith("#"))
    block = yaml.safe_load(text)
    assert block[0]["id"] == "kugelman_quickly" and block[0]["claims"] == p.claims
    assert yaml.safe_load(format_proposal(p)) == {"claims": p.claims}
    assert format_proposal(propose("The weather was pleasant in Kabul.")).count("could not read")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_never_raises(text):
    p = propose(text)
    assert isinstance(p, Proposal)
    out = format_proposal(p, statement={"id": "x", "quote": text})
    assert isinstance(out, str)
    yaml.safe_load(out)


_WORDS = st.sampled_from([
    "if", "they", "do", ",", ".", ";", "will", "won't", "not", "out of the question", "I don't "
    "think it's", "quickly", "within", "3", "two", "weeks", "a couple of months", "more than",
    "resist", "fall", "win", "but", "then", "so", "that", "could not", "ago", "long", "\n\n", "’",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_WORDS, max_size=25).map(" ".join))
def test_statement_like_text_never_raises(text):
    p = propose(text)
    assert not any("internal error" in u for u in p.unread)
    assert isinstance(format_proposal(p), str)


# --- hours, named periods, and what is not read -------------------------------------------------

def test_hours_are_read_as_days():
    p = propose("Kyiv could fall within 72 hours")
    assert p.claims == [{"kind": "falls_by", "by": {"days": 3}, "probability": {"phrase": "could"}}]
    assert p.unread == []
    assert any("'within 72 hours' -> time span: within 3 days" in r for r in p.readings)
    assert propose("Kyiv will probably fall within 48 hours.").claims[0]["by"] == {"days": 2}
    assert propose("Kyiv could fall within 6 hours.").claims[0]["by"] == {"days": 0.25}
    assert propose("Kyiv could fall within hours.").claims[0]["by"] == {"days": 1}
    p = propose("Kyiv will probably fall in a day or two.")
    assert p.claims == [{"kind": "falls_by", "by": {"days_low": 1, "days_high": 2},
                         "probability": {"phrase": "probably"}}]
    assert p.unread == []


def test_seasons_and_year_end_are_dates_from_the_statement_date():
    def by(quote: str, date: object = "2022-09-07") -> dict:
        p = propose(quote, date=date)
        assert p.unread == [], p.unread
        (claim,) = p.claims
        return claim

    assert by("The city will likely fall before winter.") == {
        "kind": "falls_by", "by": {"date": "2022-12-01"}, "probability": {"phrase": "likely"}}
    assert by("They will probably take it by spring.")["by"] == {"date": "2023-03-01"}
    assert by("They will probably take it by summer.")["by"] == {"date": "2023-06-01"}
    assert by("It will probably be over by the end of the year.")["by"] == {"date": "2023-01-01"}
    assert by("It will probably be over by the end of next year.")["by"] == {"date": "2024-01-01"}
    survive = by("They may not survive the winter.", dt.date(2022, 9, 7))
    assert survive == {"kind": "holds_beyond", "by": {"date": "2023-03-01"},
                       "probability": {"phrase": "may not"}}
    # said inside winter: the next winter is meant, and the reading says so
    p = propose("The city will likely fall before winter.", date="2022-12-15")
    assert p.claims[0]["by"] == {"date": "2023-12-01"}
    assert any("inside winter" in r for r in p.readings)


def test_named_period_without_a_statement_date_is_reported_not_read():
    for date in (None, "15/09/2022"):
        p = propose("The city will likely fall before winter.", date=date)
        assert p.claims == []
        assert len(p.unread) == 1 and "'before winter'" in p.unread[0]
        assert "statement date" in p.unread[0]


def test_time_words_not_read_are_reported():
    p = propose("The siege will likely end in March.")
    assert [c["kind"] for c in p.claims] == ["event"]
    assert len(p.unread) == 1 and "'in March'" in p.unread[0] and p.unread[0].startswith(
        "not read:")
    p = propose("Kyiv will probably fall within 48 hours, maybe within a week, as it did last "
                "week.")
    assert p.claims[0]["by"] == {"days": 2}
    unread = "\n".join(p.unread)
    assert "'within a week'" in unread and "second time" in unread
    assert "'last week'" in unread and "looks back" in unread
    p = propose("If they attack before winter, Kyiv will fall within weeks.")
    assert any("'before winter'" in u and "condition" in u for u in p.unread)
    # "may" the modal is not a month
    assert propose("They may fall.").unread == []


def test_second_probability_phrase_is_reported():
    p = propose("It is likely, though improbable to some, that Kyiv falls.")
    assert p.claims[0]["probability"] == {"phrase": "likely"}
    assert any("'improbable'" in u and "second probability phrase" in u for u in p.unread)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([
    "Kyiv", "could", "will", "fall", "hold", "within", "72", "hours", "a day or two", "before",
    "winter", "by the end of the year", "next", "in March", "May", "last week", "ago", "or",
    "two", "if", "they", "do", ",", ".", "survive the", "spring", "48 hours", "until",
]), max_size=20).map(" ".join), st.sampled_from([None, "2022-02-25", "bad", dt.date(2021, 12, 1)]))
def test_time_heavy_text_never_raises(text, date):
    p = propose(text, date=date)
    assert not any("internal error" in u for u in p.unread)
    yaml.safe_load(format_proposal(p))
