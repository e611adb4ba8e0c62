"""The ``forecast`` command: a thin layer over the library.

Exit status: 0 success, 2 bad input (one line on stderr, nothing written), 3 an unreliable
posterior refused, 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
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

    case = load_case(args.case)
    print(format_case(case))
    if any(st.claims for st in case.statements):
        from forecast.data import load_holdouts
        from forecast.elicit.update import check_claims

        claims = check_claims(case, load_holdouts(args.data))
        print(f"  claims ({len(claims)}), as read against {args.data or 'data/holdouts.csv'}:")
        for c in claims:
            print(f"    {c.label}: {c.reading}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from models import DEFAULT, registry

    for name, cls in registry().items():
        mark = " (default)" if name == DEFAULT else ""
        print(f"{name:<12} {cls.description}{mark}")
    return 0


def _sampler(args: argparse.Namespace):
    from forecast.fit import SamplerConfig

    for key in ("draws", "tune", "chains"):
        if getattr(args, key) < 1:
            raise InputError(f"--{key}", f"{getattr(args, key)} must be a positive whole number")
    return SamplerConfig(draws=args.draws, tune=args.tune, chains=args.chains)


def _fit_for(args: argparse.Namespace, dataset):
    from forecast.fit import fit, load_posterior
    from models import get_model

    model = get_model(args.model)
    if getattr(args, "posterior", None):
        from forecast.fit import expected_stamp
        from models.design import from_dataset

        stored = load_posterior(args.posterior, full=False)  # draws and stamp suffice
        wanted = expected_stamp(model, from_dataset(dataset), dataset.sha256, args.seed, _sampler(args))
        for key in ("model_id", "dataset_hash"):
            if stored.stamp.get(key) != wanted[key]:
                raise InputError(
                    args.posterior,
                    f"stored posterior does not match this request ({key} {stored.stamp.get(key)} "
                    f"!= {wanted[key]}): it was fitted to another model or dataset",
                )
        return stored
    return fit(dataset, model, seed=args.seed, sampler=_sampler(args),
               cache_dir=args.cache, refit=getattr(args, "refit", False))


def _diag_line(d) -> str:
    state = "reliable" if d.reliable else "UNRELIABLE: " + "; ".join(d.failures)
    return (f"diagnostics: max R-hat {d.rhat_max:.3f}, min ESS bulk {d.ess_bulk_min:.0f} / tail "
            f"{d.ess_tail_min:.0f}, divergences {d.divergences}: {state}")


def _cmd_fit(args: argparse.Namespace) -> int:
    from forecast.data import load_holdouts

    dataset = load_holdouts(args.data)
    post = _fit_for(args, dataset)
    print(f"model {post.stamp['model']} ({post.stamp['model_id']}) on {dataset.path} "
          f"({len(dataset)} cases), seed {post.stamp['seed']}")
    print(_diag_line(post.diagnostics))
    print(f"posterior: {post.path}")
    return 0


def _parse_date(value: str | None, flag: str = "--as-of"):
    if value is None:
        return None
    from forecast.data import parse_date

    return parse_date(value, flag)


def _cmd_run(args: argparse.Namespace) -> int:
    from forecast.cases import load_case
    from forecast.data import load_holdouts
    from forecast.describe import format_forecast
    from forecast.predict import predict
    from forecast.report import write_forecast
    from models import get_model

    get_model(args.model)  # an unknown name fails before anything is loaded or fitted
    case = load_case(args.case)
    as_of = _parse_date(args.as_of)
    if as_of is not None:
        case = case.with_as_of(as_of)
    dataset = load_holdouts(args.data)
    use_statements = not args.no_statements and any(st.claims for st in case.statements)
    if use_statements:
        from forecast.elicit.update import check_claims

        check_claims(case, dataset)  # bad claims fail before any fitting
    post = _fit_for(args, dataset)
    if not post.diagnostics.reliable and not args.allow_unreliable:
        raise UnreliablePosteriorError(
            f"the posterior failed the diagnostics gate ({'; '.join(post.diagnostics.failures)}); "
            "nothing written. Sample longer (--draws/--tune) or pass --allow-unreliable"
        )
    evidence = None
    if not use_statements:
        result = predict(post, case, seed=args.seed)
    else:
        from forecast.elicit.update import update

        evidence = update(post, case, dataset, seed=args.seed, sampler=_sampler(args))
        result = evidence.forecast
        result.extra = dict(result.extra) | evidence.record()
    written = write_forecast(result, case, args.out)
    print(format_forecast(result, case, n_reference=len(dataset)))
    if evidence is not None:
        from forecast.elicit.update import format_decomposition

        print(format_decomposition(evidence))
    print(_diag_line(post.diagnostics))
    print("wrote " + ", ".join(str(p) for p in written.values()))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from forecast.compare import compare, format_comparison
    from forecast.fit import fit, sample_design
    from models import registry

    sampler = _sampler(args)
    if args.cdb90:
        from forecast.cdb90 import load_cdb90
        from models.design import from_cdb90

        design = from_cdb90(load_cdb90())
        posts = {name: sample_design(cls(), design, seed=args.seed, sampler=sampler)
                 for name, cls in registry().items()}
        title = f"CDB90 engagements ({design.n} battles)"
    else:
        from forecast.data import load_holdouts

        dataset = load_holdouts(args.data)
        posts = {name: fit(dataset, name, seed=args.seed, sampler=sampler, cache_dir=args.cache,
                           full_trace=True)
                 for name in registry()}
        title = f"{dataset.path} ({len(dataset)} cases)"
    print(format_comparison(compare(posts), title))
    for name, post in posts.items():
        if not post.diagnostics.reliable:
            print(f"warning: {name}: {_diag_line(post.diagnostics)}")
    return 0


def _cmd_elicit(args: argparse.Namespace) -> int:
    from forecast.cases import ROLES
    from forecast.elicit.parse import format_proposal, propose

    if args.role is not None and args.role not in ROLES:
        raise InputError("--role", f"'{args.role}' is not one of {', '.join(ROLES)}")
    when = _parse_date(args.date, "--date")  # an ISO date, or exit 2
    proposal = propose(args.quote, speaker=args.speaker, role=args.role, date=when)
    statement = {"id": args.id, "quote": args.quote, "speaker": args.speaker or "UNKNOWN",
                 "role": args.role or "other", "date": when.isoformat() if when else "YYYY-MM-DD",
                 "source": args.source or "SOURCE"}
    print(format_proposal(proposal, statement=statement))
    if not proposal.claims:
        print("# no claim proposed: nothing in the quote could be read as a probability or a time")
    return 0


def _cmd_lexicon(args: argparse.Namespace) -> int:
    from forecast.elicit.lexicon import (
        load_probability_lexicon,
        load_role_weights,
        load_time_lexicon,
    )

    if args.phrase:
        prob, time = load_probability_lexicon(), load_time_lexicon()
        try:
            r = prob.lookup(args.phrase)
            via = f" (read as '{r.phrase}': {r.note})" if r.note else ""
            print(f"'{args.phrase}'{via}: Beta({r.a:.2f}, {r.b:.2f}), mean {r.mean:.2f}, "
                  f"90% {r.q05:.2f}-{r.q95:.2f}; {r.source}")
        except InputError:
            t = time.lookup(args.phrase)  # an unknown phrase raises: exit 2 with its message
            print(f"'{args.phrase}': {t.description}")
        return 0
    prob = load_probability_lexicon()
    print("probability phrases (Beta fitted to how people read them):")
    for name, e in sorted(prob.phrases.items(), key=lambda kv: kv[1]["mean"]):
        print(f"  {name:<26} mean {e['mean']:.2f}  90% {e['q05']:.2f}-{e['q95']:.2f}  "
              f"Beta({e['a']:.2f}, {e['b']:.2f})  {e.get('source', '')[:40]}")
    print("negations and hedges (mapped to the nearest measured phrase):")
    for name, e in sorted(prob.aliases.items()):
        print(f"  {name:<26} -> {e['phrase']}")
    print("role weights (default credibility of a statement):")
    for role, w in load_role_weights().items():
        print(f"  {role:<26} {w:g}")
    return 0


def _add_fit_options(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    from forecast.fit import SamplerConfig

    d = SamplerConfig()
    if model:
        p.add_argument("--model", default="weibull", help="model name (see `forecast models`)")
    p.add_argument("--data", default=None, help="holdouts CSV (default: data/holdouts.csv)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling and prediction (default 0)")
    p.add_argument("--draws", type=int, default=d.draws, help=f"draws per chain (default {d.draws})")
    p.add_argument("--tune", type=int, default=d.tune, help=f"tuning steps per chain (default {d.tune})")
    p.add_argument("--chains", type=int, default=d.chains, help=f"chains (default {d.chains})")
    p.add_argument("--cache", default=None,
                   help="posterior cache directory (default $FORECAST_CACHE or .cache/forecast)")


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
    ccheck.add_argument("--data", default=None,
                        help="reference class for reading vague time words (default data/holdouts.csv)")
    ccheck.set_defaults(func=_cmd_case_check)

    models = sub.add_parser("models", help="list the duration models")
    models.set_defaults(func=_cmd_models)

    fitp = sub.add_parser("fit", help="fit a model to the reference class (reuses a stored posterior)")
    _add_fit_options(fitp)
    fitp.add_argument("--refit", action="store_true", help="sample even if a matching posterior is stored")
    fitp.set_defaults(func=_cmd_fit)

    run = sub.add_parser("run", help="forecast a case: remaining life as of a date, files in --out")
    run.add_argument("case", help="case YAML, e.g. data/cases/panjshir_2021.yaml")
    run.add_argument("--out", required=True, help="output directory")
    run.add_argument("--as-of", default=None, help="forecast date YYYY-MM-DD (default: the case's as_of)")
    run.add_argument("--posterior", default=None, help="use this stored posterior (.nc); must match")
    run.add_argument("--no-statements", action="store_true",
                     help="forecast from the indicators only, ignoring the statements' claims")
    run.add_argument("--allow-unreliable", action="store_true",
                     help="write a forecast even if the posterior fails the diagnostics gate")
    _add_fit_options(run)
    run.set_defaults(func=_cmd_run)

    eli = sub.add_parser("elicit", help="propose claims (case-file YAML) from a quote; shows its reading")
    eli.add_argument("quote", help="the statement, verbatim")
    eli.add_argument("--speaker", default=None)
    eli.add_argument("--role", default=None, help="independent_analyst, party_to_conflict, ...")
    eli.add_argument("--date", default=None, help="date of the statement, YYYY-MM-DD")
    eli.add_argument("--source", default=None)
    eli.add_argument("--id", default="new_statement", help="statement id for the YAML")
    eli.set_defaults(func=_cmd_elicit)

    lex = sub.add_parser("lexicon", help="show the probability phrases, time words and role weights")
    lex.add_argument("phrase", nargs="?", default=None, help="look up one phrase or time word")
    lex.set_defaults(func=_cmd_lexicon)

    comp = sub.add_parser("compare", help="PSIS-LOO comparison of all models")
    _add_fit_options(comp, model=False)
    comp.add_argument("--cdb90", action="store_true", help="compare on the CDB90 engagements instead")
    comp.set_defaults(func=_cmd_compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not os.environ.get("FORECAST_WARNINGS"):
        # libraries' warnings (PSIS, lifelines' interpolation) are reported by the toolkit's own
        # diagnostics; set FORECAST_WARNINGS=1 to see them
        warnings.simplefilter("ignore")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except InputError as exc:
        print(f"forecast: error: {exc}", file=sys.stderr)
        return 2
    except UnreliablePosteriorError as exc:
        print(f"forecast: unreliable: {exc}", file=sys.stderr)
        return 3
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("forecast: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
