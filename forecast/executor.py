"""Executors: run many independent tasks (backtest folds) through one ``.map`` interface.

``LocalExecutor`` uses local worker processes; ``DaskExecutor`` a Dask ``distributed`` cluster
(a scheduler address in production, a ``LocalCluster`` when none is given). Tasks receive data
and config, never model objects; each worker process compiles the models it needs once, in a
compile directory of its own, with one thread. Nothing outside this module knows which executor
runs a task.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: Environment every worker process runs with: one thread per worker.
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def worker_setup() -> None:
    """Give this process one thread and a PyTensor compile directory of its own.

    Called at the start of every task; it acts once per process, and only before PyTensor is
    imported (its flags are read at import).
    """
    if os.environ.get("FORECAST_WORKER_READY") == str(os.getpid()):
        return
    for key, value in _ONE_THREAD.items():
        os.environ.setdefault(key, value)
    if "pytensor" not in sys.modules:
        compiledir = os.path.join(tempfile.gettempdir(), f"forecast-worker-{os.getpid()}")
        flags = os.environ.get("PYTENSOR_FLAGS", "")
        if "compiledir" not in flags:
            os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"compiledir={compiledir}") if f)
    os.environ["FORECAST_WORKER_READY"] = str(os.getpid())


class LocalExecutor:
    """Local worker processes (``spawn``, so no thread state is forked). ``workers=0`` runs the
    tasks in this process, one after another."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else int(workers)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any],
            progress: Callable[[int, int], None] | None = None) -> Iterator[Any]:
        """Results of ``fn`` over ``items``, in order; ``progress(done, total)`` as they finish."""
        items = list(items)
        total = len(items)
        if self.workers == 0:
            for i, item in enumerate(items):
                result = fn(item)
                if progress:
                    progress(i + 1, total)
                yield result
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                 initializer=worker_setup) as pool:
            futures = [pool.submit(fn, item) for item in items]
            index = {f: i for i, f in enumerate(futures)}
            results: dict[int, Any] = {}
            for done, f in enumerate(as_completed(futures), 1):
                results[index[f]] = f.result()
                if progress:
                    progress(done, total)
            for i in range(total):
                yield results[i]


class DaskExecutor:
    """A Dask ``distributed`` cluster: ``scheduler`` is an address (``tcp://host:8786``); without
    one a ``LocalCluster`` of ``workers`` processes with one thread each is started and closed
    with the executor."""

    def __init__(self, scheduler: str | None = None, workers: int = 2) -> None:
        self.scheduler = scheduler
        self.workers = workers

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any],
            progress: Callable[[int, int], None] | None = None) -> Iterator[Any]:
        from distributed import Client, LocalCluster, as_completed

        items = list(items)
        total = len(items)
        cluster = None
        if self.scheduler is None:
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, env=dict(_ONE_THREAD))
            client = Client(cluster)
        else:
            client = Client(self.scheduler)
        try:
            futures = client.map(fn, items, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            results: dict[int, Any] = {}
            for done, f in enumerate(as_completed(futures), 1):
                results[index[f.key]] = f.result()
                if progress:
                    progress(done, total)
            for i in range(total):
                yield results[i]
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def make_executor(kind: str = "local", *, scheduler: str | None = None,
                  workers: int | None = None) -> LocalExecutor | DaskExecutor:
    """``local`` (processes) or ``dask`` (a scheduler address, or a LocalCluster)."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(scheduler, workers=workers or 2)
    from forecast.errors import InputError

    raise InputError("--executor", f"'{kind}' is not one of local, dask")
