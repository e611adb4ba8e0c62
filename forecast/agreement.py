"""Agreement between two independent codings of the same holdouts (``data/CODING.md``).

The second coder works from the manual and the sources alone; this module compares the two files
field by field, for the rows both coded:

- dates agree when they are the same at the coarser of the two coders' precisions for that date
  (the same day, month or year);
- categories (outcome, its event/censored class, terrain, encircled, approach routes, external
  support, conflict type, region, parent) get the share of exact agreement and Cohen's kappa
  (scikit-learn's ``cohen_kappa_score``); ``war`` is compared on its spelling-free key;
- force ranges agree when both are empty or the two ranges overlap.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data import war_key
from forecast.errors import InputError
from forecast.indicators import DATE_PRECISIONS, EVENT_OUTCOMES

CATEGORY_FIELDS: tuple[str, ...] = (
    "outcome", "event", "terrain", "encircled", "approach_routes", "external_support",
    "conflict_type", "region", "war", "parent",
)
DATE_FIELDS: tuple[str, ...] = ("start_date", "end_date")
RANGE_FIELDS: tuple[str, ...] = ("defender_strength", "attacker_strength")


def read_coding(path: str | Path) -> pd.DataFrame:
    """A coding file as text, one row per ``case_id`` (schema v2 columns; empty cells as "")."""
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(label, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise InputError(label, f"malformed CSV ({exc})") from None
    if not rows:
        raise InputError(label, "has no rows")
    need = ("case_id", "start_date", "end_date", "outcome")
    missing = [c for c in need if c not in rows[0]]
    if missing:
        raise InputError(f"{label}, line 1", f"missing required column '{missing[0]}'")
    frame = pd.DataFrame(rows).fillna("")
    for col in frame:
        frame[col] = frame[col].astype(str).str.strip()
    dup = frame["case_id"][frame["case_id"].duplicated()]
    if len(dup):
        raise InputError(label, f"case_id '{dup.iloc[0]}' appears twice")
    if "start_precision" not in frame and "date_precision" in frame:
        frame["start_precision"] = frame["end_precision"] = frame["date_precision"]
    return frame.set_index("case_id")


def _date_agrees(a: str, b: str, pa: str, pb: str) -> bool:
    if not a or not b:
        return a == b
    prec = max(pa or "day", pb or "day", key=DATE_PRECISIONS.index)
    width = {"day": 10, "month": 7, "year": 4}[prec]
    return a[:width] == b[:width]


def _range(row: pd.Series, prefix: str) -> str:
    return f"{row.get(prefix + '_low', '')}-{row.get(prefix + '_high', '')}"


def _overlap(row_a: pd.Series, row_b: pd.Series, prefix: str) -> bool:
    lo_a, hi_a = row_a.get(f"{prefix}_low", ""), row_a.get(f"{prefix}_high", "")
    lo_b, hi_b = row_b.get(f"{prefix}_low", ""), row_b.get(f"{prefix}_high", "")
    if not lo_a or not lo_b:
        return not lo_a and not lo_b
    return float(lo_a) <= float(hi_b or lo_b) and float(lo_b) <= float(hi_a or lo_a)


def _category(frame: pd.DataFrame, name: str) -> pd.Series:
    if name == "event":
        return frame["outcome"].isin(EVENT_OUTCOMES).map({True: "event", False: "censored"})
    values = frame[name] if name in frame else pd.Series("", index=frame.index)
    if name == "war":
        values = values.map(war_key)
    return values.replace("", "(empty)")


def cells(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """One row per compared cell (case, field) of the rows both coded: the two values as compared
    and whether they agree, by the rules in the module docstring."""
    ids = [c for c in second.index if c in first.index]
    if not ids:
        raise InputError("second coding", "shares no case_id with the first coding")
    a, b = first.loc[ids], second.loc[ids]
    labels = {name: (_category(a, name), _category(b, name)) for name in CATEGORY_FIELDS}
    rows = []
    for i in ids:
        for name in DATE_FIELDS:
            prec = name.replace("_date", "_precision")
            x, y = a.at[i, name], b.at[i, name]
            rows.append((i, name, "date", x, y, _date_agrees(x, y, a.at[i, prec], b.at[i, prec])))
        for name, (xs, ys) in labels.items():
            rows.append((i, name, "category", xs[i], ys[i], xs[i] == ys[i]))
        for prefix in RANGE_FIELDS:
            rows.append((i, prefix, "range overlaps", _range(a.loc[i], prefix), _range(b.loc[i], prefix),
                         _overlap(a.loc[i], b.loc[i], prefix)))
    return pd.DataFrame(rows, columns=["case_id", "field", "kind", "first", "second", "agree"])


def agreement(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Per field: rows compared, rows in agreement, their share and (categories) Cohen's kappa.

    Rows are those whose ``case_id`` is in both codings.
    """
    from sklearn.metrics import cohen_kappa_score

    table = cells(first, second)
    out = []
    for (name, kind), group in table.groupby(["field", "kind"], sort=False):
        kappa = np.nan
        # war and parent are identity labels, not a small category set; one level: undefined
        if kind == "category" and name not in ("war", "parent"):
            if pd.concat([group["first"], group["second"]]).nunique() > 1:
                kappa = float(cohen_kappa_score(group["first"], group["second"]))
        out.append({"field": name, "kind": kind, "rows": len(group), "agree": int(group["agree"].sum()),
                    "kappa": kappa})
    result = pd.DataFrame(out)
    result["share"] = result["agree"] / result["rows"]
    return result[["field", "kind", "rows", "agree", "share", "kappa"]]


def disagreements(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Every cell where the codings differ (by the same rules as :func:`agreement`), for review."""
    table = cells(first, second)
    return table.loc[~table["agree"], ["case_id", "field", "first", "second"]].reset_index(drop=True)
