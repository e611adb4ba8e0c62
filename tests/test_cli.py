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


KUGELMAN = ("But if an organised military resistance forms in the region, I don't think it's out "
            "of the question that the Taliban will go against it. And if they do, they will win "
            "quickly and easily.")


def test_elicit_reads_kugelman_as_an_event_and_a_conditional_claim():
    import yaml

    out = run("elicit", KUGELMAN, "--speaker", "Michael Kugelman", "--role",
              "independent_analyst", "--date", "2021-08-19")
    assert out.returncode == 0, out.stderr
    assert "not out of the question" in out.stdout and "could happen" in out.stdout
    statement = yaml.safe_load(out.stdout)[0]
    claims = {c.get("id", c["kind"]): c for c in statement["claims"]}
    event = next(c for c in statement["claims"] if c.get("probability") == {
        "phrase": "not out of the question"})
    falls = claims["falls_by"]
    assert falls["by"] == {"vague": "quickly"} and falls["given"] == event["id"]
    assert falls["probability"] == {"phrase": "will"}


def test_elicit_says_when_it_cannot_read():
    out = run("elicit", "The weather was pleasant in Kabul.")
    assert out.returncode == 0
    assert "could not read" in out.stdout and "no claim proposed" in out.stdout


def test_elicit_bad_role_and_date_are_exit_2():
    assert run("elicit", KUGELMAN, "--role", "oracle").returncode == 2
    bad = run("elicit", KUGELMAN, "--date", "19/08/2021")
    assert bad.returncode == 2 and "--date" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_lexicon_shows_a_phrase_and_refuses_an_unknown_one():
    out = run("lexicon", "not out of the question")
    assert out.returncode == 0 and "could happen" in out.stdout and "CAPphrase" in out.stdout
    bad = run("lexicon", "wibbly wobbly")
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1


def test_a_hypothetical_future_date_is_accepted_with_a_printed_warning(tmp_path):
    import yaml

    doc = yaml.safe_load(PANJSHIR.read_text())
    doc.pop("outcome"), doc.pop("statements")
    doc["as_of"] = "2030-01-01"
    path = tmp_path / "future.yaml"
    path.write_text(yaml.safe_dump(doc))
    refused = run("case", "check", str(path))
    assert refused.returncode == 2 and "after today" in refused.stderr
    doc["as_of_is_hypothetical"] = True
    path.write_text(yaml.safe_dump(doc))
    accepted = run("case", "check", str(path))
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stderr.startswith("forecast: warning:") and "2030-01-01" in accepted.stderr
