"""Curves fitted by lifelines (Kaplan–Meier, Aalen–Johansen), stored on disk under the hash of
their inputs, so that a later process reads them back without importing lifelines (about a second
of a warm forecast run went to that import).

The estimate is always lifelines'; what is stored is its output arrays, exactly. The key hashes
the curve's name, every input array (dtype, shape and bytes) or setting, and lifelines' version,
so a different reference class, jitter, seed or library gives a different file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

_IN_PROCESS: dict[str, dict[str, np.ndarray]] = {}
_KEEP = 64


def curve_key(name: str, inputs: tuple) -> str:
    """The hash of a curve's name, its inputs and lifelines' version (20 hex digits)."""
    from importlib.metadata import version

    h = hashlib.sha256(f"{name}|lifelines {version('lifelines')}".encode())
    for x in inputs:
        if isinstance(x, np.ndarray):
            a = np.ascontiguousarray(x)
            h.update(f"|{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        else:
            h.update(f"|{x!r}".encode())
    return h.hexdigest()[:20]


def stored_curves(name: str, inputs: tuple, fit: Callable[[], dict[str, np.ndarray]], *,
                  required: tuple[str, ...] = (),
                  cache_dir: str | Path | None = None) -> dict[str, np.ndarray]:
    """``fit()``'s arrays for these inputs: from this process's memory, else from
    ``<cache_dir>/<name>-<key>.npz``, else computed and stored (written whole by a rename, or not
    at all where the directory cannot be written). ``cache_dir``: default
    :func:`forecast.fit.default_cache_dir`. A stored file that cannot be read whole, or lacks a
    ``required`` array, is fitted again and replaced."""
    key = f"{name}-{curve_key(name, inputs)}"
    hit = _IN_PROCESS.get(key)
    if hit is not None:
        return hit
    if cache_dir is None:
        from forecast.fit import default_cache_dir

        cache_dir = default_cache_dir()
    path = Path(cache_dir) / f"{key}.npz"
    arrays = None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if any(k not in arrays for k in required):
            arrays = None
    except Exception:  # noqa: BLE001 - not stored yet, truncated or damaged: a cache, fit it again
        arrays = None
    if arrays is None:
        arrays = {k: np.asarray(v) for k, v in fit().items()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".npz")
            try:
                with os.fdopen(fd, "wb") as fh:
                    np.savez(fh, **arrays)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass
    for a in arrays.values():
        a.setflags(write=False)  # shared by every caller in this process
    if len(_IN_PROCESS) >= _KEEP:  # a backtest fits one per fold: keep the newest
        _IN_PROCESS.pop(next(iter(_IN_PROCESS)))
    _IN_PROCESS[key] = arrays
    return arrays
