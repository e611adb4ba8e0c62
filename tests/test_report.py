"""The self-contained HTML report: it parses, refers to nothing outside itself, escapes every
input text, and carries the charts and tables it promises (real forecast objects)."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from conftest import PANJSHIR

from forecast.cases import load_case
from forecast.html_report import build, write
from forecast.workflow import run_case


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.images, self.text, self.stack, self.errors = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag not in ("meta", "br", "img", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_run(weibull_posterior, synthetic_dataset):
    case = load_case(PANJSHIR)
    case = replace(case, name="<script>alert(1)</script> & Co", outcome=None)
    # the small test posterior does not pass the production diagnostics gate; it need not here
    return run_case(case, synthetic_dataset, model="weibull", seed=3, posterior=weibull_posterior,
                    baselines=False, allow_unreliable=True)


def test_the_report_parses_is_self_contained_and_escapes_input(hostile_run, tmp_path):
    path = write(hostile_run, tmp_path)
    text = path.read_text(encoding="utf-8")
    p = _Collect()
    p.feed(text)
    p.close()
    assert p.errors == [] and p.stack == []  # every element closed
    # nothing outside the file: no scripts, stylesheets, fonts or images from elsewhere
    assert "script" not in p.tags and "link" not in p.tags and "iframe" not in p.tags
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text)
    assert "url(" not in text and "@import" not in text
    # the hostile name is shown as text, never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in text
    assert "<script>alert(1)</script> & Co" in "".join(p.text)
    # the charts are embedded PNGs; the tables are beside it as CSV
    assert len(p.images) == 3 and all(i["src"].startswith("data:image/png;base64,") for i in p.images)
    assert {f.name for f in tmp_path.iterdir()} >= {"report.html", "report_statements.csv",
                                                   "report_horizons.csv", "report_indicators.csv"}


def test_the_report_carries_the_forecast_the_statements_and_the_record(hostile_run):
    import pandas as pd

    skill = pd.DataFrame({"model": ["lognormal"], "score": ["twcrps"], "estimate": [0.108]})
    text = build(hostile_run, backtest=skill)
    s = hostile_run.forecast.summary()
    assert f"{s['p_fall_within']['30']:.2f}" in text or str(s["p_fall_within"]["30"]) in text
    for st in hostile_run.case.statements:  # every statement, escaped, with its speaker
        assert st.speaker in text
    assert "I don&#x27;t think Massoud&#x27;s son can resist" in text
    assert "The model's record (backtest)" in text and "0.108" in text
    # an indicator resting on few reference cases (forecast.extra["sparse_levels"], computed by
    # predict and tested there) is flagged in its row, and only that one
    import copy

    flagged = copy.copy(hostile_run)
    sparse = [{"indicator": "approach_routes", "level": "single", "cases": 5}]
    flagged.forecast = replace(hostile_run.forecast,
                               extra=hostile_run.forecast.extra | {"sparse_levels": sparse})
    shown = build(flagged)
    assert re.search(r"<td>approach_routes</td><td>single</td><td>yes: few reference cases", shown)
    assert shown.count("yes: few reference cases") == 1
    assert "yes: few reference cases" not in build(hostile_run) or hostile_run.forecast.extra.get(
        "sparse_levels")


def _chromium() -> str:
    """Debian's chromium: found, or installed with apt-get where missing (root only); else skip
    with the reason."""
    import os
    import shutil
    import subprocess

    path = shutil.which("chromium")
    if path:
        return path
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and cannot be installed here (no apt-get or not root)")
    proc = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600)
        proc = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True,
                              text=True, timeout=900)
    path = shutil.which("chromium")
    if not path:
        pytest.skip(f"chromium could not be installed: {proc.stderr.strip()[-300:]}")
    return path


def test_a_headless_browser_decodes_every_image_without_console_errors(hostile_run, tmp_path):
    """Debian's chromium opens the report: every image decodes, and the console stays clean. The
    check script goes into a test copy only (the report itself has no script)."""
    import subprocess

    browser = _chromium()
    text = write(hostile_run, tmp_path).read_text(encoding="utf-8")
    probe = ("<script>window.addEventListener('load', () => {"
             "const imgs = [...document.images];"
             "const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;"
             "document.body.setAttribute('data-images', ok + '/' + imgs.length);});</script>")
    page = tmp_path / "probe.html"
    page.write_text(text.replace("</body>", probe + "</body>"), encoding="utf-8")
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert 'data-images="3/3"' in proc.stdout
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln]
    assert console == [], console


def test_a_backtest_record_adds_its_chart(hostile_run):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    p = rng.uniform(size=120)
    table = pd.DataFrame({"model": "weibull", "p_30": p, "fell_30": (rng.uniform(size=120) < p) * 1.0,
                          "pit": rng.uniform(size=120), "cov80": 1.0})
    skill = pd.DataFrame({"model": ["weibull"], "score": ["twcrps"], "baseline": ["climatology_aj"],
                          "estimate": [0.1], "lower": [0.05], "upper": [0.15]})
    text = build(hostile_run, backtest=skill, record=(table, skill, "weibull"))
    p_ = _Collect()
    p_.feed(text)
    assert len(p_.images) == 4 and p_.errors == []


def test_the_case_history_from_a_real_ledger_adds_the_evolution_chart(hostile_run, tmp_path):
    """Recorded forecasts of the case at several dates (a real SQLite ledger): the newest per
    as_of of the current model id is drawn, with the case's events listed and escaped."""
    from datetime import timedelta

    from forecast.cli import _case_history
    from forecast.ledger import Ledger

    rec = hostile_run.record()
    recs = [replace(rec, as_of=rec.as_of + timedelta(days=k), issued_at="") for k in (0, 4, 9)]
    stale = replace(rec, as_of=rec.as_of + timedelta(days=2), model_id="old-model", issued_at="")
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.record_many([*recs, stale])
    history = _case_history(Ledger(path, create=False), rec.case_id, rec.model, rec.model_id)
    assert sorted(r.as_of for r in history) == [r.as_of for r in recs]  # the stale id left out
    text = build(hostile_run, history=history)
    p_ = _Collect()
    p_.feed(text)
    assert "How the forecast changed" in text and len(p_.images) == 4 and p_.errors == []
    for event in hostile_run.case.events:
        assert html.escape(event.event, quote=True) in text
    assert build(hostile_run, history=history[:1]).count("How the forecast changed") == 0


