"""Fit a duration model with PyMC 6 + nutpie; store the posterior as NetCDF with a stamp.

Fit once, reuse: a stored posterior is reused only when its stamp (model id, dataset hash, seed,
sampler settings, library versions) matches what is asked. Compile once, refit many: within a
process the compiled model is kept by model id and refits swap data (``with_data``), not graphs.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from forecast.data import Dataset
from forecast.errors import InputError
from models import DEFAULT, get_model
from models.base import DurationModel
from models.design import Design, from_dataset

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

#: Variables kept in the stored posterior (per-row latents are dropped to keep files small).
#: Per-row latents not kept in the stored posterior (the rows' eta and eta_p are kept: the
#: posterior predictive checks use them).
_ROW_LATENTS = ("u_att", "u_def", "force_e_missing", "z_force", "size_e_missing", "z_size")
_LIBRARIES = ("pymc", "pytensor", "nutpie", "arviz", "numpy")


@dataclass(frozen=True)
class SamplerConfig:
    """How long to sample. Defaults suit the reference class (about 100 rows) on 2 cores."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.9


@dataclass(frozen=True)
class Gate:
    """The diagnostics gate: a posterior passing all four is ``reliable``."""

    rhat_max: float = 1.01
    ess_per_chain_min: float = 100.0
    divergences_max: int = 0


@dataclass(frozen=True)
class Diagnostics:
    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    reliable: bool
    failures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failures"] = list(self.failures)
        return d


@dataclass
class Posterior:
    """A fitted model: posterior draws, its stamp and diagnostics.

    ``draws`` maps each posterior variable to an array whose first axis runs over all draws
    (chains concatenated); ``trace`` is the full ``xarray.DataTree`` (posterior, log-likelihood,
    sample stats) when it was sampled or read with ``full=True``, else None. ``meta`` holds what
    prediction needs about the design (categorical levels, force scaling).
    """

    draws: dict[str, np.ndarray]
    stamp: dict[str, Any]
    diagnostics: Diagnostics
    model: DurationModel
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    trace: xr.DataTree | None = None

    @property
    def n_draws(self) -> int:
        return int(self.draws["sigma"].shape[0])


def _flat_draws(post: xr.Dataset) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.values).reshape(-1, *v.shape[2:]) for k, v in post.data_vars.items()}


_COMPILED: dict[str, Any] = {}


_DESIGNS: list[tuple[Dataset, Design]] = []


def design_of(dataset: Dataset) -> Design:
    """:func:`models.design.from_dataset`, built once per dataset object: a run reads the claims'
    indicator levels, matches the stored posterior and predicts from the same design."""
    for ds, design in _DESIGNS:
        if ds is dataset:
            return design
    design = from_dataset(dataset)
    _DESIGNS.append((dataset, design))
    del _DESIGNS[:-4]  # the newest few: a backtest makes one per fold
    return design


def default_cache_dir() -> Path:
    """``$FORECAST_CACHE`` or ``.cache/forecast`` under the working directory."""
    return Path(os.environ.get("FORECAST_CACHE", ".cache/forecast"))


def library_versions() -> dict[str, str]:
    return {lib: version(lib) for lib in _LIBRARIES}


def design_meta(design: Design) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "cat_names": list(design.cat_names),
        "levels": [list(lv) for lv in design.levels],
        "numeric_names": list(design.numeric_names),
        "row_ids": list(design.row_ids),
    }
    if design.force is not None:
        meta["force"] = {"center": design.force.center, "scale": design.force.scale,
                         "size_center": design.force.size_center,
                         "size_scale": design.force.size_scale}
    meta["wars"] = list(design.wars)
    if design.cat_names:
        meta["level_counts"] = design.level_counts()
    return meta


def expected_stamp(model: DurationModel, design: Design, dataset_hash: str, seed: int,
                   sampler: SamplerConfig) -> dict[str, Any]:
    """The stamp a posterior must carry to be reused for this request."""
    return {
        "model": model.name,
        "model_id": model.model_id(design),
        "dataset_hash": dataset_hash,
        "seed": int(seed),
        "sampler": asdict(sampler),
        "versions": library_versions(),
    }


