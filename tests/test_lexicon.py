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


def test_role_weights():
    from forecast.cases import ROLES

    w = load_role_weights()
    assert set(w) == set(ROLES)
    assert all(0 <= v <= 1 for v in w.values())
    assert w["independent_analyst"] == 0.6 and w["party_to_conflict"] == 0.15


@pytest.mark.parametrize("name, text, key", [
    ("probability.yaml", "phrases: {likely: {a: -1, b: 2, source: s}}\n", "phrases.likely.a"),
    ("probability.yaml", "phrases: {likely: {a: 1, b: 2, source: s}}\n"
                         "aliases: {probably: {phrase: nope, reason: r}}\n", "aliases.probably"),
    ("probability.yaml", "phrases: {Likely: {a: 1, b: 2, source: s}}\n", "phrases.Likely"),
    ("time.yaml", "units: {day: 1}\nvague: {soon: {quantile: 2, relation: '<=', "
                  "description: d}}\n", "vague.soon.quantile"),
    ("time.yaml", "units: {day: 1}\nspans: {x: {days_low: 9, days_high: 2, description: d}}\n",
     "spans.x.days_high"),
    ("roles.yaml", "roles: {other: {weight: 1.5, rationale: r}}\n", "roles.other.weight"),
    ("roles.yaml", "[1, 2]\n", "mapping"),
])
def test_malformed_files_name_file_and_key(tmp_path, name, text, key):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    loader = {"probability.yaml": load_probability_lexicon, "time.yaml": load_time_lexicon,
              "roles.yaml": load_role_weights}[name]
    with pytest.raises(InputError) as exc:
        loader(path)
    assert str(path) in str(exc.value) and key in str(exc.value)


def test_loads_are_cached():
    assert load_probability_lexicon() is load_probability_lexicon(SHIPPED)
    assert load_time_lexicon() is load_time_lexicon()


def test_time_yaml_is_plain_yaml():
    raw = yaml.safe_load((LEXICON_DIR / "time.yaml").read_text(encoding="utf-8"))
    assert {"vague", "spans", "units"} <= set(raw)
