"""How much a speaker's words are worth: the scored record of public predictions about holdouts.

``data/statements.csv`` (coding manual: data/STATEMENTS.md) holds sourced, verbatim predictions
with the claim each encodes. Each claim is resolved against data/holdouts.csv: the event's
membership at the holdout's real fall time (infinite when another end came first — a relieved
holdout did not fall), fractional when the fall came inside a vague boundary's range.

Each resolved claim is scored (Brier and log score) against its outcome, beside the base rate the
speaker could have read off the reference class (the other holdouts' Aalen–Johansen law, given the
place still stood on the day). The calibration beta of :mod:`forecast.elicit.likelihood` is then
fitted by its own likelihood — the same formula that moves a forecast:

    logit P(event) = logit pi_i + beta_speaker * lambda_i * (logit p_i - logit pi_i)

with beta per role partially pooled toward a common beta (beta_role = mu + tau z_role) and a
speaker's own deviation partially pooled within the role (beta_speaker = beta_role + tau_s z_s).
Claims sharing a source group count as one (each weighted 1/n). PyMC samples it (nutpie).

The rule for a speaker's own record: once a speaker has ``MIN_SPEAKER_CLAIMS`` scored claims, their
own fitted beta replaces their role's (the partial pooling keeps it near the role's until the record
says otherwise); below that, the role's beta is used.

``V`` (the spread of stated logits across the record) is stored with the fit: the reliability of a
vague phrase is lambda = V / (V + s^2).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import InputError

DEFAULT_STATEMENTS = Path(__file__).resolve().parents[2] / "data" / "statements.csv"
DEFAULT_CALIBRATION = Path(__file__).resolve().parents[2] / "data" / "lexicon" / "calibration.yaml"
#: Scored claims a speaker needs before their own beta replaces their role's.
MIN_SPEAKER_CLAIMS = 5
COLUMNS = ("statement_id", "case_id", "speaker", "role", "side", "affiliation", "date", "quote",
           "quote_language", "source", "url", "claim_kind", "probability", "time_kind",
           "time_value", "condition", "condition_met", "source_group", "coder_note")
CLAIM_KINDS = ("falls_by", "holds_beyond", "falls_eventually")
SIDES = ("attacker", "defender")
#: Days a statement may precede the holdout's start when it is about the coming attack.
EARLY_DAYS = 30


# --- the fitted calibration ---------------------------------------------------------------------
@dataclass(frozen=True)
class Beta:
    """A fitted calibration: posterior mean, 90% interval, and the claims it rests on."""

    mean: float
    lo: float
    hi: float
    n: int


@dataclass(frozen=True)
class Calibration:
    """Fitted calibrations by role and speaker, the signal variance V, and provenance."""

    roles: dict[str, Beta]
    speakers: dict[str, Beta] = field(default_factory=dict)
    common: Beta | None = None
    signal_var: float = 3.0
    source: str = ""

    def beta_for(self, speaker: str, role: str) -> tuple[float, str]:
        """The beta a statement gets, and why (KeyError for a role without a fit)."""
        own = self.speakers.get(speaker)
        if own is not None and own.n >= MIN_SPEAKER_CLAIMS:
            return own.mean, (f"beta {own.mean:.2f}: {speaker}'s own record ({own.n} scored claims, "
                              f"90% {own.lo:.2f}-{own.hi:.2f})")
        r = self.roles[role]
        return r.mean, (f"beta {r.mean:.2f}: fitted for role {role} from {r.n} scored claims "
                        f"(90% {r.lo:.2f}-{r.hi:.2f}; data/lexicon/calibration.yaml)")


_LOADED: dict[str, Calibration] = {}  # by the file's content (sha256)


def load_calibration(path: str | Path | None = None) -> Calibration:
    """The fitted calibration (``forecast experts --fit`` writes it); malformed → InputError.
    Parsed once per process for each content of the file."""
    import hashlib

    path = Path(path or DEFAULT_CALIBRATION)
    try:
        raw = path.read_bytes()
        key = hashlib.sha256(raw).hexdigest()
        if key not in _LOADED:
            _LOADED[key] = _read_calibration(path, raw.decode("utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), "no such file (run `forecast experts --fit` to make it)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    return _LOADED[key]


def _read_calibration(path: Path, text: str) -> Calibration:
    import yaml

    from forecast.elicit.lexicon import SAFE_LOADER

    try:
        raw = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("roles"), dict) or not raw["roles"]:
        raise InputError(f"{path}, key 'roles'", "must map each role to {mean, lo, hi, n}")

    def beta(where: str, e: Any) -> Beta:
        if not isinstance(e, dict) or set(e) != {"mean", "lo", "hi", "n"}:
            raise InputError(f"{path}, key '{where}'", "must have exactly mean, lo, hi, n")
        for k in ("mean", "lo", "hi", "n"):
            v = e[k]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise InputError(f"{path}, key '{where}.{k}'", f"'{v}' is not a number")
        if not e["lo"] <= e["mean"] <= e["hi"]:
            raise InputError(f"{path}, key '{where}'", "needs lo <= mean <= hi")
        return Beta(float(e["mean"]), float(e["lo"]), float(e["hi"]), int(e["n"]))

    roles = {str(k): beta(f"roles.{k}", v) for k, v in raw["roles"].items()}
    speakers = {str(k): beta(f"speakers.{k}", v) for k, v in (raw.get("speakers") or {}).items()}
    common = beta("common", raw["common"]) if raw.get("common") else None
    v = raw.get("signal_var")
    if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
        raise InputError(f"{path}, key 'signal_var'", f"'{v}' is not a positive number")
    return Calibration(roles=roles, speakers=speakers, common=common, signal_var=float(v),
                       source=str(raw.get("source", "")))


def write_calibration(cal: Calibration, path: str | Path, *, header: str = "") -> None:
    import yaml

    def b(x: Beta) -> dict:
        return {"mean": round(x.mean, 4), "lo": round(x.lo, 4), "hi": round(x.hi, 4), "n": x.n}

    body = {"source": cal.source, "signal_var": round(cal.signal_var, 4),
            "common": b(cal.common) if cal.common else None,
            "roles": {k: b(v) for k, v in cal.roles.items()},
            "speakers": {k: b(v) for k, v in sorted(cal.speakers.items())}}
    Path(path).write_text(header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True),
                          encoding="utf-8")


# --- the record ---------------------------------------------------------------------------------
def load_statements(path: str | Path | None = None, holdouts: pd.DataFrame | None = None,
                    lexicons=None) -> pd.DataFrame:
    """data/statements.csv, checked row by row against the manual (data/STATEMENTS.md, section 6).

    A broken row raises :class:`InputError` naming the file, row (1 = first data row) and column.
    """
    from forecast.cases import ROLES

    path = Path(path or DEFAULT_STATEMENTS)
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            header = tuple(reader.fieldnames or ())
            rows = list(reader)
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(str(path), f"not a readable UTF-8 CSV ({exc})") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(str(path), f"missing column(s) {', '.join(missing)}")
    if holdouts is None:
        from forecast.data import load_holdouts

        holdouts = load_holdouts().frame
    known = holdouts.set_index("case_id")
    prob_lex, time_lex = lexicons or _lexicons()
    seen: set[str] = set()
    for i, r in enumerate(rows, start=1):
        def bad(col: str, rule: str, i=i):
            return InputError(f"{path}, row {i}, column '{col}'", rule)

        for col in ("statement_id", "case_id", "speaker", "role", "date", "quote", "source", "url",
                    "claim_kind", "probability"):
            if not (r.get(col) or "").strip():
                raise bad(col, "is required")
        if r["statement_id"] in seen:
            raise bad("statement_id", f"'{r['statement_id']}' appears twice")
        seen.add(r["statement_id"])
        if r["case_id"] not in known.index:
            raise bad("case_id", f"'{r['case_id']}' is not a holdout of data/holdouts.csv")
        if r["role"] not in ROLES:
            raise bad("role", f"'{r['role']}' is not one of {', '.join(ROLES)}")
        side = (r.get("side") or "").strip()
        if r["role"] == "party_to_conflict" and side not in SIDES:
            raise bad("side", f"a party to the conflict needs side {' or '.join(SIDES)}")
        if r["role"] != "party_to_conflict" and side:
            raise bad("side", "only a party to the conflict has a side")
        try:
            said = date.fromisoformat(r["date"])
        except ValueError:
            raise bad("date", f"'{r['date']}' is not an ISO date") from None
        h = known.loc[r["case_id"]]
        start = pd.Timestamp(h["start_date"]).date()
        end = None if pd.isna(h.get("end_date")) else pd.Timestamp(h["end_date"]).date()
        if (start - said).days > EARLY_DAYS:
            raise bad("date", f"{said} is more than {EARLY_DAYS} days before the holdout's start {start}")
        if end is not None and said > end:
            raise bad("date", f"{said} is after the holdout ended ({end})")
        if r["claim_kind"] not in CLAIM_KINDS:
            raise bad("claim_kind", f"'{r['claim_kind']}' is not one of {', '.join(CLAIM_KINDS)}")
        _probability(r["probability"], prob_lex, lambda rule, i=i: bad("probability", rule))
        tk, tv = (r.get("time_kind") or "").strip(), (r.get("time_value") or "").strip()
        if r["claim_kind"] == "falls_eventually":
            if tk or tv:
                raise bad("time_kind", "a falls_eventually claim has no time")
        else:
            _time(tk, tv, said, time_lex, lambda col, rule, i=i: bad(col, rule))
        cond, met = (r.get("condition") or "").strip(), (r.get("condition_met") or "").strip()
        if cond and met not in ("yes", "no", "unknown"):
            raise bad("condition_met", "a conditional claim needs condition_met yes, no or unknown")
        if not cond and met:
            raise bad("condition_met", "is only for a conditional claim")
    return pd.DataFrame(rows, columns=list(header)).fillna("")


def _lexicons():
    from forecast.elicit import lexicon

    return lexicon.load_probability_lexicon(), lexicon.load_time_lexicon()


def _probability(text: str, lex, bad) -> tuple[float, float]:
    """(mean, variance of the logit) of a stated probability — a number, or a lexicon phrase —
    read as a case file's claim is (:func:`forecast.elicit.claims.read_probability`)."""
    from forecast.elicit.claims import read_probability

    text = text.strip()
    try:
        spec = {"value": float(text)}
    except ValueError:
        spec = {"phrase": text}
    try:
        prob = read_probability(spec, "probability", lex)
    except InputError as exc:
        raise bad(exc.rule) from None
    return prob.mean, prob.logit_var


