from __future__ import annotations

import re
from datetime import date

import pytest
import yaml
from conftest import PANJSHIR

from forecast.cases import load_case
from forecast.errors import InputError


def test_panjshir_case_loads_with_sources_and_statements():
    case = load_case(PANJSHIR)
    assert case.start_date == date(2021, 8, 15) and case.as_of == date(2021, 8, 20)
    assert case.indicators.terrain == "mountain"
    assert case.indicators.approach_routes == "single"
    assert case.indicators.defender_strength.low == 2000
    assert case.indicators.defender_strength.high == 10000
    speakers = {s.speaker for s in case.statements}
    assert {"Michael Kugelman", "Sergei Lavrov", "Amrullah Saleh", "Ahmad Massoud",
            "Abdul Sayed"} <= speakers
    assert sum(s.speaker == "Michael Kugelman" for s in case.statements) == 2
    quickly = next(s for s in case.statements if s.id == "kugelman_quickly")
    assert "they will win quickly and easily" in quickly.quote
    assert all(s.source for s in case.statements)
    assert case.outcome.status == "fell" and case.outcome.end_date == date(2021, 9, 6)
    assert set(case.indicator_sources) >= {"terrain", "defender_strength", "approach_routes"}


def _doc() -> dict:
    return yaml.safe_load(PANJSHIR.read_text())


def _error(tmp_path, doc) -> str:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(doc) if isinstance(doc, dict) else doc)
    with pytest.raises(InputError) as info:
        load_case(path)
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg
    return msg


def test_as_of_before_start_is_refused(tmp_path):
    doc = _doc()
    doc["as_of"] = "2021-08-01"
    assert "key 'as_of': 2021-08-01 is before start_date" in _error(tmp_path, doc)


def test_as_of_after_outcome_is_refused(tmp_path):
    doc = _doc()
    doc["as_of"] = "2021-09-10"
    assert "after the outcome's end_date" in _error(tmp_path, doc)


def test_unknown_category_names_the_indicator(tmp_path):
    doc = _doc()
    doc["indicators"]["terrain"]["value"] = "jungle"
    assert "key 'indicators.terrain': 'jungle' is not one of" in _error(tmp_path, doc)


def test_negative_force_size_is_refused(tmp_path):
    doc = _doc()
    doc["indicators"]["defender_strength"]["low"] = -100
    assert "key 'indicators.defender_strength.low': -100 is negative" in _error(tmp_path, doc)


def test_reversed_range_is_refused(tmp_path):
    doc = _doc()
    doc["indicators"]["attacker_strength"]["low"] = 90000
    assert "greater than high" in _error(tmp_path, doc)


def test_missing_required_key_is_named(tmp_path):
    doc = _doc()
    del doc["start_date"]
    assert "key 'start_date': is required but missing" in _error(tmp_path, doc)


def test_statement_missing_speaker_is_named(tmp_path):
    doc = _doc()
    del doc["statements"][2]["speaker"]
    assert "statements[2] (statement 'lavrov_control'), key 'speaker'" in _error(tmp_path, doc)


def test_unknown_role_and_bad_weight(tmp_path):
    doc = _doc()
    doc["statements"][0]["role"] = "oracle"
    assert "'oracle' is not one of" in _error(tmp_path, doc)
    doc = _doc()
    doc["statements"][0]["weight"] = 7.5
    assert "not a calibration in [0, 5]" in _error(tmp_path, doc)
    doc = _doc()
    doc["statements"][0]["weight"] = -0.5
    assert "not a calibration in [0, 5]" in _error(tmp_path, doc)


def test_unknown_key_and_malformed_yaml(tmp_path):
    doc = _doc()
    doc["colour"] = "red"
    assert "key 'colour': unknown key" in _error(tmp_path, doc)
    assert "malformed YAML" in _error(tmp_path, "id: x\nname: [unclosed\n")
    assert "must be a YAML mapping" in _error(tmp_path, "- just\n- a list\n")


def test_outcome_end_before_start(tmp_path):
    doc = _doc()
    doc["outcome"]["end_date"] = "2021-08-01"
    doc["as_of"] = "2021-08-15"
    assert "key 'outcome.end_date': 2021-08-01 is before start_date" in _error(tmp_path, doc)


# --- YAML 1.1 booleans, non-finite numbers, impossible dates, dates after today, with_as_of ---

