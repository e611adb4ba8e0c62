"""Free-text assistant: propose machine-readable claims from a quote, and show how it read it.

Rule-based, no learning: sentences are split; each clause is read for probability phrases (the
probability lexicon, after rewriting litotes such as "I don't think it's out of the question" to
"not out of the question"), time words (the time lexicon), conditionals ("if X, Y"; "if they do"
reuses the previous event) and verbs saying the holdout falls ("win", "take", "fall", ...) or holds
("resist", "hold", "last", ...). Times are durations ("within 72 hours", "a couple of months"),
vague words read against the reference class ("quickly") or named periods dated from the statement
date ("before winter"). What it cannot read it says so, instead of guessing: a clause with no
reading, and inside a read clause any time wording, second time or second probability phrase that
did not go into the claim, are listed under ``unread``. A proposal is shown to the analyst and never
becomes evidence by itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import yaml

from forecast.elicit.lexicon import (
    PhraseReading,
    ProbabilityLexicon,
    TimeLexicon,
    TimeReading,
    load_probability_lexicon,
    load_role_weights,
    load_time_lexicon,
    normalize_phrase,
)


class Lexicons(NamedTuple):
    """The lexicons the assistant reads with (a plain tuple of them is accepted too)."""

    probability: ProbabilityLexicon
    time: TimeLexicon
    roles: dict[str, float] = {}


@dataclass(frozen=True)
class Proposal:
    """Proposed claims (case-file YAML form), how each part was read, and what was not read."""

    claims: list[dict]
    readings: list[str]
    unread: list[str]


def default_lexicons() -> Lexicons:
    """The shipped lexicons from ``data/lexicon/``."""
    return Lexicons(load_probability_lexicon(), load_time_lexicon(), load_role_weights())


_I = re.IGNORECASE
_APOS = "['’]"
_END = re.compile(r"[.!?]+[\"”’')\]]*(?=\s+[\"“‘'(\[]*[A-Z0-9]|\s*$)")
_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Col|Lt|Sgt|Maj|Capt|St|Sen|Gov|Pres|vs|etc|"
                     r"approx|No|e\.g|i\.e)|\b[A-Z])$")
_LEAD = re.compile(r"^(?:[\s\"“‘'(]*(?:but|and|so|yet|however|still|now|also|indeed)\b,?)+\s*", _I)
_IF_FRONT = re.compile(r"^(?:if|once|in\s+case)\s+(?P<cond>[^,]+?)(?:\s*,\s*(?:then\s+)?|\s+then\s+)"
                       r"(?P<main>.+)$", _I | re.S)
_IF_BACK = re.compile(r"^(?P<main>.+?)(?<!\bknow)(?<!\bsee)(?<!\bask)(?<!\bwonder)(?<!\bsure)"
                      r"(?<!\bclear)(?<!\btell)(?<!\bas)(?<!\beven)(?<!\bonly)(?:\s*,\s*|\s+)"
                      r"(?:if|once)\s+(?P<cond>.+)$", _I | re.S)
_ANAPHOR = re.compile(r"^(?:so|(?:they|he|she|it|this|that|the\s+\w+(?:\s+\w+)?)\s+(?:do|does|did|"
                      r"will|would|happens?|happened|is\s+the\s+case|goes?\s+ahead|"
                      r"comes?\s+to\s+(?:that|this|it)))[\s.!?\"”]*$", _I)
_NEG_THINK = (rf"(?:\b(?:i|we)\s+)?\b(?:don{_APOS}t|do\s+not|doesn{_APOS}t|does\s+not|"
              rf"didn{_APOS}t|did\s+not)\s+(?:think|believe|consider)\s+(?:that\s+)?")
_IT_IS = rf"(?:it{_APOS}s|it\s+is|it\s+was|that{_APOS}s|that\s+is|this\s+is)\s+"
_ADV = r"(?:(?:entirely|completely|totally|altogether)\s+)?"
_NEGATIVES = {"out of the question": "not out of the question", "impossible": "not impossible",
              "unthinkable": "not unthinkable", "excluded": "can't be ruled out"}
_NEG_ALT = "|".join(k.replace(" ", r"\s+") for k in _NEGATIVES)
#: Litotes: a denied negative, rewritten to the lexicon key it stands for.
_LITOTES = [
    re.compile(rf"{_NEG_THINK}{_IT_IS}{_ADV}(?P<neg>{_NEG_ALT})\b", _I),
    re.compile(rf"\b(?:isn{_APOS}t|is\s+not|wasn{_APOS}t|was\s+not|not)\s+{_ADV}(?P<neg>{_NEG_ALT})\b",
               _I),
    re.compile(rf"{_NEG_THINK}(?:it|that|this)\s+can\s+be\s+(?P<neg>ruled\s+out)\b", _I),
]
_FALL = re.compile(r"(?<![\w'’])(?:win|wins|won|winning|take|takes|taken|took|taking|fall|falls|fell|fallen|"
                   r"falling|captur(?:e|es|ed|ing)|overr[ua]n(?:s|ning)?|defeat(?:s|ed|ing)?|"
                   r"conquer(?:s|ed|ing)?|seiz(?:e|es|ed|ing)|crush(?:es|ed|ing)?|"
                   r"surrender(?:s|ed|ing)?|collaps(?:e|es|ed|ing)|capitulat(?:e|es|ed|ing)|"
                   r"overwhelm(?:s|ed|ing)?|storm(?:s|ed|ing)?)(?![\w'’])", _I)
_HOLD = re.compile(r"\b(?:resist(?:s|ed|ing)?|hold(?:s|ing)?|held|survive[sd]?|surviving|"
                   r"withstand(?:s|ing)?|withstood|endure[sd]?|enduring|hang\s+on|holds?\s+out|"
                   r"lasts|lasted|lasting)\b|"
                   rf"(?:\b(?:will|would|could|can|might|may|should|to|not|never)|n{_APOS}t)\s+"
                   r"(?:\w+\s+)?last\b", _I)
_GT_BEFORE = re.compile(r"\b(?:(?:more|longer|later)\s+than|beyond|past|after|over|at\s+least)\s*$",
                        _I)
_LE_BEFORE = re.compile(r"\b(?:within|by|before|inside|under|(?:less|fewer|no\s+more|not\s+more)\s+"
                        r"than|at\s+most)\s*$", _I)
_WEAK = {"will", "going to"}
_NO_PROB = ("the condition of the next claim; the speaker gave it no probability - add "
            "probability: {phrase: ...} or {value: p} before use")
_FRAME = re.compile(r"think|believe|expect|doubt|ruled? out|question|impossible|unthinkable|"
                    r"possib", _I)
_STOP = set("the a an will would shall can could may might must should it its they them their "
            "he him his she her we us our i you your that this these those to of in on at by for "
            "with against from into and or but be is are was were been being do does did not no "
            "there here if then so also as than have has had".split())
_QUOTES = "\"'“”‘’()[] \t\n,;:.!?"
#: Words that say something about time; one not inside a time reading is reported as not read.
_TIME_NOUNS = ("minute", "mins", "hour", "hr", "hrs", "day", "night", "weekend",
               "week", "wk", "wks", "fortnight", "month", "year", "yr", "yrs", "decade",
               "centuries", "century", "tomorrow", "tonight", "yesterday", "winter", "spring",
               "summer", "autumn", "christmas", "new year", "monday", "tuesday", "wednesday",
               "thursday", "friday", "saturday", "sunday", "january", "february", "april", "june",
               "july", "august", "september", "october", "november", "december")
_TIME_LEAD = (r"(?:(?:within|in|inside|by|before|after|until|till|for|over|during|through|"
              r"throughout|next|last|past|this|the|a|an|of|end|start|beginning|early|late|mid|"
              r"coming|few|several|couple|many|some|more|less|than|under|at|least|most)\s+)*")
_NUMBER_WORDS = ("thirteen fourteen fifteen sixteen seventeen nineteen forty fifty sixty seventy "
                 "eighty ninety hundred dozen few several couple many some").split()
#: "May" and "March" (also a verb) count as months only after one of these words or before a
#: day number ("in May", "by March 3").
_MAY_MARCH = re.compile(r"(?<![\w'’-])(?:(?P<pre>[A-Za-z]+)[\s-]+)?(?P<month>May|March)"
                        r"(?P<day>\s+\d{1,2}(?!\d))?(?![\w'’-])")
_MONTH_PRE = {"in", "by", "of", "until", "till", "before", "after", "since", "early", "late", "mid",
              "from", "during", "next", "last", "this", "through", "into", "end", "start"}


def _q(text: str) -> str:
    return "'" + " ".join(text.split()) + "'"


def phrase_key(text: str) -> str:
    """The lexicon key a phrase is read as: as in quotes, without surrounding quotes and
    punctuation, lowercase, ’ as ', whitespace collapsed, and a whole litotes rewritten to the key
    it stands for ("I don't think it's out of the question" -> "not out of the question").

    Parameters
    ----------
    text : str
        A phrase, e.g. from the command line.

    Returns
    -------
    str
    """
    key = normalize_phrase(str(text).strip(_QUOTES))
    for rx in _LITOTES:
        m = rx.fullmatch(key)
        if m:
            return _NEGATIVES.get(normalize_phrase(m["neg"]), "can't be ruled out")
    return key


def _as_date(value: Any) -> dt.date | None:
    """A statement date from a date, datetime or ISO text; None otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _alts(words: Any) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+")
                    for w in sorted(set(words), key=lambda w: (-len(w), w)))


