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
from models import DEFAULT as DEFAULT_MODEL


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see --help)\n")


def _warned(obj):
    """Print the warnings a loaded case or dataset carries (values accepted but unusual), once
    each, on stderr; return the object."""
    for w in dict.fromkeys(getattr(obj, "warnings", ()) or ()):
        print(f"forecast: warning: {_one_line(str(w))}", file=sys.stderr)
    return obj


def _cmd_data_check(args: argparse.Namespace) -> int:
    from forecast.data import load_holdouts
    from forecast.reference import format_summary, summarize

    print(format_summary(summarize(_warned(load_holdouts(args.path)))))
    return 0


def _cmd_data_agree(args: argparse.Namespace) -> int:
    from forecast.agreement import agreement, disagreements, read_coding
    from forecast.describe import format_agreement

    first, second = read_coding(args.first), read_coding(args.second)
    table = agreement(first, second)
    print(format_agreement(table, args.first, args.second))
    if args.disagreements:
        from forecast.report import write_csv

        path = write_csv(disagreements(first, second), args.disagreements)
        print(f"disagreements: {path}")
    return 0


def _cmd_case_check(args: argparse.Namespace) -> int:
    from forecast.cases import load_case
    from forecast.describe import format_case

    case = _warned(load_case(args.case))
    print(format_case(case))
    if any(st.claims for st in case.statements):
        from forecast.data import load_holdouts
        from forecast.elicit.update import check_claims

        claims = check_claims(case, _warned(load_holdouts(args.data)))
        print(f"  claims ({len(claims)}), as read against {args.data or 'data/holdouts.csv'}:")
        for c in claims:
            print(f"    {c.label}: {c.reading}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from models import DEFAULT, registry
    from models.base import STRUCTURES

    for name, cls in registry().items():
        mark = " (default)" if name == DEFAULT else ""
        print(f"{name:<12} {cls.description}{mark}")
    print("structures (append to a family name, e.g. weibull-plain; none = the full model):")
    for key, st in STRUCTURES.items():
        if key:
            on = ([k for k, v in vars(st).items() if v]
                  or ["no competing ends, war, era, monotone, size or interval parts"])
            print(f"  -{key:<11} {', '.join(on)}")
    return 0


def _sampler(args: argparse.Namespace):
    from forecast.fit import SamplerConfig

    for key in ("draws", "tune", "chains"):
        if getattr(args, key) < 1:
            raise InputError(f"--{key}", f"{getattr(args, key)} must be a positive whole number")
    return SamplerConfig(draws=args.draws, tune=args.tune, chains=args.chains)


def _fit_for(args: argparse.Namespace, dataset):
    from forecast.workflow import posterior_for

    return posterior_for(dataset, args.model, seed=args.seed, sampler=_sampler(args),
                         cache_dir=args.cache, posterior_path=getattr(args, "posterior", None),
                         refit=getattr(args, "refit", False))


def _diag_line(d) -> str:
    from forecast.describe import diagnostics_line

    return diagnostics_line(d.to_dict())


def _cmd_fit(args: argparse.Namespace) -> int:
    from forecast.data import load_holdouts

    dataset = _warned(load_holdouts(args.data))
    post = _fit_for(args, dataset)
    print(f"model {post.stamp['model']} ({post.stamp['model_id']}) on {dataset.path} "
          f"({len(dataset)} cases), seed {post.stamp['seed']}")
    print(_diag_line(post.diagnostics))
    print(f"posterior: {post.path}")
    if args.ppc:
        from forecast.checks import format_ppc, ppc_by_outcome
        from models.design import from_dataset

        table = ppc_by_outcome(post, from_dataset(dataset), seed=args.seed)
        print(format_ppc(table, f"{post.stamp['model']} on {dataset.path}"))
    return 0


def _parse_date(value: str | None, flag: str = "--as-of"):
    if value is None:
        return None
    from forecast.data import parse_date

    return parse_date(value, flag)


def _as_of_dates(args: argparse.Namespace, case) -> list:
    """The forecast dates asked for: --as-of (repeatable), --as-of-every N[d], or the case's."""
    from datetime import timedelta

    dates = [_parse_date(d) for d in (args.as_of or [])]
    if args.as_of_every:
        text = args.as_of_every.strip().lower().removesuffix("d").removesuffix(" days")
        if not text.isdigit() or int(text) < 1:
            raise InputError("--as-of-every", f"'{args.as_of_every}' is not a number of days such as 30d")
        step = int(text)
        day = case.start_date + timedelta(days=step)
        while day <= case.as_of:
            dates.append(day)
            day += timedelta(days=step)
        dates.append(case.as_of)
    dates = sorted(set(dates)) or [case.as_of]
    for d in dates:
        case.with_as_of(d)  # each date checked (inside the case, not after its outcome) before any work
    return dates


def _check_out(out: str, dates: list, overwrite: bool) -> None:
    from pathlib import Path

    target = Path(out)
    if target.exists() and not target.is_dir():
        raise InputError("--out", f"{out} is an existing file, not a directory")
    dirs = [target] if len(dates) == 1 else [target / d.isoformat() for d in dates]
    held = [d for d in dirs if (d / "forecast.json").exists()]
    if held and not overwrite:
        raise InputError("--out", f"{held[0]} already holds a forecast; choose another --out or pass "
                         "--overwrite to replace it")


def _cmd_run(args: argparse.Namespace) -> int:
    from forecast.cases import load_case
    from forecast.data import load_holdouts
    from forecast.describe import format_forecast, format_run_table
    from forecast.report import write_forecast, write_table
    from forecast.workflow import posterior_for, prepare_reference, run_case
    from models import get_model

    get_model(args.model)  # an unknown name fails before anything is loaded or fitted
    sampler = _sampler(args)
    ledger = _open_ledger(args) if args.record else None  # a bad ledger fails before fitting
    case = _warned(load_case(args.case))
    dates = _as_of_dates(args, case)
    _check_out(args.out, dates, args.overwrite)
    dataset, left_out = prepare_reference(_warned(load_holdouts(args.data)), case, exclude=args.exclude or ())
    posterior = args.posterior or posterior_for(dataset, args.model, seed=args.seed, sampler=sampler,
                                                cache_dir=args.cache)  # one fit for every date
    from pathlib import Path

    runs = []
    for d in dates:
        run = run_case(case.with_as_of(d), dataset, model=args.model, seed=args.seed, sampler=sampler,
                       cache_dir=args.cache, posterior=posterior,
                       use_statements=not args.no_statements, allow_unreliable=args.allow_unreliable,
                       baselines=ledger is not None, left_out=left_out)
        posterior = run.posterior
        out = Path(args.out) if len(dates) == 1 else Path(args.out) / d.isoformat()
        written = write_forecast(run.forecast, run.case, out, charts=not args.no_charts)
        if not args.brief:
            print(format_forecast(run, verbose=args.verbose, n_reference=len(dataset)))
            print("wrote " + ", ".join(str(p) for p in written.values()))
        runs.append(run)
    if len(runs) > 1 or args.brief:
        table = write_table(runs, Path(args.out) / "by_date.csv")
        print(format_run_table(runs))
        print(f"wrote {table} and each date's files in {args.out}")
    if ledger is not None:
        with ledger:
            for run in runs:
                fid = ledger.record(run.record())
                base_ids = ledger.record_many(run.baseline_records())
                names = ", ".join(f"{n} #{i}" for n, i in zip(run.baselines, base_ids, strict=True))
                print(f"recorded the forecast as of {run.case.as_of} as #{fid}, with its baselines "
                      f"({names}), in {ledger.path}")
                if run.evidence is not None and run.evidence.claims:
                    from forecast.elicit.calibration import claim_rows

                    kept = ledger.record_claims(run.case.id, run.case.start_date,
                                                claim_rows(run.evidence))
                    if kept:
                        print(f"kept {kept} claim(s) for the speakers' record (forecast experts --ledger)")
    return 0


def _file_state(path: str) -> str | None:
    """What says a file changed: the hash of its content (None while it cannot be read). Not its
    modification time: a same-size save within the clock's granularity would go unseen."""
    import hashlib

    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _cmd_watch(args: argparse.Namespace) -> int:
    """Forecast the case, then again each time its file changes, in one process: the libraries,
    the reference class and the posterior stay loaded, so an update costs the forecast itself.
    A bad edit prints its one line and keeps the last good files; the next good edit goes on."""
    import time

    from forecast.cases import load_case
    from forecast.data import load_holdouts
    from forecast.describe import format_forecast
    from forecast.report import write_forecast
    from forecast.workflow import posterior_for, prepare_reference, run_case
    from models import get_model

    get_model(args.model)
    sampler = _sampler(args)
    case = _warned(load_case(args.case))
    _check_out(args.out, [case.as_of], args.overwrite)
    holdouts = _warned(load_holdouts(args.data))
    posteriors: dict[str, object] = {}  # by the reference data's hash: a case may change it

    def forecast_once(case) -> None:
        started = time.perf_counter()
        dataset, left_out = prepare_reference(holdouts, case, exclude=args.exclude or ())
        if dataset.sha256 not in posteriors:
            posteriors[dataset.sha256] = posterior_for(dataset, args.model, seed=args.seed,
                                                       sampler=sampler, cache_dir=args.cache)
        run = run_case(case, dataset, model=args.model, seed=args.seed, sampler=sampler,
                       cache_dir=args.cache, posterior=posteriors[dataset.sha256],
                       use_statements=not args.no_statements,
                       allow_unreliable=args.allow_unreliable, baselines=False, left_out=left_out)
        numbers = time.perf_counter() - started
        print(format_forecast(run, verbose=args.verbose, n_reference=len(dataset)), flush=True)
        written = write_forecast(run.forecast, run.case, args.out, charts=not args.no_charts)
        print(f"updated in {numbers:.2f} s ({time.perf_counter() - started:.2f} s with the files): "
              f"wrote {', '.join(p.name for p in written.values())} in {args.out}", flush=True)

    forecast_once(case)
    seen = _file_state(args.case)
    print(f"watching {args.case} for changes every {args.interval:g} s (Ctrl-C to stop)", flush=True)
    updates = 0
    try:
        while args.max_updates is None or updates < args.max_updates:
            time.sleep(args.interval)
            now = _file_state(args.case)
            if now is None or now == seen:
                continue
            time.sleep(min(args.interval, 0.2))  # let an editor finish writing it
            seen = _file_state(args.case)
            updates += 1
            try:
                forecast_once(_warned(load_case(args.case)))
            except InputError as exc:
                print(f"forecast: error: {_one_line(str(exc))} (the last good forecast is kept)",
                      file=sys.stderr, flush=True)
            except UnreliablePosteriorError as exc:  # an edit that needed a new fit, failing the gate
                print(f"forecast: unreliable: {_one_line(str(exc))} (the last good forecast is kept)",
                      file=sys.stderr, flush=True)
            except OSError as exc:  # --out removed, replaced by a file, a full disk: say so, go on
                where = exc.filename or args.out
                print(f"forecast: error: {where}: cannot write the forecast "
                      f"({exc.strerror or exc}); watching goes on", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("stopped watching", flush=True)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from forecast.cases import load_case
    from forecast.data import load_holdouts
    from forecast.html_report import write
    from forecast.workflow import prepare_reference, run_case

    case = _warned(load_case(args.case))
    dataset, left_out = prepare_reference(_warned(load_holdouts(args.data)), case, exclude=())
    run = run_case(case, dataset, model=args.model, seed=args.seed, sampler=_sampler(args),
                   cache_dir=args.cache, baselines=False, left_out=left_out)
    backtest = record = history = None
    if args.ledger:
        backtest, record = _latest_backtest(_open_ledger(args, create=False), args.model)
        history = _case_history(_open_ledger(args, create=False), case.id, run.forecast.model,
                                run.forecast.model_id)
    record_note = None
    if backtest is None and args.record:
        from models import get_model

        backtest, record, record_note = _stored_backtest(args.record, args.model,
                                                         get_model(args.model).code_id())
    path = write(run, args.out, backtest=backtest, record=record, history=history,
                 record_note=record_note)
    print(f"wrote {path}")
    return 0


def _stored_backtest(directory: str, model: str, code_id: str):
    """The leave-one-out backtest written by ``forecast backtest --out DIR`` (its scores, skill
    and run record): skill table, record-chart inputs and a note saying which run and model id
    it is, and whether that is the model that made this forecast."""
    import json
    from pathlib import Path

    import pandas as pd

    d = Path(directory)
    paths = [d / f"backtest_loo_{k}" for k in ("scores.csv", "skill.csv", "run.json")]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InputError(f"--record {directory}", f"has no {missing[0]} (write one with "
                                                   "forecast backtest --scheme loo --out DIR)")
    table, skill = pd.read_csv(paths[0]), pd.read_csv(paths[1])
    info = json.loads(paths[2].read_text())
    if model not in set(table["model"]):
        return None, None, f"the stored backtest in {directory} has no {model} forecasts"
    made = info.get("made", "")[:10]
    ran = info.get("code_ids", {}).get(model, "unknown")
    note = (f"Record: leave-one-war-out backtest {info.get('run_id', '')} of {model} (code id {ran}), "
            f"made {made} on reference data {str(info.get('dataset_hash', ''))[:12]}, stored in "
            f"{directory}.")
    if ran != code_id:
        note += (f" The forecast above was made by code id {code_id}: the record is of another "
                 "version of the model (make record refreshes it).")
    return skill, (table, skill, model), note


def _case_history(ledger, case_id: str, model: str, model_id: str) -> list:
    """The case's recorded forecasts of this model, the newest per as_of; those of the current
    model id when it has any (a refitted model's older records are not mixed in)."""
    with ledger:
        recs = [r for _, r in ledger.forecasts(case_id=case_id, kind="forecast", model=model)]
    same = [r for r in recs if r.model_id == model_id]
    newest: dict = {}
    for r in same or recs:  # ordered by as_of, then issue time: the last one per date wins
        newest[r.as_of] = r
    return list(newest.values())


def _latest_backtest(ledger, model: str):
    """The newest backtest run in the ledger: its skill table, and (when its scores carry the
    horizon probabilities) what the record chart needs; (None, None) without one."""
    import io

    import pandas as pd

    with ledger:
        runs = ledger.backtests()
    if not runs:
        return None, None
    skill = runs[-1].get("summary", {}).get("skill")
    skill = pd.DataFrame(skill) if skill else None
    table = pd.read_csv(io.StringIO(runs[-1]["table_csv"]))
    record = None
    if skill is not None and "p_30" in table and model in set(table["model"]):
        record = (table, skill, model)
    return skill, record


def _open_ledger(args: argparse.Namespace, *, create: bool = True):
    from forecast.ledger import Ledger, default_ledger_path

    return Ledger(args.ledger or default_ledger_path(), create=create)


def _cmd_outcome(args: argparse.Namespace) -> int:
    from forecast.outcomes import OUTCOME_TYPES

    if args.from_case:
        from forecast.cases import load_case

        case = _warned(load_case(args.from_case))
        if case.outcome is None or case.outcome.status == "ongoing" or case.outcome.end_date is None:
            raise InputError(args.from_case, "has no outcome with an end date to record")
        case_id, kind, when = case.id, case.outcome.status, case.outcome.end_date
        note, source = case.outcome.note, case.outcome.source
    else:
        if not args.case_id or not args.type or not args.date:
            raise InputError("forecast outcome", "give CASE_ID with --type and --date, or --from-case FILE")
        if args.type not in OUTCOME_TYPES:
            raise InputError("--type", f"'{args.type}' is not one of {', '.join(OUTCOME_TYPES)}")
        case_id, kind, when = args.case_id, args.type, _parse_date(args.date, "--date")
        note, source = args.note, args.source
    with _open_ledger(args, create=False) as ledger:
        wrote = ledger.record_outcome(case_id, kind, when, note=note, source=source)
    state = "recorded" if wrote else "already recorded (nothing changed)"
    print(f"{case_id}: {kind} on {when.isoformat()}: {state}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from forecast.describe import format_scores
    from forecast.report import write_csv
    from forecast.track_record import score_ledger

    when = _parse_date(args.date, "--date")
    with _open_ledger(args, create=False) as ledger:
        table = score_ledger(ledger, case_id=args.case, scoring_date=when, tau=args.tau)
    print(format_scores(table, tau=args.tau, case_id=args.case))
    if args.out and not table.empty:
        write_csv(table, args.out)
        print(f"wrote {args.out}")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    from forecast.describe import format_history
    from forecast.track_record import score_ledger

    with _open_ledger(args, create=False) as ledger:
        records = ledger.forecasts(case_id=args.case_id)
        if not records:
            raise InputError(args.case_id, f"no forecast of this case in {ledger.path}")
        scores = score_ledger(ledger, case_id=args.case_id, scoring_date=_parse_date(args.date, "--date"))
        known = ledger.outcome(args.case_id)
    print(format_history(args.case_id, records, scores, known))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    with _open_ledger(args, create=False) as ledger:
        table = ledger.export_hubverse(args.out, case_id=args.case)
    print(f"wrote {len(table)} rows (hubverse long format) to {args.out}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    with _open_ledger(args) as ledger:
        n = ledger.import_hubverse(args.path)
    print(f"imported {n} forecasts from {args.path} into {ledger.path}")
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from forecast.backtest import SCHEMES, BacktestConfig, run_backtest
    from forecast.data import load_holdouts
    from forecast.describe import format_backtest
    from forecast.executor import make_executor
    from models import get_model, registry

    names = []
    for name in args.model.split(","):
        name = name.strip()
        if name == "all":
            names += [n for n in registry() if n not in names]
        elif name not in names:
            get_model(name)  # an unknown name fails before anything is fitted
            names.append(name)
    if args.origin_years < 0:
        raise InputError("--origin-years", f"{args.origin_years} is negative (0: one origin per case)")
    schemes = list(SCHEMES) if args.scheme == "all" else [args.scheme]
    for s in schemes:
        if s not in SCHEMES:
            raise InputError("--scheme", f"'{s}' is not one of {', '.join(SCHEMES)}, all")
    sampler = _sampler(args)
    executor = make_executor(args.executor, scheduler=args.scheduler, workers=args.workers)
    if args.executor == "local" and args.scheduler:
        raise InputError("--scheduler", "is for --executor dask")
    if not args.no_record:  # a bad ledger fails before any fitting
        _open_ledger(args).close()
    dataset = _warned(load_holdouts(args.data))
    cases = tuple(args.case or ())
    unknown = [c for c in cases if c not in set(dataset.frame["case_id"])]
    if unknown:
        raise InputError("--case", f"'{unknown[0]}' is not a case_id of {dataset.path}")
    out = None
    if args.out:
        from pathlib import Path

        out = Path(args.out)
    for scheme in schemes:
        config = BacktestConfig(models=tuple(names), scheme=scheme, draws=sampler.draws,
                                tune=sampler.tune, chains=sampler.chains, seed=args.seed, cases=cases,
                                origin_years=args.origin_years)
        with _progress(f"backtest {scheme}") as progress:
            result = run_backtest(dataset, config, executor=executor, progress=progress,
                                  psis=scheme == "loo" and not args.no_psis)
        print(format_backtest(result, dataset))
        if out is not None:
            import json
            from datetime import UTC, datetime

            from forecast.report import write_csv

            write_csv(result.table, out / f"backtest_{scheme}_scores.csv")
            write_csv(result.skill, out / f"backtest_{scheme}_skill.csv")
            from models import get_model

            run_info = result.summary_dict() | {
                "run_id": result.run_id, "model_ids": result.model_ids,
                "code_ids": {m: get_model(m).code_id() for m in result.model_ids},
                "made": datetime.now(UTC).isoformat(timespec="seconds"), "data": str(dataset.path)}
            (out / f"backtest_{scheme}_run.json").write_text(json.dumps(run_info, indent=1) + "\n")
            print(f"wrote {out / f'backtest_{scheme}_scores.csv'}, {out / f'backtest_{scheme}_skill.csv'}, "
                  f"{out / f'backtest_{scheme}_run.json'}")
        if not args.no_record:
            from forecast.backtest import backtest_records

            with _open_ledger(args) as ledger:
                ledger.record_many(backtest_records(result, dataset))
                ledger.store_backtest(result.run_id, result.summary_dict(), result.table.to_csv(index=False))
            print(f"recorded backtest {result.run_id} in {ledger.path}")
    return 0


class _progress:
    """A progress bar on the terminal (rich), silent when output is not a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=None)
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)
        else:
            step = max(total // 10, 1)
            if done == total or done % step == 0:
                print(f"{self.label}: {done}/{total} folds", file=sys.stderr, flush=True)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _cmd_compare(args: argparse.Namespace) -> int:
    from forecast.compare import compare, format_comparison
    from forecast.fit import fit, sample_design
    from models import registry

    sampler = _sampler(args)
    if args.cdb90:
        from forecast.cdb90 import load_cdb90
        from models.design import from_cdb90

        design = from_cdb90(load_cdb90())
        # engagements have no competing ends, wars or eras: the single-end structure
        posts = {name: sample_design(cls(None, "plain"), design, seed=args.seed, sampler=sampler)
                 for name, cls in registry().items()}
        title = f"CDB90 engagements ({design.n} battles)"
    else:
        from forecast.data import load_holdouts

        dataset = _warned(load_holdouts(args.data))
        posts = {name: fit(dataset, name, seed=args.seed, sampler=sampler, cache_dir=args.cache,
                           full_trace=True)
                 for name in registry()}
        title = f"{dataset.path} ({len(dataset)} cases)"
    print(format_comparison(compare(posts), title))
    for name, post in posts.items():
        if not post.diagnostics.reliable:
            print(f"warning: {name}: {_diag_line(post.diagnostics)}")
    if not args.cdb90:
        from pathlib import Path

        from forecast.describe import format_backtest_skill
        from forecast.ledger import default_ledger_path

        path = Path(args.ledger or default_ledger_path())
        runs = []
        if path.exists():
            with _open_ledger(args, create=False) as ledger:
                runs = [r for r in ledger.backtests() if r["summary"].get("dataset_hash") == dataset.sha256]
        print(format_backtest_skill(runs, str(path)))
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
    from forecast.elicit.lexicon_view import describe_phrase, format_lexicon

    prob, time = load_probability_lexicon(), load_time_lexicon()
    if args.phrase:
        print(describe_phrase(args.phrase, prob, time), end="")  # unknown: InputError, exit 2
        return 0
    print(format_lexicon(prob, time, load_role_weights()), end="")
    return 0


def _cmd_experts(args: argparse.Namespace) -> int:
    from forecast.elicit.calibration import load_calibration
    from forecast.elicit.experts import format_record, record, refit

    if args.backtest:
        return _experts_backtest(args)
    ledger = _open_ledger(args, create=False) if args.ledger else None
    try:
        if args.fit:
            cal = refit(args.statements, args.out, seed=args.seed, draws=args.draws, ledger=ledger)
        else:
            cal = load_calibration(args.calibration)
        table, unresolved, n = record(args.statements, seed=args.seed, ledger=ledger)
    finally:
        if ledger is not None:
            ledger.close()
    print(format_record(table, unresolved, n, cal), end="")
    return 0


def _experts_backtest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from forecast.data import load_holdouts
    from forecast.elicit.calibration import load_statements
    from forecast.elicit.statements_backtest import format_result, run
    from forecast.executor import LocalExecutor

    dataset = load_holdouts()
    statements = load_statements(args.statements, holdouts=dataset.frame)
    out = Path(args.out or "out/statements_backtest")
    out.mkdir(parents=True, exist_ok=True)
    bt = run(dataset, statements, model=args.model, seed=args.seed, draws=args.draws // 2,
             tune=args.draws // 2, executor=LocalExecutor(args.workers))
    bt.table.to_csv(out / "scores.csv", index=False)
    bt.skill.to_csv(out / "skill.csv", index=False)
    bt.folds.to_csv(out / "folds.csv", index=False)
    print(format_result(bt), end="")
    print(f"wrote {out / 'scores.csv'}, {out / 'skill.csv'}, {out / 'folds.csv'}")
    return 0


def _add_ledger_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ledger", default=None,
                   help="ledger file (default $FORECAST_LEDGER or .cache/forecast/ledger.sqlite)")


def _positive_float(value: str) -> float:
    """Seconds between looks at a watched file: more than 0, at most an hour."""
    try:
        x = float(value)
    except ValueError:
        x = float("nan")
    if not 0 < x <= 3600:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number of seconds in (0, 3600]")
    return x


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n <= 0:
        raise argparse.ArgumentTypeError(f"'{value}' is not a positive whole number")
    return n


def _add_fit_options(p: argparse.ArgumentParser, *, model: bool = True, **defaults: int) -> None:
    from forecast.fit import SamplerConfig

    d = SamplerConfig(**defaults)
    if model:
        p.add_argument("--model", default=DEFAULT_MODEL,
                       help=f"model name (see `forecast models`; default {DEFAULT_MODEL})")
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
    agree = data_sub.add_parser("agree", help="agreement of two independent codings of the same rows")
    agree.add_argument("first", help="first coding, e.g. data/holdouts.csv")
    agree.add_argument("second", help="second coding of some of its rows (same case_ids)")
    agree.add_argument("--disagreements", default=None, metavar="CSV",
                       help="also write every cell where the codings differ")
    agree.set_defaults(func=_cmd_data_agree)

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
    fitp.add_argument("--ppc", action="store_true",
                      help="also a posterior predictive check of the durations by how holdouts ended")
    fitp.set_defaults(func=_cmd_fit)

    run = sub.add_parser("run", help="forecast a case: remaining life as of a date, files in --out")
    run.add_argument("case", help="case YAML, e.g. data/cases/panjshir_2021.yaml")
    run.add_argument("--out", required=True, help="output directory")
    run.add_argument("--as-of", action="append", default=None,
                     help="forecast date YYYY-MM-DD (default: the case's as_of); repeat for several dates")
    run.add_argument("--as-of-every", default=None, metavar="N[d]",
                     help="also forecast every N days from the start up to the case's as_of")
    run.add_argument("--no-charts", action="store_true",
                     help="write forecast.json and survival.csv only (no PNG/SVG charts; faster)")
    run.add_argument("--brief", action="store_true",
                     help="print only the table of forecasts by date (files are written as usual)")
    run.add_argument("--exclude", action="append", default=None, metavar="CASE_ID",
                     help="leave this reference-class row out of the fit (repeatable); a row that is "
                          "the case itself is left out without asking")
    run.add_argument("--overwrite", action="store_true", help="replace a forecast already in --out")
    run.add_argument("--verbose", action="store_true",
                     help="also show the statistics: diagnostics, claim readings, PSIS k-hat")
    run.add_argument("--posterior", default=None, help="use this stored posterior (.nc); must match")
    run.add_argument("--no-statements", action="store_true",
                     help="forecast from the indicators only, ignoring the statements' claims")
    run.add_argument("--allow-unreliable", action="store_true",
                     help="write a forecast even if the posterior fails the diagnostics gate")
    run.add_argument("--record", action="store_true",
                     help="store the forecast (and the climatologies for the same date) in the ledger")
    _add_ledger_option(run)
    _add_fit_options(run)
    run.set_defaults(func=_cmd_run)

    watch = sub.add_parser("watch", help="forecast a case again each time its file changes "
                                          "(one process: updates in about a second)")
    watch.add_argument("case", help="case YAML to watch, e.g. data/cases/panjshir_2021.yaml")
    watch.add_argument("--out", required=True, help="output directory (rewritten on each update)")
    watch.add_argument("--interval", type=_positive_float, default=0.5, metavar="SECONDS",
                       help="how often to look at the file (default 0.5)")
    watch.add_argument("--max-updates", type=_positive_int, default=None, metavar="N",
                       help="stop after N changes (default: until Ctrl-C)")
    watch.add_argument("--no-charts", action="store_true", help="write forecast.json and survival.csv only")
    watch.add_argument("--exclude", action="append", default=None, metavar="CASE_ID",
                       help="leave this reference-class row out of the fit (repeatable)")
    watch.add_argument("--overwrite", action="store_true", help="replace a forecast already in --out")
    watch.add_argument("--verbose", action="store_true", help="also show the statistics")
    watch.add_argument("--no-statements", action="store_true",
                       help="forecast from the indicators only, ignoring the statements' claims")
    watch.add_argument("--allow-unreliable", action="store_true",
                       help="write a forecast even if the posterior fails the diagnostics gate")
    _add_fit_options(watch)
    watch.set_defaults(func=_cmd_watch)

    outc = sub.add_parser("outcome", help="record how a case ended (or that it still stands) in the ledger")
    outc.add_argument("case_id", nargs="?", default=None, help="the case's id")
    outc.add_argument("--type", default=None,
                      help="fell, surrendered, negotiated_withdrawal, relieved, attacker_withdrew, "
                           "war_ended, or standing (still holding on --date)")
    outc.add_argument("--date", default=None, help="date of the end (or of the standing observation)")
    outc.add_argument("--note", default=None)
    outc.add_argument("--source", default=None)
    outc.add_argument("--from-case", default=None, metavar="CASE.yaml",
                      help="take the case id and outcome from a case file's `outcome`")
    _add_ledger_option(outc)
    outc.set_defaults(func=_cmd_outcome)

    sc = sub.add_parser("score", help="score the ledger's forecasts against the recorded outcomes")
    sc.add_argument("--case", default=None, help="only this case id")
    sc.add_argument("--date", default=None, help="scoring date (default: today)")
    sc.add_argument("--tau", type=float, default=365.0,
                    help="scoring horizon of the twCRPS, days after as_of (default 365)")
    sc.add_argument("--out", default=None, help="also write the score table to this CSV")
    _add_ledger_option(sc)
    sc.set_defaults(func=_cmd_score)

    hist = sub.add_parser("history", help="a case's recorded forecasts over as_of dates, with scores")
    hist.add_argument("case_id")
    hist.add_argument("--date", default=None, help="scoring date (default: today)")
    _add_ledger_option(hist)
    hist.set_defaults(func=_cmd_history)

    exp = sub.add_parser("export", help="export the ledger's forecasts in the hubverse long format (CSV)")
    exp.add_argument("--out", required=True, help="CSV to write")
    exp.add_argument("--case", default=None, help="only this case id")
    _add_ledger_option(exp)
    exp.set_defaults(func=_cmd_export)

    imp = sub.add_parser("import", help="import forecasts from a hubverse long-format CSV")
    imp.add_argument("path")
    _add_ledger_option(imp)
    imp.set_defaults(func=_cmd_import)

    bt = sub.add_parser("backtest", help="out-of-sample forecasts of every historical case, scored")
    bt.add_argument("--model", default=DEFAULT_MODEL,
                    help="model name, comma-separated names, or 'all' (every family, full structure)")
    bt.add_argument("--origin-years", type=int, default=2,
                    help="rolling: one origin per this many years of start dates (0: one per case; "
                         "default 2)")
    bt.add_argument("--scheme", default="loo", help="loo (by war when known), rolling, or all")
    bt.add_argument("--executor", default="local", help="local (processes) or dask")
    bt.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    bt.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    bt.add_argument("--out", default=None, help="directory for the score and skill tables (CSV)")
    bt.add_argument("--no-record", action="store_true", help="do not write the backtest to the ledger")
    bt.add_argument("--case", action="append", default=None, metavar="CASE_ID",
                    help="forecast only this case (repeatable; default: every case)")
    bt.add_argument("--no-psis", action="store_true", help="skip the PSIS-LOO fit beside exact LOO")
    _add_ledger_option(bt)
    _add_fit_options(bt, model=False, draws=500, tune=500, chains=2)
    bt.set_defaults(func=_cmd_backtest)

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

    rep = sub.add_parser("report", help="a self-contained HTML report of a case's forecast, with charts "
                                        "and tables (report.html and CSV tables in --out)")
    rep.add_argument("case", help="case file (YAML)")
    rep.add_argument("--out", required=True, help="directory for report.html and its CSV tables")
    rep.add_argument("--ledger", default=None, help="show the newest backtest recorded in this ledger")
    rep.add_argument("--record", default=None, metavar="DIR",
                     help="without a backtest in the ledger, show the one written by "
                          "forecast backtest --out DIR (data/record ships one)")
    _add_fit_options(rep)
    rep.set_defaults(func=_cmd_report)
    ex = sub.add_parser("experts", help="the scored record of speakers and roles (data/statements.csv) "
                                       "and their fitted calibration")
    ex.add_argument("--statements", default=None, help="statements CSV (default data/statements.csv)")
    ex.add_argument("--calibration", default=None,
                    help="calibration YAML to show (default data/lexicon/calibration.yaml)")
    ex.add_argument("--fit", action="store_true", help="refit the calibrations and write them")
    ex.add_argument("--out", default=None, help="where --fit writes (default data/lexicon/calibration.yaml)")
    ex.add_argument("--seed", type=int, default=0)
    ex.add_argument("--draws", type=int, default=1000)
    ex.add_argument("--ledger", default=None,
                    help="also score the claims kept in this ledger (by `forecast run --record`) "
                         "against the outcomes recorded there")
    ex.add_argument("--backtest", action="store_true",
                    help="do statements help? leave-one-war-out backtest of indicators only, "
                         "statements only and both (writes --out, default out/statements_backtest)")
    ex.add_argument("--model", default=DEFAULT_MODEL, help="the duration model for --backtest")
    ex.add_argument("--workers", type=int, default=0, help="worker processes for --backtest (0: in process)")
    ex.set_defaults(func=_cmd_experts)
    comp = sub.add_parser("compare", help="PSIS-LOO comparison of all models")
    _add_fit_options(comp, model=False)
    comp.add_argument("--cdb90", action="store_true", help="compare on the CDB90 engagements instead")
    _add_ledger_option(comp)
    comp.set_defaults(func=_cmd_compare)
    return parser


def _one_line(text: str) -> str:
    """The message on one printable line: control characters (from a file name or a value the
    user typed) shown escaped, never as line breaks."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _check_numbers(args: argparse.Namespace) -> None:
    """Numeric options in range, and no NUL byte in any text (no path or date can hold one),
    checked before anything is loaded or fitted."""
    for key, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            positional = key in ("case", "path", "quote", "phrase", "case_id")
            name = key if positional else f"--{key.replace('_', '-')}"
            raise InputError(name, "contains a NUL byte")
    rules = {"seed": (0, 2**32 - 1), "draws": (1, 10**7), "tune": (1, 10**7), "chains": (1, 64),
             "workers": (0, 1024)}
    for key, (lo, hi) in rules.items():
        value = getattr(args, key, None)
        if value is not None and not lo <= value <= hi:
            raise InputError(f"--{key}", f"{value} must be a whole number from {lo} to {hi:,}")
    tau = getattr(args, "tau", None)
    if tau is not None and not (0 < tau < 1e6):
        raise InputError("--tau", f"{tau} must be a number of days above 0 (and below a million)")


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
        _check_numbers(args)  # before any work: a bad number fails in milliseconds, not after a fit
        return func(args)
    except InputError as exc:
        print(f"forecast: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except UnreliablePosteriorError as exc:
        print(f"forecast: unreliable: {_one_line(str(exc))}", file=sys.stderr)
        return 3
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("forecast: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
