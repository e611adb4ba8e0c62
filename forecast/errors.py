"""Errors for bad input: each names the place (file, row, column or key) and the rule broken."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input that the user can fix.

    Parameters
    ----------
    where : str
        The place: a file, optionally with row/column or key, e.g. ``"x.csv, row 4, column 'end_date'"``.
    rule : str
        The rule broken, as a short sentence fragment.
    """

    def __init__(self, where: str, rule: str) -> None:
        self.where = where
        self.rule = rule
        super().__init__(f"{where}: {rule}")


class UnreliablePosteriorError(RuntimeError):
    """A forecast was asked of a posterior that failed the diagnostics gate."""