@functools.lru_cache(maxsize=8)
def _time_words(tlex: TimeLexicon) -> re.Pattern:
    """Time wordings ("within 72 hrs", "last week", "in the spring"), whether read or not."""
    nouns = {*_TIME_NOUNS, *tlex.units, *tlex.calendar} - {"may", "march"}
    num = rf"(?:(?:\d+(?:\.\d+)?|{_alts([*tlex.numbers, *_NUMBER_WORDS])})(?:[\s-]+of)?[\s-]+)?"
    return re.compile(rf"(?<![\w'’-]){_TIME_LEAD}{num}(?:{_alts(nouns)})(?:s|'s|’s)?"
                      r"(?![\w'’-])(?:\s+ago\b)?", re.IGNORECASE)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (paragraph breaks and . ! ? before a capital or the end)."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        start = 0
        for m in _END.finditer(para):
            if m.group().startswith(".") and _ABBREV.search(para, max(start, m.start() - 8),
                                                            m.start()):
                continue
            out.append(para[start:m.end()].strip())
            start = m.end()
        out.append(para[start:].strip())
    return [s for s in out if any(c.isalnum() for c in s)]


def _clauses(sentence: str) -> list[str]:
    parts = re.split(r";|,\s+but\s+", sentence)
    return [p.strip() for p in parts if any(c.isalnum() for c in p)]


