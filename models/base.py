"""The one interface every duration model shares.

An accelerated failure time (AFT) model: log T = eta + sigma * W, with
eta = intercept + x . beta + sum_j effect_j[level] + beta_force * z_force, and W a standard
variate whose law names the model (Gumbel-min: Weibull, normal: log-normal, logistic:
log-logistic). A model file declares only W's log-density, log-survival and inverse survival
(in PyTensor for fitting and NumPy for prediction; the inverse survival also from log survival,
so that draws far in the tail, where S underflows, stay exact); this base supplies priors, censoring,
latent force ratios, partial pooling and the linear predictor from posterior draws.

Right-censoring uses the log-density for events and the log-survival for censored rows,
written out (not ``pm.Censored``, which is slow and fragile with Weibull: pymc #6946).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from models.design import Design

if TYPE_CHECKING:  # pragma: no cover
    import pymc as pm


@dataclass(frozen=True)
class Priors:
    """Weakly informative priors on the standardized scale (durations in days).

    The intercept is the log-duration of a reference case: N(log 90 days, 1.5) puts 95% of its
    prior mass between about 5 days and 5 years. Effects of categorical levels are partially
    pooled: effect ~ N(0, tau), tau ~ HalfNormal(tau_sd).
    """

    intercept_mu: float = float(np.log(90.0))
    intercept_sd: float = 1.5
    sigma_sd: float = 1.0
    beta_sd: float = 1.0
    force_sd: float = 0.75
    tau_sd: float = 0.5


class DurationModel:
    """Base of every model in ``models/``. Subclasses set ``name``, ``description`` and W's law."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, priors: Priors | None = None) -> None:
        self.priors = priors or Priors()

    # --- the law of W: a model file supplies these (isf_w_log has a fallback) -------------
    @staticmethod
    def logpdf_w_pt(z):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def logsf_w_pt(z):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def logpdf_w(z: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def logsf_w(z: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def isf_w(u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def isf_w_log(cls, log_u: np.ndarray) -> np.ndarray:
        """W's inverse survival from log survival: z with log S_W(z) = log_u.

        This fallback goes through ``isf_w(exp(log_u))`` and so loses the far tail (where
        exp underflows); every model file overrides it with a closed form in log space.
        """
        return cls.isf_w(np.exp(log_u))

    # --- identity -------------------------------------------------------------------------
    def model_id(self, design: Design) -> str:
        """Hash of the model's source (this base, the design code, the model file) and config."""
        import models.design as design_module

        parts = [inspect.getsource(sys.modules[DurationModel.__module__]),
                 inspect.getsource(design_module),
                 inspect.getsource(sys.modules[type(self).__module__])]
        config = {"name": self.name, "priors": asdict(self.priors), "design": design.signature()}
        h = hashlib.sha256()
        for part in parts:
            h.update(part.encode())
        h.update(json.dumps(config, sort_keys=True).encode())
        return f"{self.name}-{h.hexdigest()[:16]}"

    # --- survival in days, NumPy ---------------------------------------------------------
    def log_density(self, y: np.ndarray, eta: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """log f(y) for durations y (days)."""
        z = (np.log(y) - eta) / sigma
        return self.logpdf_w(z) - np.log(sigma) - np.log(y)

    def log_survival(self, y: np.ndarray, eta: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """log S(y) = log P(T > y)."""
        return self.logsf_w((np.log(y) - eta) / sigma)

    def pointwise_loglik(self, y, event, eta, sigma) -> np.ndarray:
        """Censored log-likelihood of each row: log f for events, log S for censored rows."""
        return np.where(event > 0, self.log_density(y, eta, sigma), self.log_survival(y, eta, sigma))

    def quantile_days(self, u_survival: np.ndarray, eta, sigma) -> np.ndarray:
        """The duration t with S(t) = u (inverse survival), in days."""
        return np.exp(eta + sigma * self.isf_w(u_survival))

    def quantile_days_log(self, log_u: np.ndarray, eta, sigma) -> np.ndarray:
        """The duration t with log S(t) = log_u, in days: exact where S(t) underflows."""
        return np.exp(eta + sigma * self.isf_w_log(log_u))

    # --- the PyMC graph ------------------------------------------------------------------
    def build(self, design: Design) -> pm.Model:
        """The PyMC model for ``design``: data as ``pm.Data`` so refits change data, not graphs."""
        import pymc as pm
        import pytensor.tensor as pt

        p = self.priors
        coords = {"row": list(design.row_ids) or list(range(design.n)),
                  "numeric": list(design.numeric_names)}
        for name, lv in zip(design.cat_names, design.levels, strict=True):
            coords[f"{name}_level"] = list(lv)
        with pm.Model(coords=coords) as model:
            y = pm.Data("y", design.y, dims="row")
            event = pm.Data("event", design.event, dims="row")
            weight = pm.Data("weight", design.weights(), dims="row")
            intercept = pm.Normal("intercept", p.intercept_mu, p.intercept_sd)
            eta = intercept + pt.zeros(design.n)
            if design.numeric.shape[1]:
                x = pm.Data("x", design.numeric, dims=("row", "numeric"))
                beta = pm.Normal("beta", 0.0, p.beta_sd, dims="numeric")
                eta = eta + pt.dot(x, beta)
            if design.cat_names:
                codes = pm.Data("codes", design.codes)
                for j, name in enumerate(design.cat_names):
                    tau = pm.HalfNormal(f"tau_{name}", p.tau_sd)
                    raw = pm.ZeroSumNormal(f"z_{name}", sigma=1.0, dims=f"{name}_level")
                    effect = pm.Deterministic(f"effect_{name}", tau * raw, dims=f"{name}_level")
                    eta = eta + effect[codes[:, j]]
            if design.force is not None:
                eta = eta + self._force_term(design, pm, pt)
            pm.Deterministic("eta", eta, dims="row")
            sigma = pm.HalfNormal("sigma", p.sigma_sd)
            z = (pt.log(y) - eta) / sigma
            loglik = pt.switch(
                pt.gt(event, 0),
                self.logpdf_w_pt(z) - pt.log(sigma) - pt.log(y),
                self.logsf_w_pt(z),
            )
            pm.Potential("censored_loglik", pt.sum(weight * loglik))
        return model

    def _force_term(self, design: Design, pm, pt):
        f = design.force
        att_lo = pm.Data("att_lo", f.att_lo, dims="row")
        att_hi = pm.Data("att_hi", f.att_hi, dims="row")
        def_lo = pm.Data("def_lo", f.def_lo, dims="row")
        def_hi = pm.Data("def_hi", f.def_hi, dims="row")
        known = pm.Data("force_known", f.known.astype(float), dims="row")
        center = pm.Data("force_center", f.center)
        scale = pm.Data("force_scale", f.scale)
        # true strengths inside their ranges (not midpoints)
        u_att = pm.Uniform("u_att", 0.0, 1.0, dims="row")
        u_def = pm.Uniform("u_def", 0.0, 1.0, dims="row")
        lfr_in_range = (att_lo + (att_hi - att_lo) * u_att) - (def_lo + (def_hi - def_lo) * u_def)
        z_in_range = (lfr_in_range - center) / scale
        # population of standardized log force ratios; unknown rows are drawn from it
        mu = pm.Normal("force_mu", 0.0, 1.0)
        sd = pm.HalfNormal("force_sd", 1.0)
        e_missing = pm.Normal("force_e_missing", 0.0, 1.0, dims="row")
        pm.Potential(
            "force_population",
            pt.sum(known * pm.logp(pm.Normal.dist(mu, sd), z_in_range)),
        )
        z_force = pm.Deterministic(
            "z_force", pt.switch(pt.gt(known, 0), z_in_range, mu + sd * e_missing), dims="row"
        )
        beta_force = pm.Normal("beta_force", 0.0, self.priors.force_sd)
        return beta_force * z_force

    # --- the linear predictor from posterior draws --------------------------------------
    @staticmethod
    def eta_for(
        draws: dict[str, np.ndarray],
        *,
        codes: np.ndarray | None = None,
        cat_names: tuple[str, ...] = (),
        numeric: np.ndarray | None = None,
        z_force: np.ndarray | None = None,
    ) -> np.ndarray:
        """eta for one new case at every posterior draw.

        ``draws`` maps variable names to arrays with all draws on the first axis; ``z_force`` is
        the case's standardized log force ratio per draw (None: no force term).
        """
        stacked = draws
        eta = stacked["intercept"].copy()
        if numeric is not None and "beta" in stacked:
            eta += stacked["beta"] @ numeric
        for j, name in enumerate(cat_names):
            eta += stacked[f"effect_{name}"][:, codes[j]]
        if z_force is not None and "beta_force" in stacked:
            eta += stacked["beta_force"] * z_force
        return eta
