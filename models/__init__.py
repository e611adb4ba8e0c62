"""Bayesian duration models: one per file, one interface (:class:`models.base.DurationModel`).

Adding a model means adding a file here that defines ``MODEL``; the registry finds it.
"""

from __future__ import annotations

import importlib
import pkgutil

from forecast.errors import InputError
from models.base import DurationModel, Priors

_NOT_MODELS = {"base", "design"}
DEFAULT = "weibull"


def registry() -> dict[str, type[DurationModel]]:
    """Every model class in this package, by name."""
    found: dict[str, type[DurationModel]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_MODELS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        cls = getattr(module, "MODEL", None)
        if cls is not None:
            found[cls.name] = cls
    return dict(sorted(found.items()))


def get_model(name: str, priors: Priors | None = None) -> DurationModel:
    """The model called ``name``; an unknown name is an :class:`InputError`."""
    known = [m.name for m in pkgutil.iter_modules(__path__)
             if m.name not in _NOT_MODELS and not m.name.startswith("_")]
    if name in known:  # a model's file is named after it: import only that one
        cls = getattr(importlib.import_module(f"{__name__}.{name}"), "MODEL", None)
        if cls is not None and cls.name == name:
            return cls(priors)
    models = registry()
    if name not in models:
        raise InputError("--model", f"unknown model '{name}' (known: {', '.join(models)})")
    return models[name](priors)


__all__ = ["DEFAULT", "DurationModel", "Priors", "get_model", "registry"]