def test_a_stored_backtest_is_shown_with_its_run_and_a_stale_model_id_is_said(hostile_run, tmp_path):
    """`forecast report --record DIR` reads what `forecast backtest --out DIR` wrote: skill, the
    scores for the record chart, and which run and model id they are of."""
    import json

    import numpy as np
    import pandas as pd

    from forecast.cli import _stored_backtest
    from forecast.errors import InputError

    with pytest.raises(InputError, match="has no .*backtest_loo_scores.csv"):
        _stored_backtest(str(tmp_path), "weibull", "weibull-x")
    rng = np.random.default_rng(2)
    p = rng.uniform(size=60)
    pd.DataFrame({"model": "weibull", "p_30": p, "fell_30": (rng.uniform(size=60) < p) * 1.0,
                  "pit": rng.uniform(size=60), "cov80": 1.0}).to_csv(tmp_path / "backtest_loo_scores.csv")
    pd.DataFrame({"model": ["weibull"], "score": ["twcrps"], "baseline": ["climatology_aj"],
                  "estimate": [0.1], "lower": [0.05], "upper": [0.15]}).to_csv(
        tmp_path / "backtest_loo_skill.csv", index=False)
    (tmp_path / "backtest_loo_run.json").write_text(json.dumps(
        {"run_id": "r1", "code_ids": {"weibull": "weibull-old"}, "made": "2026-11-26T04:00:00",
         "dataset_hash": "abcdef0123456789"}))
    from models import get_model

    current = get_model("weibull").code_id()
    skill, record, note = _stored_backtest(str(tmp_path), "weibull", current)
    assert ("backtest r1 of weibull (code id weibull-old), made 2026-11-26 on reference data "
            "abcdef012345") in note
    assert "another version of the model" in note  # the forecast's code differs
    _, _, same = _stored_backtest(str(tmp_path), "weibull", "weibull-old")
    assert "another version" not in same
    text = build(hostile_run, backtest=skill, record=record, record_note=note)
    p_ = _Collect()
    p_.feed(text)
    assert len(p_.images) == 4 and p_.errors == [] and html.escape(note) in text