def _time(kind: str, value: str, said: date, lex, bad) -> None:
    if kind == "days":
        try:
            d = float(value)
        except ValueError:
            raise bad("time_value", f"'{value}' is not a number of days") from None
        if not d > 0:
            raise bad("time_value", f"{value} is not a positive number of days")
    elif kind == "date":
        try:
            d = date.fromisoformat(value)
        except ValueError:
            raise bad("time_value", f"'{value}' is not an ISO date") from None
        if d <= said:
            raise bad("time_value", f"{d} is not after the statement date {said}")
    elif kind == "phrase":
        try:
            lex.lookup(value, on=said)
        except InputError as exc:
            raise bad("time_value", exc.rule) from None
    else:
        raise bad("time_kind", f"'{kind}' is not one of days, date, phrase")


# --- resolving and scoring ----------------------------------------------------------------------
@dataclass(frozen=True)
class Resolved:
    """One claim of the record, read and resolved."""

    statement_id: str
    case_id: str
    war: str
    speaker: str
    role: str
    side: str
    group: str
    event: Any
    p: float
    logit_var: float
    stated_day: float
    pi: float
    outcome: float | None  # the event's membership at the real outcome; None: unresolved
    why: str = ""
    conditional: bool = False


def resolve(statements: pd.DataFrame, dataset, *, seed: int = 0, lexicons=None) -> list[Resolved]:
    """Each claim's event, stated p, base rate (the other holdouts, on the day) and outcome."""
    from dataclasses import replace as dc_replace

    from forecast.elicit.likelihood import BaseRate, Event
    from forecast.outcomes import FALL_TYPES
    from forecast.reference import km_quantile

    prob_lex, time_lex = lexicons or _lexicons()
    frame = dataset.frame.set_index("case_id")
    out: list[Resolved] = []
    #: per holdout: the base rate and the vague-word quantiles of all the *other* holdouts
    others: dict[str, tuple[Any, Any]] = {}
    for _, r in statements.iterrows():
        cid = r["case_id"]
        if cid not in frame.index:
            continue  # left out of the fitted reference class (its inclusion rule)
        h = frame.loc[cid]
        start = pd.Timestamp(h["start_date"]).date()
        said = date.fromisoformat(r["date"])
        day = float(max((said - start).days, 0))
        if cid not in others:
            rest = dataset.frame[dataset.frame["case_id"] != cid].reset_index(drop=True)
            others[cid] = (BaseRate.from_dataset(dataset, exclude_cases=[cid], seed=seed),
                           km_quantile(dc_replace(dataset, frame=rest)))
        base, quant = others[cid]
        p, lv = _probability(r["probability"], prob_lex, lambda rule, cid=cid: InputError(cid, rule))
        kind = r["claim_kind"]
        by = None
        if kind != "falls_eventually":
            by = _boundary(r["time_kind"], r["time_value"], said, start, time_lex, quant)
        event = Event(kind, by=by)
        pi = base.probability(event, day)
        outcome, why = _outcome(event, h, r, FALL_TYPES)
        stated = str(r.get("outcome", "") or "").strip()
        if stated and stated != outcome_text(outcome, why):
            raise InputError(f"statement '{r['statement_id']}', column 'outcome'",
                             f"'{stated}' disagrees with data/holdouts.csv, which gives "
                             f"'{outcome_text(outcome, why)}'")
        out.append(Resolved(statement_id=r["statement_id"], case_id=cid, war=str(h.get("war", "")),
                            speaker=r["speaker"], role=r["role"], side=r.get("side", ""),
                            group=r.get("source_group", ""), event=event, p=p, logit_var=lv,
                            stated_day=day, pi=pi, outcome=outcome, why=why,
                            conditional=bool((r.get("condition") or "").strip())))
    return out