def _write(tmp_path, text: str):
    path = tmp_path / "case.yaml"
    path.write_text(text)
    return path


def _replace(old: str, new: str) -> str:
    text = PANJSHIR.read_text()
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize("word", ["yes", "no"])
def test_yes_and_no_are_levels_not_booleans(tmp_path, word):
    """YAML 1.1 reads yes/no as booleans; case files read them as the levels they spell."""
    case = load_case(_write(tmp_path, _replace("value: partial", f"value: {word}")))
    assert case.indicators.encircled == word


@pytest.mark.parametrize("word", ["on", "off", "Yes", "NO"])
def test_on_off_stay_text_and_are_refused_as_unknown_levels(tmp_path, word):
    msg = _error(tmp_path, _replace("value: partial", f"value: {word}"))
    assert f"key 'indicators.encircled': '{word}' is not one of no, partial, yes" in msg


@pytest.mark.parametrize("word", ["true", "false", "True"])
def test_a_real_boolean_for_a_level_names_the_key_and_the_levels(tmp_path, word):
    msg = _error(tmp_path, _replace("value: partial", f"value: {word}"))
    assert "key 'indicators.encircled'" in msg and "is a boolean" in msg and "no, partial, yes" in msg


@pytest.mark.parametrize(("value", "rule"), [
    (".inf", "inf is not a finite number"),
    ("-.inf", "-inf is not a finite number"),
    (".nan", "nan is not a finite number"),
    ("1" + "0" * 400, "too large"),
    ("1e30", "beyond the plausible bound for attacker_strength (5,000,000 persons"),
    ("1.0e+30", "beyond the plausible bound"),
])
def test_non_finite_or_huge_force_is_one_line_naming_the_key(tmp_path, value, rule):
    msg = _error(tmp_path, _replace("  high: 60000\n", f"  high: {value}\n"))
    assert "key 'indicators.attacker_strength.high'" in msg and rule in msg


def test_non_finite_number_inside_a_claim_is_refused(tmp_path):
    doc = _doc()
    claims = next(s for s in doc["statements"] if s.get("claims"))["claims"]
    claims[0]["probability"] = {"value": float("nan")}
    msg = _error(tmp_path, doc)
    assert ".claims[0].probability.value'" in msg and "not a finite number" in msg


@pytest.mark.parametrize("bad", ["2025-13-45", "2021-02-30", "2021-08-20T25:00:00"])
def test_impossible_timestamp_is_an_input_error_naming_the_key(tmp_path, bad):
    msg = _error(tmp_path, _replace("as_of: 2021-08-20", f"as_of: {bad}"))
    assert "key 'as_of'" in msg and "not an ISO date" in msg


@pytest.mark.parametrize(("value", "rule"), [
    # found by tests/test_fuzz_loaders.py: each was a ValueError, IndexError, KeyError or
    # AttributeError from PyYAML's constructors, not an InputError
    ("!!float abc", "line 10: malformed YAML (cannot read 'abc' as tag:yaml.org,2002:float)"),
    ("!!float", "line 10: malformed YAML (cannot read '' as tag:yaml.org,2002:float)"),
    ("!!int ''", "line 10: malformed YAML (cannot read '' as tag:yaml.org,2002:int)"),
    ("!!bool maybe", "line 10: malformed YAML (cannot read 'maybe' as tag:yaml.org,2002:bool)"),
    ("!!timestamp x", "key 'as_of': 'x' is not an ISO date"),
    ("9" * 5000, "line 10: malformed YAML (cannot read '999"),
])
def test_scalar_that_yaml_cannot_construct_is_one_input_error(tmp_path, value, rule):
    msg = _error(tmp_path, _replace("as_of: 2021-08-20", f"as_of: {value}"))
    assert rule in msg and len(msg) < 300


def test_unknown_keys_of_mixed_types_are_named(tmp_path):
    # sorting the unknown keys {1, 'a'} for the message raised TypeError
    msg = _error(tmp_path, _replace("  defender_strength:\n", "  defender_strength:\n    1: x\n    a: y\n"))
    assert "key 'indicators.defender_strength.1': unknown key" in msg
    assert "(allowed: value, low, high, source, note)" in msg


