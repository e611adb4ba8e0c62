"""The one interface every duration model shares.

An accelerated failure time (AFT) model for the time to fall: log T = eta + sigma * W, with W a
standard variate whose law names the model (Gumbel-min: Weibull, normal: log-normal, logistic:
log-logistic), and

    eta = intercept + sum_j effect_j[level] + beta_force * z_force + beta_size * z_size
          + effect_era[era] + effect_war[war].

A model file declares only W's log-density, log-survival and inverse survival (in PyTensor for
fitting and NumPy for prediction; the inverse survival also from log survival, so that draws far
in the tail, where S underflows, stay exact); this base supplies the structure, priors and
likelihood. The structure (:class:`Structure`) has parts that can be switched off, each kept only
if the out-of-sample backtest says it helps:

- **competing ends** (a mixture, Larson & Dinse 1985): a holdout is of the kind that falls with
  probability p (logit p = a linear predictor of the same indicators, era and war), at a time T
  from the AFT law above; otherwise another end (relief, attacker withdrawal, war end) comes at a
  time T_o (log T_o = o_intercept + o_sigma * W). The cumulative incidence of falling by t is
  p F(t); P(another end comes first) is 1 - p; T's law is the duration *if it falls*. Without it,
  other ends are right-censored (which overstates the chance of falling).
- **war**: holdouts of one war share a random effect (non-centred, scale ``tau_war``) on eta and
  on logit p; a holdout of a war the fit has not seen draws a new one.
- **era**: a partially pooled effect of the era of start (``models.design.ERAS``).
- **monotone**: ordered indicators (``models.design.ORDERED``) as monotone effects (Bürkner &
  Charpentier 2020): effect of the k-th level = b * (sum of the first k simplex weights), so the
  effect moves one way from the lowest level to the highest, and a level with few rows borrows
  from its neighbours (shifted to 0 at the most common level, ``ORDERED_REFERENCE``). Other
  indicators are partially pooled: effect ~ N(0, tau).
- **size**: the log defender strength (standardized) beside the log force ratio, both as latent
  values inside their recorded ranges, with a population law for rows where they are unknown.
- **interval**: month- and year-precision durations as interval-censored: log(S(lo) - S(hi)).

Right-censoring uses the log-density for events and the log-survival for censored rows,
written out (not ``pm.Censored``, which is slow and fragile with Weibull: pymc #6946).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from models.design import ORDERED, ORDERED_REFERENCE, Design

if TYPE_CHECKING:  # pragma: no cover
    import pymc as pm


@dataclass(frozen=True)
class Priors:
    """Weakly informative priors on the standardized scale (durations in days).

    The intercept is the log-duration of a reference case: N(log 90 days, 1.5) puts 95% of its
    prior mass between about 5 days and 5 years. Effects of categorical levels are partially
    pooled: effect ~ N(0, tau), tau ~ HalfNormal(tau_sd). The probability of being the kind that
    falls has logit intercept N(logit 0.7, 1.5); war effects have scale HalfNormal(war_sd);
    a monotone effect's total (lowest to highest level) is N(0, mono_sd).
    """

    intercept_mu: float = float(np.log(90.0))
    intercept_sd: float = 1.5
    sigma_sd: float = 1.0
    beta_sd: float = 1.0
    force_sd: float = 0.75
    tau_sd: float = 0.5
    war_sd: float = 0.5
    mono_sd: float = 1.0
    p_intercept_mu: float = float(np.log(0.7 / 0.3))
    p_intercept_sd: float = 1.5


@dataclass(frozen=True)
class Structure:
    """Which parts of the model are on (see the module docstring)."""

    competing: bool = True
    war: bool = True
    era: bool = True
    monotone: bool = True
    size: bool = True
    interval: bool = True


#: Named structures: a model is called ``family`` (the full structure) or ``family-<name>``.
STRUCTURES: dict[str, Structure] = {
    "": Structure(),
    "plain": Structure(competing=False, war=False, era=False, monotone=False, size=False,
                       interval=False),
    "competing": Structure(war=False, era=False, monotone=False, size=False, interval=False),
    "pooled": Structure(era=False, monotone=False, size=False, interval=False),
}


def _log1mexp(x):
    """log(1 - exp(x)) for x <= 0, NumPy."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x > -0.693, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -np.asarray(x, dtype=float))


