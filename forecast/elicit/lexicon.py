"""Lexicons: verbal probability and time phrases, and default weights by speaker role.

Files live in ``data/lexicon/`` (see its README): ``probability.yaml`` (generated from CAPphrase by
:mod:`forecast.elicit.build_lexicon`), ``time.yaml`` and ``roles.yaml`` (hand-written, editable).
Matching is case-insensitive, any whitespace matches a space and ’ matches '.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from forecast.errors import InputError

#: PyYAML's safe loader, in C (libyaml) where the wheel has it: the same documents, several times faster
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LEXICON_DIR = Path(__file__).resolve().parents[2] / "data" / "lexicon"
_RELATIONS = ("<=", ">")


@dataclass(frozen=True)
class PhraseReading:
    """A probability phrase read from text: the measured Beta it stands for."""

    text: str
    phrase: str
    a: float
    b: float
    mean: float
    q05: float
    q95: float
    source: str
    note: str | None = None
    key: str = ""  # the lexicon entry matched (a measured phrase or an alias)


@dataclass(frozen=True)
class TimeReading:
    """A time wording read from text.

    ``kind`` is ``"vague"`` (a reference-class ``quantile``), ``"span"`` (days from the statement
    date) or ``"calendar"`` (a named period such as "before winter": a ``date`` counted from the
    statement date; ``date`` and the day fields are None when no statement date was given).
    """

    text: str
    kind: str
    quantile: float | None
    relation: str | None
    days_low: float | None
    days_high: float | None
    description: str
    days: float | None = None  # nominal value of a span, when it has one
    key: str = ""
    date: dt.date | None = None  # a calendar reading's date, given the statement date


def normalize_phrase(text: str) -> str:
    """Lowercase, ’ → ', whitespace collapsed: the form lexicon keys are written in."""
    return " ".join(str(text).replace("’", "'").replace("‘", "'").lower().split())


def key_pattern(key: str) -> str:
    """Regex source matching ``key`` in running text (any whitespace, either apostrophe)."""
    return r"\s+".join(re.escape(w).replace("'", "['’]") for w in key.split(" "))