def _boundary(kind: str, value: str, said: date, start: date, lex, quant):
    """A row's time, read as a case file's would be (:func:`forecast.elicit.claims.time_boundary`)."""
    from forecast.elicit.claims import time_boundary

    spec = {"days": float(value)} if kind == "days" else {kind if kind == "date" else "phrase": value}
    return time_boundary(spec, "time_value", said=said, start=start, time_lexicon=lex,
                         quantile=quant)[0]


def outcome_text(outcome: float | None, why: str) -> str:
    """How the ``outcome`` column writes a resolved claim: 1, 0, a share in (0, 1) when the fall
    came inside a soft boundary, or ``unresolved (why)``."""
    if outcome is None:
        return f"unresolved ({why})"
    return f"{outcome:.3f}".rstrip("0").rstrip(".") if 0 < outcome < 1 else str(int(outcome))


def _outcome(event, h, r, fall_types) -> tuple[float | None, str]:
    cond, met = (r.get("condition") or "").strip(), (r.get("condition_met") or "").strip()
    if cond and met != "yes":
        return None, f"condition {met or 'unknown'}"
    duration = float(h["duration_days"])
    if h["outcome"] in fall_types:
        return float(event.membership(np.array([duration]))[0]), "fell"
    if h["outcome"] == "ongoing":
        if event.last_day() <= duration:  # decided while it still stood
            return float(event.membership(np.array([np.inf]))[0]), "decided before the data date"
        return None, "ongoing"
    return float(event.membership(np.array([np.inf]))[0]), f"{h['outcome']} (did not fall)"