def _stamp_matches(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(stored.get(k) == v for k, v in wanted.items())


def cache_path(cache_dir: Path, stamp: dict[str, Any]) -> Path:
    return cache_dir / f"{stamp['model_id']}-{stamp['dataset_hash'][:12]}-s{stamp['seed']}.nc"


def fit(
    dataset: Dataset,
    model: str | DurationModel = DEFAULT,
    *,
    seed: int = 0,
    sampler: SamplerConfig | None = None,
    cache_dir: str | Path | None = None,
    refit: bool = False,
    gate: Gate | None = None,
    full_trace: bool = False,
) -> Posterior:
    """Fit ``model`` to ``dataset`` (or reuse the stored posterior whose stamp matches).

    Parameters
    ----------
    dataset : Dataset
        The reference class.
    model : str or DurationModel
        A registered model name (``forecast models``) or an instance.
    seed : int
        Seeds the sampler: the same seed gives the same posterior.
    cache_dir : path-like, optional
        Where posteriors are stored (default :func:`default_cache_dir`); ``False``-y to not store.
    refit : bool
        Sample even if a matching posterior is stored.
    full_trace : bool
        When reusing a stored posterior, read every group (log-likelihood, sample stats), not
        only the posterior draws.
    """
    model = get_model(model) if isinstance(model, str) else model
    sampler = sampler or SamplerConfig()
    design = design_of(dataset)
    wanted = expected_stamp(model, design, dataset.sha256, seed, sampler)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache_path(cache, wanted)
    if path.exists() and not refit:
        stored = load_posterior(path, full=full_trace)
        if _stamp_matches(stored.stamp, wanted):
            return stored
    posterior = sample_design(model, design, seed=seed, sampler=sampler, gate=gate,
                              stamp=wanted | {"dataset_path": dataset.path})
    save_posterior(posterior, path)
    return posterior


def compiled_model(model: DurationModel, design: Design):
    """The nutpie-compiled model for this design's graph, compiled once per process."""
    import nutpie

    key = model.model_id(design)
    if key not in _COMPILED:
        _COMPILED[key] = nutpie.compile_pymc_model(model.build(design))
    return _COMPILED[key]



def sample_design(
    model: DurationModel,
    design: Design,
    *,
    seed: int,
    sampler: SamplerConfig | None = None,
    gate: Gate | None = None,
    stamp: dict[str, Any] | None = None,
    cores: int | None = None,
) -> Posterior:
    """Sample the posterior of ``model`` on ``design`` (no caching to disk).

    ``cores`` caps the sampler's threads (default: one per chain, up to the CPU count); the
    draws do not depend on it.
    """
    import nutpie

    sampler = sampler or SamplerConfig()
    compiled = compiled_model(model, design).with_data(**model.data(design))
    trace = nutpie.sample(compiled, draws=sampler.draws, tune=sampler.tune, chains=sampler.chains,
                          cores=cores or min(sampler.chains, os.cpu_count() or 1), seed=int(seed),
                          target_accept=sampler.target_accept, progress_bar=False,
                          save_warmup=False)
    trace = _with_log_likelihood(trace, model, design)
    diagnostics = diagnose(trace, sampler.chains, gate or Gate())
    stamp = dict(stamp or {}) | {"created_at": datetime.now(UTC).isoformat(timespec="seconds")}
    stamp.setdefault("model", model.name)
    stamp.setdefault("model_id", model.model_id(design))
    return Posterior(draws=_flat_draws(trace["posterior"].dataset), stamp=stamp,
                     diagnostics=diagnostics, model=model, meta=design_meta(design), trace=trace)


def _with_log_likelihood(trace: xr.DataTree, model: DurationModel, design: Design) -> xr.DataTree:
    import xarray as xr

    post = trace["posterior"].dataset
    eta = post["eta"].values
    sigma = post["sigma"].values[..., None]
    extra = {}
    if "eta_p" in post:
        extra = {"other": design.others(), "eta_p": post["eta_p"].values,
                 "o_intercept": post["o_intercept"].values[..., None],
                 "o_sigma": post["o_sigma"].values[..., None]}
    bounds = design.bounds() if model.structure.interval else None
    loglik = model.pointwise_loglik(design.y, design.event, eta, sigma, bounds=bounds, **extra)
    ll = xr.Dataset({"duration": (("chain", "draw", "row"), loglik)},
                    coords={"chain": post["chain"], "draw": post["draw"], "row": post["row"]})
    keep = post.drop_vars([v for v in _ROW_LATENTS if v in post.data_vars]
                          + [v for v in post.data_vars if v.startswith("z_")])
    groups = {"posterior": keep, "log_likelihood": ll,
              "sample_stats": trace["sample_stats"].dataset,
              "observed_data": xr.Dataset({"duration": ("row", design.y)}, coords={"row": post["row"]}),
              "constant_data": xr.Dataset({"duration": ("row", design.event),
                                           "weight": ("row", design.weights())},
                                          coords={"row": post["row"]})}
    return xr.DataTree.from_dict({f"/{k}": v for k, v in groups.items()})


def fitted_rows(trace: xr.DataTree) -> xr.DataTree:
    """The trace with its log-likelihood restricted to the rows the fit used (weight > 0): the
    rows PSIS-LOO should count (a nested stage or a held-out row is not an observation)."""
    import xarray as xr

    const = trace["constant_data"].dataset if "constant_data" in trace.children else None
    if const is None or "weight" not in const:
        return trace
    keep = np.asarray(const["weight"].values) > 0
    if keep.all():
        return trace
    groups = {name: trace[name].dataset for name in trace.children}
    groups["log_likelihood"] = groups["log_likelihood"].isel(row=np.flatnonzero(keep))
    return xr.DataTree.from_dict({f"/{k}": v for k, v in groups.items()})


def diagnose(trace: xr.DataTree, chains: int, gate: Gate) -> Diagnostics:
    """R-hat, bulk and tail ESS (ArviZ) and divergences against the gate."""
    import arviz as az

    post = trace["posterior"].dataset
    rhat = float(max(float(v.max()) for v in az.rhat(post).data_vars.values()))
    bulk = float(min(float(v.min()) for v in az.ess(post, method="bulk").data_vars.values()))
    tail = float(min(float(v.min()) for v in az.ess(post, method="tail").data_vars.values()))
    div = int(trace["sample_stats"].dataset["diverging"].sum())
    need = gate.ess_per_chain_min * chains
    failures = []
    if not rhat <= gate.rhat_max:
        failures.append(f"max R-hat {rhat:.3f} > {gate.rhat_max}")
    if not bulk >= need:
        failures.append(f"min bulk ESS {bulk:.0f} < {need:.0f}")
    if not tail >= need:
        failures.append(f"min tail ESS {tail:.0f} < {need:.0f}")
    if div > gate.divergences_max:
        failures.append(f"{div} divergent transitions")
    return Diagnostics(rhat, bulk, tail, div, not failures, tuple(failures))


def save_posterior(posterior: Posterior, path: str | Path) -> Path:
    """Write the posterior to NetCDF atomically (temp file, then rename)."""
    path = Path(path)
    if posterior.trace is None:
        raise ValueError("only a sampled posterior (with its trace) can be saved")
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = posterior.trace.copy()
    tree.attrs = {
        "forecast_stamp": json.dumps(posterior.stamp, sort_keys=True),
        "forecast_diagnostics": json.dumps(posterior.diagnostics.to_dict()),
        "forecast_meta": json.dumps(posterior.meta),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".nc.tmp")
    os.close(fd)
    try:
        tree.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    posterior.path = path
    return path


def load_posterior(path: str | Path, *, full: bool = True) -> Posterior:
    """Read a stored posterior; a file that is not one is an :class:`InputError`.

    ``full=False`` reads only the posterior group (enough to forecast; much faster).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "posterior file not found")
    try:
        tree = None
        if full:
            import xarray as xr

            tree = xr.open_datatree(path, engine="h5netcdf").load()
            attrs = dict(tree.attrs)
            draws = _flat_draws(tree["posterior"].dataset)
        else:  # h5py straight: no xarray import or decoding on the fast path
            import h5py

            with h5py.File(path, "r") as f:
                attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
                group = f["posterior"]
                draws = {k: np.asarray(d[...]).reshape(-1, *d.shape[2:])
                         for k, d in group.items() if d.ndim >= 2}
        stamp = json.loads(attrs["forecast_stamp"])
        diag = json.loads(attrs["forecast_diagnostics"])
        meta = json.loads(attrs["forecast_meta"])
        draws["sigma"]  # noqa: B018 - must exist
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InputError(str(path), f"is not a readable stored posterior ({type(exc).__name__}); "
                         "delete it to refit") from None
    diag["failures"] = tuple(diag.get("failures", ()))
    model = get_model(stamp["model"])
    return Posterior(draws=draws, stamp=stamp, diagnostics=Diagnostics(**diag), model=model,
                     meta=meta, path=path, trace=tree)
