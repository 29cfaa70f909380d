"""Shared fixtures: tiny N-CMAPSS-layout files written with exact, known contents."""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CMAPSS_DIR = ROOT.parent / "shared" / "data" / "cmapss"
GROUP_NAMES = {
    "W": ["alt", "Mach", "TRA", "T2"],
    "X_s": ["T24", "T30", "T48", "T50", "P15", "P2", "P21", "P24", "Ps30", "P40"]
    + ["P50", "Nf", "Nc", "Wf"],
    "X_v": ["T40", "P30", "P45", "W21", "W22", "W25", "W31", "W32", "W48", "W50"]
    + ["SmFan", "SmLPC", "SmHPC", "phi"],
    "T": [
        f"{part}_{kind}_mod"
        for part in ("fan", "LPC", "HPC", "HPT", "LPT")
        for kind in ("eff", "flow")
    ],
    "A": ["unit", "cycle", "Fc", "hs"],
}
# unit -> (split, flights, rows per flight), in file order: unsorted like DS02.
TINY_UNITS = {
    2: ("dev", 4, 5),
    5: ("dev", 3, 6),
    10: ("dev", 5, 4),
    11: ("test", 3, 5),
    14: ("test", 2, 7),
}


def unit_arrays(unit: int, flights: int, rows_per_flight: int) -> dict:
    """Deterministic arrays of one unit; every value encodes (unit, row, column)."""
    rows = flights * rows_per_flight
    cycle = np.repeat(np.arange(1, flights + 1), rows_per_flight)
    row = np.arange(rows)
    arrays = {}
    for offset, group in enumerate(("W", "X_s", "X_v", "T")):
        columns = np.arange(len(GROUP_NAMES[group]))
        values = unit * 1000.0 + row[:, None] + (offset * 100 + columns) / 1000.0
        arrays[group] = values
    hs = (cycle <= flights // 2).astype(float)
    arrays["A"] = np.column_stack([np.full(rows, unit), cycle, np.full(rows, 3), hs])
    arrays["Y"] = (flights - cycle).astype(np.int64)[:, None]

    return arrays


def write_ncmapss(path: Path, units: dict = TINY_UNITS, drop=(), mutate=None) -> Path:
    """Write a file with the exact N-CMAPSS layout holding `units`.

    Args:
        path: Target file.
        units: unit -> (split, flights, rows per flight), in file order.
        drop: Keys to leave out.
        mutate: Optional callable(dict of key -> array) changing arrays before writing.
    """
    data = {}
    for split in ("dev", "test"):
        parts = [unit_arrays(u, f, r) for u, (s, f, r) in units.items() if s == split]
        for group in ("W", "X_s", "X_v", "T", "A", "Y"):
            data[f"{group}_{split}"] = np.concatenate([p[group] for p in parts])
    for group, names in GROUP_NAMES.items():
        data[f"{group}_var"] = np.array(names, dtype="S")
    if mutate is not None:
        mutate(data)
    with h5py.File(path, "w") as file:
        for key, values in data.items():
            if key not in drop:
                file.create_dataset(key, data=values)

    return path


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    return write_ncmapss(tmp_path / "N-CMAPSS_tiny.h5")


@pytest.fixture
def real_dir() -> Path:
    if not (CMAPSS_DIR / "SHA256SUMS").is_file():
        pytest.skip(f"real C-MAPSS files are absent from {CMAPSS_DIR}")

    return CMAPSS_DIR
