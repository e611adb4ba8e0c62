"""The ``forecast`` command: a thin layer over the library.

Exit status: 0 success, 2 bad input (one line on stderr, nothing written), 3 an unreliable
posterior refused, 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from forecast.errors import InputError, UnreliablePosteriorError


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _cmd_data_check(args: argparse.Namespace) -> int:
    from forecast.data import load_holdouts
    from forecast.reference import format_summary, summarize

    print(format_summary(summarize(load_holdouts(args.path))))
    return 0


def _cmd_case_check(args: argparse.Namespace) -> int:
    from forecast.cases import load_case
    from forecast.describe import format_case

    print(format_case(load_case(args.case)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="forecast",
        description="Bayesian forecasts of how long a holdout lasts.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    data = sub.add_parser("data", help="the reference class of historical holdouts")
    data_sub = data.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    data_sub.required = True
    check = data_sub.add_parser("check", help="validate a holdouts CSV and summarize it")
    check.add_argument("path", nargs="?", default=None, help="CSV (default: data/holdouts.csv)")
    check.set_defaults(func=_cmd_data_check)

    case = sub.add_parser("case", help="case files (a live or historical holdout)")
    case_sub = case.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    case_sub.required = True
    ccheck = case_sub.add_parser("check", help="validate a case file and show what it holds")
    ccheck.add_argument("case", help="case YAML, e.g. data/cases/panjshir_2021.yaml")
    ccheck.set_defaults(func=_cmd_case_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except InputError as exc:
        print(f"forecast: error: {exc}", file=sys.stderr)
        return 2
    except UnreliablePosteriorError as exc:
        print(f"forecast: unreliable: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("forecast: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
