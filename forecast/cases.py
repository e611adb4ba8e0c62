"""Case files: one holdout to forecast, in YAML (schema in data/cases/README.md).

A case has dates, indicators (each with its source), verbatim statements and, once known, an
outcome. Loading is as strict as the dataset: every problem is an :class:`InputError` naming the
file, the key path and the rule. Values that are allowed but unusual (a force larger than any in
the reference class, a hypothetical date in the future) are kept in :attr:`Case.warnings`, for the
caller to show; the library never prints them.

YAML is read with a :class:`yaml.SafeLoader` subclass whose scalars follow YAML 1.2: only
``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` stay text, so ``encircled: yes``
is the level ``yes``), ``1e30`` is a number, ``010`` is ten, ``0x1F`` and ``1:30`` are text, an
impossible date such as ``2025-13-45`` stays text (and is refused by the date check), and a key
given twice in one mapping is an error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from forecast.errors import InputError
from forecast.indicators import (
    CATEGORIES,
    EARLIEST_DATE,
    OUTCOMES,
    Indicators,
    Range,
    implausible,
    parse_iso_date,
    shown,
    unusual,
)

#: Speaker roles; default credibility weights per role live with the claims (forecast.elicit).
ROLES: tuple[str, ...] = (
    "independent_analyst",
    "third_party_government",
    "party_to_conflict",
    "state_affiliated_expert",
    "journalist",
    "other",
)
#: The largest calibration beta a statement may be given (beta 1 = face value).
MAX_BETA = 5.0
RANGE_INDICATORS: tuple[str, ...] = ("defender_strength", "attacker_strength", "population")
#: The key that lets a case's dates lie after today (a scenario, not a live case).
HYPOTHETICAL_KEY = "as_of_is_hypothetical"

_TOP_KEYS = {"id", "name", "start_date", "start_note", "as_of", "indicators", "statements",
             "outcome", "sources", "notes", "war", "changes", "events", HYPOTHETICAL_KEY}
_CHANGE_KEYS = {"date", "source", "note"}
_EVENT_KEYS = {"date", "event", "source"}
_REQUIRED_TOP = ("id", "name", "start_date", "as_of", "indicators")
_STATEMENT_KEYS = {"id", "quote", "speaker", "role", "affiliation", "date", "date_note", "source",
                   "context", "weight", "source_group", "claims"}
_REQUIRED_STATEMENT = ("id", "quote", "speaker", "role", "date", "source")
_OUTCOME_KEYS = {"status", "end_date", "note", "source"}
_CATEGORY_SPEC_KEYS = ("value", "source", "note")
_RANGE_SPEC_KEYS = ("value", "low", "high", "source", "note")


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
    #: the speaker's calibration beta for this statement, overriding the fitted default
    weight: float | None = None
    claims: tuple[dict, ...] = ()
    #: statements sharing a source (same organisation, same report) share this id
    source_group: str | None = None


@dataclass(frozen=True)
class IndicatorChange:
    """Categorical indicators that changed on ``date`` while the holdout held (new levels in
    ``values``), with the source."""

    date: date
    values: dict[str, str]
    source: str
    note: str | None = None


@dataclass(frozen=True)
class CaseEvent:
    """A dated event of the case's story (for charts: what happened between forecasts)."""

    date: date
    event: str
    source: str


