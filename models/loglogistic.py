"""Log-logistic AFT: W is standard logistic, S_W(z) = 1 / (1 + e^z); heavier tail than Weibull."""

from __future__ import annotations

import numpy as np

from models.base import DurationModel


class LogLogisticAFT(DurationModel):
    name = "loglogistic"
    description = "log-logistic accelerated failure time; heavier right tail, hazard can fall"

    @staticmethod
    def logpdf_w_pt(z):
        import pytensor.tensor as pt

        return -pt.softplus(z) - pt.softplus(-z)

    @staticmethod
    def logsf_w_pt(z):
        import pytensor.tensor as pt

        return -pt.softplus(z)

    @staticmethod
    def logpdf_w(z):
        return -np.logaddexp(0.0, z) - np.logaddexp(0.0, -z)

    @staticmethod
    def logsf_w(z):
        return -np.logaddexp(0.0, z)

    @staticmethod
    def isf_w(u):
        return np.log1p(-u) - np.log(u)

    @staticmethod
    def isf_w_log(log_u):
        # log S_W(z) = -log(1 + e^z), so z = log(expm1(x)) with x = -log_u >= 0; for large x
        # (where expm1 overflows) the same as x + log1p(-e^-x)
        x = -np.asarray(log_u, dtype=float)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            small = np.log(np.expm1(np.minimum(x, 1.0)))
            large = x + np.log1p(-np.exp(-np.maximum(x, 1.0)))
        return np.where(x > 1.0, large, small)


MODEL = LogLogisticAFT