def test_a_key_given_twice_is_refused(tmp_path):
    msg = _error(tmp_path, _replace("as_of: 2021-08-20", "as_of: 2021-08-20\nas_of: 2021-08-25"))
    assert "line 11" in msg and "key 'as_of' given twice (first on line 10)" in msg


def test_recursive_alias_is_refused(tmp_path):
    msg = _error(tmp_path, _replace("sources:\n", "notes: &loop [*loop]\nsources:\n"))
    assert "key 'notes[0]': contains itself (a recursive YAML alias)" in msg


def test_value_with_a_newline_stays_on_one_line(tmp_path):
    doc = _doc()
    doc["indicators"]["terrain"]["value"] = "swamp\nand\u2028marsh"
    msg = _error(tmp_path, doc)
    assert len(msg.splitlines()) == 1 and "swamp\\nand\\u2028marsh" in msg


def _live(tmp_path, as_of: str, start: str = "2021-08-15", hypothetical: bool | None = None):
    doc = _doc()
    del doc["outcome"]
    doc["as_of"], doc["start_date"] = as_of, start
    for st in doc["statements"]:
        st["date"] = start
    for ev in doc.get("events", []):  # the story's events move with the start, like statements
        ev["date"] = start
    if hypothetical is not None:
        doc["as_of_is_hypothetical"] = hypothetical
    return doc


def test_as_of_after_today_is_refused(tmp_path):
    msg = _error(tmp_path, _live(tmp_path, "2099-01-01"))
    assert "key 'as_of': 2099-01-01 is after today" in msg and "as_of_is_hypothetical: true" in msg


def test_start_date_after_today_is_refused(tmp_path):
    msg = _error(tmp_path, _live(tmp_path, "2099-02-01", start="2099-01-01"))
    assert "key 'start_date': 2099-01-01 is after today" in msg


def test_hypothetical_case_may_be_in_the_future_with_a_warning(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(_live(tmp_path, "2099-02-01", start="2099-01-01", hypothetical=True)))
    case = load_case(path)
    assert case.hypothetical and case.as_of == date(2099, 2, 1)
    assert any("key 'start_date': 2099-01-01 is after today" in w for w in case.warnings)
    assert any("key 'as_of': 2099-02-01 is after today" in w for w in case.warnings)
    assert all(len(w.splitlines()) == 1 and str(path) in w for w in case.warnings)
    # the as_of warning follows the date; the start_date one stays
    later = case.with_as_of("2099-03-01")
    assert not any("key 'as_of'" in w for w in later.warnings)
    assert any("--as-of: 2099-03-01 is after today" in w for w in later.warnings)
    assert any("key 'start_date'" in w for w in later.warnings)


def test_hypothetical_must_be_a_boolean(tmp_path):
    msg = _error(tmp_path, _live(tmp_path, "2021-08-20", hypothetical="maybe"))
    assert "key 'as_of_is_hypothetical': 'maybe' is not true or false" in msg


def test_today_can_be_given(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(_live(tmp_path, "2021-08-20")))
    with pytest.raises(InputError, match="after today"):
        load_case(path, today=date(2021, 8, 19))
    assert load_case(path, today=date(2021, 8, 20)).warnings == ()


def test_with_as_of_takes_a_date_or_an_iso_string():
    case = load_case(PANJSHIR)
    assert case.with_as_of("2021-08-25").as_of == date(2021, 8, 25)
    assert case.with_as_of(date(2021, 8, 25)).as_of == date(2021, 8, 25)
    for bad, rule in [(20210825, "(int) is not a date"), (None, "(NoneType) is not a date"),
                      ("25/08/2021", "not an ISO date"), ("2021-08-32", "not an ISO date"),
                      ("2021-08-01", "before start_date"), ("2021-09-10", "after the outcome")]:
        with pytest.raises(InputError, match=re.escape(rule)) as info:
            case.with_as_of(bad)
        assert "--as-of" in str(info.value)


def test_case_check_cli_refuses_bad_files_in_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("forecast")
    for text in (_replace("value: partial", "value: true"),
                 _replace("  high: 60000\n", "  high: .inf\n"),
                 _replace("as_of: 2021-08-20", "as_of: 2025-13-45"),
                 yaml.safe_dump(_live(tmp_path, "2099-01-01"))):
        path = _write(tmp_path, text)
        out = subprocess.run([str(exe), "case", "check", str(path)], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
        assert str(path) in out.stderr and out.stdout == ""