def _snake(text: str, taken: set[str]) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP]
    base = "_".join(words[:4])[:40].strip("_") or "event"
    if not base[0].isalpha():
        base = f"e_{base}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _gloss(mean: float) -> str:
    for hi, words in ((0.07, "all but rules it out"), (0.2, "gives it a small chance"),
                      (0.45, "gives it a real but minority chance"), (0.55, "gives it even odds"),
                      (0.8, "thinks it more likely than not"), (0.93, "thinks it very likely")):
        if mean < hi:
            return f"the speaker {words}"
    return "the speaker is near certain of it"


def _phrase_line(r: PhraseReading, shown: str | None = None) -> str:
    short = r.source.split(" (")[0]
    lead = f"{_q(r.text)} -> litotes, read as '{r.key}'" if shown else _q(r.text)
    line = (f"{lead} -> '{r.phrase}' ({short}, Beta({r.a:.1f}, {r.b:.1f}), mean {r.mean:.2f}, "
            f"90% {r.q05:.2f}-{r.q95:.2f}): {_gloss(r.mean)}")
    return f"{line} [alias '{r.key}': {r.note}]" if r.note else line


def _time_line(t: TimeReading) -> str:
    if t.kind == "vague":
        return (f"{_q(t.text)} -> vague time, read against the reference class: {t.description} "
                f"(T {t.relation} its {t.quantile:g} quantile)")
    if t.kind == "calendar":
        return f"{_q(t.text)} -> date: {t.description}"
    return f"{_q(t.text)} -> time span: {t.description}"


