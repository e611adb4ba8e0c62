"""Write a forecast to a directory: forecast.json, survival.csv, and the fan chart
(survival.png/.svg) and fall-date chart (fall_date.png/.svg).

Files are written into a temporary directory beside the target and moved into place, so a
failure leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from forecast.cases import Case
from forecast.predict import Forecast


def write_forecast(forecast: Forecast, case: Case, out_dir: str | Path, *,
                   charts: bool = True) -> dict[str, Path]:
    """Write the forecast's files into ``out_dir`` (created if needed): forecast.json,
    survival.csv and, unless ``charts`` is False, the fan and fall-date charts (PNG and SVG;
    matplotlib is imported only then). Returns their paths."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        from datetime import UTC, datetime

        record = forecast.to_dict() | {"case_name": case.name,
                                       "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
        (tmp / "forecast.json").write_text(json.dumps(record, indent=2) + "\n")
        forecast.survival.to_csv(tmp / "survival.csv", index=False, float_format="%.5f")
        outcome = case.outcome.end_date if case.outcome and case.outcome.status != "ongoing" else None
        if outcome is not None and outcome < forecast.as_of:
            outcome = None
        if charts:
            from forecast import charts as draw

            draw.save(draw.survival_fan(forecast, name=case.name, outcome_date=outcome),
                      tmp / "survival")
            draw.save(draw.fall_date_chart(forecast, name=case.name, outcome_date=outcome),
                      tmp / "fall_date")
        out.mkdir(exist_ok=True)
        written = {}
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
            written[f.name] = out / f.name
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_table(runs, path: str | Path) -> Path:
    """The forecasts of one case at several dates, one row per as_of: P(falls within 7/30/90/365
    days) and the median days remaining (CSV, written atomically)."""
    import pandas as pd

    rows = []
    for run in runs:
        s = run.forecast.summary()
        rows.append({"as_of": run.case.as_of.isoformat(), "held_days": int(run.case.held_days),
                     **{f"p_fall_within_{h}": v for h, v in s["p_fall_within"].items()},
                     "median_days_remaining": s["days_remaining"]["0.5"],
                     "median_date": s["median_date"]})
    return write_csv(pd.DataFrame(rows), path)


def write_csv(frame, path: str | Path) -> Path:
    """Write a DataFrame as CSV atomically (a temporary file beside it, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".csv.tmp")
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
