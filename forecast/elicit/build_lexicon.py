"""Build ``data/lexicon/probability.yaml`` from the CAPphrase data and published figures.

Run ``python -m forecast.elicit.build_lexicon`` (options: ``--capphrase DIR``, ``--out FILE``).
The output is deterministic: the same inputs give the same bytes.

What goes in:

- ``phrases`` — measured distributions. For each of the 19 CAPphrase terms, a Beta(a, b) fitted
  by least squares through the respondents' mean and 5/25/50/75/95% quantiles (numbers / 100),
  started from the maximum-likelihood fit; ``misfit`` is the largest remaining gap (and
  ``misfit_maximum_likelihood`` the MLE's, for comparison); ``mean``, ``median`` and the
  quartiles are of the raw answers. Kent (1964) phrases not in CAPphrase: Beta
  by moments from the published mean and sd. Mauboussin & Mauboussin (2018) phrases not in
  CAPphrase: Beta fitted to the published median and quartiles.
- ``aliases`` — hand-written below: everyday wordings (negations, hedges, adverbs) mapped to the
  nearest measured phrase, each with its reason.
- ``ignore`` — wordings that look like probability words but are not (``the will to fight``).
- ``yardsticks`` — official bands (NIC/ICD 203, UK PHIA, NATO, EFSA, IPCC), shown, not measured.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml
from scipy import optimize, stats

from forecast.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
CAPPHRASE_DIR = ROOT / "data" / "capphrase"
OUT = ROOT / "data" / "lexicon" / "probability.yaml"

CLIP = (0.005, 0.995)
CAPPHRASE_SOURCE = "CAPphrase (Kucharski 2026, doi:10.5281/zenodo.18750055, CC-BY 4.0)"
KENT_SOURCE = "Kent 1964 (Words of Estimative Probability, CIA Studies in Intelligence)"
MAUBOUSSIN_SOURCE = (
    "Mauboussin & Mauboussin 2018 (If You Say Something Is 'Likely,' How Likely Do People Think "
    "It Is?, Harvard Business Review; published medians/IQR only)"
)

#: Kent (1964): phrase -> (mean, sd) in percent. Published figures (ATTRIBUTION.md).
KENT = {
    "certain": (100.0, 0.0),
    "almost certain": (93.0, 6.0),
    "probable": (75.0, 12.0),
    "chances about even": (50.0, 10.0),
    "probably not": (30.0, 10.0),
    "almost certainly not": (7.0, 5.0),
}
#: Mauboussin & Mauboussin (2018): phrase -> (median, q25, q75) in percent; None = not published.
MAUBOUSSIN = {
    "real possibility": (60.0, 40.0, 70.0),
    "serious possibility": (66.0, None, None),
    "might happen": (40.0, None, None),
    "likely": (70.0, None, None),
    "unlikely": (20.0, None, None),
    "always": (100.0, None, None),
}
#: A published 100 with no spread is not a Beta: read it as mean CLIP[1], sd 1 - CLIP[1].
POINT_MASS_NOTE = (
    "published as 100 with no spread; a point mass is not a Beta, so it is read as mean 0.995 "
    "and sd 0.005 (the clip used for CAPphrase) - an assumption"
)

YARDSTICKS = {
    "us_nic": "US National Intelligence Council (ICD 203)",
    "uk": "UK Defence Intelligence (PHIA probability yardstick)",
    "nato": "NATO (AJP-2 probability scale)",
    "efsa": "EFSA (approximate probability scale)",
    "ipcc": "IPCC (AR5/AR6 likelihood scale)",
}

#: alias -> (measured phrase, reason[, complement]). Hand-written; every alias names its target.
#: ``complement`` means "X not" = the target phrase said of not-X, so the Beta is mirrored.
ALIASES: dict[str, tuple] = {
    # litotes and hedged negatives (ATTRIBUTION.md: no survey covers them; nearest measured
    # phrases are could/might/may happen)
    "not out of the question": ("could happen", "litotes: no survey measures it; ATTRIBUTION.md "
                                "names could/might/may happen as the closest measured phrases"),
    "not impossible": ("could happen", "litotes: ruling out impossibility asserts only a real "
                       "chance, as 'could happen'"),
    "not unthinkable": ("could happen", "litotes, as 'not impossible'"),
    "can't be ruled out": ("could happen", "hedge: the event is kept open without odds, as "
                           "'could happen'"),
    "cannot be ruled out": ("could happen", "as 'can't be ruled out'"),
    "can not be ruled out": ("could happen", "as 'can't be ruled out'"),
    "cannot rule out": ("could happen", "as 'can't be ruled out'"),
    "can't rule out": ("could happen", "as 'can't be ruled out'"),
    "could not rule out": ("could happen", "as 'can't be ruled out'"),
    "couldn't rule out": ("could happen", "as 'can't be ruled out'"),
    "not rule out": ("could happen", "as 'can't be ruled out'"),
    "not likely": ("unlikely", "negation of 'likely' read as its measured opposite 'unlikely'"),
    "not unlikely": ("realistic possibility", "litotes: weaker than 'likely', stronger than "
                     "'could happen'; nearest measured phrase"),
    # disbelief
    "i don't think": ("unlikely", "'I don't think X will' denies X without ruling it out; "
                      "nearest measured phrase 'unlikely'"),
    "don't think": ("unlikely", "as 'I don't think'"),
    "do not think": ("unlikely", "as 'I don't think'"),
    "don't believe": ("unlikely", "as 'I don't think'"),
    "do not believe": ("unlikely", "as 'I don't think'"),
    "don't expect": ("unlikely", "as 'I don't think'"),
    "do not expect": ("unlikely", "as 'I don't think'"),
    "doubt": ("unlikely", "doubting X denies it without ruling it out, as 'unlikely'"),
    "i doubt": ("unlikely", "as 'doubt'"),
    "doubtful": ("unlikely", "as 'doubt'"),
    "no doubt": ("almost certain", "'no doubt' asserts X, as 'almost certain'"),
    "without doubt": ("almost certain", "as 'no doubt'"),
    "without a doubt": ("almost certain", "as 'no doubt'"),
    "little doubt": ("highly likely", "'little doubt' is a hedged 'no doubt'"),
    # flat negatives
    "never": ("almost no chance", "a flat denial: nearest measured is 'almost no chance'"),
    "no way": ("almost no chance", "a flat denial, as 'never'"),
    "no chance": ("almost no chance", "nearest measured phrase"),
    "won't": ("almost no chance", "a flat negative future, as 'never'"),
    "will not": ("almost no chance", "as 'won't'"),
    "impossible": ("almost no chance", "nearest measured phrase"),
    "out of the question": ("almost no chance", "un-negated: excludes the event, as "
                            "'impossible'"),
    "could not": ("highly unlikely", "denies the ability ('could not resist'), weaker than a flat "
                  "'never'; nearest measured 'highly unlikely'"),
    "couldn't": ("highly unlikely", "as 'could not'"),
    "cannot": ("highly unlikely", "as 'could not'"),
    "can't": ("highly unlikely", "as 'could not'"),
    "can not": ("highly unlikely", "as 'could not'"),
    # flat positives
    "will": ("will happen", "the plain future: CAPphrase measured 'will happen'"),
    "going to": ("will happen", "a plain future, as 'will'"),
    "certainly": ("almost certain", "adverb of 'certain'; respondents read 'certain' words "
                  "as 'almost certain'"),
    "definitely": ("almost certain", "as 'certainly'"),
    "surely": ("almost certain", "as 'certainly'"),
    "almost certainly": ("almost certain", "adverb of the measured phrase"),
    "virtually certain": ("almost certain", "yardstick wording (IPCC) with the same meaning"),
    # likely side
    "expect": ("likely", "'I expect X' gives X as the speaker's best guess, not a certainty; "
               "nearest measured 'likely'"),
    "i expect": ("likely", "as 'expect'"),
    "we expect": ("likely", "as 'expect'"),
    "i think": ("likely", "a hedged assertion (opinion, not certainty); nearest measured "
                "'likely'"),
    "i believe": ("likely", "as 'i think'"),
    "should": ("probable", "expectation without commitment; nearest measured 'probable'"),
    "should not": ("probably not", "negative expectation; nearest measured 'probably not' "
                   "(Kent)"),
    "shouldn't": ("probably not", "as 'should not'"),
    "probably": ("probable", "adverb of the measured phrase"),
    "most likely": ("likely", "nearest measured phrase"),
    "very likely": ("highly likely", "yardstick wording (NIC, EFSA) beside 'highly likely'"),
    "extremely likely": ("almost certain", "yardstick wording (EFSA, IPCC: 95%+)"),
    "more likely than not": ("better than even", "same meaning as the measured phrase"),
    "good chance": ("very good chance", "nearest measured phrase"),
    "a real possibility": ("real possibility", "with the article"),
    "distinct possibility": ("real possibility", "nearest measured phrase"),
    "a distinct possibility": ("real possibility", "nearest measured phrase"),
    "a serious possibility": ("serious possibility", "with the article"),
    "a realistic possibility": ("realistic possibility", "with the article"),
    # even
    "even chance": ("about even", "same meaning as the measured phrase"),
    "roughly even chance": ("about even", "yardstick wording (NIC)"),
    "as likely as not": ("about even", "yardstick wording (IPCC, EFSA)"),
    "about as likely as not": ("about even", "yardstick wording (IPCC, EFSA)"),
    "fifty-fifty": ("about even", "same meaning"),
    "50-50": ("about even", "same meaning"),
    "toss-up": ("about even", "same meaning"),
    # possibility
    "possibly": ("could happen", "expresses possibility only, as 'could happen'"),
    "possible": ("could happen", "as 'possibly'"),
    "a possibility": ("could happen", "as 'possibly'"),
    "could": ("could happen", "the modal of the measured phrase"),
    "may": ("may happen", "the modal of the measured phrase"),
    "might": ("might happen", "the modal of the measured phrase"),
    "may not": ("may happen", "'may not X' is 'may happen' said of not-X: the Beta is mirrored",
                True),
    "might not": ("might happen", "'might not X' is 'might happen' said of not-X: the Beta is "
                  "mirrored", True),
    # unlikely side
    "very unlikely": ("highly unlikely", "yardstick wording (NIC, EFSA) beside 'highly unlikely'"),
    "highly improbable": ("highly unlikely", "nearest measured phrase"),
    "extremely unlikely": ("almost no chance", "yardstick wording (EFSA, IPCC: under 5%)"),
    "slight chance": ("chances are slight", "same meaning as the measured phrase"),
    "small chance": ("little chance", "nearest measured phrase"),
}

#: Wordings that contain probability words but carry no probability: matched and skipped.
IGNORE = [
    "the will", "political will", "free will", "will to fight", "will to resist", "goodwill",
    "as soon as possible", "if possible", "where possible", "whenever possible",
    # the month of May
    "in may", "early may", "mid-may", "late may", "of may", "by may", "until may", "since may",
    "may day",
]


def _r(x: float) -> float:
    return float(round(float(x), 4))


def read_capphrase(directory: Path) -> dict[str, np.ndarray]:
    """Answers per term (probability / 100), terms keyed lowercase, in terms.csv order."""
    terms_path = directory / "terms.csv"
    answers_path = directory / "absolute_judgements.csv"
    with terms_path.open(newline="", encoding="utf-8") as fh:
        terms = [row["term"].strip().lower() for row in csv.DictReader(fh)]
    values: dict[str, list[float]] = defaultdict(list)
    with answers_path.open(newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            term = row["term"].strip().lower()
            try:
                p = float(row["probability"])
            except (TypeError, ValueError):
                raise InputError(f"{answers_path}, row {i}, column 'probability'",
                                 "must be a number 0-100") from None
            if term not in terms or not 0 <= p <= 100:
                raise InputError(f"{answers_path}, row {i}", "unknown term or probability "
                                 "outside 0-100")
            values[term].append(p / 100.0)
    return {t: np.asarray(values[t], dtype=float) for t in terms}


#: Quantile levels a phrase's Beta is fitted to (with the mean): what a reader is shown.
FIT_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def beta_misfit(a: float, b: float, x: np.ndarray) -> float:
    """The largest gap between the Beta's mean and quantiles (FIT_LEVELS) and the answers'."""
    q = np.quantile(x, FIT_LEVELS)
    gaps = np.abs(stats.beta.ppf(FIT_LEVELS, a, b) - q)
    return float(max(gaps.max(), abs(a / (a + b) - x.mean())))


def fit_capphrase(x: np.ndarray) -> dict:
    """A Beta through the answers' mean and quantiles (least squares, started from the maximum
    likelihood fit to the clipped answers), plus empirical summaries of the raw answers.

    Maximum likelihood on answers clipped away from 0 and 1 lets the many answers of 0 or 1 pull
    the Beta's tails (a mean of 0.11 and 90% 0.00-0.33 for "highly unlikely", whose answers have
    mean 0.09 and 90% 0.01-0.20); matching the quantiles keeps the Beta to what people said."""
    a0, b0, _, _ = stats.beta.fit(np.clip(x, *CLIP), floc=0, fscale=1)
    q = np.quantile(x, FIT_LEVELS)
    targets = np.append(q, x.mean())

    def loss(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        got = np.append(stats.beta.ppf(FIT_LEVELS, a, b), a / (a + b))
        return float(np.sum((got - targets) ** 2))

    res = optimize.minimize(loss, x0=np.log([a0, b0]), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
    a, b = np.exp(res.x)
    return {"a": _r(a), "b": _r(b), "mean": _r(x.mean()), "median": _r(q[2]), "q05": _r(q[0]),
            "q25": _r(q[1]), "q75": _r(q[3]), "q95": _r(q[4]), "n": int(x.size),
            "misfit": _r(beta_misfit(a, b, x)),
            "misfit_maximum_likelihood": _r(beta_misfit(a0, b0, x)),
            "fit": "least squares through the answers' mean and 5/25/50/75/95% quantiles "
                   "(answers/100), from the maximum-likelihood fit; misfit: the largest gap "
                   "between the Beta's and the answers' mean or quantiles",
            "source": CAPPHRASE_SOURCE}


def beta_from_moments(mean: float, sd: float) -> tuple[float, float]:
    """Beta(a, b) with the given mean and standard deviation (on 0-1)."""
    k = mean * (1 - mean) / sd**2 - 1
    if k <= 0:
        raise ValueError("sd too large for a Beta with this mean")
    return mean * k, (1 - mean) * k


def beta_from_quantiles(probs: list[float], values: list[float]) -> tuple[float, float]:
    """Least-squares Beta(a, b) through the given quantiles (deterministic Nelder-Mead)."""
    def loss(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        return float(np.sum((stats.beta.ppf(probs, a, b) - np.asarray(values)) ** 2))

    res = optimize.minimize(loss, x0=np.log([2.0, 2.0]), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
    a, b = np.exp(res.x)
    return float(a), float(b)


def beta_with_median(median: float, concentration: float) -> tuple[float, float]:
    """Beta(a, b) with a + b = concentration and the given median."""
    m = optimize.brentq(lambda m: stats.beta.median(m * concentration,
                                                    (1 - m) * concentration) - median,
                        1e-6, 1 - 1e-6, xtol=1e-12)
    return m * concentration, (1 - m) * concentration


def summaries(a: float, b: float, published: dict) -> dict:
    """mean, median and quantiles: the published figure where there is one, else the Beta's."""
    q = stats.beta.ppf([0.05, 0.25, 0.5, 0.75, 0.95], a, b)
    beta = {"mean": a / (a + b), "median": q[2], "q05": q[0], "q25": q[1], "q75": q[3],
            "q95": q[4]}
    return {k: _r(published.get(k, v)) for k, v in beta.items()}


