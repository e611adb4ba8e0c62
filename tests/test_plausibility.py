"""Plausibility bounds on forces and population: refused beyond history, warned beyond the data.

The bounds live in one place (:data:`forecast.indicators.PLAUSIBLE`); both loaders use them. A
value above the hard bound is an :class:`InputError` naming the key or column and the bound; a
value between the soft and the hard bound is accepted and reported in ``warnings`` (never printed).
"""

from __future__ import annotations

import pytest
import yaml
from conftest import HOLDOUTS, PANJSHIR, write_csv

from forecast.cases import load_case
from forecast.data import load_holdouts
from forecast.errors import InputError
from forecast.indicators import PLAUSIBLE

FORCES = ("defender_strength", "attacker_strength")


def test_bounds_are_ordered_and_above_history():
    assert set(PLAUSIBLE) == {"defender_strength", "attacker_strength", "population"}
    for bound in PLAUSIBLE.values():
        assert 0 < bound.soft < bound.hard and bound.reason
    # the largest single-side forces at one besieged place (Berlin 1945: about 2.5 million
    # attackers) and the largest city (Greater Tokyo: about 37 million) stay inside the hard bounds
    assert all(PLAUSIBLE[f].hard > 2_500_000 for f in FORCES)
    assert PLAUSIBLE["population"].hard > 37_000_000


def test_shipped_reference_class_is_inside_the_soft_bounds():
    ds = load_holdouts(HOLDOUTS)
    assert ds.warnings == ()
    frame = ds.frame
    for name in FORCES:
        assert frame[f"{name}_high"].max() <= PLAUSIBLE[name].soft
    assert frame["population"].max() <= PLAUSIBLE["population"].soft
    assert load_case(PANJSHIR).warnings == ()


# --- the CSV ---

@pytest.mark.parametrize(("low", "high", "column", "written"), [
    ("attacker_strength_low", "attacker_strength_high", "attacker_strength_low", "1e30"),
    ("defender_strength_low", "defender_strength_high", "defender_strength_low", "1.0e12"),
])
def test_csv_force_beyond_history_is_refused(tmp_path, valid_rows, low, high, column, written):
    valid_rows[1][low] = valid_rows[1][high] = written
    path = write_csv(tmp_path / "h.csv", valid_rows)
    with pytest.raises(InputError) as info:
        load_holdouts(path)
    msg = str(info.value)
    assert f"line 3 (case_id 'beta'), column '{column}'" in msg
    assert f"{written} is beyond the plausible bound for {column.rsplit('_', 1)[0]} (5,000,000 persons" in msg


def test_csv_force_beyond_the_reference_class_is_a_warning(tmp_path, valid_rows, capsys):
    valid_rows[1]["attacker_strength_high"] = "2000000"
    valid_rows[1]["population"] = "10000000"
    ds = load_holdouts(write_csv(tmp_path / "h.csv", valid_rows))
    assert ds.frame.loc[1, "attacker_strength_high"] == 2_000_000
    assert len(ds.warnings) == 2
    forces, people = ds.warnings
    assert "line 3 (case_id 'beta'), column 'attacker_strength_high': 2000000 is larger than any" in forces
    assert "column 'population': 10000000 is larger than any population" in people
    assert capsys.readouterr() == ("", "")  # the library never prints warnings
    assert ds.subset(ds.frame["case_id"] != "alpha").warnings == ds.warnings


def test_csv_population_beyond_any_city_is_refused(tmp_path, valid_rows):
    valid_rows[1]["population"] = "45000000"
    with pytest.raises(InputError, match="beyond the plausible bound for population .40,000,000 persons"):
        load_holdouts(write_csv(tmp_path / "h.csv", valid_rows))


# --- case files ---

def _case(tmp_path, name: str, spec) -> str:
    doc = yaml.safe_load(PANJSHIR.read_text())
    doc["indicators"][name] = spec
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(("name", "spec", "key"), [
    ("attacker_strength", {"low": 1e30, "high": 1e30}, "indicators.attacker_strength.low"),
    ("defender_strength", {"value": 1.0e12}, "indicators.defender_strength"),
    ("defender_strength", 6_000_000, "indicators.defender_strength"),
    ("population", {"low": 1000, "high": 41_000_000}, "indicators.population.high"),
])
def test_case_value_beyond_history_is_refused(tmp_path, name, spec, key):
    path = _case(tmp_path, name, spec)
    with pytest.raises(InputError) as info:
        load_case(path)
    msg = str(info.value)
    assert f"key '{key}'" in msg and f"is beyond the plausible bound for {name}" in msg
    assert f"{PLAUSIBLE[name].hard:,.0f} persons" in msg and len(msg.splitlines()) == 1


def test_case_value_beyond_the_reference_class_is_a_warning(tmp_path, capsys):
    case = load_case(_case(tmp_path, "attacker_strength", {"low": 60_000, "high": 1_500_000}))
    assert case.indicators.attacker_strength.high == 1_500_000
    (warning,) = case.warnings
    assert "key 'indicators.attacker_strength.high': 1,500,000 is larger than any attacker_strength" \
        in warning
    assert "above 500,000 persons" in warning
    assert capsys.readouterr() == ("", "")
    point = load_case(_case(tmp_path, "population", 5_000_000))
    assert point.warnings and "key 'indicators.population'" in point.warnings[0]
