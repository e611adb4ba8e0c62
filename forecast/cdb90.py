"""Load CDB90, an engagement-level secondary reference class (660 battles, 1600-1982).

The files in ``data/cdb90/`` are the tidy edition by Jeffrey B. Arnold (ODC-BY 1.0) of the US Army
CAA database; see ``data/cdb90/ATTRIBUTION.md`` and ``data/README_cdb90.md``. These are battles
lasting hours to days, not sieges: use them for checks of force-ratio, terrain and posture effects,
not as holdouts.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import InputError

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "data" / "cdb90"

#: Columns each file must have; only these are read.
REQUIRED: dict[str, tuple[str, ...]] = {
    "battles.csv": ("isqno", "war", "name", "post1", "parent"),
    "battle_durations.csv": ("isqno", "datetime_min", "datetime_max", "duration1"),
    "belligerents.csv": ("isqno", "attacker", "str"),
    "terrain.csv": ("isqno", "terrano", "terra1", "terra3"),
    "CDB90-patched.csv": ("ISQNO", "WINA"),
}
#: First character of the CAA terrain code (CDB90 codebook, note 3; as in enum_terra1.csv).
RELIEF = {"G": "rugged", "R": "rolling", "F": "flat"}
TERRAINS = ("flat", "rolling", "rugged", "urban")
POSTURES = ("HD", "PD", "FD", "DL", "WD")
WINA_UNKNOWN = -9


def _read(directory: Path, name: str) -> pd.DataFrame:
    path = directory / name
    if not path.is_file():
        raise InputError(str(path), "file not found")
    header = pd.read_csv(path, nrows=0).columns
    for col in REQUIRED[name]:
        if col not in header:
            raise InputError(f"{path}, column '{col}'", "required column missing")
    return pd.read_csv(path, usecols=list(REQUIRED[name]), low_memory=False)


def _unique(frame: pd.DataFrame, key: str, path: Path) -> pd.DataFrame:
    dup = frame[key].duplicated()
    if dup.any():
        line = int(np.flatnonzero(dup)[0]) + 2
        raise InputError(f"{path}, line {line}, column '{key}'", "battle number repeated")
    return frame.set_index(key)


def _check_codes(frame: pd.DataFrame, col: str, allowed: Collection[object], path: Path) -> None:
    bad = frame[col].notna() & ~frame[col].isin(list(allowed))
    if bad.any():
        line = int(np.flatnonzero(bad)[0]) + 2
        raise InputError(f"{path}, line {line}, column '{col}'", f"code not in {sorted(allowed)}")


def _terrain(terrain: pd.DataFrame) -> pd.Series:
    """One terrain class per battle: urban if any terrain row is urban, else the relief of the
    lowest-numbered row that gives one, else missing."""
    terrain = terrain.sort_values(["isqno", "terrano"])
    urban = terrain["terra3"].eq("U").groupby(terrain["isqno"]).any()
    relief = terrain.dropna(subset=["terra1"]).groupby("isqno")["terra1"].first().map(RELIEF)
    out = relief.reindex(urban.index).where(~urban, "urban")
    return out.astype(pd.CategoricalDtype(TERRAINS))


def _days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Days from ISO ``start`` to ``end``; via ``datetime`` because pandas' nanosecond timestamps
    cannot hold dates before 1677."""
    days = [
        (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 86400
        if isinstance(a, str) and isinstance(b, str)
        else np.nan
        for a, b in zip(start, end, strict=True)
    ]
    return pd.Series(days, index=start.index, dtype=float)


def load_cdb90(directory: str | Path | None = None) -> pd.DataFrame:
    """Load CDB90 as one row per battle with a usable duration.

    Parameters
    ----------
    directory : str or Path, optional
        Folder holding the CDB90 CSV files; default ``data/cdb90`` in the repository.

    Returns
    -------
    pandas.DataFrame
        Indexed 0..n-1, sorted by ``isqno``, with columns

        - ``isqno`` (int), ``name``, ``war``, ``year`` (start year, from ``datetime_min``);
        - ``duration_days``: ``max(duration1, 1)`` from battle_durations.csv. ``duration1`` is
          already >= 1 in the shipped data (no zeros) and not always whole: it is the span from the
          earliest to the latest *start* of the battle's active periods plus one day, so a battle
          fought in one active period counts as 1 day (2 if its start is known only to the day)
          however long that period ran;
        - ``span_days``: ``max(datetime_max - datetime_min, 1)`` in days, from the earliest start
          to the latest end of the active periods: the elapsed span, which does see long battles
          (Ypres III 130, Melitopol 41, where ``duration1`` is 2). It exceeds ``duration_days`` + 1
          for 139 battles and is below it for 164 (one-day battles dated only to the day);
        - ``attacker_strength``, ``defender_strength``: belligerents.csv ``str`` (NaN if unknown);
        - ``log_force_ratio``: log(attacker / defender), NaN where either strength is unknown;
        - ``terrain``: categorical flat/rolling/rugged/urban -- ``urban`` if any terrain row has
          ``terra3 == "U"``, else ``terra1`` of the lowest-numbered terrain row that has one, with
          G = rugged, R = rolling, F = flat (CAA codebook note 3 and enum_terra1.csv; note that
          ATTRIBUTION.md swaps R and G); NaN when no terrain is recorded;
        - ``defender_posture``: ``post1`` (HD hasty, PD prepared, FD fortified defence, DL delay,
          WD withdrawal), categorical, NaN if not available;
        - ``wina``: ``WINA`` from CDB90-patched.csv (1 attacker won, -1 defender won, 0 draw;
          -9 unknown becomes NaN); ``attacker_won``: nullable boolean, NA where ``wina`` is NaN;
        - ``event``: True when the attacker won (the defender's position fell) at
          ``duration_days``; draws, defender wins and unknown outcomes are right-censored there;
        - ``parent``: the ``isqno`` of the larger battle this one is a phase of (nullable int),
          so that sub-engagements can be left out of a fit.

        ``attrs`` holds ``directory``, ``version`` (from version.csv, if present) and
        ``dropped_isqno``: the battles left out for want of a duration (429 Aprilia II and
        435 San Martino in the shipped data, so 658 rows).

    Raises
    ------
    InputError
        A file or required column is missing, a battle number repeats, a posture, relief or
        outcome code is unknown, or a battle lacks exactly one attacker and one defender row.
    """
    directory = Path(directory) if directory is not None else DEFAULT_DIR
    battles = _unique(_read(directory, "battles.csv"), "isqno", directory / "battles.csv")
    durations = _unique(
        _read(directory, "battle_durations.csv"), "isqno", directory / "battle_durations.csv"
    )
    patched = _unique(
        _read(directory, "CDB90-patched.csv"), "ISQNO", directory / "CDB90-patched.csv"
    )
    bell = _read(directory, "belligerents.csv")
    terrain = _read(directory, "terrain.csv")

    _check_codes(battles, "post1", POSTURES, directory / "battles.csv")
    _check_codes(terrain, "terra1", RELIEF, directory / "terrain.csv")
    _check_codes(patched, "WINA", (-9, -1, 0, 1), directory / "CDB90-patched.csv")
    sides = bell.groupby("isqno")["attacker"].agg(["count", "sum"]).reindex(battles.index)
    bad = sides.index[(sides["count"] != 2) | (sides["sum"] != 1)]
    if len(bad):
        raise InputError(
            f"{directory / 'belligerents.csv'}, isqno {bad[0]}",
            "each battle needs exactly one attacker row and one defender row",
        )
    strength = bell.pivot(index="isqno", columns="attacker", values="str")

    out = pd.DataFrame(index=battles.index)
    out["name"] = battles["name"]
    out["war"] = battles["war"]
    start = durations["datetime_min"].reindex(out.index)
    out["year"] = pd.to_numeric(start.str.slice(0, 4), errors="coerce").astype("Int64")
    out["duration_days"] = durations["duration1"].reindex(out.index).astype(float).clip(lower=1.0)
    span = _days_between(start, durations["datetime_max"].reindex(out.index))
    out["span_days"] = span.clip(lower=1.0)
    out["attacker_strength"] = strength[1].reindex(out.index).astype(float)
    out["defender_strength"] = strength[0].reindex(out.index).astype(float)
    ratio = out["attacker_strength"] / out["defender_strength"]
    out["log_force_ratio"] = np.log(ratio.where(ratio > 0))
    out["terrain"] = _terrain(terrain).reindex(out.index)
    out["defender_posture"] = battles["post1"].astype(pd.CategoricalDtype(POSTURES))
    wina = pd.to_numeric(patched["WINA"], errors="coerce").reindex(out.index)
    out["wina"] = wina.where(wina != WINA_UNKNOWN).astype(float)
    out["attacker_won"] = (out["wina"] == 1).astype("boolean").mask(out["wina"].isna())
    out["event"] = out["wina"].eq(1)
    out["parent"] = battles["parent"].astype("Int64")

    usable = out["duration_days"].notna()
    dropped = [int(i) for i in out.index[~usable]]
    out = out[usable].sort_index().reset_index(names="isqno")
    out["isqno"] = out["isqno"].astype(int)
    version = directory / "version.csv"
    out.attrs = {
        "directory": str(directory),
        "version": str(pd.read_csv(version, dtype=str)["version"].iloc[0])
        if version.is_file()
        else None,
        "dropped_isqno": dropped,
    }
    return out
