"""Case files: one holdout to forecast, in YAML (schema in data/cases/README.md).

A case has dates, indicators (each with its source), verbatim statements and, once known, an
outcome. Loading is as strict as the dataset: every problem is an :class:`InputError` naming the
file, the key path and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from forecast.errors import InputError
from forecast.indicators import CATEGORIES, OUTCOMES, Indicators, Range

#: Speaker roles; default credibility weights per role live with the claims (forecast.elicit).
ROLES: tuple[str, ...] = (
    "independent_analyst",
    "third_party_government",
    "party_to_conflict",
    "state_affiliated_expert",
    "journalist",
    "other",
)
RANGE_INDICATORS: tuple[str, ...] = ("defender_strength", "attacker_strength", "population")

_TOP_KEYS = {"id", "name", "start_date", "start_note", "as_of", "indicators", "statements",
             "outcome", "sources", "notes"}
_REQUIRED_TOP = ("id", "name", "start_date", "as_of", "indicators")
_STATEMENT_KEYS = {"id", "quote", "speaker", "role", "affiliation", "date", "date_note", "source",
                   "context", "weight", "claims"}
_REQUIRED_STATEMENT = ("id", "quote", "speaker", "role", "date", "source")
_OUTCOME_KEYS = {"status", "end_date", "note", "source"}


@dataclass(frozen=True)
class Statement:
    """What a named source said, verbatim. ``claims`` holds the raw claim mappings (see elicit)."""

    id: str
    quote: str
    speaker: str
    role: str
    date: date
    source: str
    affiliation: str | None = None
    date_note: str | None = None
    context: str | None = None
    weight: float | None = None
    claims: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """How the case ended: ``status`` is one of the dataset outcomes."""

    status: str
    end_date: date | None
    note: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Case:
    """One holdout as of one date."""

    id: str
    name: str
    start_date: date
    as_of: date
    indicators: Indicators
    statements: tuple[Statement, ...] = ()
    outcome: Outcome | None = None
    indicator_sources: dict[str, str] = field(default_factory=dict)
    path: str = ""

    @property
    def held_days(self) -> float:
        """Days held at ``as_of`` (the conditioning point for remaining life)."""
        return float((self.as_of - self.start_date).days)

    def with_as_of(self, as_of: date) -> Case:
        """The same case at another date, checked like a file's ``as_of``."""
        _check_as_of(as_of, self.start_date, self.outcome, f"{self.path or self.id}, --as-of")
        return replace(self, as_of=as_of)


def load_case(path: str | Path) -> Case:
    """Read and validate a case file.

    Raises
    ------
    InputError
        For unreadable or malformed YAML, a missing or unknown key, an unknown category or role,
        a bad date, ``as_of`` before ``start_date`` or after the outcome, a negative or reversed
        range, an outcome without its end date.
    """
    path = Path(path)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(label, "file not found") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise InputError(label, f"cannot be read as a UTF-8 text file ({type(exc).__name__})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}, line {mark.line + 1}" if mark else label
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise InputError(where, f"malformed YAML ({problem})") from None
    if not isinstance(doc, dict):
        raise InputError(label, "must be a YAML mapping of case keys (id, name, start_date, ...)")
    return parse_case(doc, label)


def parse_case(doc: dict[str, Any], label: str = "<case>") -> Case:
    """Validate a case mapping (as read from YAML) into a :class:`Case`."""
    _check_keys(doc, _TOP_KEYS, _REQUIRED_TOP, label)
    cid = _text(doc, "id", label)
    start = _date(doc["start_date"], f"{label}, key 'start_date'")
    as_of = _date(doc["as_of"], f"{label}, key 'as_of'")
    outcome = _outcome(doc["outcome"], start, label) if doc.get("outcome") is not None else None
    _check_as_of(as_of, start, outcome, f"{label}, key 'as_of'")
    indicators, sources = _indicators(doc["indicators"], label)
    raw_statements = doc.get("statements") or []
    if not isinstance(raw_statements, list):
        raise InputError(f"{label}, key 'statements'", "must be a list of statements")
    statements = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_statements):
        sid = raw.get("id") if isinstance(raw, dict) else None
        st = _statement(raw, f"{label}, statements[{i}]" + (f" (statement '{sid}')" if sid else ""))
        if st.id in seen:
            raise InputError(f"{label}, statements[{i}], key 'id'", f"duplicate statement id '{st.id}'")
        seen.add(st.id)
        statements.append(st)
    return Case(
        id=cid,
        name=_text(doc, "name", label),
        start_date=start,
        as_of=as_of,
        indicators=indicators,
        statements=tuple(statements),
        outcome=outcome,
        indicator_sources=sources,
        path=label,
    )


def _check_as_of(as_of: date, start: date, outcome: Outcome | None, where: str) -> None:
    if as_of < start:
        raise InputError(where, f"{as_of} is before start_date {start}")
    if outcome is not None and outcome.end_date is not None and as_of > outcome.end_date:
        raise InputError(where, f"{as_of} is after the outcome's end_date {outcome.end_date}")


