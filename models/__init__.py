"""Bayesian duration models, one per file, one interface; see models.base."""