#: The likelihood's row sets, in the order :meth:`DurationModel.data` packs them.
ROW_SETS = ("fall_exact", "fall_interval", "other_exact", "other_interval", "censored")


@functools.cache
def _source(module) -> str:
    """A module's source as this process loaded it: read once, so a file edited while the
    process runs does not change the id of the code that is running."""
    return inspect.getsource(module)


class DurationModel:
    """Base of every model in ``models/``. Subclasses set ``name``, ``description`` and W's law."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        _source(sys.modules[cls.__module__])  # the model's id is of the code as imported

    def __init__(self, priors: Priors | None = None, structure: str = "") -> None:
        if structure not in STRUCTURES:
            raise KeyError(structure)
        self.priors = priors or Priors()
        self.structure_name = structure
        self.structure = STRUCTURES[structure]
        self.family = type(self).name
        if structure:
            self.name = f"{self.family}-{structure}"  # the instance's name, with its structure

    @property
    def competing(self) -> bool:
        return self.structure.competing

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
    def code_id(self) -> str:
        """Hash of the model's code and configuration alone (source, priors, structure): equal
        for two fits of the same model to different data, unlike :meth:`model_id`."""
        import models.design as design_module

        h = hashlib.sha256()
        for part in (_source(sys.modules[DurationModel.__module__]), _source(design_module),
                     _source(sys.modules[type(self).__module__])):
            h.update(part.encode())
        h.update(json.dumps({"name": self.name, "priors": asdict(self.priors),
                             "structure": asdict(self.structure)}, sort_keys=True).encode())
        return f"{self.name}-{h.hexdigest()[:16]}"

    def model_id(self, design: Design) -> str:
        """Hash of the model's source (this base, the design code, the model file) and config."""
        import models.design as design_module

        parts = [_source(sys.modules[DurationModel.__module__]), _source(design_module),
                 _source(sys.modules[type(self).__module__])]
        config = {"name": self.name, "priors": asdict(self.priors), "design": design.signature(),
                  "structure": asdict(self.structure)}
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

    # log F_W: W's law is symmetric for the log-normal and log-logistic; Weibull overrides.
    def logcdf_w(self, z):
        return self.logsf_w(-np.asarray(z, dtype=float))

    def logcdf_w_pt(self, z):
        return self.logsf_w_pt(-z)

    def log_interval(self, lo, hi, eta, sigma) -> np.ndarray:
        """log P(lo < T <= hi) (lo < hi), exact in log space in both tails.

        Right of the median, log S(lo) + log(1 - S(hi)/S(lo)); left of it, where S(lo) and S(hi)
        both round to 1, log F(hi) + log(1 - F(lo)/F(hi)). The form whose leading term is smaller
        is the precise one."""
        z_lo = (np.log(lo) - eta) / sigma
        z_hi = (np.log(hi) - eta) / sigma
        s_lo, s_hi = self.logsf_w(z_lo), self.logsf_w(z_hi)
        f_lo, f_hi = self.logcdf_w(z_lo), self.logcdf_w(z_hi)
        right = s_lo + _log1mexp(np.minimum(s_hi - s_lo, -1e-300))
        left = f_hi + _log1mexp(np.minimum(f_lo - f_hi, -1e-300))
        return np.where(f_hi < s_lo, left, right)

    def pointwise_loglik(self, y, event, eta, sigma, *, other=None, bounds=None, eta_p=None,
                         o_intercept=None, o_sigma=None) -> np.ndarray:
        """Each row's log-likelihood (NumPy; what the PyMC graph sums, for LOO).

        Single end: log f for falls (log P(lo < T <= hi) for interval rows), log S for the rest.
        Competing ends (``eta_p`` given): log p + that for falls, log(1 - p) + the other end's
        for other ends, log(p S(y) + (1 - p) S_o(y)) for holdouts still standing.
        """
        fall = self.log_density(y, eta, sigma)
        interval = None
        if bounds is not None:
            lo, hi = bounds
            interval = hi > lo
            if np.any(interval):
                fall = np.where(interval, self.log_interval(np.where(interval, lo, y * 0.95),
                                                            np.where(interval, hi, y * 1.05),
                                                            eta, sigma), fall)
        log_s = self.log_survival(y, eta, sigma)
        if eta_p is None:
            return np.where(event > 0, fall, log_s)
        log_p, log_q = _log_sigmoid(eta_p), _log_sigmoid(-np.asarray(eta_p))
        oth = self.log_density(y, o_intercept, o_sigma)
        if interval is not None and np.any(interval):
            oth = np.where(interval, self.log_interval(np.where(interval, bounds[0], y * 0.95),
                                                       np.where(interval, bounds[1], y * 1.05),
                                                       o_intercept, o_sigma), oth)
        cens = np.logaddexp(log_p + log_s, log_q + self.log_survival(y, o_intercept, o_sigma))
        other = np.zeros_like(event) if other is None else other
        return np.where(event > 0, log_p + fall, np.where(other > 0, log_q + oth, cens))

    def quantile_days(self, u_survival: np.ndarray, eta, sigma) -> np.ndarray:
        """The duration t with S(t) = u (inverse survival), in days."""
        return np.exp(eta + sigma * self.isf_w(u_survival))

    def quantile_days_log(self, log_u: np.ndarray, eta, sigma) -> np.ndarray:
        """The duration t with log S(t) = log_u, in days: exact where S(t) underflows."""
        return np.exp(eta + sigma * self.isf_w_log(log_u))

    # --- the PyMC graph ------------------------------------------------------------------
    def uses_wars(self, design: Design) -> bool:
        return self.structure.war and design.war_codes is not None and len(design.wars) > 0

    def columns(self, design: Design) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                                                dict[str, float]]:
        """The data the graph reads, by name: per-row floats, per-row integer codes (a column per
        indicator, then war and era) and scalars. :meth:`data` packs them into few arrays."""
        s = self.structure
        floats = {"y": design.y, "event": design.event, "weight": design.weights()}
        ints: dict[str, np.ndarray] = {}
        scalars: dict[str, float] = {}
        for j, name in enumerate(design.cat_names):
            ints[f"code_{name}"] = design.codes[:, j]
        if self.uses_wars(design):
            ints["war"] = np.maximum(design.war_codes, 0)
        if s.era and design.era_codes is not None:
            ints["era"] = design.era_codes
        f = design.force
        if f is not None:
            floats |= {"att_lo": f.att_lo, "att_hi": f.att_hi, "def_lo": f.def_lo,
                       "def_hi": f.def_hi, "force_known": f.known.astype(float)}
            scalars |= {"force_center": float(f.center), "force_scale": float(f.scale)}
            if s.size and f.def_known is not None:
                floats["def_known"] = f.def_known.astype(float)
                scalars |= {"size_center": float(f.size_center), "size_scale": float(f.size_scale)}
        if s.interval:
            lo, hi = design.bounds()
            flag = hi > lo
            # exact rows get harmless bounds so the branch not taken stays finite
            floats |= {"interval": flag.astype(float), "y_lo": np.where(flag, lo, design.y * 0.95),
                       "y_hi": np.where(flag, hi, design.y * 1.05)}
        if s.competing:
            floats["other"] = design.others()
        return floats, ints, scalars

    def data(self, design: Design) -> dict[str, np.ndarray]:
        """The value of every ``pm.Data`` in :meth:`build`'s graph (refits swap these).

        The columns are packed into a float matrix (rows x float columns), an integer matrix
        and a vector of scalars (plus ``x`` for numeric covariates): each shared array costs
        nutpie's numba wrapper seconds of compiling, so four arrays compile far faster than
        twenty."""
        floats, ints, scalars = self.columns(design)
        n = design.n
        out = {"rows_f": np.column_stack([np.asarray(v, dtype=float) for v in floats.values()])
               .reshape(n, len(floats))}
        if ints:  # an array the graph does not read would be pruned, and nutpie refuses its data
            out["rows_i"] = (np.column_stack([np.asarray(v, dtype=np.int64) for v in ints.values()])
                             .reshape(n, len(ints)))
        if scalars:
            out["consts"] = np.array(list(scalars.values()), dtype=float)
        sets = self.row_sets(design)
        out["row_sets"] = np.concatenate([sets[k] for k in ROW_SETS]).astype(np.int64)
        out["row_set_sizes"] = np.array([sets[k].size for k in ROW_SETS], dtype=np.int64)
        if design.numeric.shape[1]:
            out["x"] = design.numeric
        return out

    def row_sets(self, design: Design) -> dict[str, np.ndarray]:
        """The rows of each likelihood term (:data:`ROW_SETS`): fell (exact or interval-dated),
        another end (exact or interval), still going (censored); rows of weight 0 are in none.
        Without competing ends another end is censoring; without intervals every row is exact."""
        s = self.structure
        floats, _, _ = self.columns(design)
        n = design.n
        fell = floats["event"] > 0
        other = (floats["other"] > 0) & ~fell if s.competing else np.zeros(n, dtype=bool)
        interval = floats["interval"] > 0 if s.interval else np.zeros(n, dtype=bool)
        used = floats["weight"] != 0
        rows = {"fall_exact": fell & ~interval, "fall_interval": fell & interval,
                "other_exact": other & ~interval, "other_interval": other & interval,
                "censored": ~fell & ~other}
        return {k: np.flatnonzero(v & used) for k, v in rows.items()}

    def build(self, design: Design) -> pm.Model:
        """The PyMC model for ``design``: data as ``pm.Data`` so refits change data, not graphs."""
        import pymc as pm
        import pytensor.tensor as pt

        p, s = self.priors, self.structure
        coords = {"row": list(design.row_ids) or list(range(design.n)),
                  "numeric": list(design.numeric_names)}
        for name, lv in zip(design.cat_names, design.levels, strict=True):
            coords[f"{name}_level"] = list(lv)
        wars = self.uses_wars(design)
        era = s.era and design.era_codes is not None
        d = self.data(design)
        floats, ints, scalars = self.columns(design)
        if wars:
            coords["war"] = list(design.wars)
        if era:
            from models.design import ERAS
            coords["era"] = [e for e, _ in ERAS]
        with pm.Model(coords=coords) as model:
            rows_f = pm.Data("rows_f", d["rows_f"])
            col = {k: rows_f[:, j] for j, k in enumerate(floats)}
            if ints:
                rows_i = pm.Data("rows_i", d["rows_i"])
                col |= {k: rows_i[:, j] for j, k in enumerate(ints)}
            if scalars:
                consts = pm.Data("consts", d["consts"])
                col |= {k: consts[j] for j, k in enumerate(scalars)}
            y, weight = col["y"], col["weight"]
            codes = [col[f"code_{name}"] for name in design.cat_names]
            war_codes = col["war"] if wars else None
            era_codes = col["era"] if era else None
            eta = self._predictor("", design, codes, war_codes, era_codes,
                                  p.intercept_mu, p.intercept_sd, pm, pt)
            if design.force is not None:
                eta = eta + self._force_term(design, col, pm, pt)
            pm.Deterministic("eta", eta, dims="row")
            sigma = pm.HalfNormal("sigma", p.sigma_sd)
            ix = dict(zip(ROW_SETS, pt.split(pm.Data("row_sets", d["row_sets"]),
                                             pm.Data("row_set_sizes", d["row_set_sizes"]),
                                             n_splits=len(ROW_SETS)), strict=True))
            log_p = log_q = o_int = o_sigma = None
            if s.competing:
                eta_p = self._predictor("p_", design, codes, war_codes, era_codes,
                                        p.p_intercept_mu, p.p_intercept_sd, pm, pt)
                pm.Deterministic("eta_p", eta_p, dims="row")
                log_p, log_q = -pt.softplus(-eta_p), -pt.softplus(eta_p)
                o_int = pm.Normal("o_intercept", p.intercept_mu, p.intercept_sd)
                o_sigma = pm.HalfNormal("o_sigma", p.sigma_sd)

            # each row's likelihood only where it applies (the special functions are the cost)
            def part(name, term):
                i = ix[name]
                return pt.sum(weight[i] * term(i))

            def falls(i, ll):
                return ll if log_p is None else log_p[i] + ll

            loglik = part("fall_exact", lambda i: falls(i, self._logpdf(y[i], eta[i], sigma, pt)))
            if s.interval:
                y_lo, y_hi = col["y_lo"], col["y_hi"]
                loglik += part("fall_interval", lambda i: falls(
                    i, self._log_interval(y_lo[i], y_hi[i], eta[i], sigma, pt)))
            if s.competing:
                loglik += part("other_exact",
                               lambda i: log_q[i] + self._logpdf(y[i], o_int, o_sigma, pt))
                if s.interval:
                    loglik += part("other_interval", lambda i: log_q[i] + self._log_interval(
                        y_lo[i], y_hi[i], o_int, o_sigma, pt))
                loglik += part("censored", lambda i: pt.logaddexp(
                    log_p[i] + self._logsf(y[i], eta[i], sigma, pt),
                    log_q[i] + self._logsf(y[i], o_int, o_sigma, pt)))
            else:
                loglik += part("censored", lambda i: self._logsf(y[i], eta[i], sigma, pt))
            pm.Potential("censored_loglik", loglik)
        return model

    def _logpdf(self, y, eta, sigma, pt):
        return self.logpdf_w_pt((pt.log(y) - eta) / sigma) - pt.log(sigma) - pt.log(y)

    def _logsf(self, y, eta, sigma, pt):
        return self.logsf_w_pt((pt.log(y) - eta) / sigma)

    def _log_interval(self, lo, hi, eta, sigma, pt):
        """:meth:`log_interval` in PyTensor (the same choice of tail)."""
        z_lo, z_hi = (pt.log(lo) - eta) / sigma, (pt.log(hi) - eta) / sigma
        s_lo, s_hi = self.logsf_w_pt(z_lo), self.logsf_w_pt(z_hi)
        f_lo, f_hi = self.logcdf_w_pt(z_lo), self.logcdf_w_pt(z_hi)
        # the clip keeps the branch not taken finite (and its gradient zero)
        right = s_lo + pt.log1mexp(pt.minimum(s_hi - s_lo, -1e-12))
        left = f_hi + pt.log1mexp(pt.minimum(f_lo - f_hi, -1e-12))
        return pt.switch(pt.lt(f_hi, s_lo), left, right)

    def _predictor(self, prefix: str, design: Design, codes, war_codes, era_codes,
                   mu: float, sd: float, pm, pt):
        """intercept + categorical effects (+ era, + war): the fall time's (prefix '') or the
        probability of falling's ('p_')."""
        p, s = self.priors, self.structure
        eta = pm.Normal(f"{prefix}intercept", mu, sd) + pt.zeros(design.n)
        if design.numeric.shape[1] and not prefix:
            x = pm.Data("x", design.numeric, dims=("row", "numeric"))  # = data()["x"]
            beta = pm.Normal("beta", 0.0, p.beta_sd, dims="numeric")
            eta = eta + pt.dot(x, beta)
        for j, name in enumerate(design.cat_names):
            lv = design.levels[j]
            if s.monotone and name in ORDERED:
                effect = self._monotone(prefix, name, lv, pm, pt)
            else:
                tau = pm.HalfNormal(f"{prefix}tau_{name}", p.tau_sd)
                raw = pm.ZeroSumNormal(f"{prefix}z_{name}", sigma=1.0, dims=f"{name}_level")
                effect = pm.Deterministic(f"{prefix}effect_{name}", tau * raw, dims=f"{name}_level")
            eta = eta + effect[codes[j]]
        if era_codes is not None:
            tau = pm.HalfNormal(f"{prefix}tau_era", p.tau_sd)
            raw = pm.ZeroSumNormal(f"{prefix}z_era", sigma=1.0, dims="era")
            eta = eta + pm.Deterministic(f"{prefix}effect_era", tau * raw, dims="era")[era_codes]
        if war_codes is not None:
            tau = pm.HalfNormal(f"{prefix}tau_war", p.war_sd)
            raw = pm.Normal(f"{prefix}z_war", 0.0, 1.0, dims="war")
            eta = eta + pm.Deterministic(f"{prefix}effect_war", tau * raw, dims="war")[war_codes]
        return eta

    def _monotone(self, prefix: str, name: str, levels: tuple[str, ...], pm, pt):
        order = ORDERED[name]
        b = pm.Normal(f"{prefix}b_{name}", 0.0, self.priors.mono_sd)
        simplex = pm.Dirichlet(f"{prefix}simplex_{name}", a=np.ones(len(order) - 1))
        cum = pt.concatenate([pt.zeros(1), pt.cumsum(simplex)])
        rank = np.array([order.index(lv) for lv in levels if lv in order])
        parts = [b * (cum[rank] - cum[order.index(ORDERED_REFERENCE[name])])]
        if len(levels) > len(rank):  # the 'unknown' level: its own effect, N(0, tau_sd)
            parts.append(pm.Normal(f"{prefix}unknown_{name}", 0.0, self.priors.tau_sd, shape=1))
        return pm.Deterministic(f"{prefix}effect_{name}", pt.concatenate(parts), dims=f"{name}_level")

    def _force_term(self, design: Design, col: dict, pm, pt):
        f = design.force
        att_lo, att_hi, def_lo, def_hi = col["att_lo"], col["att_hi"], col["def_lo"], col["def_hi"]
        known, center, scale = col["force_known"], col["force_center"], col["force_scale"]
        # true strengths inside their ranges (not midpoints)
        u_att = pm.Uniform("u_att", 0.0, 1.0, dims="row")
        u_def = pm.Uniform("u_def", 0.0, 1.0, dims="row")
        log_def = def_lo + (def_hi - def_lo) * u_def
        lfr_in_range = (att_lo + (att_hi - att_lo) * u_att) - log_def
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
        term = beta_force * z_force
        if self.structure.size and f.def_known is not None:
            def_known = col["def_known"]
            z_size_in = (log_def - col["size_center"]) / col["size_scale"]
            size_mu = pm.Normal("size_mu", 0.0, 1.0)
            size_sd = pm.HalfNormal("size_sd", 1.0)
            e_size = pm.Normal("size_e_missing", 0.0, 1.0, dims="row")
            pm.Potential("size_population",
                         pt.sum(def_known * pm.logp(pm.Normal.dist(size_mu, size_sd), z_size_in)))
            z_size = pm.Deterministic(
                "z_size", pt.switch(pt.gt(def_known, 0), z_size_in, size_mu + size_sd * e_size), dims="row")
            term = term + pm.Normal("beta_size", 0.0, self.priors.force_sd) * z_size
        return term

    # --- one new case's parameters from posterior draws ---------------------------------
    @staticmethod
    def eta_for(
        draws: dict[str, np.ndarray],
        *,
        codes: np.ndarray | None = None,
        cat_names: tuple[str, ...] = (),
        numeric: np.ndarray | None = None,
        z_force: np.ndarray | None = None,
        z_size: np.ndarray | None = None,
        era: int | None = None,
        war: np.ndarray | None = None,
        prefix: str = "",
    ) -> np.ndarray:
        """A linear predictor (the fall time's, or with ``prefix='p_'`` the logit of falling) for
        one new case at every posterior draw.

        ``draws`` maps variable names to arrays with all draws on the first axis; ``codes`` may
        be one code per indicator, or per indicator and draw (n_draws, k); ``z_force`` and
        ``z_size`` are the case's standardized latents per draw (None: no such term); ``war`` is
        the case's war effect per draw (None: no war term).
        """
        eta = draws[f"{prefix}intercept"].copy()
        if numeric is not None and "beta" in draws and not prefix:
            eta += draws["beta"] @ numeric
        rows = np.arange(eta.size)
        for j, name in enumerate(cat_names):
            effect = draws[f"{prefix}effect_{name}"]
            c = np.asarray(codes)
            eta += effect[rows, c[:, j]] if c.ndim == 2 else effect[:, c[j]]
        if era is not None and f"{prefix}effect_era" in draws:
            eta += draws[f"{prefix}effect_era"][:, era]
        if war is not None:
            eta += war
        if not prefix:
            if z_force is not None and "beta_force" in draws:
                eta += draws["beta_force"] * z_force
            if z_size is not None and "beta_size" in draws:
                eta += draws["beta_size"] * z_size
        return eta


# the id of the running code: the base's and the design's source as imported
_source(sys.modules[__name__])
_source(sys.modules[Design.__module__])