def kent_entries(existing: set[str]) -> dict[str, dict]:
    out = {}
    for phrase, (mean, sd) in KENT.items():
        if phrase in existing:
            continue
        entry: dict = {}
        m, s = mean / 100, sd / 100
        if s == 0:
            m, s = CLIP[1], 1 - CLIP[1]
            entry["note"] = POINT_MASS_NOTE
        a, b = beta_from_moments(m, s)
        published = {"mean": _r(mean / 100), "sd": _r(sd / 100)}
        out[phrase] = {"a": _r(a), "b": _r(b), **summaries(a, b, published),
                       "published": published,
                       "fit": "moments (published mean and sd); mean as published, quantiles "
                              "of the Beta", **entry, "source": KENT_SOURCE}
        if phrase == "certain":
            out[phrase]["in_free_text"] = False  # "in certain areas": too often not a probability
    return out


def mauboussin_entries(existing: set[str]) -> dict[str, dict]:
    med, q25, q75 = MAUBOUSSIN["real possibility"]
    a0, b0 = beta_from_quantiles([0.25, 0.5, 0.75], [q25 / 100, med / 100, q75 / 100])
    out = {}
    for phrase, (median, lo, hi) in MAUBOUSSIN.items():
        if phrase in existing:
            continue
        if lo is not None and hi is not None:
            a, b = beta_from_quantiles([0.25, 0.5, 0.75], [lo / 100, median / 100, hi / 100])
            entry = {"fit": "least squares through the published median and quartiles"}
        elif median >= 100:
            a, b = beta_from_moments(CLIP[1], 1 - CLIP[1])
            entry = {"fit": "moments", "note": POINT_MASS_NOTE, "in_free_text": False}
        else:
            a, b = beta_with_median(median / 100, a0 + b0)
            entry = {"fit": "published median; spread borrowed from 'real possibility' "
                            f"(a + b = {a0 + b0:.2f}) because no IQR was published - an "
                            "assumption"}
        published = {"median": _r(median / 100)}
        if lo is not None and hi is not None:
            published.update({"q25": _r(lo / 100), "q75": _r(hi / 100)})
        entry["fit"] += "; published figures as given, other summaries of the Beta"
        out[phrase] = {"a": _r(a), "b": _r(b), **summaries(a, b, published),
                       "published": published, **entry, "source": MAUBOUSSIN_SOURCE}
    return out


