"""Tables the notebooks show about a dataset, its units and the models' results."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from src.data_loader import SPLITS, RULData, read_unit_frame
from src.summary import units_table


def units_overview(data: RULData) -> pd.DataFrame:
    """Units table with end of life and, for N-CMAPSS files, the onset cycle.

    End of life is the cycle at which RUL reaches 0 (last cycle + last RUL). The
    onset of abnormal degradation is the first cycle with health state hs = 0.
    """
    table = units_table(data)
    table["end_of_life"] = [
        int(record.cycle[-1] + record.rul[-1]) for record in data.units
    ]
    if Path(data.source).suffix == ".h5":
        onsets = onset_cycles(data.source)
        table["onset_cycle"] = [onsets.get(unit) for unit in table.index]

    return table


def onset_cycles(path: str) -> dict[int, int]:
    """First cycle with health state hs = 0 of each unit, from one pass over A."""
    onsets = {}
    with h5py.File(path, "r") as file:
        for split in SPLITS:
            auxiliary = file[f"A_{split}"]
            columns = {"unit": auxiliary[:, 0], "cycle": auxiliary[:, 1]}
            frame = pd.DataFrame({**columns, "hs": auxiliary[:, 3]})
            degraded = frame[frame["hs"] == 0].groupby("unit")["cycle"].min()
            onsets.update({int(u): int(c) for u, c in degraded.items()})

    return onsets


def per_flight_means(path: str, unit: int, columns: list[str]) -> pd.DataFrame:
    """Mean of `columns` per flight cycle of one N-CMAPSS unit, with its RUL."""
    frame = read_unit_frame(path, unit)

    return frame.groupby("cycle")[[*columns, "RUL"]].mean()


def sample_rows(data: RULData, rows: int, seed: int = 0) -> pd.DataFrame:
    """Up to `rows` random rows of every unit's features with RUL, unit and class."""
    rng = np.random.default_rng(seed)
    parts = []
    for record in data.units:
        chosen = np.sort(rng.choice(record.rows, min(rows, record.rows), replace=False))
        part = pd.DataFrame(record.features[chosen], columns=data.feature_names)
        part["RUL"] = record.rul[chosen]
        part["unit"] = record.unit
        part["flight_class"] = record.flight_class
        parts.append(part)

    return pd.concat(parts, ignore_index=True)
