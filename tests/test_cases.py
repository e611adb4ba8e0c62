from __future__ import annotations

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
    doc["statements"][0]["weight"] = 1.5
    assert "not a number in [0, 1]" in _error(tmp_path, doc)


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