@dataclass(frozen=True)
class Outcome:
    """How the case ended: ``status`` is one of the dataset outcomes."""

    status: str
    end_date: date | None
    note: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Case:
    """One holdout as of one date.

    ``hypothetical`` is the file's ``as_of_is_hypothetical`` (dates after today allowed);
    ``warnings`` are one-line notes on accepted but unusual values, each naming file and key.
    """

    id: str
    name: str
    start_date: date
    as_of: date
    indicators: Indicators
    statements: tuple[Statement, ...] = ()
    outcome: Outcome | None = None
    indicator_sources: dict[str, str] = field(default_factory=dict)
    path: str = ""
    hypothetical: bool = False
    warnings: tuple[str, ...] = ()
    #: the war or campaign it belongs to, spelled as in ``data/holdouts.csv`` (its war effect is
    #: then the fitted one; otherwise a new war's is drawn)
    war: str | None = None
    #: dated changes of categorical indicators while it held, in date order
    changes: tuple[IndicatorChange, ...] = ()
    #: dated events with their sources, in date order (drawn on the evolution chart)
    events: tuple[CaseEvent, ...] = ()

    def indicators_at(self, when: date) -> Indicators:
        """The indicators in force on ``when``: the start's, with every change dated on or
        before it applied."""
        values = {}
        for ch in self.changes:
            if ch.date <= when:
                values |= ch.values
        return replace(self.indicators, **values) if values else self.indicators

    def segments(self) -> list[tuple[float, Indicators]]:
        """(days, indicators) for each stretch from start_date to as_of with constant indicators,
        in order (one stretch when nothing changed by as_of)."""
        cuts = [ch.date for ch in self.changes if self.start_date < ch.date <= self.as_of]
        bounds = [self.start_date, *sorted(set(cuts)), self.as_of]
        return [(float((b - a).days), self.indicators_at(a))
                for a, b in zip(bounds, bounds[1:], strict=False)
                if b > a]

    @property
    def held_days(self) -> float:
        """Days held at ``as_of`` (the conditioning point for remaining life)."""
        return float((self.as_of - self.start_date).days)

    def with_as_of(self, as_of: date | str, *, today: date | None = None) -> Case:
        """The same case at another date, checked like a file's ``as_of``.

        Parameters
        ----------
        as_of : datetime.date or str
            The new forecast date, a date or an ISO ``YYYY-MM-DD`` string.
        today : datetime.date, optional
            The date that ``as_of`` may not pass (default: today) unless the case is hypothetical.

        Raises
        ------
        InputError
            For anything but a date or an ISO date string, and for a date the file's ``as_of``
            could not have.
        """
        label = self.path or self.id
        where = f"{label}, --as-of"
        if not isinstance(as_of, date | str):
            raise InputError(where, f"{shown(as_of)} ({type(as_of).__name__}) is not a date: give a "
                                    "datetime.date or an ISO 'YYYY-MM-DD' string")
        when = _date(as_of, where)
        kept = [w for w in self.warnings if not w.startswith((f"{label}, key 'as_of':", f"{where}:"))]
        _check_as_of(when, self.start_date, self.outcome, where,
                     _Dates(today or date.today(), self.hypothetical, kept))
        return replace(self, as_of=when, warnings=tuple(kept))


@dataclass(frozen=True)
class _Dates:
    """What the date checks need: today, whether the case is hypothetical, where warnings go."""

    today: date
    hypothetical: bool
    warnings: list[str]


# --- YAML reading ---------------------------------------------------------------------------------

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class _CaseLoader(yaml.SafeLoader):
    """A SafeLoader with YAML 1.2 core-schema booleans and numbers, refusing duplicate keys."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise ConstructorError(
                            None, None,
                            f"key '{shown(key_node.value)}' given twice (first on line {seen[key] + 1})",
                            key_node.start_mark)
                    seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


_CaseLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CaseLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_CaseLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9][0-9_]*$"), list("-+0123456789"))
_CaseLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"""^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
                |[-+]?\.(?:inf|Inf|INF)
                |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))