_LOOKS_BACK = re.compile(r"^(?:last|past|previous|recent)\b|\bago$", re.IGNORECASE)


def _why_time(words: str) -> str:
    if _LOOKS_BACK.search(words):
        return "it looks back, so it is not a time the claim is about"
    return "a time wording the time lexicon does not read"


def _by(t: TimeReading, comparator: str | None) -> dict:
    if t.kind == "calendar" and t.date is not None:
        return {"date": t.date.isoformat()}
    lo, hi = t.days_low, t.days_high
    if lo is not None and hi is not None:  # a span keeps its range, with a comparator too
        by: dict = {"days": lo} if lo == hi else {"days_low": lo, "days_high": hi}
    elif t.days is not None:
        by = {"days": t.days}
    else:
        by = {"days": hi if hi is not None else lo}
    return {k: int(v) if float(v).is_integer() else v for k, v in by.items()}


class _Reader:
    def __init__(self, lex: Lexicons, on: dt.date | None = None, date_given: Any = None) -> None:
        self.lex = lex
        self.on = on
        self.date_given = date_given
        self.claims: list[dict] = []
        self.readings: list[str] = []
        self.unread: list[str] = []
        self.ids: set[str] = set()
        self.last_event: str | None = None
        self.time_words = _time_words(lex.time)

    def unread_times(self, text: str, read: list[tuple[int, int]]) -> list[str]:
        """Time wordings in ``text`` that overlap none of the ``read`` (start, end) spans."""
        found = [(m.start(), m.end()) for m in self.time_words.finditer(text)]
        for m in _MAY_MARCH.finditer(text):
            if m["day"] or (m["pre"] or "").lower() in _MONTH_PRE:
                found.append((m.start("pre") if m["pre"] else m.start("month"), m.end()))
        out: list[tuple[int, int]] = []
        for s, e in sorted(found):
            if any(a < e and s < b for a, b in read) or (out and s < out[-1][1]):
                continue
            out.append((s, e))
        return [" ".join(text[s:e].split()) for s, e in out]

    def sentence(self, sentence: str) -> None:
        for clause in _clauses(sentence):
            self.clause(clause)

    def clause(self, clause: str) -> None:
        body = _LEAD.sub("", clause).strip()
        cond = None
        m = _IF_FRONT.match(body) or _IF_BACK.match(body)
        if m and any(c.isalnum() for c in m["main"]) and any(c.isalnum() for c in m["cond"]):
            cond, body = m["cond"].strip(_QUOTES), m["main"].strip()
        lines: list[str] = []
        notes: list[str] = []
        claim = self.main(body, lines, notes)
        if claim is None:
            self.unread.append(f"could not read: {_q(clause)}" + (f" ({lines[0]})" if lines
                                                                   else ""))
            return
        if cond is not None:
            given = self.condition(cond)
            if given is None:
                self.unread.append(f"could not read: {_q(clause)} (the condition 'if {cond}' "
                                   "refers back, but no event claim precedes it)")
                return
            claim["given"] = given
            notes += [f"{_q(w)} in the condition 'if {cond}' (kept as words of the event, not "
                      "read as a time)" for w in self.unread_times(cond, [])]
        self.readings.extend(lines)
        self.claims.append(claim)
        self.unread.extend(f"not read: {n}" for n in notes)
        tail = f", given {claim['given']}" if "given" in claim else ""
        what = claim.get("id") or f"by {claim['by']}"
        self.readings.append(f"-> {claim['kind']} claim {what} with probability phrase "
                             f"'{claim['probability']['phrase']}'{tail}")
        if claim["kind"] == "event":
            self.last_event = claim["id"]

    def condition(self, cond: str) -> str | None:
        if _ANAPHOR.match(cond):
            if self.last_event is None:
                return None
            self.readings.append(f"'if {cond}' -> refers back to the previous event "
                                 f"{self.last_event}")
            return self.last_event
        event = cond.strip(_QUOTES)
        cid = _snake(event, self.ids)
        self.claims.append({"id": cid, "kind": "event", "event": event, "note": _NO_PROB})
        self.readings.append(f"'if {cond}' -> condition: event claim {cid} (no probability "
                             "stated; it names the event the next claim is conditioned on)")
        return cid

    def main(self, body: str, lines: list[str], notes: list[str]) -> dict | None:
        masked, found = body, []
        for rx in _LITOTES:
            for m in rx.finditer(masked):
                key = _NEGATIVES.get(" ".join(m["neg"].lower().split()), "can't be ruled out")
                r = self.lex.probability.lookup(key)
                found.append((m.start(), m.end(), replace(r, text=m.group())))
                masked = masked[:m.start()] + " " * (m.end() - m.start()) + masked[m.end():]
        found += self.lex.probability.find_spans(masked)
        found.sort(key=lambda f: f[0])
        strong = [f for f in found if f[2].key not in _WEAK]
        gov = (strong or found or [None])[0]
        times = self.lex.time.find_spans(masked, self.on)
        where = f"in {_q(body)}"
        for f in strong:
            if f is not gov:
                notes.append(f"{_q(f[2].text)} {where} (a second probability phrase; only "
                             f"{_q(gov[2].text)} is read)")
        read = [(f[0], f[1]) for f in found] + [(t[0], t[1]) for t in times]
        notes += [f"{_q(w)} {where} ({_why_time(w)})" for w in self.unread_times(masked, read)]
        fall, hold = _FALL.search(masked), _HOLD.search(masked)
        verb = min((v for v in (fall, hold) if v), key=lambda v: v.start(), default=None)
        if gov is not None:
            litotes = gov[2].text != masked[gov[0]:gov[1]]
            lines.append(_phrase_line(gov[2], gov[2].key if litotes else None))
        if times:
            return self.duration(body, masked, gov, times, verb, fall, lines, notes)
        if gov is None:
            return None
        if gov[2].key in _WEAK and verb is None:
            lines[:] = [f"only the plain future {_q(gov[2].text)}, no event about the holdout"]
            return None
        after = body[gov[1]:]
        mt = re.match(r"^[\s,]*that\s+(.+)$", after, _I | re.S)
        if mt:
            event = mt.group(1)
        elif _FRAME.search(gov[2].key) and any(c.isalnum() for c in after):
            event = after
        else:  # the hedge sits inside the clause: bracket it so the event is not double-read
            event = f"{body[:gov[0]]}[{body[gov[0]:gov[1]]}]{body[gov[1]:]}"
        event = " ".join(event.split()).strip(_QUOTES) or " ".join(body.split())
        eid = _snake(re.sub(r"\[[^\]]*\]", " ", event), self.ids)
        note = " (the bracketed words are the probability, not part of the event)" if (
            "[" in event) else ""
        lines.append(f"event {_q(event)} -> {eid}{note}")
        return {"id": eid, "kind": "event", "event": event,
                "probability": {"phrase": gov[2].key}}

    def duration(self, body: str, masked: str, gov: Any, times: list, verb: Any, fall: Any,
                 lines: list[str], notes: list[str]) -> dict | None:
        s, _, t = times[0]
        lines.append(_time_line(t))
        for _, _, other in times[1:]:
            notes.append(f"{_q(other.text)} in {_q(body)} (a second time; only the first, "
                         f"{_q(t.text)}, is read)")
        if gov is None and verb is None:
            lines[:] = [f"time {_q(t.text)} but no probability phrase and no verb saying the "
                        "holdout falls or holds"]
            return None
        if t.kind == "calendar" and t.date is None:
            given = ("was not given" if self.date_given is None else
                     f"'{self.date_given}' is not an ISO date (YYYY-MM-DD)")
            lines[:] = [f"{_q(t.text)} is a date counted from the statement date, and the "
                        f"statement date {given}"]
            return None
        comparator = t.relation
        if t.kind in ("span", "calendar") and comparator is None:
            before = masked[max(0, s - 40):s]
            m = _GT_BEFORE.search(before) or _LE_BEFORE.search(before)
            if m:
                comparator = ">" if m.re is _GT_BEFORE else "<="
                lines.append(f"{_q(m.group())} before it -> T {comparator} the span")
        falls = verb is not None and verb is fall
        if t.kind == "vague":
            kind = "falls_by" if t.relation == "<=" else "holds_beyond"
            by: dict = {"vague": t.key}
        else:
            if verb is None:
                kind = "holds_beyond" if comparator == ">" else "falls_by"
            elif falls:
                kind = "holds_beyond" if comparator == ">" else "falls_by"
            else:
                kind = "falls_by" if comparator == "<=" else "holds_beyond"
            by = _by(t, comparator)
        if verb is not None:
            says = "falls" if falls else "holds"
            lines.append(f"{_q(verb.group())} -> the holdout {says}")
        else:
            lines.append(f"no fall/hold verb: read as {kind}")
        if gov is None:
            phrase = "will"
            lines.append("no probability phrase: the flat assertion is read as 'will' (check)")
        else:
            phrase = gov[2].key
        return {"kind": kind, "by": by, "probability": {"phrase": phrase}}


