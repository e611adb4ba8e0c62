"""Lexicons: the probability build is reproducible and faithful; time and role files load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from scipy import stats

from forecast.elicit import build_lexicon
from forecast.elicit.lexicon import (
    LEXICON_DIR,
    load_probability_lexicon,
    load_role_weights,
    load_time_lexicon,
)
from forecast.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = LEXICON_DIR / "probability.yaml"


@pytest.fixture(scope="module")
def plex():
    return load_probability_lexicon()


@pytest.fixture(scope="module")
def tlex():
    return load_time_lexicon()


def test_build_is_deterministic_and_matches_shipped(tmp_path):
    out = build_lexicon.write(tmp_path / "probability.yaml", ROOT / "data" / "capphrase")
    assert out.read_bytes() == SHIPPED.read_bytes()
    again = build_lexicon.write(tmp_path / "again.yaml", ROOT / "data" / "capphrase")
    assert again.read_bytes() == out.read_bytes()


def test_capphrase_copied_verbatim():
    shared = Path("/work/shared/data/capphrase")
    if not shared.is_dir():
        pytest.skip("shared copy not available")
    for src in shared.iterdir():
        assert (ROOT / "data" / "capphrase" / src.name).read_bytes() == src.read_bytes()


def test_all_capphrase_terms_present_with_citation(plex):
    capphrase = {k: v for k, v in plex.phrases.items() if v.get("n")}
    assert len(capphrase) == 19
    assert all(v["n"] == 5174 for v in capphrase.values())
    assert all("10.5281/zenodo.18750055" in v["source"] for v in capphrase.values())
    assert "CC-BY 4.0" in SHIPPED.read_text(encoding="utf-8")


def test_beta_means_close_to_published_centres(plex):
    for name, e in plex.phrases.items():
        a, b = e["a"], e["b"]
        assert {"mean", "median", "q05", "q25", "q75", "q95"} <= set(e), name
        published = e.get("published", {})
        if "published" not in e or "mean" in published:  # CAPphrase empirical, Kent published
            assert abs(a / (a + b) - e["mean"]) < 0.05, name
        else:  # Mauboussin: published median
            assert abs(stats.beta.median(a, b) - published["median"]) < 0.05, name
        if "q25" in published:
            assert abs(stats.beta.ppf(0.25, a, b) - published["q25"]) < 0.05, name
            assert abs(stats.beta.ppf(0.75, a, b) - published["q75"]) < 0.05, name


def test_spread_is_kept(plex):
    ac, rp = plex.lookup("almost certain"), plex.lookup("realistic possibility")
    assert ac.mean > 0.85
    assert ac.q95 - ac.q05 < rp.q95 - rp.q05
    e_ac, e_rp = plex.phrases["almost certain"], plex.phrases["realistic possibility"]
    assert e_ac["q95"] - e_ac["q05"] < e_rp["q95"] - e_rp["q05"]


def test_reading_intervals_are_the_beta_quantiles(plex):
    """A reading's 5%-95% interval is its Beta's, from scipy.stats (the oracle), mirrored for a
    complement alias."""
    for phrase in ("almost certain", "realistic possibility", "unlikely"):
        r = plex.lookup(phrase)
        assert (r.q05, r.q95) == pytest.approx(tuple(stats.beta.ppf([0.05, 0.95], r.a, r.b)), abs=1e-9)
    mirrored = [k for k, v in plex.aliases.items() if v.get("complement")]
    for key in mirrored[:3]:
        r, base = plex.lookup(key), plex.lookup(plex.aliases[key]["phrase"])
        assert (r.q05, r.q95) == pytest.approx((1 - base.q95, 1 - base.q05), abs=1e-12)


def test_published_extras(plex):
    for p in ("certain", "chances about even", "probably not", "almost certainly not",
              "real possibility", "serious possibility"):
        assert p in plex.phrases
    assert "Kent" in plex.phrases["probably not"]["source"]
    assert plex.phrases["probable"]["source"].startswith("CAPphrase")  # duplicates keep CAPphrase
    assert {y["source"].split(" ")[0] for y in plex.yardsticks} >= {"US", "UK", "NATO", "EFSA",
                                                                    "IPCC"}
    assert all(0 <= y["low"] <= y["high"] <= 1 for y in plex.yardsticks)


def test_aliases_resolve_to_measured_phrases(plex):
    assert len(plex.aliases) > 30
    for alias, e in plex.aliases.items():
        assert e["phrase"] in plex.phrases and e["reason"]
        r = plex.lookup(alias)
        assert r.phrase == e["phrase"] and r.note
    r = plex.lookup("  Not  out of the QUESTION ")
    assert r.phrase == "could happen" and r.key == "not out of the question"
    assert plex.lookup("won’t").phrase == "almost no chance"
    mirrored = plex.lookup("might not")
    base = plex.lookup("might happen")
    assert (mirrored.a, mirrored.b) == (base.b, base.a)
    assert mirrored.mean == pytest.approx(1 - base.mean)


def test_unknown_phrase_raises(plex):
    with pytest.raises(InputError, match="unknown phrase"):
        plex.lookup("xyz")


def test_find_longest_first_non_overlapping(plex):
    found = plex.find("It is not out of the question; they won't last, but the will to fight is "
                      "there and it will almost certainly not end in May.")
    assert [r.key for r in found] == ["not out of the question", "won't", "will",
                                      "almost certainly not"]
    assert found[0].text == "not out of the question"
    assert plex.find("The weather was pleasant in Kabul.") == []


def test_time_lookups(tlex):
    q = tlex.lookup("quickly")
    assert (q.kind, q.quantile, q.relation) == ("vague", 0.25, "<=")
    p = tlex.lookup("protracted")
    assert (p.quantile, p.relation) == (0.75, ">")
    c = tlex.lookup("a couple of months")
    assert c.kind == "span" and (c.days_low, c.days_high, c.days) == (45, 75, 60)
    w = tlex.lookup("within 3 weeks")
    assert w.kind == "span" and w.days_high == 21 and w.relation == "<="
    assert tlex.lookup("Within  two weeks").days_high == 14
    assert (tlex.lookup("two to three months").days_low,
            tlex.lookup("two to three months").days_high) == (60, 90)
    assert tlex.lookup("more than 10 days").relation == ">"
    with pytest.raises(InputError, match="unknown time phrase"):
        tlex.lookup("at teatime")


def test_time_find(tlex):
    found = tlex.find("As long as they hold, it could last a long siege, not two weeks ago but "
                      "within 3 weeks or a couple of months.")
    assert [t.key for t in found] == ["long siege", "within 3 weeks", "a couple of months"]


def test_role_weights_are_the_fitted_calibrations():
    import yaml

    from forecast.cases import ROLES
    from forecast.elicit.calibration import DEFAULT_CALIBRATION

    w = load_role_weights()
    assert set(w) == set(ROLES)
    stored = yaml.safe_load(DEFAULT_CALIBRATION.read_text(encoding="utf-8"))["roles"]
    assert w == {role: e["mean"] for role, e in stored.items()}


@pytest.mark.parametrize("name, text, key", [
    ("probability.yaml", "phrases: {likely: {a: -1, b: 2, source: s}}\n", "phrases.likely.a"),
    ("probability.yaml", "phrases: {likely: {a: 1, b: 2, source: s}}\n"
                         "aliases: {probably: {phrase: nope, reason: r}}\n", "aliases.probably"),
    ("probability.yaml", "phrases: {Likely: {a: 1, b: 2, source: s}}\n", "phrases.Likely"),
    ("time.yaml", "units: {day: 1}\nvague: {soon: {quantile: 2, relation: '<=', "
                  "description: d}}\n", "vague.soon.quantile"),
    ("time.yaml", "units: {day: 1}\nspans: {x: {days_low: 9, days_high: 2, description: d}}\n",
     "spans.x.days_high"),
    ("calibration.yaml", "signal_var: 2\nroles: {other: {mean: 0.5, lo: 0.7, hi: 0.9, n: 3}}\n",
     "roles.other"),
    ("calibration.yaml", "signal_var: 2\nroles: {other: {mean: x, lo: 0, hi: 1, n: 3}}\n",
     "roles.other.mean"),
    ("calibration.yaml", "signal_var: -1\nroles: {other: {mean: 0.5, lo: 0, hi: 1, n: 3}}\n",
     "signal_var"),
    ("calibration.yaml", "[1, 2]\n", "roles"),
])
def test_malformed_files_name_file_and_key(tmp_path, name, text, key):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    loader = {"probability.yaml": load_probability_lexicon, "time.yaml": load_time_lexicon,
              "calibration.yaml": load_role_weights}[name]
    with pytest.raises(InputError) as exc:
        loader(path)
    assert str(path) in str(exc.value) and key in str(exc.value)


def test_loads_are_cached():
    assert load_probability_lexicon() is load_probability_lexicon(SHIPPED)
    assert load_time_lexicon() is load_time_lexicon()


def test_time_yaml_is_plain_yaml():
    raw = yaml.safe_load((LEXICON_DIR / "time.yaml").read_text(encoding="utf-8"))
    assert {"vague", "spans", "units"} <= set(raw)


# --- hours and named periods ---------------------------------------------------------------------

def test_hours_are_a_unit(tlex):
    h = tlex.lookup("within 72 hours")
    assert (h.kind, h.relation, h.days, h.days_high) == ("span", "<=", 3, 3)
    assert tlex.lookup("48 hours").days == 2
    assert tlex.lookup("within 6 hours").days_high == pytest.approx(0.25)
    assert tlex.lookup("72 hrs").days == 3
    d = tlex.lookup("a day or two")
    assert (d.days_low, d.days_high, d.days) == (1, 2, None)
    assert tlex.lookup("within hours").days_high == 1
    found = tlex.find("within 3 weeks or a couple of months, a month or two of it, 2 weeks or 3 "
                      "months")
    assert [(t.key, t.days_low, t.days_high) for t in found] == [
        ("within 3 weeks", None, 21), ("a couple of months", 45, 75), ("a month or two", 30, 60),
        ("2 weeks", 14, 14), ("3 months", 90, 90)]


@pytest.mark.parametrize("phrase, on, date, relation", [
    ("before winter", "2022-09-07", "2022-12-01", "<="),
    ("Before  Winter", "2022-02-25", "2022-12-01", "<="),  # inside winter: the next one
    ("by spring", "2022-09-07", "2023-03-01", "<="),
    ("by summer", "2022-09-07", "2023-06-01", "<="),
    ("by the end of the year", "2022-09-07", "2023-01-01", "<="),
    ("by the end of the year", "2022-12-31", "2023-01-01", "<="),
    ("by the end of next year", "2022-09-07", "2024-01-01", "<="),
    ("by the end of winter", "2023-01-10", "2023-03-01", "<="),
    ("by the end of next winter", "2023-01-10", "2024-03-01", "<="),
    ("survive the winter", "2022-09-07", "2023-03-01", ">"),
    ("until october", "2022-10-01", "2023-10-01", None),  # strictly after the statement date
    ("by christmas", "2022-09-07", "2022-12-25", "<="),
])
def test_named_periods_are_dated_from_the_statement(tlex, phrase, on, date, relation):
    import datetime as dt

    r = tlex.lookup(phrase, on=dt.date.fromisoformat(on))
    assert r.kind == "calendar" and r.relation == relation
    assert r.date == dt.date.fromisoformat(date)
    assert r.days == r.days_high == (r.date - dt.date.fromisoformat(on)).days
    assert date in r.description and on in r.description


def test_named_period_needs_the_statement_date(tlex):
    r = tlex.read("before winter")
    assert r.kind == "calendar" and r.date is None and r.days is None
    assert "1 December" in r.description and "northern hemisphere" in r.description
    with pytest.raises(InputError, match="statement date"):
        tlex.lookup("before winter")
    assert tlex.read("before the fall of kabul") is None  # "fall" is not a season
    assert [t.key for t in tlex.find("during the past winter and in the spring")] == []


@pytest.mark.parametrize("text, key", [
    ("units: {hour: '1/0'}\n", "units.hour"),
    ("units: {day: 1}\ncalendar: {winter: {start: '02-29', description: d}}\n",
     "calendar.winter.start"),
    ("units: {day: 1}\ncalendar: {winter: {start: '12-01'}}\n", "calendar.winter"),
    ("units: {day: 1}\ncalendar_prefixes: {before: {at: middle}}\n", "calendar_prefixes.before"),
])
def test_malformed_time_calendar_names_key(tmp_path, text, key):
    path = tmp_path / "time.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_time_lexicon(path)
    assert str(path) in str(exc.value) and key in str(exc.value)


# --- showing the lexicons: survey beside Beta, and one phrase ------------------------------------

def _row(text: str, phrase: str) -> str:
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith(phrase + "  ")]
    return line


def test_format_lexicon_shows_survey_and_beta_side_by_side(plex, tlex):
    from forecast.elicit.lexicon_view import format_lexicon

    text = format_lexicon(plex, tlex, load_role_weights())
    header = [ln for ln in text.splitlines() if "survey 90%" in ln and "Beta 90%" in ln]
    assert header and "survey mean" in header[0] and "Beta mean" in header[0]
    row = _row(text, "highly unlikely")
    # the survey's own summary, then the Beta's own mean and 90% interval, then the misfit
    # (the Beta is fitted through the answers' quantiles: it matches them, and no misfit flag)
    assert row.split()[2:9] == ["0.09", "0.01-0.20", "Beta(1.55,", "17.96)", "0.08", "0.01-0.20",
                                "0.02"]
    assert "!" not in row
    assert "published figures only" in text and "Kent 1964" in _row(text, "probably not")
    assert "might not" in text and "mirrored" in _row(text, "might not")
    assert "within 72 hours" in text and "winter" in text and "northern hemisphere" in text
    assert "independent_analyst" in text


def test_describe_phrase_matches_the_list(plex, tlex):
    from forecast.elicit.lexicon_view import describe_phrase, format_lexicon, lexicon_rows

    listing = format_lexicon(plex, tlex, {})
    for s in lexicon_rows(plex):
        one = describe_phrase(s.phrase, plex, tlex)
        beta90 = f"{s.beta_q05:.2f}-{s.beta_q95:.2f}"
        assert f"Beta mean {s.beta_mean:.2f}, Beta 90% {beta90}" in one
        assert f"{s.beta_mean:.2f}" in _row(listing, s.phrase) and beta90 in _row(listing,
                                                                                  s.phrase)
        if s.survey:
            survey90 = f"{s.survey['q05']:.2f}-{s.survey['q95']:.2f}"
            assert f"survey 90% {survey90}" in one and survey90 in _row(listing, s.phrase)
            assert f"mean {s.survey['mean']:.2f}" in one
        else:
            assert "published" in one and "no survey 90%" in one
    one = describe_phrase("highly unlikely", plex, tlex)
    assert "survey 90% 0.01-0.20" in one and "Beta 90% 0.01-0.20" in one and "gap 0.02:" in one
    assert "matches the survey within 0.05" in one


def test_describe_phrase_finds_probability_phrases_and_time_words(plex, tlex):
    import datetime as dt

    from forecast.elicit.lexicon_view import describe_phrase

    assert "probability phrase" in describe_phrase("Real  Possibility", plex, tlex)
    out = describe_phrase("“won’t”", plex, tlex)
    assert "'almost no chance'" in out
    out = describe_phrase("I don't think it's out of the question", plex, tlex)
    assert "read as 'not out of the question'" in out and "'could happen'" in out
    mirrored = describe_phrase("might not", plex, tlex)
    assert "mirrored" in mirrored and "mean 0.60" in mirrored
    assert "25th percentile" in describe_phrase("Quickly", plex, tlex)
    assert "within 3 days" in describe_phrase("within 72 hours", plex, tlex)
    assert "1 December" in describe_phrase("before winter", plex, tlex)
    assert "2022-12-01" in describe_phrase("before winter", plex, tlex, on=dt.date(2022, 9, 7))


def test_describe_phrase_unknown_lists_nearest(plex, tlex):
    from forecast.elicit.lexicon_view import describe_phrase

    with pytest.raises(InputError) as exc:
        describe_phrase("real chance", plex, tlex)
    msg = str(exc.value)
    assert "neither a known probability phrase nor a time word" in msg
    assert "remote chance" in msg and "unknown time phrase" not in msg


def test_every_measured_phrase_beta_matches_the_answers_it_stands_for():
    """The Beta of each CAPphrase term against the raw answers (recomputed here): its mean and
    5/25/50/75/95% quantiles within 0.05 of the answers'; the worst misfit is reported."""
    import numpy as np
    from scipy import stats

    from forecast.elicit.build_lexicon import CAPPHRASE_DIR, read_capphrase

    lex = load_probability_lexicon()
    worst = 0.0
    for term, x in read_capphrase(CAPPHRASE_DIR).items():
        r = lex.lookup(term)
        levels = [0.05, 0.25, 0.5, 0.75, 0.95]
        gaps = np.abs(stats.beta.ppf(levels, r.a, r.b) - np.quantile(x, levels))
        gap = max(gaps.max(), abs(r.a / (r.a + r.b) - x.mean()))
        worst = max(worst, gap)
        assert gap < 0.05, (term, gap)
    assert worst > 0  # the check ran on real answers