def _check_keys(doc: dict, allowed: set[str], required: tuple[str, ...], where: str) -> None:
    for key in doc:
        if key not in allowed:
            raise InputError(f"{where}, key '{key}'", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in doc or doc[key] is None or doc[key] == "":
            raise InputError(f"{where}, key '{key}'", "is required but missing")


def _text(doc: dict, key: str, where: str) -> str:
    value = doc[key]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}, key '{key}'", "must be non-empty text")
    return value.strip()


def _date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(where, f"'{value}' is not an ISO date (YYYY-MM-DD)")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(where, f"'{value}' is not a number")
    if value < 0:
        raise InputError(where, f"{value} is negative; counts must be >= 0")
    return float(value)


def _key(label: str, path: str) -> str:
    return f"{label}, key '{path}'"


def _indicators(raw: Any, label: str) -> tuple[Indicators, dict[str, str]]:
    if not isinstance(raw, dict):
        raise InputError(_key(label, "indicators"), "must be a mapping of indicator names to values")
    allowed = set(CATEGORIES) | set(RANGE_INDICATORS)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, spec in raw.items():
        path = f"indicators.{name}"
        here = _key(label, path)
        if name not in allowed:
            raise InputError(here, f"unknown indicator (known: {', '.join(sorted(allowed))})")
        if isinstance(spec, dict):
            extra = set(spec) - {"value", "low", "high", "source", "note"}
            if extra:
                raise InputError(_key(label, f"{path}.{sorted(extra)[0]}"),
                                 "unknown key (allowed: value, low, high, source, note)")
            if spec.get("source"):
                sources[name] = str(spec["source"])
        else:
            spec = {"value": spec}
        if name in CATEGORIES:
            value = spec.get("value")
            if value is None:
                continue  # unknown: stays None, flagged downstream
            if value not in CATEGORIES[name]:
                raise InputError(here, f"'{value}' is not one of {', '.join(CATEGORIES[name])}")
            values[name] = value
        else:
            if "value" in spec and spec["value"] is not None:
                v = _number(spec["value"], here)
                values[name] = Range(v, v)
            elif "low" in spec or "high" in spec:
                if "low" not in spec or "high" not in spec:
                    raise InputError(here, "a range needs both 'low' and 'high'")
                lo = _number(spec["low"], _key(label, f"{path}.low"))
                hi = _number(spec["high"], _key(label, f"{path}.high"))
                if lo > hi:
                    raise InputError(_key(label, f"{path}.low"), f"low {lo:g} is greater than high {hi:g}")
                if name == "defender_strength" and lo == 0:
                    raise InputError(_key(label, f"{path}.low"), "a holdout has at least one defender")
                values[name] = Range(lo, hi)
    return Indicators(**values), sources


def _statement(raw: Any, where: str) -> Statement:
    if not isinstance(raw, dict):
        raise InputError(where, "must be a mapping (id, quote, speaker, role, date, source)")
    _check_keys(raw, _STATEMENT_KEYS, _REQUIRED_STATEMENT, where)
    role = raw["role"]
    if role not in ROLES:
        raise InputError(f"{where}, key 'role'", f"'{role}' is not one of {', '.join(ROLES)}")
    weight = raw.get("weight")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
            raise InputError(f"{where}, key 'weight'", f"'{weight}' is not a number in [0, 1]")
        weight = float(weight)
    claims = raw.get("claims") or []
    if not isinstance(claims, list) or not all(isinstance(c, dict) for c in claims):
        raise InputError(f"{where}, key 'claims'", "must be a list of claim mappings")
    return Statement(
        id=_text(raw, "id", where),
        quote=_text(raw, "quote", where),
        speaker=_text(raw, "speaker", where),
        role=role,
        date=_date(raw["date"], f"{where}, key 'date'"),
        source=_text(raw, "source", where),
        affiliation=raw.get("affiliation"),
        date_note=raw.get("date_note"),
        context=raw.get("context"),
        weight=weight,
        claims=tuple(claims),
    )


def _outcome(raw: Any, start: date, label: str) -> Outcome:
    where = _key(label, "outcome")
    if not isinstance(raw, dict):
        raise InputError(where, "must be a mapping (status, end_date, note, source)")
    _check_keys(raw, _OUTCOME_KEYS, ("status",), where)
    status = raw["status"]
    if status not in OUTCOMES:
        raise InputError(_key(label, "outcome.status"), f"'{status}' is not one of {', '.join(OUTCOMES)}")
    end = None
    if status != "ongoing":
        if raw.get("end_date") is None:
            raise InputError(_key(label, "outcome.end_date"), f"is required for status '{status}'")
        end = _date(raw["end_date"], _key(label, "outcome.end_date"))
        if end < start:
            raise InputError(_key(label, "outcome.end_date"), f"{end} is before start_date {start}")
    return Outcome(status=status, end_date=end, note=raw.get("note"), source=raw.get("source"))
