"""The README's Python example works as shown, and its opening is the two set-up commands."""

from __future__ import annotations

import os
import re

import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_opens_with_exactly_the_two_commands():
    first_block = re.search(r"```\n(.*?)```", README, re.S).group(1)
    assert first_block.split("\n")[:2] == ["make forecast", "make test"]
    assert README.index("make forecast") < README.index("## ")


@pytest.mark.slow  # a long MCMC check: `make test-slow`, run by .ci/run after make test
def test_readme_python_example_runs_as_shown(tmp_path, monkeypatch, capsys, recwarn):
    block = README.split("## From Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORECAST_CACHE", str(tmp_path / "cache"))
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the example under test
    assert (tmp_path / "panjshir_survival.png").stat().st_size > 10_000
    result, evidence = namespace["result"], namespace["evidence"]
    assert result.case_id == "panjshir_2021" and 0 < result.p_fall_within(365) < 1
    assert evidence.decomposition[-1]["stage"].startswith("all statements together") and evidence.claims
    assert evidence.evidence and all("log_bayes_factor" in r for r in evidence.evidence)
    assert os.listdir(tmp_path / "cache")  # the posterior was stored for reuse
    printed = capsys.readouterr().out
    assert re.search(r"^\d+ days remaining \(median\)", printed, re.M)  # a whole number of days
    leaked = [str(w.message) for w in recwarn if "Approximat" in str(w.message)]
    assert not leaked  # lifelines' ApproximationWarning does not reach the API's user
    scores = namespace["scores"]
    assert len(scores) == 5 and (scores["status"] == "fell").all()