def _strict(construct: Any) -> Any:
    """A scalar constructor whose failures (``!!float abc``) are YAML errors with a line."""

    def wrapped(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
            raise ConstructorError(None, None, f"cannot read '{shown(node.value)}' as {node.tag}",
                                   node.start_mark) from None

    return wrapped


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A YAML date, or the text itself if there is no such day (the date check names the key)."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
        return loader.construct_scalar(node)


def _decimal_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    """A YAML 1.2 integer: decimal, ``010`` is ten (YAML 1.1 read it as octal eight)."""
    return int(loader.construct_scalar(node).replace("_", ""), 10)


for _tag, _construct in ((_BOOL, yaml.SafeLoader.construct_yaml_bool),
                         (_INT, _decimal_int),
                         (_FLOAT, yaml.SafeLoader.construct_yaml_float)):
    _CaseLoader.add_constructor(_tag, _strict(_construct))
_CaseLoader.add_constructor(_TIMESTAMP, _timestamp)


def read_yaml(text: str, label: str) -> Any:
    """Parse case YAML (see the module docstring for how scalars are read).

    Raises
    ------
    InputError
        For malformed YAML, naming the line where the parser stopped.
    """
    try:
        return yaml.load(text, Loader=_CaseLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}, line {mark.line + 1}" if mark else label
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise InputError(where, f"malformed YAML ({shown(problem, 120)})") from None
    except RecursionError:
        raise InputError(label, "malformed YAML (nested too deeply)") from None


def load_case(path: str | Path, *, today: date | None = None) -> Case:
    """Read and validate a case file.

    Parameters
    ----------
    path : path-like
        The YAML case file.
    today : datetime.date, optional
        The date that no date in the file may pass unless it says ``as_of_is_hypothetical: true``
        (default: today).

    Raises
    ------
    InputError
        For unreadable or malformed YAML, a missing, unknown or repeated key, an unknown category
        or role, a boolean where a level is expected, a bad date or one before 1800, a date after
        today in a case not marked hypothetical, ``as_of`` before ``start_date`` or after the
        outcome, a number that is not finite, a negative, reversed or implausibly large force or
        population, an outcome without its end date.
    """
    path = Path(path)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(label, "file not found") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise InputError(label, f"cannot be read as a UTF-8 text file ({type(exc).__name__})") from None
    except OSError as exc:
        raise InputError(label, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    doc = read_yaml(text, label)
    if not isinstance(doc, dict):
        raise InputError(label, "must be a YAML mapping of case keys (id, name, start_date, ...)")
    return parse_case(doc, label, today=today)


def parse_case(doc: dict[str, Any], label: str = "<case>", *, today: date | None = None) -> Case:
    """Validate a case mapping (as read from YAML) into a :class:`Case`.

    ``today`` is as in :func:`load_case`.
    """
    if not isinstance(doc, dict):
        raise InputError(label, "must be a YAML mapping of case keys (id, name, start_date, ...)")
    _check_numbers(doc, label)
    _check_keys(doc, _TOP_KEYS, _REQUIRED_TOP, label)
    hypothetical = doc.get(HYPOTHETICAL_KEY)
    if hypothetical is None:
        hypothetical = False
    if not isinstance(hypothetical, bool):
        raise InputError(_key(label, HYPOTHETICAL_KEY), f"'{shown(hypothetical)}' is not true or false")
    dates = _Dates(today or date.today(), hypothetical, [])
    cid = _text(doc, "id", label)
    name = _text(doc, "name", label)
    _optional_text(doc, "start_note", label)
    _optional_text(doc, "notes", label)
    if doc.get("sources") is not None and not isinstance(doc["sources"], list):
        raise InputError(_key(label, "sources"), "must be a list of sources")
    start = _date(doc["start_date"], _key(label, "start_date"))
    _not_after_today(start, _key(label, "start_date"), dates)
    as_of = _date(doc["as_of"], _key(label, "as_of"))
    outcome = _outcome(doc["outcome"], start, label, dates) if doc.get("outcome") is not None else None
    _check_as_of(as_of, start, outcome, _key(label, "as_of"), dates)
    indicators, sources = _indicators(doc["indicators"], label, dates.warnings)
    raw_statements = doc.get("statements") or []
    if not isinstance(raw_statements, list):
        raise InputError(_key(label, "statements"), "must be a list of statements")
    statements = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_statements):
        sid = raw.get("id") if isinstance(raw, dict) else None
        where = f"{label}, statements[{i}]" + (f" (statement '{shown(sid)}')" if sid else "")
        st = _statement(raw, where, dates)
        if st.id in seen:
            raise InputError(f"{label}, statements[{i}], key 'id'",
                             f"duplicate statement id '{shown(st.id)}'")
        seen.add(st.id)
        statements.append(st)
    return Case(
        id=cid,
        name=name,
        start_date=start,
        as_of=as_of,
        indicators=indicators,
        statements=tuple(statements),
        outcome=outcome,
        indicator_sources=sources,
        path=label,
        hypothetical=hypothetical,
        warnings=tuple(dates.warnings),
        war=_optional_text(doc, "war", label),
        changes=_changes(doc.get("changes"), label, start, outcome, dates),
        events=_events(doc.get("events"), label, start, dates),
    )


def _events(raw: Any, label: str, start: date, dates: _Dates) -> tuple[CaseEvent, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError(_key(label, "events"), "must be a list of dated events (date, event, source)")
    out: list[CaseEvent] = []
    for i, item in enumerate(raw):
        where = f"{label}, events[{i}]"
        if not isinstance(item, dict):
            raise InputError(where, "must be a mapping with date, event and source")
        _check_keys(item, _EVENT_KEYS, ("date", "event", "source"), where)
        when = _listed_date(item, where, out[-1].date if out else None, dates, "event")
        if when < start:
            raise InputError(f"{where}, key 'date'", f"{when} is before start_date {start}")
        out.append(CaseEvent(when, _text(item, "event", where), _text(item, "source", where)))
    return tuple(out)


def _listed_date(item: dict, where: str, previous: date | None, dates: _Dates, what: str) -> date:
    """The ``date`` of one entry of a dated list (changes, events): a valid date, not after
    today, not before the entry above it."""
    when = _date(item["date"], f"{where}, key 'date'")
    _not_after_today(when, f"{where}, key 'date'", dates)
    if previous is not None and when < previous:
        raise InputError(f"{where}, key 'date'", f"{when} is before the {what} above it ({previous}); "
                                                 f"list {what}s in date order")
    return when


def _changes(raw: Any, label: str, start: date, outcome: Outcome | None,
             dates: _Dates) -> tuple[IndicatorChange, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError(_key(label, "changes"), "must be a list of dated indicator changes")
    out: list[IndicatorChange] = []
    for i, item in enumerate(raw):
        where = f"{label}, changes[{i}]"
        if not isinstance(item, dict):
            raise InputError(where, "must be a mapping (date, source, and the indicators that changed)")
        unknown = [k for k in item if k not in _CHANGE_KEYS and k not in CATEGORIES]
        if unknown:
            raise InputError(f"{where}, key '{shown(unknown[0])}'",
                             f"not a categorical indicator or one of date, source, note "
                             f"(indicators: {', '.join(CATEGORIES)})")
        for key in ("date", "source"):
            if item.get(key) is None:
                raise InputError(f"{where}, key '{key}'", "is missing")
        when = _listed_date(item, where, out[-1].date if out else None, dates, "change")
        if when <= start:
            raise InputError(f"{where}, key 'date'", f"{when} is not after start_date {start}")
        if outcome is not None and outcome.end_date is not None and when > outcome.end_date:
            raise InputError(f"{where}, key 'date'",
                             f"{when} is after the outcome's end_date {outcome.end_date}")
        values = {k: _level(v, k, f"{where}, key '{k}'") for k, v in item.items() if k in CATEGORIES}
        if not values or any(v is None for v in values.values()):
            raise InputError(where, "names no indicator with a new level")
        out.append(IndicatorChange(when, values, _optional_text(item, "source", where) or "",
                                   _optional_text(item, "note", where)))
    return tuple(out)


def _check_as_of(as_of: date, start: date, outcome: Outcome | None, where: str, dates: _Dates) -> None:
    if as_of < start:
        raise InputError(where, f"{as_of} is before start_date {start}")
    if outcome is not None and outcome.end_date is not None and as_of > outcome.end_date:
        raise InputError(where, f"{as_of} is after the outcome's end_date {outcome.end_date}")
    _not_after_today(as_of, where, dates)


def _not_after_today(when: date, where: str, dates: _Dates) -> None:
    """A date after today is refused, or, in a hypothetical case, kept with a warning."""
    if when <= dates.today:
        return
    if not dates.hypothetical:
        raise InputError(where, f"{when} is after today ({dates.today}); a case about the future "
                                f"must say '{HYPOTHETICAL_KEY}: true'")
    dates.warnings.append(f"{where}: {when} is after today ({dates.today}); accepted because the "
                          f"case is marked {HYPOTHETICAL_KEY}")


def _check_numbers(doc: Any, label: str) -> None:
    """Every number anywhere in the document finite; no mapping or list that contains itself."""
    active: set[int] = set()
    done: set[int] = set()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, float) and not math.isfinite(node):
            raise InputError(_key(label, path), f"{shown(node)} is not a finite number")
        if isinstance(node, int) and not isinstance(node, bool) and abs(node) > 1e300:
            raise InputError(_key(label, path), f"{shown(node)} is too large to be a number here")
        if not isinstance(node, dict | list) or id(node) in done:
            return
        if id(node) in active:
            raise InputError(_key(label, path), "contains itself (a recursive YAML alias)")
        active.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{shown(key)}" if path else shown(key))
        else:
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")
        active.discard(id(node))
        done.add(id(node))

    walk(doc, "")


def _check_keys(doc: dict, allowed: set[str], required: tuple[str, ...], where: str) -> None:
    for key in doc:
        if key not in allowed:
            raise InputError(f"{where}, key '{shown(key)}'",
                             f"unknown key (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in doc or doc[key] is None or doc[key] == "":
            raise InputError(f"{where}, key '{key}'", "is required but missing")


def _text(doc: dict, key: str, where: str) -> str:
    value = doc[key]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}, key '{key}'", "must be non-empty text")
    return value.strip()


def _optional_text(doc: dict, key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{where}, key '{key}'", f"'{shown(value)}' is not text (quote it)")
    return value


def _date(value: Any, where: str) -> date:
    """A date from YAML (a date, or ISO ``YYYY-MM-DD`` text), not before :data:`EARLIEST_DATE`."""
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        value = parse_iso_date(value) or value
    if not isinstance(value, date):
        raise InputError(where, f"'{shown(value)}' is not an ISO date (YYYY-MM-DD)")
    if value < EARLIEST_DATE:
        raise InputError(where, f"{value} is before {EARLIEST_DATE}, the earliest date the toolkit "
                                "accepts (its reference class starts in 1877)")
    return value


def _count(value: Any, where: str, name: str) -> float:
    """A non-negative, finite, plausible count (persons) of indicator ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(where, f"'{shown(value)}' is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(where, f"{shown(value)} is not a finite number")
    if value < 0:
        raise InputError(where, f"{shown(value)} is negative; counts must be >= 0")
    rule = implausible(name, value)
    if rule is not None:
        raise InputError(where, rule)
    return float(value)


def _key(label: str, path: str) -> str:
    return f"{label}, key '{path}'"


def _indicators(raw: Any, label: str, warnings: list[str]) -> tuple[Indicators, dict[str, str]]:
    if not isinstance(raw, dict):
        raise InputError(_key(label, "indicators"), "must be a mapping of indicator names to values")
    allowed = set(CATEGORIES) | set(RANGE_INDICATORS)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, spec in raw.items():
        path = f"indicators.{shown(name)}"
        here = _key(label, path)
        if name not in allowed:
            raise InputError(here, f"unknown indicator (known: {', '.join(sorted(allowed))})")
        if isinstance(spec, dict):
            keys = _CATEGORY_SPEC_KEYS if name in CATEGORIES else _RANGE_SPEC_KEYS
            extra = [k for k in spec if k not in keys]
            if extra:
                raise InputError(_key(label, f"{path}.{shown(extra[0])}"),
                                 f"unknown key (allowed: {', '.join(keys)})")
            source = _optional_text(spec, "source", here)
            _optional_text(spec, "note", here)
            if source:
                sources[name] = source
        else:
            spec = {"value": spec}
        if name in CATEGORIES:
            value = _level(spec.get("value"), name, here)
            if value is not None:
                values[name] = value
            continue
        if spec.get("value") is not None:
            if "low" in spec or "high" in spec:
                raise InputError(here, "give 'value' or 'low' and 'high', not both")
            v = _count(spec["value"], here, name)
            values[name] = Range(v, v)
            high_where = here
        elif "low" in spec or "high" in spec:
            if "low" not in spec or "high" not in spec:
                raise InputError(here, "a range needs both 'low' and 'high'")
            lo = _count(spec["low"], _key(label, f"{path}.low"), name)
            hi = _count(spec["high"], _key(label, f"{path}.high"), name)
            if lo > hi:
                raise InputError(_key(label, f"{path}.low"), f"low {lo:g} is greater than high {hi:g}")
            values[name] = Range(lo, hi)
            high_where = _key(label, f"{path}.high")
        else:
            continue
        r = values[name]
        if name == "defender_strength" and r.low == 0:
            raise InputError(_key(label, f"{path}.low") if not r.is_point else here,
                             "a holdout has at least one defender")
        note = unusual(name, r.high)
        if note is not None:
            warnings.append(f"{high_where}: {note}")
    return Indicators(**values), sources


def _level(value: Any, name: str, where: str) -> str | None:
    """A categorical indicator's level; None (unknown) stays None; a YAML boolean is refused."""
    levels = CATEGORIES[name]
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(where, f"{str(value).lower()} is a boolean, not a level of {name}; write one of "
                                f"{', '.join(levels)}")
    if not isinstance(value, str) or value not in levels:
        raise InputError(where, f"'{shown(value)}' is not one of {', '.join(levels)}")
    return value


def _statement(raw: Any, where: str, dates: _Dates) -> Statement:
    if not isinstance(raw, dict):
        raise InputError(where, "must be a mapping (id, quote, speaker, role, date, source)")
    _check_keys(raw, _STATEMENT_KEYS, _REQUIRED_STATEMENT, where)
    role = raw["role"]
    if not isinstance(role, str) or role not in ROLES:
        raise InputError(f"{where}, key 'role'", f"'{shown(role)}' is not one of {', '.join(ROLES)}")
    weight = raw.get("weight")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= MAX_BETA:
            raise InputError(f"{where}, key 'weight'",
                             f"'{shown(weight)}' is not a calibration in [0, {MAX_BETA:g}]")
        weight = float(weight)
    claims = raw.get("claims") or []
    if not isinstance(claims, list) or not all(isinstance(c, dict) for c in claims):
        raise InputError(f"{where}, key 'claims'", "must be a list of claim mappings")
    when = _date(raw["date"], f"{where}, key 'date'")
    _not_after_today(when, f"{where}, key 'date'", dates)
    return Statement(
        id=_text(raw, "id", where),
        quote=_text(raw, "quote", where),
        speaker=_text(raw, "speaker", where),
        role=role,
        date=when,
        source=_text(raw, "source", where),
        affiliation=_optional_text(raw, "affiliation", where),
        date_note=_optional_text(raw, "date_note", where),
        context=_optional_text(raw, "context", where),
        weight=weight,
        claims=tuple(claims),
        source_group=_optional_text(raw, "source_group", where),
    )


def _outcome(raw: Any, start: date, label: str, dates: _Dates) -> Outcome:
    where = _key(label, "outcome")
    if not isinstance(raw, dict):
        raise InputError(where, "must be a mapping (status, end_date, note, source)")
    _check_keys(raw, _OUTCOME_KEYS, ("status",), where)
    status = raw["status"]
    if not isinstance(status, str) or status not in OUTCOMES:
        raise InputError(_key(label, "outcome.status"),
                         f"'{shown(status)}' is not one of {', '.join(OUTCOMES)}")
    end = None
    end_where = _key(label, "outcome.end_date")
    if status != "ongoing":
        if raw.get("end_date") is None:
            raise InputError(end_where, f"is required for status '{status}'")
        end = _date(raw["end_date"], end_where)
        if end < start:
            raise InputError(end_where, f"{end} is before start_date {start}")
        _not_after_today(end, end_where, dates)
    elif raw.get("end_date") is not None:
        raise InputError(end_where, "must be empty for an 'ongoing' holdout")
    return Outcome(status=status, end_date=end, note=_optional_text(raw, "note", where),
                   source=_optional_text(raw, "source", where))
