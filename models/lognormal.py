"""Log-normal AFT: W is standard normal; the hazard rises then falls."""

from __future__ import annotations

import numpy as np

from models.base import DurationModel


class LogNormalAFT(DurationModel):
    name = "lognormal"
    description = "log-normal accelerated failure time; hazard rises then falls"

    @staticmethod
    def logpdf_w_pt(z):
        import pymc as pm

        return pm.logp(pm.Normal.dist(0.0, 1.0), z)

    @staticmethod
    def logsf_w_pt(z):
        import pymc as pm

        return pm.logcdf(pm.Normal.dist(0.0, 1.0), -z)

    @staticmethod
    def logpdf_w(z):
        from scipy import stats

        return stats.norm.logpdf(z)

    @staticmethod
    def logsf_w(z):
        from scipy import special

        return special.log_ndtr(-np.asarray(z, dtype=float))  # = stats.norm.logsf, 4x faster

    @staticmethod
    def isf_w(u):
        from scipy import stats

        return stats.norm.isf(u)

    @staticmethod
    def isf_w_log(log_u):
        from scipy import special

        # log S_W(z) = log Phi(-z), so -z = Phi^-1(exp(log_u)), computed from log_u
        return -special.ndtri_exp(log_u)


MODEL = LogNormalAFT
