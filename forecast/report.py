"""Write a forecast to a directory: forecast.json, survival.csv, survival.png and .svg.

Files are written into a temporary directory beside the target and moved into place, so a
failure leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from forecast import charts
from forecast.cases import Case
from forecast.predict import Forecast


def write_forecast(forecast: Forecast, case: Case, out_dir: str | Path) -> dict[str, Path]:
    """Write the forecast's files into ``out_dir`` (created if needed); returns their paths."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        record = forecast.to_dict() | {"case_name": case.name}
        (tmp / "forecast.json").write_text(json.dumps(record, indent=2) + "\n")
        forecast.survival.to_csv(tmp / "survival.csv", index=False, float_format="%.5f")
        outcome = case.outcome.end_date if case.outcome and case.outcome.status != "ongoing" else None
        if outcome is not None and outcome < forecast.as_of:
            outcome = None
        charts.save(charts.survival_fan(forecast, outcome_date=outcome), tmp / "survival")
        out.mkdir(exist_ok=True)
        written = {}
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
            written[f.name] = out / f.name
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