def propose(quote: str, *, speaker: str | None = None, role: str | None = None,
            date: Any = None, lexicons: Lexicons | None = None) -> Proposal:
    """Read ``quote`` and propose claims; never raises on any text.

    Parameters
    ----------
    quote : str
        The statement, verbatim.
    speaker, role, date
        Shown in the readings (role gives the default weight; spans count from ``date``, a
        ``datetime.date`` or ISO text, and named periods such as "before winter" are dated from
        it: without it they are reported as not read).
    lexicons : Lexicons or tuple, optional
        (probability, time[, roles]); defaults to the shipped lexicons.

    Returns
    -------
    Proposal
    """
    lex = default_lexicons() if lexicons is None else Lexicons(*lexicons)
    reader = _Reader(lex, _as_date(date), date)
    text = quote if isinstance(quote, str) else str(quote)
    for sentence in split_sentences(text):
        try:
            reader.sentence(sentence)
        except Exception as exc:  # never raise on free text: report it as unread
            reader.unread.append(f"could not read: {_q(sentence)} (internal error: "
                                 f"{type(exc).__name__})")
    readings = list(reader.readings)
    if reader.claims and speaker:
        readings.append(f"speaker: {speaker}")
    if reader.claims and role is not None:
        w = lex.roles.get(role)
        readings.append(f"role '{role}': fitted calibration beta {w:+.2f} (data/lexicon/calibration.yaml)"
                        if w is not None else f"role '{role}': no fitted calibration")
    if date is not None and any("days" in str(c.get("by")) for c in reader.claims):
        readings.append(f"days are counted from the statement date {date}")
    return Proposal(claims=reader.claims, readings=readings, unread=reader.unread)


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if x is None or isinstance(x, bool | int | float | str):
        return x
    import datetime as _dt

    return x if isinstance(x, _dt.date) else str(x)


def _comment(line: str) -> str:
    flat = " ".join(str(line).splitlines())
    return "# " + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in flat)


def format_proposal(p: Proposal, *, statement: dict | None = None) -> str:
    """YAML text: the readings as comments, then a statement block (or ``claims:``) to paste."""
    try:
        head = ["# Proposed reading (check it: it is not evidence until you accept it)"]
        head += [_comment(r) for r in [*p.readings, *p.unread]]
        claims = _plain(list(p.claims))
        if isinstance(statement, dict):
            body = yaml.safe_dump([{**_plain(statement), "claims": claims}], sort_keys=False,
                                  allow_unicode=True, width=100)
        else:
            body = yaml.safe_dump({"claims": claims}, sort_keys=False, allow_unicode=True,
                                  width=100)
        return "\n".join(head) + "\n" + body
    except Exception as exc:  # never crash while formatting
        return f"# could not format the proposal ({type(exc).__name__})\n"