def claim_rows(evidence) -> list[dict[str, Any]]:
    """The duration claims of an :class:`~forecast.elicit.update.Evidence`, as ledger rows."""
    weighed = {w.label: w for w in evidence.weighed}
    out = []
    for c in evidence.claims:
        if c.kind == "effect" or c.event is None:
            continue
        e = c.event
        pi = weighed[c.label].pi if c.label in weighed else float("nan")
        out.append({"label": c.label, "statement_id": c.statement_id, "speaker": c.speaker,
                    "role": c.role, "stated_day": c.stated_day, "kind": e.kind,
                    "by_lo": e.by.lo if e.by else None, "by_hi": e.by.hi if e.by else None,
                    "start_lo": e.start.lo if e.start else None,
                    "start_hi": e.start.hi if e.start else None, "p": c.prob.mean,
                    "logit_var": c.prob.logit_var, "base_rate": pi, "source_group": c.group,
                    "conditional": int(c.condition is not None)})
    return out


def ledger_resolved(ledger) -> list[Resolved]:
    """The ledger's kept claims, resolved against the outcomes recorded there (a claim whose case
    has no outcome yet, or is still standing before its event is decided, stays unresolved)."""
    from forecast.elicit.likelihood import Boundary, Event
    from forecast.outcomes import FALL_TYPES

    outcomes = ledger.outcomes()
    out = []
    for r in ledger.claims():
        by = None if r["by_lo"] is None else Boundary(r["by_lo"], r["by_hi"])
        start = None if r["start_lo"] is None else Boundary(r["start_lo"], r["start_hi"])
        event = Event(r["kind"], by=by, start=start)
        o = outcomes.get(r["case_id"])
        value, why = None, "no outcome recorded"
        if o is not None and not r["conditional"]:
            kind, when = o
            days = float((when - date.fromisoformat(r["start_date"])).days)
            if kind in FALL_TYPES:
                value, why = float(event.membership(np.array([days]))[0]), "fell"
            elif kind == "standing":
                if event.last_day() <= days:
                    value, why = float(event.membership(np.array([np.inf]))[0]), "standing"
                else:
                    why = "still standing, not yet decided"
            else:
                value, why = float(event.membership(np.array([np.inf]))[0]), f"{kind} (did not fall)"
        elif r["conditional"]:
            why = "conditional (its condition is not recorded)"
        out.append(Resolved(statement_id=f"ledger:{r['case_id']}:{r['label']}", case_id=r["case_id"],
                            war="", speaker=r["speaker"], role=r["role"], side="",
                            group=r["source_group"] or "", event=event, p=r["p"],
                            logit_var=r["logit_var"], stated_day=r["stated_day"],
                            pi=r["base_rate"], outcome=value, why=why,
                            conditional=bool(r["conditional"])))
    return out


