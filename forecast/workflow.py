"""The one path from a case to a recorded forecast: fit -> predict -> claims -> record.

The command line, the Python API and the backtest all call these functions; nothing else
decides their order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast.baselines import climatologies as _climatologies
from forecast.cases import Case
from forecast.data import Dataset
from forecast.errors import InputError, UnreliablePosteriorError
from forecast.predictive import ForecastRecord, Predictive, standard_grid
from models import DEFAULT as DEFAULT_MODEL

if TYPE_CHECKING:  # pragma: no cover
    from forecast.elicit.update import Evidence
    from forecast.fit import Posterior, SamplerConfig
    from forecast.predict import Forecast


@dataclass
class CaseRun:
    """A case's forecast and what it came from: the posterior, and the statements' evidence
    (None when statements were not used)."""

    case: Case
    dataset: Dataset
    posterior: Posterior
    forecast: Forecast
    evidence: Evidence | None = None
    baselines: dict[str, Predictive] = field(default_factory=dict)

    def record(self, kind: str = "forecast", extra: dict[str, Any] | None = None) -> ForecastRecord:
        """The forecast as a ledger record."""
        claims = [c.to_dict() for c in self.evidence.claims] if self.evidence is not None else []
        return forecast_record(self.forecast, self.case, kind=kind, claims=claims, extra=extra)

    def baseline_records(self, extra: dict[str, Any] | None = None) -> list[ForecastRecord]:
        """The climatologies for the same case and as_of, as ledger records."""
        model_id = self.forecast.model_id
        return [baseline_record(name, pred, self.case, self.dataset, extra=extra,
                                model_id=f"{name}-{model_id}" if name == "indicators_only" else None)
                for name, pred in self.baselines.items()]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def posterior_for(dataset: Dataset, model: str, *, seed: int, sampler: SamplerConfig,
                  cache_dir: str | Path | None = None, posterior_path: str | Path | None = None,
                  refit: bool = False) -> Posterior:
    """The fitted model: a given stored posterior (which must match model and dataset), a
    cached one whose stamp matches, or a new fit."""
    from forecast.fit import design_of, expected_stamp, fit, load_posterior
    from models import get_model

    m = get_model(model)
    if posterior_path is not None:
        stored = load_posterior(posterior_path, full=False)  # draws and stamp suffice
        wanted = expected_stamp(m, design_of(dataset), dataset.sha256, seed, sampler)
        for key in ("model_id", "dataset_hash"):
            if stored.stamp.get(key) != wanted[key]:
                raise InputError(
                    str(posterior_path),
                    f"stored posterior does not match this request ({key} {stored.stamp.get(key)} "
                    f"!= {wanted[key]}): it was fitted to another model or dataset",
                )
        return stored
    return fit(dataset, m, seed=seed, sampler=sampler, cache_dir=cache_dir, refit=refit)


def prepare_reference(dataset: Dataset, case: Case, *, exclude: tuple[str, ...] | list[str] = ()
                      ) -> tuple[Dataset, list[str]]:
    """The reference class to fit for ``case``: without the rows named in ``exclude`` and without
    a row that is the case itself (same id, or same name and start date) — a model must not learn
    from the very holdout it forecasts. Rows with a ``parent`` (stages of a larger holdout) are
    never fitted: their ending is the parent's. Returns the dataset and the ids left out (the
    nested rows are not listed: leaving them out is the rule, not a choice)."""
    dataset = dataset.top_level()
    frame = dataset.frame
    ids = frame["case_id"].astype(str)
    unknown = [c for c in exclude if c not in set(ids)]
    if unknown:
        raise InputError("--exclude", f"'{unknown[0]}' is not a case_id of {dataset.path}")
    same = (ids == case.id) | ((frame["name"].astype(str) == case.name)
                               & (frame["start_date"].dt.date == case.start_date))
    out = same | ids.isin(list(exclude))
    if not out.any():
        return dataset, []
    return dataset.subset(~out.to_numpy()), list(ids[out])


def run_case(case: Case, dataset: Dataset, *, model: str = DEFAULT_MODEL, seed: int = 0,
             sampler: SamplerConfig | None = None, cache_dir: str | Path | None = None,
             posterior: Posterior | str | Path | None = None, use_statements: bool = True,
             allow_unreliable: bool = False, baselines: bool = True,
             left_out: list[str] | None = None) -> CaseRun:
    """Forecast ``case`` from ``dataset``: fit (or reuse), predict, apply the statements' claims.

    Parameters
    ----------
    posterior : Posterior or path, optional
        A fitted posterior, or a stored one (checked against model and dataset).
    use_statements : bool
        Apply the case's claims as evidence (when it has any).
    allow_unreliable : bool
        Forecast even when the posterior fails the diagnostics gate (else
        :class:`UnreliablePosteriorError`).
    left_out : list of str, optional
        Reference-class rows left out of ``dataset`` (:func:`prepare_reference`); the forecast
        says so.
    baselines : bool
        Also compute the climatologies for the same case and date.
    """
    from forecast.fit import SamplerConfig
    from forecast.predict import predict
    from models import get_model

    get_model(model)  # an unknown name fails before anything is loaded or fitted
    sampler = sampler or SamplerConfig()
    use_statements = use_statements and any(st.claims for st in case.statements)
    if use_statements:
        from forecast.elicit.update import check_claims

        check_claims(case, dataset)  # bad claims fail before any fitting
    if posterior is None or isinstance(posterior, str | Path):
        posterior = posterior_for(dataset, model, seed=seed, sampler=sampler, cache_dir=cache_dir,
                                  posterior_path=posterior)
    if not posterior.diagnostics.reliable and not allow_unreliable:
        raise UnreliablePosteriorError(
            f"the posterior failed the diagnostics gate ({'; '.join(posterior.diagnostics.failures)}); "
            "nothing written. Sample longer (--draws/--tune) or pass --allow-unreliable"
        )
    evidence = None
    if use_statements:
        from forecast.elicit.update import update

        evidence = update(posterior, case, dataset, seed=seed, sampler=sampler)
        fc = evidence.forecast
        fc.extra = dict(fc.extra) | evidence.record()
    else:
        fc = predict(posterior, case, seed=seed)
    if left_out:
        fc.flags = [*fc.flags, "left out of the reference class (the case itself or --exclude): "
                    + ", ".join(left_out)]
    run = CaseRun(case=case, dataset=dataset, posterior=posterior, forecast=fc, evidence=evidence)
    if baselines:
        run.baselines = climatologies(dataset, case.held_days, seed=seed)
        if evidence is not None:
            run.baselines |= statement_baselines(evidence, run.baselines["climatology_aj"],
                                                 case.held_days)
    return run


def statement_baselines(evidence: Evidence, climatology: Predictive, held_days: float
                        ) -> dict[str, Predictive]:
    """For a forecast with statements: the model without them (``indicators_only``), and the
    statements without the model (``experts_only``: the claims' likelihood applied to the
    reference class's Aalen–Johansen base rate, the one the claims are weighed against; effect
    claims need a model and do not enter)."""
    from forecast.elicit.combine import claims_on_curve

    grid = climatology.days
    experts = claims_on_curve(grid, climatology.cdf, evidence.weighed, held_days)
    return {"indicators_only": predictive_of(evidence.base, grid),
            "experts_only": Predictive(grid, experts)}


def climatologies(dataset: Dataset, held_days: float, *, seed: int = 0,
                  grid=None) -> dict[str, Predictive]:
    """Both climatologies of ``dataset`` (its top-level rows) for a case that has held ``held_days``."""
    dataset = dataset.top_level()
    return _climatologies(dataset.durations, dataset.frame["outcome"], held_days, grid=grid, seed=seed)


def predictive_of(fc: Forecast, grid=None) -> Predictive:
    """A model forecast tabulated on the scoring grid (exact, from its per-draw curves)."""
    grid = standard_grid() if grid is None else grid
    return Predictive.from_survival(grid, fc.survival_at(grid))


def forecast_record(fc: Forecast, case: Case, *, kind: str = "forecast",
                    claims: list[dict] | None = None, extra: dict[str, Any] | None = None,
                    grid=None) -> ForecastRecord:
    """A model forecast as a ledger record."""
    info = {"flags": list(fc.flags), "diagnostics": fc.diagnostics,
            "combination": fc.extra.get("combination", "none")}
    return ForecastRecord(
        case_id=case.id, case_name=case.name, start_date=case.start_date, as_of=case.as_of,
        model=fc.model, model_id=fc.model_id, dataset_hash=fc.dataset_hash, seed=fc.seed,
        kind=kind, predictive=predictive_of(fc, grid), summary=fc.summary(),
        claims=list(claims or []), extra=info | dict(extra or {}), issued_at=now_iso(),
    )


def baseline_record(name: str, pred: Predictive, case: Case, dataset: Dataset, *,
                    kind: str = "baseline", extra: dict[str, Any] | None = None,
                    model_id: str | None = None) -> ForecastRecord:
    """A baseline as a ledger record (stored and scored like any model)."""
    return ForecastRecord(
        case_id=case.id, case_name=case.name, start_date=case.start_date, as_of=case.as_of,
        model=name, model_id=model_id or f"{name}-{dataset.sha256[:12]}",
        dataset_hash=dataset.sha256, seed=0,
        kind=kind, predictive=pred, summary=predictive_summary(pred), extra=dict(extra or {}),
        issued_at=now_iso(),
    )


def predictive_summary(pred: Predictive) -> dict[str, Any]:
    """Headline numbers of a Predictive, in the same shape as :meth:`Forecast.summary`."""
    from forecast.predict import HORIZONS, QUANTILES

    def days(q: float) -> float | None:
        v = pred.quantile(q)
        return None if v == float("inf") else round(v, 1)

    return {"p_fall_within": {str(h): round(pred.p_fall_within(h), 4) for h in HORIZONS},
            "days_remaining": {f"{q:g}": days(q) for q in QUANTILES}}
