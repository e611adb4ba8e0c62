"""The track record: scores of the forecasts in a ledger against the outcomes recorded there.

Scores are recomputed from the stored records every time they are asked for, so they follow
new outcomes and a moving scoring date. A case is scored only once an outcome (an end, or a
"standing as of" observation) is recorded for it.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from forecast.ledger import Ledger
from forecast.outcomes import resolve

#: Columns identifying each scored forecast.
IDENTITY = ("id", "case_id", "as_of", "model", "kind", "issued_at")


def score_ledger(ledger: Ledger, *, case_id: str | None = None, scoring_date: date | None = None,
                 tau: float = 365.0, kinds: tuple[str, ...] = ("forecast", "baseline"),
                 seed: int = 0) -> pd.DataFrame:
    """One row per recorded forecast with a recorded outcome: identity columns and its scores
    (see :func:`forecast.score.score_table`). ``scoring_date`` defaults to today."""
    from forecast.score import score_table

    scoring_date = scoring_date or date.today()
    rows = []
    cases = [case_id] if case_id else ledger.cases()
    for cid in cases:
        known = ledger.outcome(cid)
        if known is None:
            continue
        kind_of_end, end = known
        for fid, rec in ledger.forecasts(case_id=cid):
            if rec.kind not in kinds or rec.as_of > scoring_date:
                continue
            if kind_of_end != "standing" and end < rec.as_of:
                continue  # made after the case had ended: nothing left to forecast
            res = resolve(rec.as_of, outcome=kind_of_end, end_date=end, scoring_date=scoring_date)
            ident = {"id": fid, "case_id": rec.case_id, "as_of": rec.as_of.isoformat(),
                     "model": rec.model, "kind": rec.kind, "issued_at": rec.issued_at,
                     "p30": rec.predictive.p_fall_within(30)}
            rows.append((ident, rec.predictive, res))
    if not rows:
        return pd.DataFrame(columns=[*IDENTITY, "p30"])
    return score_table(rows, tau=tau, seed=seed)