def scored(resolved: list[Resolved]) -> pd.DataFrame:
    """The resolved claims with their Brier and log scores, and the base rate's."""
    from forecast.elicit.likelihood import EPS

    rows = []
    for c in resolved:
        if c.outcome is None:
            continue
        p, pi, y = (float(np.clip(v, EPS, 1 - EPS)) for v in (c.p, c.pi, c.outcome))
        rows.append({"statement_id": c.statement_id, "case_id": c.case_id, "war": c.war,
                     "speaker": c.speaker, "role": c.role, "side": c.side, "group": c.group,
                     "p": c.p, "base_rate": c.pi, "outcome": c.outcome,
                     "brier": (c.p - c.outcome) ** 2, "brier_base": (c.pi - c.outcome) ** 2,
                     "log": y * math.log(p) + (1 - y) * math.log(1 - p),
                     "log_base": y * math.log(pi) + (1 - y) * math.log(1 - pi),
                     "logit_var": c.logit_var})
    return pd.DataFrame(rows)


def record_by(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Mean scores by ``key`` (speaker, role, side): claims, Brier (speaker and base rate), log
    score, and the share of claims that came true."""
    if table.empty:
        return pd.DataFrame()
    g = table.groupby(key)
    out = pd.DataFrame({"claims": g.size(), "mean_p": g["p"].mean(), "came_true": g["outcome"].mean(),
                        "brier": g["brier"].mean(), "brier_base_rate": g["brier_base"].mean(),
                        "log_score": g["log"].mean(), "log_score_base_rate": g["log_base"].mean()})
    out["brier_skill"] = 1 - out["brier"] / out["brier_base_rate"].where(out["brier_base_rate"] > 0)
    return out.sort_values("claims", ascending=False)


# --- fitting beta -------------------------------------------------------------------------------
def signal_variance(table: pd.DataFrame) -> float:
    """V: the variance of the stated logits across the record, less their reading noise."""
    from forecast.elicit.likelihood import logit

    x = logit(table["p"].to_numpy(dtype=float))
    v = float(np.var(x, ddof=1)) - float(np.mean(table["logit_var"]))
    return max(v, 0.5)


def fit(table: pd.DataFrame, *, seed: int = 0, draws: int = 1000, tune: int = 1000,
        chains: int = 2, roles: tuple[str, ...] | None = None) -> Calibration:
    """beta by role (partially pooled toward a common beta) and by speaker (pooled within role),
    from the scored claims ``table`` (:func:`scored`). PyMC, sampled by nutpie."""
    import nutpie
    import pymc as pm

    from forecast.cases import ROLES
    from forecast.elicit.likelihood import logit, reliability

    roles = roles or ROLES
    V = signal_variance(table)
    x = logit(table["p"].to_numpy(dtype=float))
    o = logit(table["base_rate"].to_numpy(dtype=float))
    lam = np.array([reliability(s, V) for s in table["logit_var"]])
    y = table["outcome"].to_numpy(dtype=float)
    groups = table["group"].fillna("").astype(str)
    sizes = groups[groups != ""].value_counts()
    n_group = np.array([float(sizes[g]) if g else 1.0 for g in groups])
    role_idx = np.array([roles.index(r) for r in table["role"]])
    speakers = sorted(table["speaker"].unique())
    spk_idx = np.array([speakers.index(s) for s in table["speaker"]])
    with pm.Model(coords={"role": list(roles), "speaker": speakers}) as model:
        mu = pm.Normal("beta_common", 0.5, 1.0)
        tau = pm.HalfNormal("tau_role", 0.5)
        z = pm.Normal("z_role", 0.0, 1.0, dims="role")
        beta_role = pm.Deterministic("beta_role", mu + tau * z, dims="role")
        tau_s = pm.HalfNormal("tau_speaker", 0.3)
        zs = pm.Normal("z_speaker", 0.0, 1.0, dims="speaker")
        beta_spk = pm.Deterministic("beta_speaker", beta_role[role_idx] + tau_s * zs[spk_idx])
        eta = o + beta_spk * lam * (x - o)
        ll = y * -pm.math.log1pexp(-eta) + (1 - y) * -pm.math.log1pexp(eta)
        pm.Potential("claims", pm.math.sum(ll / n_group))
    compiled = nutpie.compile_pymc_model(model)
    trace = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=int(seed),
                          progress_bar=False, cores=min(chains, 2))
    post = trace["posterior"].dataset

    def summary(values: np.ndarray, n: int) -> Beta:
        v = np.asarray(values).reshape(-1)
        return Beta(float(v.mean()), float(np.quantile(v, 0.05)), float(np.quantile(v, 0.95)), n)

    counts = table["role"].value_counts()
    role_b = {r: summary(post["beta_role"].sel(role=r).values, int(counts.get(r, 0))) for r in roles}
    spk_draws = post["beta_speaker"].values.reshape(-1, len(table))
    spk_b = {}
    for s in speakers:
        cols = np.flatnonzero(table["speaker"].to_numpy() == s)
        spk_b[s] = summary(spk_draws[:, cols[0]], int(cols.size))
    return Calibration(roles=role_b, speakers=spk_b,
                       common=summary(post["beta_common"].values, len(table)), signal_var=V,
                       source=f"fitted by forecast.elicit.calibration.fit from {len(table)} scored "
                              f"claims of data/statements.csv (seed {seed}, {chains}x{draws} draws)")


def predicted(table: pd.DataFrame, cal: Calibration) -> np.ndarray:
    """P(event) for each scored claim under a calibration: what a forecast from the base rate
    would say after the claim (the speaker's or the role's beta, by the documented rule)."""
    from forecast.elicit.likelihood import logit, reliability

    x = logit(table["p"].to_numpy(dtype=float))
    o = logit(table["base_rate"].to_numpy(dtype=float))
    lam = np.array([reliability(s, cal.signal_var) for s in table["logit_var"]])
    beta = np.array([cal.beta_for(s, r)[0] for s, r in zip(table["speaker"], table["role"], strict=True)])
    return 1.0 / (1.0 + np.exp(-(o + beta * lam * (x - o))))


__all__ = ["Beta", "Calibration", "MIN_SPEAKER_CLAIMS", "Resolved", "fit", "load_calibration",
           "load_statements", "predicted", "record_by", "resolve", "scored", "write_calibration"]
