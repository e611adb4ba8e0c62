"""Fuzzing the command line's arguments: for any arguments, exit 0 or 2, never a traceback, and
nothing written on error. Commands that would fit a model get at least one argument that must be
refused, so the fuzzer explores the validation without sampling."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from conftest import PANJSHIR, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.cli import main

COUNT = {"n": 0}
CHEAP = ["data check", "case check", "models", "lexicon", "elicit", "outcome", "score", "history",
         "export", "import"]
WORDS = st.sampled_from(["--seed", "--draws", "--tune", "--chains", "--as-of", "--date", "--type", "--tau",
                         "--out", "--ledger", "--data", "--model", "--role", "--case", "--from-case",
                         "--as-of-every", "--exclude", "--workers", "--scheme", "--executor", "-5", "0",
                         "1e308", "nan", "2021-02-30", "2021-08-20", "2099-01-01", "fell", "relieved",
                         "standing", "panjshir_2021", "weibull", "nope", "x" * 300, "", "∞", "--",
                         str(PANJSHIR), str(ROOT / "data" / "holdouts.csv"),
                         "will probably fall within 72 hours"])
ARGS = st.lists(st.one_of(WORDS, st.text(max_size=20)), max_size=8)
REFUSED = [("--seed", "-1"), ("--draws", "0"), ("--chains", "0"), ("--model", "no_such_model"),
           ("--as-of", "2021-02-30"), ("--tune", "-3"), ("--interval", "0"), ("--max-updates", "-1")]


def _call(argv: list[str], workdir: Path) -> tuple[int, str]:
    COUNT["n"] += 1
    out, err = io.StringIO(), io.StringIO()
    # in the test's own directory: a fuzzed --out or file name must not land in the repository
    with contextlib.chdir(workdir), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors and --help
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


def _check(argv: list[str], tmp: Path) -> None:
    ledger = tmp / "ledger.sqlite"
    code, err = _call([*argv, "--ledger", str(ledger)] if argv and argv[0] in
                      ("outcome", "score", "history", "export", "import") else argv, tmp)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) <= 1, (argv, err)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(CHEAP), rest=ARGS)
def test_cheap_commands_exit_0_or_2_with_one_line(tmp_path, command, rest):
    _check([*command.split(), *rest], tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rest=ARGS, refused=st.sampled_from(REFUSED), command=st.sampled_from(["run", "watch"]))
def test_run_with_a_bad_argument_is_refused_and_writes_nothing(tmp_path, rest, refused, command):
    out = tmp_path / "out"
    # the refused argument last: argparse keeps the last of a repeated option, so a valid one
    # after it (``--seed -1 --seed 0``) would run a real fit
    argv = [command, str(PANJSHIR), "--out", str(out), *rest, *refused]
    code, err = _call(argv, tmp_path)
    assert code == 2, (argv, code, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(CHEAP), rest=ARGS)
def test_cheap_commands_fuzzed_long(tmp_path, command, rest):
    _check([*command.split(), *rest], tmp_path)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rest=ARGS, refused=st.sampled_from(REFUSED))
def test_run_with_a_bad_argument_fuzzed_long(tmp_path, rest, refused):
    for command in ("run", "watch"):
        test_run_with_a_bad_argument_is_refused_and_writes_nothing.hypothesis.inner_test(
            tmp_path, rest, refused, command)


def teardown_module():
    print(f"\nCLI fuzzing: {COUNT['n']} argument lists tried")


@pytest.mark.parametrize("argv", [["data", "check", "\x00"], ["case", "check", "a\x00b"],
                                  ["lexicon", "x\x00"], ["score", "--case", "\x00"],
                                  ["data", "check", "a\x1eb"]])
def test_found_by_fuzzing_nul_bytes_and_line_separators_give_one_line(argv, tmp_path):
    code, err = _call(argv, tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