class _Matcher:
    """All occurrences of a set of keys in text; longest first, non-overlapping."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(set(keys), key=lambda k: (-len(k), k))
        alts = "|".join(f"(?P<k{i}>{key_pattern(k)})" for i, k in enumerate(self.keys))
        self.regex = re.compile(rf"(?<!\w)(?=(?:{alts})(?!\w))", re.IGNORECASE) if alts else None

    def candidates(self, text: str) -> list[tuple[int, int, str]]:
        found = self.regex.finditer(text) if self.regex is not None else ()
        return [(m.start(n), m.end(n), self.keys[int(n[1:])]) for m in found if (n := m.lastgroup)]


def select(cands: list[tuple[int, int, Any]]) -> list[tuple[int, int, Any]]:
    """Longest match first, then leftmost; drop overlaps; return in text order."""
    taken: list[tuple[int, int, Any]] = []
    for c in sorted(cands, key=lambda c: (c[0] - c[1], c[0])):
        if all(c[1] <= t[0] or c[0] >= t[1] for t in taken):
            taken.append(c)
    return sorted(taken, key=lambda c: c[0])


def _err(path: Path, key: str, rule: str) -> InputError:
    return InputError(f"{path}, key '{key}'", rule)


def _number(path: Path, key: str, value: Any, lo: float = 0.0, hi: float = math.inf,
            strict: bool = False) -> float:
    """A finite number in [lo, hi] (in (lo, hi) if ``strict``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (lo < value < hi if strict else lo <= value <= hi):
        raise _err(path, key, f"must be a number in {'(' if strict else '['}{lo}, {hi}"
                   f"{')' if strict else ']'}")
    return float(value)


def _relation(path: Path, key: str, value: Any) -> None:
    if value not in _RELATIONS:
        raise _err(path, key, f"must be one of {_RELATIONS}")


def _text(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _err(path, key, "must be non-empty text")
    return value


def _mapping(path: Path, key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise _err(path, key, "must be a mapping")
    for k in value:
        if not isinstance(k, str) or not k.strip() or normalize_phrase(k) != k:
            raise _err(path, f"{key}.{k}", "keys must be lowercase text with single spaces")
    return value


def _read_yaml(path: Path) -> dict:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise InputError(str(path), "must be a YAML mapping")
    return raw


class ProbabilityLexicon:
    """Measured phrase distributions, aliases to them, and official yardsticks (as in
    ``probability.yaml``, validated by :func:`load_probability_lexicon`)."""

    def __init__(self, phrases: dict[str, dict], aliases: dict[str, dict],
                 yardsticks: list[dict], ignore: list[str] | None = None) -> None:
        self.phrases, self.aliases, self.yardsticks = phrases, aliases, yardsticks
        self.ignore = list(ignore or [])
        # scipy.special, not scipy.stats: the same inverse regularized incomplete beta, and the
        # command line starts about half a second faster
        from scipy.special import betaincinv

        self._dist = {}
        for name, e in phrases.items():
            a, b = float(e["a"]), float(e["b"])
            q05, q95 = (float(v) for v in betaincinv(a, b, [0.05, 0.95]))
            self._dist[name] = (a, b, a / (a + b), q05, q95)
        keys = [k for k, e in phrases.items() if e.get("in_free_text", True) is not False]
        self._ignore_set = {normalize_phrase(k) for k in self.ignore}
        self._matcher = _Matcher(keys + list(aliases) + list(self._ignore_set))

    def _reading(self, text: str, key: str) -> PhraseReading:
        alias = self.aliases.get(key, {})
        phrase, note = alias.get("phrase", key), alias.get("reason")
        mirror = bool(alias.get("complement", False))
        a, b, mean, q05, q95 = self._dist[phrase]
        if mirror:
            a, b, mean, q05, q95 = b, a, 1 - mean, 1 - q95, 1 - q05
            note = f"{note} (mirrored: Beta(b, a) of '{phrase}')"
        return PhraseReading(text=text, phrase=phrase, a=a, b=b, mean=mean, q05=q05, q95=q95,
                             source=str(self.phrases[phrase]["source"]), note=note, key=key)

    def lookup(self, phrase: str) -> PhraseReading:
        """The reading of one phrase or alias; unknown → :class:`InputError`."""
        key = normalize_phrase(phrase)
        if key not in self.phrases and key not in self.aliases:
            known = ", ".join(sorted(self.phrases)[:6])
            raise InputError(f"probability phrase '{phrase}'", f"unknown phrase (known: {known}, "
                             f"... and {len(self.aliases)} aliases)")
        return self._reading(str(phrase).strip(), key)

    def find(self, text: str) -> list[PhraseReading]:
        """Every phrase or alias in ``text``: longest match first, non-overlapping, text order."""
        return [r for _, _, r in self.find_spans(text)]

    def find_spans(self, text: str) -> list[tuple[int, int, PhraseReading]]:
        """As :meth:`find`, with each reading's (start, end) in ``text``."""
        return [(s, e, self._reading(text[s:e], k))
                for s, e, k in select(self._matcher.candidates(text)) if k not in self._ignore_set]


class TimeLexicon:
    """Vague time words (reference-class quantiles) and spans in days; see ``time.yaml``."""

    def __init__(self, vague: dict[str, dict], spans: dict[str, dict], units: dict[str, float],
                 numbers: dict[str, float], prefixes: dict[str, str],
                 ignore: list[str] | None = None, calendar: dict[str, dict] | None = None,
                 calendar_prefixes: dict[str, dict] | None = None) -> None:
        self.vague, self.spans, self.units = vague, spans, units
        self.numbers, self.prefixes = numbers, prefixes
        self.calendar, self.calendar_prefixes = dict(calendar or {}), dict(calendar_prefixes or {})
        self.ignore = list(ignore or [])
        self._ignore_set = {normalize_phrase(k) for k in self.ignore}
        self._matcher = _Matcher(list(vague) + list(spans) + list(self._ignore_set))
        self._general = _GeneralSpan(units, numbers, prefixes)
        self._calendar = _Calendar(self.calendar, self.calendar_prefixes)

    def _entry(self, text: str, key: str) -> TimeReading:
        if key in self.vague:
            e = self.vague[key]
            return TimeReading(text=text, kind="vague", quantile=float(e["quantile"]),
                               relation=e["relation"], days_low=None, days_high=None,
                               description=e["description"], key=key)
        e = self.spans[key]
        days = {k: None if e.get(k) is None else float(e[k]) for k in ("days_low", "days_high",
                                                                       "days")}
        return TimeReading(text=text, kind="span", quantile=None, relation=e.get("relation"),
                           description=e["description"], key=key, **days)

    def read(self, phrase: str, on: dt.date | None = None) -> TimeReading | None:
        """The reading of one whole time phrase, or None when it is not one.

        Parameters
        ----------
        phrase : str
            A listed word or span, a number with a unit ("within 72 hours") or a named period
            ("before winter").
        on : datetime.date, optional
            The statement date; a named period is dated from it (without it, the reading of a
            named period has no date and no days).

        Returns
        -------
        TimeReading or None
        """
        key = normalize_phrase(phrase)
        text = str(phrase).strip()
        if key in self.vague or key in self.spans:
            return self._entry(text, key)
        span = self._general.fullmatch(key)
        if span is not None:
            return TimeReading(text=text, kind="span", quantile=None, key=key, **span)
        cal = self._calendar.fullmatch(key, on)
        if cal is not None:
            return TimeReading(text=text, kind="calendar", quantile=None, key=key, **cal)
        return None

    def lookup(self, phrase: str, on: dt.date | None = None) -> TimeReading:
        """The reading of one time phrase (listed, general pattern or named period).

        An unknown phrase, or a named period ("before winter") without the statement date ``on``
        to count it from, raises :class:`InputError`.
        """
        r = self.read(phrase, on)
        if r is None:
            known = ", ".join(sorted(self.vague)[:4] + sorted(self.spans)[:4])
            raise InputError(f"time phrase '{phrase}'", f"unknown time phrase (known: {known}, "
                             "... or '<number> <hour|day|week|month|year>s', e.g. 'within 3 weeks',"
                             " or a named period, e.g. 'before winter')")
        if r.kind == "calendar" and r.date is None:
            raise InputError(f"time phrase '{phrase}'",
                             f"is a date counted from the statement date ({r.description}); "
                             "without that date write it as {date: YYYY-MM-DD}")
        return r

    def find(self, text: str, on: dt.date | None = None) -> list[TimeReading]:
        """Every time wording in ``text``: longest first, non-overlapping, in text order.

        Named periods are dated from the statement date ``on`` (undated without it).
        """
        return [r for _, _, r in self.find_spans(text, on)]

    def find_spans(self, text: str,
                   on: dt.date | None = None) -> list[tuple[int, int, TimeReading]]:
        """As :meth:`find`, with each reading's (start, end) in ``text``."""
        cands: list[tuple[int, int, Any]] = [
            (s, e, ("key", k)) for s, e, k in self._matcher.candidates(text)]
        cands += [(s, e, ("general", sp)) for s, e, sp in self._general.finditer(text)]
        cands += [(s, e, ("calendar", sp)) for s, e, sp in self._calendar.finditer(text, on)]
        out = []
        for s, e, (kind, val) in select(cands):
            if kind in ("general", "calendar") and val is not None:
                out.append((s, e, TimeReading(
                    text=text[s:e], kind="span" if kind == "general" else "calendar",
                    quantile=None, key=normalize_phrase(text[s:e]), **val)))
            elif kind == "key" and val not in self._ignore_set:
                out.append((s, e, self._entry(text[s:e], val)))
        return out


class _GeneralSpan:
    """The pattern '[prefix] <number>[ to <number>] <unit>[s][ or <number>]', e.g. 'within 3
    weeks', 'within 72 hours', 'a day or two'."""

    _PAST_BEFORE = re.compile(r"(?:past|last|recent|previous|earlier)\s+$", re.IGNORECASE)
    _PAST_AFTER = re.compile(r"\s+(?:ago|earlier|before)(?!\w)", re.IGNORECASE)

    def __init__(self, units: dict[str, float], numbers: dict[str, float],
                 prefixes: dict[str, str]) -> None:
        self.units, self.numbers, self.prefixes = units, numbers, prefixes

        def alts(keys: Any) -> str:
            return "|".join(key_pattern(k) for k in sorted(keys, key=lambda k: (-len(k), k)))

        num = r"\d+(?:\.\d+)?" + (f"|{alts(numbers)}" if numbers else "")
        pre = rf"(?:(?P<pre>{alts(prefixes)})\s+)?" if prefixes else ""
        unit = alts(units)
        self.regex = re.compile(
            rf"(?<!\w){pre}(?:the\s+(?:next|coming)\s+)?(?P<n1>{num})"
            rf"(?:\s*(?:-|–|to|or)\s*(?P<n2>{num}))?[\s-]+(?P<unit>{unit})s?(?!\w)",
            re.IGNORECASE)
        # "a day or two": a larger bare number after the unit (not "3 weeks or a couple of ...")
        self._or = re.compile(rf"\s+or\s+(?P<n3>{num})(?![\w'’-])(?![\s-]*(?:{unit})s?\b)",
                              re.IGNORECASE)

    def _value(self, token: str) -> float:
        key = normalize_phrase(token)
        return self.numbers[key] if key in self.numbers else float(token)

    def _or_end(self, m: re.Match, text: str) -> int:
        """Where the match ends, taking in a trailing "or <larger number>" ("a day or two")."""
        o = self._or.match(text, m.end())
        if o is None or m["n2"]:
            return m.end()
        try:
            larger = self._value(o["n3"]) > self._value(m["n1"])
        except (KeyError, ValueError):
            return m.end()
        return o.end() if larger else m.end()

    def _span(self, m: re.Match, end: int | None = None) -> dict | None:
        end = m.end() if end is None else end
        n3 = self._or.match(m.string, m.end(), end) if end > m.end() else None
        try:
            unit = self.units[normalize_phrase(m["unit"])]
            lo = round(self._value(m["n1"]) * unit, 9)
            second = m["n2"] or (n3["n3"] if n3 else None)
            hi = round(self._value(second) * unit, 9) if second else lo
        except (KeyError, ValueError, OverflowError):
            return None
        if not (math.isfinite(hi) and 0 < lo <= hi <= 1e6):
            return None
        rel = self.prefixes.get(normalize_phrase(m["pre"])) if m["pre"] else None
        point = lo == hi
        span = {"relation": rel, "days": lo if point else None, "days_low": lo, "days_high": hi}
        what = f"{lo:g} days" if point else f"{lo:g}-{hi:g} days"
        if rel == "<=":
            span["days_low"] = None if point else lo
            what = f"within {what}"
        elif rel == ">":
            span["days_high"] = None if point else hi
            what = f"more than {what}"
        said = normalize_phrase(m.string[m.start("n1"):end])
        span["description"] = f"{what} ('{said}', read by the general number-unit pattern)"
        return span

    def fullmatch(self, key: str) -> dict | None:
        m = self.regex.fullmatch(key)
        if m is not None:
            return self._span(m)
        m = self.regex.match(key)
        if m is not None and self._or_end(m, key) == len(key):
            return self._span(m, len(key))
        return None

    def finditer(self, text: str) -> list[tuple[int, int, dict | None]]:
        """Matches with their span; None for a match not to read (looks back, or absurd)."""
        out = []
        for m in self.regex.finditer(text):
            end = self._or_end(m, text)
            past = self._PAST_BEFORE.search(text, max(0, m.start() - 40), m.start())
            past = past or self._PAST_AFTER.match(text, end)
            out.append((m.start(), end, None if past else self._span(m, end)))
        return out


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def month_day(text: str) -> tuple[int, int]:
    """``"MM-DD"`` as (month, day); ValueError unless a day of every year (29 February is not)."""
    m = re.fullmatch(r"(\d{2})-(\d{2})", str(text))
    if m is None:
        raise ValueError(text)
    month, day = int(m[1]), int(m[2])
    dt.date(2001, month, day)  # raises ValueError for 02-29, 04-31, 13-01, ...
    return month, day


def next_date(md: tuple[int, int], after: dt.date) -> dt.date:
    """The first date strictly after ``after`` falling on month-day ``md``."""
    this_year = dt.date(after.year, *md)
    return this_year if this_year > after else dt.date(after.year + 1, *md)


def _md_text(md: tuple[int, int]) -> str:
    return f"{md[1]} {_MONTHS[md[0] - 1]}"


class _Calendar:
    """Named periods ("winter", "the year", "october") after a prefix ("before", "by the end of"),
    read as dates counted from the statement date (see ``calendar`` in ``time.yaml``)."""

    _PLAIN = ("before", "by", "ahead of", "until", "till", "into", "through", "beyond", "after")
    _MOD = r"(?P<mod>(?:the\s+)?(?:next|coming)\s+|this\s+|the\s+)?"

    def __init__(self, periods: dict[str, dict], prefixes: dict[str, dict]) -> None:
        self.periods = {k: (month_day(e["start"]), month_day(e["end"]) if e.get("end") else None,
                            str(e["description"])) for k, e in periods.items()}
        self.prefixes = prefixes

        def alts(keys: Any) -> str:
            return "|".join(key_pattern(k) for k in sorted(keys, key=lambda k: (-len(k), k)))

        self.regex = (re.compile(rf"(?<![\w'’-])(?P<pre>{alts(prefixes)})\s+{self._MOD}"
                                 rf"(?P<name>{alts(periods)})(?![\w'’-])", re.IGNORECASE)
                      if periods and prefixes else None)

    def _span(self, m: re.Match, on: dt.date | None) -> dict | None:
        name, pre = normalize_phrase(m["name"]), normalize_phrase(m["pre"])
        start, end, what = self.periods[name]
        rule = self.prefixes[pre]
        at, rel = rule["at"], rule.get("relation")
        md = start if at == "start" else end
        if md is None:  # "the end of" a period listed without an end
            return None
        nxt = bool(m["mod"]) and "next" in m["mod"].lower()
        word = pre if pre in self._PLAIN else {"<=": "by", ">": "beyond"}.get(rel, "until")
        label = f"the next '{name}'" if nxt and at == "end" else f"'{name}'"
        which = (f"the start of {label}" if at == "start" else
                 f"the end of {label}, the first day after it")
        span: dict = {"relation": rel, "days_low": None, "days_high": None, "days": None,
                      "date": None}
        if on is None:
            span["description"] = (f"{word} the next {_md_text(md)} after the statement date "
                                   f"({which}: {what})")
            return span
        if at == "end" and nxt:
            when = next_date(md, next_date(start, on))
        else:
            when = next_date(md, on)
        note = ""
        if end is not None and at == "start":
            last_start = dt.date(on.year, *start)
            last_start = last_start if last_start <= on else dt.date(on.year - 1, *start)
            if on < next_date(end, last_start) and start != end:
                note = f"; the statement date is inside {name}, so the next one is meant"
        days = float((when - on).days)
        span |= {"days": days, "days_high": days, "date": when,
                 "description": (f"{word} {when.isoformat()} ({which}: {what}), {days:g} days "
                                 f"after the statement date {on.isoformat()}{note}")}
        return span

    def fullmatch(self, key: str, on: dt.date | None) -> dict | None:
        m = self.regex.fullmatch(key) if self.regex is not None else None
        return self._span(m, on) if m else None

    def finditer(self, text: str, on: dt.date | None) -> list[tuple[int, int, dict | None]]:
        """Matches with their reading; None for one that cannot be dated (no end listed)."""
        found = self.regex.finditer(text) if self.regex is not None else ()
        return [(m.start(), m.end(), self._span(m, on)) for m in found]


def _path(path: str | Path | None, name: str) -> str:
    return str(Path(path).resolve() if path is not None else LEXICON_DIR / name)


def load_probability_lexicon(path: str | Path | None = None) -> ProbabilityLexicon:
    """Load ``probability.yaml`` (default: the shipped one); malformed → InputError."""
    return _load_probability(_path(path, "probability.yaml"))


def load_time_lexicon(path: str | Path | None = None) -> TimeLexicon:
    """Load ``time.yaml`` (default: the shipped one); malformed → InputError."""
    return _load_time(_path(path, "time.yaml"))


def load_role_weights(path: str | Path | None = None) -> dict[str, float]:
    """Each speaker role's fitted calibration beta (posterior mean) from ``calibration.yaml``
    (written by ``forecast experts --fit``); malformed → InputError."""
    return {role: b.mean for role, b in load_calibration(path).roles.items()}


def load_calibration(path: str | Path | None = None):
    """The fitted speaker calibration (:func:`forecast.elicit.calibration.load_calibration`)."""
    from forecast.elicit.calibration import load_calibration as load

    return load(_path(path, "calibration.yaml"))


@functools.lru_cache(maxsize=16)
def _load_probability(path_s: str) -> ProbabilityLexicon:
    path = Path(path_s)
    raw = _read_yaml(path)
    _known(path, raw, ("phrases", "aliases", "yardsticks", "ignore"))
    phrases = _mapping(path, "phrases", raw.get("phrases"))
    if not phrases:
        raise _err(path, "phrases", "must list at least one phrase")
    for name, e in phrases.items():
        where = f"phrases.{name}"
        _mapping(path, where, e)
        for k in ("a", "b"):
            _number(path, f"{where}.{k}", e.get(k), strict=True)
        _text(path, f"{where}.source", e.get("source"))
        _bool(path, f"{where}.in_free_text", e.get("in_free_text", True))
    aliases = _mapping(path, "aliases", raw.get("aliases") or {})
    for name, e in aliases.items():
        where = f"aliases.{name}"
        _mapping(path, where, e)
        if name in phrases:
            raise _err(path, where, "is also a measured phrase")
        if e.get("phrase") not in phrases:
            raise _err(path, f"{where}.phrase", "must name a measured phrase under 'phrases'")
        _text(path, f"{where}.reason", e.get("reason"))
        _bool(path, f"{where}.complement", e.get("complement", False))
    yardsticks = raw.get("yardsticks") or []
    if not isinstance(yardsticks, list):
        raise _err(path, "yardsticks", "must be a list")
    for i, y in enumerate(yardsticks):
        where = f"yardsticks[{i}]"
        if not isinstance(y, dict):
            raise _err(path, where, "must be a mapping with term, low, high, source")
        _text(path, f"{where}.term", y.get("term"))
        if _number(path, f"{where}.high", y.get("high"), 0, 1) < _number(
                path, f"{where}.low", y.get("low"), 0, 1):
            raise _err(path, f"{where}.high", "must not be below low")
        _text(path, f"{where}.source", y.get("source"))
    return ProbabilityLexicon(phrases, aliases, yardsticks, _strings(path, raw.get("ignore")))


def _known(path: Path, raw: dict, allowed: tuple[str, ...]) -> None:
    for k in raw:
        if k not in allowed:
            raise _err(path, str(k), f"unknown key (expected {', '.join(allowed)})")


def _bool(path: Path, key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise _err(path, key, "must be true or false")


def _strings(path: Path, value: Any) -> list[str]:
    if not isinstance(value or [], list) or not all(isinstance(v, str) and v for v in value or []):
        raise _err(path, "ignore", "must be a list of non-empty text")
    return list(value or [])


_VAGUE_KEYS = {"quantile", "relation", "description"}
_SPAN_KEYS = {"days_low", "days_high", "days", "relation", "description"}


@functools.lru_cache(maxsize=16)
def _load_time(path_s: str) -> TimeLexicon:
    path = Path(path_s)
    raw = _read_yaml(path)
    _known(path, raw, ("units", "numbers", "prefixes", "vague", "spans", "ignore", "calendar",
                       "calendar_prefixes"))
    units = {k: _unit(path, f"units.{k}", v)
             for k, v in _mapping(path, "units", raw.get("units")).items()}
    numbers = {k: _number(path, f"numbers.{k}", v, strict=True)
               for k, v in _mapping(path, "numbers", raw.get("numbers") or {}).items()}
    prefixes = _mapping(path, "prefixes", raw.get("prefixes") or {})
    for k, v in prefixes.items():
        _relation(path, f"prefixes.{k}", v)
    vague = _mapping(path, "vague", raw.get("vague") or {})
    for k, e in vague.items():
        where = f"vague.{k}"
        if not isinstance(e, dict) or set(e) != _VAGUE_KEYS:
            raise _err(path, where, f"must be a mapping with exactly {sorted(_VAGUE_KEYS)}")
        _number(path, f"{where}.quantile", e["quantile"], 0, 1, strict=True)
        _relation(path, f"{where}.relation", e["relation"])
        _text(path, f"{where}.description", e["description"])
    spans = _mapping(path, "spans", raw.get("spans") or {})
    for k, e in spans.items():
        where = f"spans.{k}"
        if k in vague:
            raise _err(path, where, "is also a vague entry")
        if not isinstance(e, dict) or set(e) - _SPAN_KEYS or "description" not in e:
            raise _err(path, where, f"must be a mapping of {sorted(_SPAN_KEYS)} with a description")
        vals = {d: _number(path, f"{where}.{d}", e[d])
                for d in ("days_low", "days_high", "days") if e.get(d) is not None}
        if not vals:
            raise _err(path, where, "needs days_low, days_high or days")
        if vals.get("days_low", 0) > vals.get("days_high", math.inf):
            raise _err(path, f"{where}.days_high", "must not be below days_low")
        if e.get("relation") is not None:
            _relation(path, f"{where}.relation", e["relation"])
        _text(path, f"{where}.description", e["description"])
    calendar = _mapping(path, "calendar", raw.get("calendar") or {})
    for k, e in calendar.items():
        where = f"calendar.{k}"
        if not isinstance(e, dict) or set(e) - {"start", "end", "description"} or not {
                "start", "description"} <= set(e):
            raise _err(path, where, "must be a mapping of start (MM-DD), end (MM-DD, optional) "
                       "and description")
        for d in ("start", "end"):
            if d in e:
                try:
                    month_day(e[d])
                except ValueError:
                    raise _err(path, f"{where}.{d}", "must be a day of every year as \"MM-DD\" "
                               "(quoted; 29 February is not allowed)") from None
        _text(path, f"{where}.description", e["description"])
    cal_prefixes = _mapping(path, "calendar_prefixes", raw.get("calendar_prefixes") or {})
    for k, e in cal_prefixes.items():
        where = f"calendar_prefixes.{k}"
        if not isinstance(e, dict) or set(e) - {"at", "relation"} or e.get("at") not in (
                "start", "end"):
            raise _err(path, where, "must be a mapping {at: start | end, relation: '<=' | '>' | "
                       "null}")
        if e.get("relation") is not None:
            _relation(path, f"{where}.relation", e["relation"])
    return TimeLexicon(vague, spans, units, numbers, prefixes, _strings(path, raw.get("ignore")),
                       calendar=calendar, calendar_prefixes=cal_prefixes)


def _unit(path: Path, key: str, value: Any) -> float:
    """Days per unit: a positive number, or a fraction written as text ("1/24")."""
    if isinstance(value, str):
        try:
            frac = Fraction(value.replace(" ", ""))
        except (ValueError, ZeroDivisionError):
            raise _err(path, key, "must be a positive number or a fraction such as \"1/24\"") \
                from None
        if frac <= 0:
            raise _err(path, key, "must be a positive number or a fraction such as \"1/24\"")
        return float(frac)
    return _number(path, key, value, strict=True)


