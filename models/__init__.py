"""Bayesian duration models: one per file, one interface (:class:`models.base.DurationModel`).

Adding a model means adding a file here that defines ``MODEL``; the registry finds it. A model
is named by its family (``weibull``: the full structure) or ``family-<structure>`` for a named
structure of :data:`models.base.STRUCTURES` (``weibull-plain``: other ends censored, no war,
era or monotone effects — the models before competing ends).
"""

from __future__ import annotations

import importlib
import pkgutil

from forecast.errors import InputError
from models.base import STRUCTURES, DurationModel, Priors, Structure

_NOT_MODELS = {"base", "design"}
#: The default model: the best out-of-sample skill in the backtest (README, "Backtest").
DEFAULT = "lognormal"


def registry() -> dict[str, type[DurationModel]]:
    """Every model family in this package, by name."""
    found: dict[str, type[DurationModel]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_MODELS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        cls = getattr(module, "MODEL", None)
        if cls is not None:
            found[cls.name] = cls
    return dict(sorted(found.items()))


def split_name(name: str) -> tuple[str, str]:
    """(family, structure) of a model name such as ``weibull`` or ``weibull-plain``."""
    family, _, structure = name.partition("-")
    return family, structure


def get_model(name: str, priors: Priors | None = None) -> DurationModel:
    """The model called ``name``; an unknown name is an :class:`InputError`."""
    family, structure = split_name(name)
    known = [m.name for m in pkgutil.iter_modules(__path__)
             if m.name not in _NOT_MODELS and not m.name.startswith("_")]
    if structure not in STRUCTURES:
        raise InputError("--model", f"unknown structure '{structure}' in '{name}' (known: "
                                    f"{', '.join(s for s in STRUCTURES if s)}; none = the full model)")
    if family in known:  # a model's file is named after it: import only that one
        cls = getattr(importlib.import_module(f"{__name__}.{family}"), "MODEL", None)
        if cls is not None and cls.name == family:
            return cls(priors, structure)
    models = registry()
    if family not in models:
        raise InputError("--model", f"unknown model '{name}' (known: {', '.join(models)})")
    return models[family](priors, structure)


__all__ = ["DEFAULT", "STRUCTURES", "DurationModel", "Priors", "Structure", "get_model", "registry",
           "split_name"]
