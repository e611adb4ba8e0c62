"""What the lexicons hold, as data and as text for the command line (``forecast lexicon``).

A probability phrase has two summaries that must not be confused:

- the **survey** (or, for Kent 1964 and Mauboussin 2018, the **published** figures): how people
  actually read the phrase — for CAPphrase the mean and the 5%-95% range of the respondents'
  answers;
- the **Beta** fitted to those readings, which is what a claim uses — with the Beta's *own* mean
  and 90% interval.

Both are shown, labelled, side by side, with the largest gap between them, so that a Beta that
misrepresents its survey is visible (this module reports the misfit; it does not refit).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from dataclasses import dataclass, field

from forecast.elicit.lexicon import ProbabilityLexicon, TimeLexicon, TimeReading
from forecast.elicit.parse import phrase_key
from forecast.errors import InputError

#: A gap between the survey and the Beta above this (on the 0-1 scale) is flagged as a misfit.
MISFIT = 0.05


@dataclass(frozen=True)
class PhraseSummary:
    """A probability phrase: how people read it (survey or published) and the Beta used for it.

    Attributes
    ----------
    phrase : str
        The measured phrase (an alias's target).
    a, b : float
        The fitted Beta's parameters (mirrored for a ``complement`` alias).
    beta_mean, beta_q05, beta_q95 : float
        The Beta's own mean and 5% and 95% quantiles.
    source : str
        Where the readings come from.
    survey_n : int or None
        Number of survey answers (CAPphrase); None when only published figures exist.
    survey : dict
        The survey's own summaries of the answers (``mean``, ``median``, ``q05``, ``q95``); empty
        without a survey.
    published : dict
        Published figures (Kent: mean and sd; Mauboussin: median and quartiles); empty otherwise.
    beta_at : dict
        The Beta's value of each summary in ``survey`` or ``published`` (sd excluded), to compare.
    mirrored : bool
        True when read as the opposite event's phrase (``might not`` = Beta(b, a) of ``might``).
    """

    phrase: str
    a: float
    b: float
    beta_mean: float
    beta_q05: float
    beta_q95: float
    source: str
    survey_n: int | None = None
    survey: dict[str, float] = field(default_factory=dict)
    published: dict[str, float] = field(default_factory=dict)
    beta_at: dict[str, float] = field(default_factory=dict)
    mirrored: bool = False

    @property
    def gap(self) -> float:
        """Largest |survey (or published) - Beta| over the summaries both have."""
        ref = self.survey or self.published
        diffs = [abs(ref[k] - self.beta_at[k]) for k in ref if k in self.beta_at]
        return max(diffs, default=0.0)

    @property
    def misfit(self) -> bool:
        """True when :attr:`gap` exceeds :data:`MISFIT`."""
        return self.gap > MISFIT


_MIRROR = {"mean": "mean", "median": "median", "q05": "q95", "q95": "q05", "q25": "q75",
           "q75": "q25"}


def _mirror(values: dict[str, float]) -> dict[str, float]:
    return {_MIRROR[k]: 1 - v for k, v in values.items() if k in _MIRROR} | (
        {"sd": values["sd"]} if "sd" in values else {})


def _beta_value(key: str, a: float, b: float) -> float | None:
    from scipy import stats  # imported here: the command line starts faster without it

    q = {"median": 0.5, "q05": 0.05, "q25": 0.25, "q75": 0.75, "q95": 0.95}
    if key == "mean":
        return a / (a + b)
    return float(stats.beta.ppf(q[key], a, b)) if key in q else None


def phrase_summary(prob: ProbabilityLexicon, phrase: str) -> PhraseSummary:
    """The survey (or published) summary and the fitted Beta of a phrase or alias.

    Parameters
    ----------
    prob : ProbabilityLexicon
        The probability lexicon.
    phrase : str
        A measured phrase or an alias (matched as :meth:`ProbabilityLexicon.lookup` does).

    Returns
    -------
    PhraseSummary

    Raises
    ------
    InputError
        When the phrase is not in the lexicon.
    """
    r = prob.lookup(phrase)
    entry = prob.phrases[r.phrase]
    mirrored = bool(prob.aliases.get(r.key, {}).get("complement", False))
    survey_n = entry.get("n")
    if survey_n:  # summaries of the raw answers
        survey = {k: float(entry[k]) for k in ("mean", "median", "q05", "q95") if k in entry}
        published: dict[str, float] = {}
    else:  # only the published figures are readings; the entry's other summaries are the Beta's
        survey = {}
        published = {k: float(v) for k, v in (entry.get("published") or {}).items()}
    if mirrored:
        survey, published = _mirror(survey), _mirror(published)
    beta_at = {k: v for k in (*survey, *published) if (v := _beta_value(k, r.a, r.b)) is not None}
    return PhraseSummary(phrase=r.phrase, a=r.a, b=r.b, beta_mean=r.mean, beta_q05=r.q05,
                         beta_q95=r.q95, source=r.source, survey_n=int(survey_n) if survey_n
                         else None, survey=survey, published=published, beta_at=beta_at,
                         mirrored=mirrored)


def lexicon_rows(prob: ProbabilityLexicon) -> list[PhraseSummary]:
    """Every measured phrase's :class:`PhraseSummary`, by increasing Beta mean."""
    rows = [phrase_summary(prob, name) for name in prob.phrases]
    return sorted(rows, key=lambda s: (s.beta_mean, s.phrase))


def _range(lo: float, hi: float) -> str:
    return f"{lo:.2f}-{hi:.2f}"


def _published_text(pub: dict[str, float]) -> str:
    parts = []
    if "mean" in pub:
        parts.append(f"mean {pub['mean']:.2f}" + (f", sd {pub['sd']:.2f}" if "sd" in pub else ""))
    if "median" in pub:
        parts.append(f"median {pub['median']:.2f}")
    if "q25" in pub and "q75" in pub:
        parts.append(f"IQR {_range(pub['q25'], pub['q75'])}")
    return ", ".join(parts) or "-"


def _short_source(source: str) -> str:
    return source.split(" (")[0]


def _gap_text(s: PhraseSummary) -> str:
    return f"{s.gap:.2f}" + (" !" if s.misfit else "")


def format_lexicon(prob: ProbabilityLexicon, time: TimeLexicon, roles: dict[str, float]) -> str:
    """The lexicons as text: probability phrases (survey beside Beta), aliases, time words, roles.

    Parameters
    ----------
    prob : ProbabilityLexicon
        The probability lexicon.
    time : TimeLexicon
        The time lexicon.
    roles : dict of str to float
        Default credibility weight per speaker role.

    Returns
    -------
    str
        Lines of text, ending with a newline.
    """
    rows = lexicon_rows(prob)
    surveyed = [s for s in rows if s.survey]
    published = [s for s in rows if not s.survey]
    w = max([len(s.phrase) for s in rows] + [len(k) for k in prob.aliases] + [24]) + 2
    out = [
        "Probability phrases: how people read them (survey) and the Beta fitted to those readings",
        "(the Beta is what a claim uses).",
        "  survey mean, survey 90%: the mean and the 5%-95% range of the survey's answers",
        "  Beta mean, Beta 90%:     the fitted Beta's own mean and 5%-95% interval",
        f"  gap: the largest difference between the two; ! = more than {MISFIT:g}: the Beta does not"
        " match how people read the phrase",
        "",
        f"  {'phrase':<{w}}{'survey mean':>11}  {'survey 90%':<10}  {'Beta(a, b)':<18}"
        f"{'Beta mean':>9}  {'Beta 90%':<10}  {'gap':<6}  source",
    ]
    for s in surveyed:
        beta = f"Beta({s.a:.2f}, {s.b:.2f})"
        out.append(f"  {s.phrase:<{w}}{s.survey['mean']:>11.2f}  "
                   f"{_range(s.survey['q05'], s.survey['q95']):<10}  {beta:<18}"
                   f"{s.beta_mean:>9.2f}  {_range(s.beta_q05, s.beta_q95):<10}  "
                   f"{_gap_text(s):<6}  {_short_source(s.source)}"
                   f"{f' (n = {s.survey_n})' if s.survey_n else ''}")
    if published:
        out += ["", "Phrases with published figures only (no survey answers, so no survey 90%; the "
                "Beta is fitted to the published figures):",
                f"  {'phrase':<{w}}{'published':<34}  {'Beta(a, b)':<20}{'Beta mean':>9}  "
                f"{'Beta 90%':<10}  {'gap':<6}  source"]
        for s in published:
            beta = f"Beta({s.a:.2f}, {s.b:.2f})"
            out.append(f"  {s.phrase:<{w}}{_published_text(s.published):<34}  {beta:<20}"
                       f"{s.beta_mean:>9.2f}  {_range(s.beta_q05, s.beta_q95):<10}  "
                       f"{_gap_text(s):<6}  {_short_source(s.source)}")
    if any(s.misfit for s in rows):
        out += ["", f"  ! {sum(s.misfit for s in rows)} phrase(s) whose Beta differs from the "
                f"survey (or published figures) by more than {MISFIT:g}: a claim using them is "
                "read with the Beta, not the survey."]
    out += ["", "Everyday wordings read as the nearest measured phrase (with its Beta):"]
    for name, e in sorted(prob.aliases.items()):
        how = (" (mirrored: said of the opposite event, Beta(b, a))"
               if e.get("complement") else "")
        out.append(f"  {name:<{w}}-> {e['phrase']}{how}")
    out += ["", *_time_lines(time, w)]
    out += ["", "Role calibrations (beta: how far a statement's departure from the base rate "
            "moves a forecast; fitted from data/statements.csv, data/lexicon/calibration.yaml):"]
    out += [f"  {role:<{w}}{weight:+.2f}" for role, weight in roles.items()]
    return "\n".join(out) + "\n"


def _time_lines(time: TimeLexicon, w: int) -> list[str]:
    out = ["Time words (data/lexicon/time.yaml; judgements, edit freely):",
           "  vague, read against the reference class of the case:"]
    for name, e in sorted(time.vague.items(), key=lambda kv: (kv[1]["quantile"], kv[0])):
        out.append(f"    {name:<{w - 2}}T {e['relation']} its {e['quantile']:g} quantile: "
                   f"{e['description']}")
    out.append("  spans, in days from the statement date:")
    for name, e in time.spans.items():
        out.append(f"    {name:<{w - 2}}{e['description']}")
    units = ", ".join(f"{u} = {_days(d)}" for u, d in time.units.items())
    out.append(f"  any number with a unit, e.g. 'within 72 hours' = within 3 days, 'a day or two' "
               f"= 1-2 days; days per unit: {units}")
    if time.calendar:
        out.append("  named periods, dated from the statement date (the first such date after "
                   "it):")
        for name, e in time.calendar.items():
            end = f" to {e['end']}" if e.get("end") else ""
            out.append(f"    {name:<{w - 2}}{e['start']}{end}: {e['description']}")
        pres = ", ".join(f"'{p}' ({e['at']})" for p, e in time.calendar_prefixes.items())
        out.append(f"    after one of: {pres}; e.g. 'before winter' = before the next 1 December")
    return out


def _days(d: float) -> str:
    if d >= 1 or d <= 0:
        return f"{d:g} day" + ("" if d == 1 else "s")
    inv = 1 / d
    return f"1/{inv:.0f} day" if math.isclose(inv, round(inv)) else f"{d:g} days"


def _nearest(key: str, prob: ProbabilityLexicon, time: TimeLexicon, n: int = 5) -> list[str]:
    known = {*prob.phrases, *prob.aliases, *time.vague, *time.spans}
    return difflib.get_close_matches(key, sorted(known), n=n, cutoff=0.0)


def describe_phrase(phrase: str, prob: ProbabilityLexicon, time: TimeLexicon,
                    on: dt.date | None = None) -> str:
    """How one phrase is read: as a probability phrase (survey beside Beta) and/or a time word.

    The phrase is normalised as the free-text assistant does (case, apostrophes, whitespace,
    surrounding quotes, a whole litotes such as "I don't think it's out of the question") and
    looked up among the measured probability phrases, their aliases, and the time words, spans,
    numbers with units and named periods.

    Parameters
    ----------
    phrase : str
        The phrase, e.g. ``"highly unlikely"`` or ``"before winter"``.
    prob : ProbabilityLexicon
        The probability lexicon.
    time : TimeLexicon
        The time lexicon.
    on : datetime.date, optional
        A statement date to date a named period ("before winter") from; without it the rule is
        described.

    Returns
    -------
    str
        Lines of text, ending with a newline.

    Raises
    ------
    InputError
        When the phrase is neither a known probability phrase nor a time word; the message lists
        the nearest known phrases.
    """
    key = phrase_key(phrase)
    shown = " ".join(str(phrase).split())
    out: list[str] = []
    try:
        prob.lookup(key)
    except InputError:
        pass
    else:
        out += _probability_lines(shown, key, prob)
    t = time.read(key, on)
    if t is not None:
        out += _time_reading_lines(shown, t, on)
    if not out:
        near = ", ".join(f"'{k}'" for k in _nearest(key, prob, time))
        raise InputError(f"phrase '{shown}'", "is neither a known probability phrase nor a time "
                         f"word (nearest known: {near}; `forecast lexicon` lists them all)")
    return "\n".join(out) + "\n"


def _probability_lines(shown: str, key: str, prob: ProbabilityLexicon) -> list[str]:
    s = phrase_summary(prob, key)
    litotes = f" (read as '{key}')" if key != " ".join(shown.lower().split()) else ""
    alias = prob.aliases.get(key)
    out = [f"'{shown}'{litotes}: probability phrase"]
    if alias is not None:
        how = ", mirrored: said of the opposite event, so Beta(b, a)" if s.mirrored else ""
        out.append(f"  read as the measured phrase '{s.phrase}'{how} - {alias['reason']}")
    if s.survey:
        out.append(f"  survey ({_short_source(s.source)}, n = {s.survey_n} answers): mean "
                   f"{s.survey['mean']:.2f}, median {s.survey['median']:.2f}, survey 90% "
                   f"{_range(s.survey['q05'], s.survey['q95'])} (5%-95% of the answers)")
    else:
        out.append(f"  published ({_short_source(s.source)}): {_published_text(s.published)} "
                   "(no survey answers, so no survey 90%)")
    out.append(f"  fitted Beta({s.a:.2f}, {s.b:.2f}), used for claims: Beta mean "
               f"{s.beta_mean:.2f}, Beta 90% {_range(s.beta_q05, s.beta_q95)} (the Beta's own)")
    what = "survey" if s.survey else "published figures"
    verdict = (f"the Beta does not match the {what} (more than {MISFIT:g} apart); claims are "
               "read with the Beta" if s.misfit else f"the Beta matches the {what} within "
               f"{MISFIT:g}")
    out.append(f"  gap {s.gap:.2f}: {verdict}")
    yard = [y for y in prob.yardsticks if y["term"] in (key, s.phrase)]
    for y in yard:
        out.append(f"  yardstick '{y['term']}': {_range(y['low'], y['high'])} "
                   f"({_short_source(y['source'])}; a prescription, not used)")
    out.append(f"  source: {s.source}")
    return out


def _time_reading_lines(shown: str, t: TimeReading, on: dt.date | None) -> list[str]:
    if t.kind == "vague":
        return [f"'{shown}': vague time word, read against the reference class: "
                f"{t.description} (T {t.relation} its {t.quantile:g} quantile)"]
    if t.kind == "calendar":
        when = ("" if on is not None else
                "; the date depends on the statement date (pass one to see it)")
        return [f"'{shown}': named period, a date counted from the statement date: "
                f"{t.description}{when}"]
    return [f"'{shown}': time span from the statement date: {t.description}"]