def other_estimates(phrase: str) -> list[dict]:
    """Published figures for a phrase that CAPphrase already measures (shown, not used)."""
    found = []
    if phrase in KENT:
        mean, sd = KENT[phrase]
        found.append({"mean": _r(mean / 100), "sd": _r(sd / 100), "source": KENT_SOURCE})
    if phrase in MAUBOUSSIN:
        found.append({"median": _r(MAUBOUSSIN[phrase][0] / 100), "source": MAUBOUSSIN_SOURCE})
    return found


def read_yardsticks(directory: Path) -> list[dict]:
    out = []
    for key, name in YARDSTICKS.items():
        path = directory / f"yardstick_{key}.csv"
        with path.open(newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    low, high = float(row["low"]) / 100, float(row["high"]) / 100
                except (KeyError, TypeError, ValueError):
                    raise InputError(f"{path}, row {i}", "low/high must be numbers") from None
                out.append({"term": row["term"].strip().lower(), "low": _r(low),
                            "high": _r(high), "source": f"{name}; via {CAPPHRASE_SOURCE}"})
    return out


def build(capphrase_dir: Path = CAPPHRASE_DIR) -> dict:
    """The probability lexicon as a plain mapping (what is written to YAML)."""
    phrases: dict[str, dict] = {}
    for term, x in read_capphrase(capphrase_dir).items():
        phrases[term] = fit_capphrase(x)
        extra = other_estimates(term)
        if extra:
            phrases[term]["other_estimates"] = extra
    measured = set(phrases)
    phrases.update(kent_entries(measured))
    phrases.update(mauboussin_entries(measured))
    aliases = {}
    for alias, spec in ALIASES.items():
        target, reason = spec[0], spec[1]
        if target not in phrases:
            raise ValueError(f"alias {alias!r} maps to unmeasured phrase {target!r}")
        if alias in phrases:
            raise ValueError(f"alias {alias!r} is also a measured phrase")
        aliases[alias] = {"phrase": target, "reason": reason}
        if len(spec) > 2 and spec[2]:
            aliases[alias]["complement"] = True
    for v in phrases.values():
        assert all(math.isfinite(v[k]) and v[k] > 0 for k in ("a", "b"))
    return {"phrases": phrases, "aliases": aliases, "ignore": list(IGNORE),
            "yardsticks": read_yardsticks(capphrase_dir)}


HEADER = """\
# Probability lexicon: how people read verbal probability phrases (probabilities on 0-1).
# GENERATED by `python -m forecast.elicit.build_lexicon` from data/capphrase/ - do not edit by
# hand; edit ALIASES / IGNORE in forecast/elicit/build_lexicon.py and rebuild.
# Data: Kucharski AJ (2026) CAPphrase: Comparative and Absolute Probability phrase dataset.
#   doi:10.5281/zenodo.18750055, CC-BY 4.0 (numbers derived from it must carry this citation).
# Also: Kent S (1964) Words of Estimative Probability; Mauboussin A & Mauboussin MJ (2018),
#   Harvard Business Review (published summary figures only).
# phrases: measured distributions, Beta(a, b); aliases: hand mapping to the nearest measured
#   phrase, with the reason; ignore: look-alikes that carry no probability; yardsticks: official
#   bands (shown to the analyst, not used as distributions).
"""


def render(lexicon: dict) -> str:
    """YAML text of the lexicon with the header comment."""
    body = yaml.safe_dump(lexicon, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def write(out: Path = OUT, capphrase_dir: Path = CAPPHRASE_DIR) -> Path:
    """Build and write atomically (temp file, then rename)."""
    text = render(build(capphrase_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capphrase", type=Path, default=CAPPHRASE_DIR)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    write(args.out, args.capphrase)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
