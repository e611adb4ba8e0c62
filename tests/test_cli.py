"""The command line, run as a user runs it: a subprocess, exit status, stdout and stderr."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import PANJSHIR, ROOT, VALID_ROWS, write_csv

BIN = os.path.join(os.path.dirname(sys.executable), "forecast")


def run(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_help_lists_subcommands():
    out = run("--help")
    assert out.returncode == 0
    for word in ("data", "case"):
        assert word in out.stdout


def test_data_check_reports_cases_events_and_censored():
    out = run("data", "check")
    assert out.returncode == 0, out.stderr
    assert "cases" in out.stdout and "censored" in out.stdout and "Kaplan-Meier median" in out.stdout


def test_case_check_prints_the_panjshir_case():
    out = run("case", "check", str(PANJSHIR))
    assert out.returncode == 0, out.stderr
    assert "panjshir_2021" in out.stdout and "Kugelman" in out.stdout


@pytest.mark.parametrize(
    ("column", "value"),
    [("end_date", "1900-01-01"), ("terrain", "sea"), ("attacker_strength_low", "-3"),
     ("start_date", "soon")],
)
def test_bad_csv_gives_one_line_and_exit_2(tmp_path, column, value):
    rows = [dict(r) for r in VALID_ROWS]
    rows[1][column] = value
    path = write_csv(tmp_path / "bad.csv", rows)
    out = run("data", "check", str(path))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert str(path) in lines[0] and "line 3" in lines[0] and column in lines[0]


def test_bad_yaml_gives_one_line_and_exit_2(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(PANJSHIR.read_text().replace("as_of: 2021-08-20", "as_of: 2021-07-01"))
    out = run("case", "check", str(path))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "as_of" in out.stderr
