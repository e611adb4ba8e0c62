"""Weibull AFT (the default): W is a standard minimum-Gumbel variate, so T is Weibull with
shape rho = 1 / sigma and scale exp(eta) (lifelines' lambda). S_W(z) = exp(-e^z)."""

from __future__ import annotations

import numpy as np

from models.base import DurationModel


class WeibullAFT(DurationModel):
    name = "weibull"
    description = "Weibull accelerated failure time; shape 1/sigma, hazard monotone"

    @staticmethod
    def logpdf_w_pt(z):
        import pytensor.tensor as pt

        return z - pt.exp(z)

    @staticmethod
    def logsf_w_pt(z):
        import pytensor.tensor as pt

        return -pt.exp(z)

    @staticmethod
    def logpdf_w(z):
        return z - np.exp(z)

    @staticmethod
    def logsf_w(z):
        return -np.exp(z)

    @staticmethod
    def logcdf_w(z):
        # log(1 - exp(-e^z)); below z = -30 it is z to double precision (and e^z would underflow)
        z = np.asarray(z, dtype=float)
        return np.where(z < -30.0, z, np.log(-np.expm1(-np.exp(np.maximum(z, -30.0)))))

    @staticmethod
    def logcdf_w_pt(z):
        import pytensor.tensor as pt

        return pt.switch(pt.lt(z, -30.0), z, pt.log1mexp(-pt.exp(pt.maximum(z, -30.0))))

    @staticmethod
    def isf_w(u):
        return np.log(-np.log(u))

    @staticmethod
    def isf_w_log(log_u):
        return np.log(-np.asarray(log_u, dtype=float))


MODEL = WeibullAFT
