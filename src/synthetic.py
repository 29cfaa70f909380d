"""Synthetic N-CMAPSS files: DS02's fleet in the exact HDF5 layout of NASA's data.

The project's default dataset, so every loader path runs without the real files. Units,
splits, flight classes, end of life, onset of abnormal degradation and rows per unit
are DS02's; flights, health and sensors come from a small physical-looking engine model
in which degradation shifts the sensors by amounts that depend on the operating point.
"""

import argparse
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from src.files import atomic_path

W_NAMES = ("alt", "Mach", "TRA", "T2")
XS_NAMES = (
    "T24", "T30", "T48", "T50", "P15", "P2", "P21", "P24", "Ps30", "P40", "P50",
    "Nf", "Nc", "Wf",
)  # fmt: skip
XV_NAMES = (
    "T40", "P30", "P45", "W21", "W22", "W25", "W31", "W32", "W48", "W50",
    "SmFan", "SmLPC", "SmHPC", "phi",
)  # fmt: skip
T_NAMES = (
    "fan_eff_mod", "fan_flow_mod", "LPC_eff_mod", "LPC_flow_mod", "HPC_eff_mod",
    "HPC_flow_mod", "HPT_eff_mod", "HPT_flow_mod", "LPT_eff_mod", "LPT_flow_mod",
)  # fmt: skip
A_NAMES = ("unit", "cycle", "Fc", "hs")


@dataclass(frozen=True)
class UnitSpec:
    """One engine of the DS02 fleet.

    Attributes:
        unit: Unit id as stored in column `unit` of A.
        split: "dev" or "test".
        flight_class: 1 (short, low flights), 2 (medium) or 3 (long, high flights).
        flights: Number of flights; the last one is the end of life (RUL 0).
        onset_cycle: First flight of abnormal degradation (health state hs = 0).
        rows: Rows of the unit in the real file (1 Hz samples).
        failure_mode: "HPT" (HPT efficiency) or "HPT+LPT" (plus LPT efficiency and
            flow).
    """

    unit: int
    split: str
    flight_class: int
    flights: int
    onset_cycle: int
    rows: int
    failure_mode: str


# DS02 fleet in file order. Flights, onset cycles and failure modes: Table 5 of Arias
# Chao et al., "Aircraft engine run-to-failure dataset under real flight conditions"
# (NASA, 2020); rows and flight classes: per-engine metadata of N-CMAPSS_DS02-006.h5
# (ncmapss_engine_metadata.csv, columns unit, split, flight_class, flights,
# onset_cycle, rows).
DS02_UNITS = (
    UnitSpec(2, "dev", 3, 75, 17, 853142, "HPT"),
    UnitSpec(5, "dev", 3, 89, 17, 1033420, "HPT"),
    UnitSpec(10, "dev", 3, 82, 17, 952711, "HPT"),
    UnitSpec(16, "dev", 3, 63, 16, 765295, "HPT+LPT"),
    UnitSpec(18, "dev", 3, 71, 17, 890719, "HPT+LPT"),
    UnitSpec(20, "dev", 3, 66, 17, 768160, "HPT+LPT"),
    UnitSpec(11, "test", 3, 59, 19, 663495, "HPT+LPT"),
    UnitSpec(14, "test", 1, 76, 36, 156778, "HPT+LPT"),
    UnitSpec(15, "test", 2, 67, 24, 433470, "HPT+LPT"),
)
FULL_SCALE_ROWS = {"dev": 5263447, "test": 1253743}

# A compressed flight never drops below MIN_FLIGHT_ROWS rows, so short class-1
# flights keep their climb / cruise / descent shape in small files.
MIN_FLIGHT_ROWS = 15
# Long class-3 flights (~11,000-13,000 s) keep ~22 rows; the default file is ~5 MB.
DEFAULT_TIME_COMPRESSION = 500.0
# Beyond this even the long class-3 flights would fall below ~10 rows of their own and
# every flight would sit at the MIN_FLIGHT_ROWS floor.
MAX_TIME_COMPRESSION = 1000.0

_SPLITS = ("dev", "test")
_GROUP_NAMES = {"W": W_NAMES, "X_s": XS_NAMES, "X_v": XV_NAMES, "T": T_NAMES}
_PLAN_SEED = 20200420  # flight lengths are part of the fleet, not of the data seed
_FLIGHT_LENGTH_SPREAD = 0.2  # sigma of the log flight length within a unit
_MIN_PHASE_ROWS = 4
_BLOCK_ROWS = 1 << 17  # rows simulated at once; bounds memory at full scale

# Share of climb / cruise / descent rows per flight class, from the healthy flights of
# DS02 (metadata columns healthy_climb_rows, healthy_cruise_rows, healthy_descent_rows).
_PHASE_SHARES = {1: (0.17, 0.46, 0.37), 2: (0.33, 0.36, 0.31), 3: (0.27, 0.42, 0.31)}


@dataclass(frozen=True)
class _Envelope:
    """Ranges drawn once per flight for one flight class (ft, Mach, TRA %)."""

    cruise_alt_ft: tuple[float, float]
    step_climb_ft: float
    cruise_mach: tuple[float, float]
    cruise_tra: tuple[float, float]


# Class 3 cruises up to ~35,000 ft; test units 14 and 15 (classes 1 and 2) fly lower
# and shorter, so their flight conditions lie partly outside the training envelope.
_ENVELOPES = {
    1: _Envelope((14000.0, 20000.0), 1000.0, (0.52, 0.66), (62.0, 70.0)),
    2: _Envelope((20000.0, 26000.0), 1500.0, (0.62, 0.74), (64.0, 72.0)),
    3: _Envelope((26000.0, 33000.0), 2000.0, (0.70, 0.80), (64.0, 74.0)),
}

# Health parameters that degrade per failure mode, with their value at end of life.
_FAILURE_AMPLITUDES = {
    "HPT": {"HPT_eff_mod": 0.022},
    "HPT+LPT": {"HPT_eff_mod": 0.014, "LPT_eff_mod": 0.012, "LPT_flow_mod": 0.016},
}
_DEGRADING = ("HPT_eff_mod", "LPT_eff_mod", "LPT_flow_mod")

# Relative sensor change per unit change of (HPT_eff_mod, LPT_eff_mod, LPT_flow_mod)
# at a mid-power operating point; modifiers are negative, so HPT efficiency loss raises
# T48, T50 and Wf and lowers Nc and the HPC stall margin. Unlisted sensors (P2) do not
# see health.
_SENSITIVITY = {
    "T24": (0.0, -0.1, 0.05),
    "T30": (-0.4, -0.2, 0.1),
    "T48": (-2.2, -0.6, -0.8),
    "T50": (-1.6, -1.8, -0.9),
    "P15": (0.0, 0.15, 0.1),
    "P21": (0.0, 0.15, 0.1),
    "P24": (0.1, 0.2, 0.15),
    "Ps30": (0.5, 0.3, -0.3),
    "P40": (0.5, 0.3, -0.3),
    "P50": (0.2, -0.5, -1.2),
    "Nf": (0.0, 0.1, 0.05),
    "Nc": (0.6, -0.2, 0.3),
    "Wf": (-2.5, -2.0, -0.6),
    "T40": (-1.5, -1.2, -0.5),
    "P30": (0.5, 0.3, -0.3),
    "P45": (0.3, -0.4, -1.5),
    "W21": (0.0, 0.2, 0.1),
    "W22": (0.2, 0.2, 0.2),
    "W25": (0.2, 0.2, 0.2),
    "W31": (0.2, 0.2, 0.2),
    "W32": (0.2, 0.2, 0.2),
    "W48": (0.0, 0.0, 0.6),
    "W50": (0.0, 0.0, 0.6),
    "SmFan": (0.0, 1.0, 0.8),
    "SmLPC": (0.5, 1.5, 1.0),
    "SmHPC": (3.0, 1.0, 2.0),
}
# Relative 1-sigma measurement noise by the first letter of the sensor name.
_NOISE = {"T": 1.5e-3, "P": 2e-3, "N": 5e-4, "W": 2e-3, "S": 4e-3, "p": 3e-3}


def planned_flight_rows(time_compression: float) -> dict[int, np.ndarray]:
    """Rows of every flight of every unit, without generating any data.

    At `time_compression` 1.0 the flights of a unit sum exactly to its rows in DS02;
    above it each flight keeps 1/compression of its rows, at least MIN_FLIGHT_ROWS.

    Args:
        time_compression: Seconds per row, from 1.0 to MAX_TIME_COMPRESSION.

    Returns:
        unit -> int64 array of rows per flight (flight 1 first), in file order.
    """
    _check_time_compression(time_compression)
    plan = {}
    for spec in DS02_UNITS:
        full_scale = _full_scale_flight_rows(spec)
        compressed = np.rint(full_scale / time_compression).astype(np.int64)
        plan[spec.unit] = np.maximum(compressed, MIN_FLIGHT_ROWS)

    return plan


def planned_rows(time_compression: float) -> dict[int, int]:
    """Rows per unit of a file generated with `time_compression`.

    Args:
        time_compression: Seconds per row, from 1.0 to MAX_TIME_COMPRESSION.

    Returns:
        unit -> number of rows, in file order.
    """
    plan = planned_flight_rows(time_compression)

    return {unit: int(flight_rows.sum()) for unit, flight_rows in plan.items()}


def generate_ncmapss(
    path: str | os.PathLike,
    *,
    time_compression: float = DEFAULT_TIME_COMPRESSION,
    seed: int = 0,
    progress: bool = False,
) -> Path:
    """Write a synthetic DS02 file with the exact N-CMAPSS layout.

    The file is written unit by unit to a temporary file next to `path` and renamed at
    the end, so an interrupted run never leaves a partial file at `path`.

    Args:
        path: Target .h5 file; its folder is created if needed.
        time_compression: Seconds per row; 1.0 reproduces DS02's rows per unit.
        seed: Seed of flights, health and noise; equal seeds give equal data.
        progress: Show a tqdm bar over the rows, labelled with the current unit.

    Returns:
        The path written.
    """
    _check_seed(seed)
    plan = planned_flight_rows(time_compression)
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{target} is a folder; expected the path of an .h5 file")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        _write_file(temporary, plan, seed, progress)

    return target


def _check_time_compression(time_compression: float) -> None:
    is_number = isinstance(time_compression, int | float) and not isinstance(
        time_compression, bool
    )
    if not (is_number and math.isfinite(time_compression)) or not (
        1.0 <= time_compression <= MAX_TIME_COMPRESSION
    ):
        raise ValueError(
            f"time_compression must be a number in [1, {MAX_TIME_COMPRESSION:g}] "
            f"(seconds per row), got {time_compression!r}"
        )


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _full_scale_flight_rows(spec: UnitSpec) -> np.ndarray:
    """Split a unit's DS02 rows over its flights; the sum is exact."""
    rng = np.random.default_rng([_PLAN_SEED, spec.unit])
    weights = rng.lognormal(0.0, _FLIGHT_LENGTH_SPREAD, spec.flights)
    exact = weights / weights.sum() * spec.rows
    rows = np.floor(exact).astype(np.int64)

    # Largest-remainder rounding: the floors miss fewer rows than there are flights.
    missing = spec.rows - int(rows.sum())
    rows[np.argsort(rows - exact, kind="stable")[:missing]] += 1

    return rows


def _write_file(
    path: Path, plan: dict[int, np.ndarray], seed: int, progress: bool
) -> None:
    """Create the 17 datasets with their final shape, then fill them unit by unit."""
    total_rows = sum(int(rows.sum()) for rows in plan.values())
    bar = tqdm(total=total_rows, unit="row", unit_scale=True, disable=not progress)
    # "w": the path is a fresh, uniquely named temporary file made for this write.
    with h5py.File(path, "w") as file, bar:
        for group, names in (*_GROUP_NAMES.items(), ("A", A_NAMES)):
            file.create_dataset(f"{group}_var", data=np.array(names, dtype="S"))

        for split in _SPLITS:
            _write_split(file, split, plan, seed, bar)


def _write_split(
    file: h5py.File, split: str, plan: dict[int, np.ndarray], seed: int, bar: tqdm
) -> None:
    """Fill one split's datasets with its units, in DS02's file order."""
    specs = [spec for spec in DS02_UNITS if spec.split == split]
    datasets = _create_split(file, split, sum(int(plan[s.unit].sum()) for s in specs))
    start = 0
    for spec in specs:
        bar.set_description(f"unit {spec.unit}")
        # One generator per unit: a unit's data do not depend on the other units.
        rng = np.random.default_rng([seed, spec.unit])
        for block in _simulate_unit(spec, plan[spec.unit], rng):
            rows = len(block["Y"])
            _write_block(datasets, start, block)
            start += rows
            bar.update(rows)


def _create_split(file: h5py.File, split: str, rows: int) -> dict[str, h5py.Dataset]:
    """Empty datasets of one split: float64 groups and int64 Y of shape (rows, 1)."""
    widths = {group: len(names) for group, names in _GROUP_NAMES.items()}
    widths["A"] = len(A_NAMES)
    datasets = {
        group: file.create_dataset(f"{group}_{split}", (rows, width), dtype="f8")
        for group, width in widths.items()
    }
    datasets["Y"] = file.create_dataset(f"Y_{split}", (rows, 1), dtype="i8")

    return datasets


def _write_block(
    datasets: dict[str, h5py.Dataset], start: int, block: dict[str, np.ndarray]
) -> None:
    stop = start + len(block["Y"])
    for group, dataset in datasets.items():
        dataset[start:stop] = block[group]


def _simulate_unit(
    spec: UnitSpec, flight_rows: np.ndarray, rng: np.random.Generator
) -> Iterator[dict[str, np.ndarray]]:
    """Yield one unit's arrays (W, X_s, X_v, T, A, Y) in blocks of whole flights.

    Per-flight parameters and the health trajectory are drawn first, then each block's
    noise, so a unit's data depend only on the seed, the unit and the compression.
    """
    flights = _draw_flights(spec, flight_rows, rng)
    health = _health_trajectory(spec, rng)
    ends = np.cumsum(flight_rows)

    first = 0
    while first < spec.flights:
        # Whole flights up to _BLOCK_ROWS rows, and at least one flight.
        start_row = ends[first] - flight_rows[first]
        last = max(
            first + 1, int(np.searchsorted(ends, start_row + _BLOCK_ROWS, "right"))
        )
        yield _simulate_block(spec, flights, health, slice(first, last), rng)
        first = last


def _draw_flights(
    spec: UnitSpec, flight_rows: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per-flight profile parameters: phase rows, altitudes, Mach, throttle, weather."""
    envelope = _ENVELOPES[spec.flight_class]
    n = spec.flights
    flights = {"rows": flight_rows, "cycle": np.arange(1, n + 1)}
    flights["climb_rows"], flights["descent_rows"] = _phase_rows(spec, flight_rows, rng)

    flights["start_alt"] = rng.uniform(1500.0, 3500.0, n)
    flights["end_alt"] = rng.uniform(1500.0, 3500.0, n)
    flights["cruise_alt"] = rng.uniform(*envelope.cruise_alt_ft, n)
    flights["step_alt"] = rng.uniform(0.0, envelope.step_climb_ft, n)
    flights["step_at"] = rng.uniform(0.3, 0.7, n)
    flights["start_mach"] = rng.uniform(0.25, 0.35, n)
    flights["end_mach"] = rng.uniform(0.25, 0.35, n)
    flights["cruise_mach"] = rng.uniform(*envelope.cruise_mach, n)
    flights["climb_tra"] = rng.uniform(84.0, 92.0, n)
    flights["cruise_tra"] = rng.uniform(*envelope.cruise_tra, n)
    flights["descent_tra"] = rng.uniform(36.0, 44.0, n)
    flights["wobble_phase"] = rng.uniform(0.0, 1.0, n)
    # Day-to-day ambient temperature deviation from the standard atmosphere (°R).
    flights["day_offset"] = np.clip(rng.normal(0.0, 12.0, n), -30.0, 30.0)

    return flights


def _phase_rows(
    spec: UnitSpec, flight_rows: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Climb and descent rows per flight; cruise takes the rest."""
    climb_share, _, descent_share = _PHASE_SHARES[spec.flight_class]
    jitter = rng.uniform(0.75, 1.25, (2, spec.flights))
    climb = np.rint(flight_rows * climb_share * jitter[0]).astype(np.int64)
    descent = np.rint(flight_rows * descent_share * jitter[1]).astype(np.int64)
    climb = np.maximum(climb, _MIN_PHASE_ROWS)
    descent = np.clip(descent, _MIN_PHASE_ROWS, flight_rows - climb - _MIN_PHASE_ROWS)

    return climb, descent


def _health_trajectory(spec: UnitSpec, rng: np.random.Generator) -> np.ndarray:
    """Health parameters per flight, shape (flights, 10), in T_NAMES order.

    The degrading modifiers are -amplitude * damage; damage reaches 1 (failure) at
    the last flight. Amplitudes vary by up to ~15 % between units, mostly together:
    a unit-wide severity times a small per-component spread.
    """
    damage = _damage_index(spec, rng)
    severity = rng.uniform(0.9, 1.1)
    health = np.zeros((spec.flights, len(T_NAMES)))
    for name, amplitude in _FAILURE_AMPLITUDES[spec.failure_mode].items():
        unit_amplitude = amplitude * severity * rng.uniform(0.95, 1.05)
        health[:, T_NAMES.index(name)] = -unit_amplitude * damage

    return health


def _damage_index(spec: UnitSpec, rng: np.random.Generator) -> np.ndarray:
    """Damage per flight: initial wear, slow linear wear, then abnormal wear.

    damage(c) = d0 + sum of normal increments up to c + a * max(c - onset + 1, 0)^q,
    with a chosen so that damage is exactly 1 at the last flight (end of life). With
    q > 1 the abnormal rate grows from zero, so the transition is smooth.
    """
    cycles = np.arange(1, spec.flights + 1)
    # Initial wear spans 10 % of the health range, as in DS02's fleet.
    initial = rng.uniform(0.0, 0.10)
    normal_rate = rng.uniform(0.003, 0.005)
    increments = rng.gamma(4.0, normal_rate / 4.0, spec.flights)
    increments[0] = 0.0
    normal = initial + np.cumsum(increments)

    exponent = rng.uniform(1.1, 1.4)
    since_onset = np.maximum(cycles - spec.onset_cycle + 1, 0).astype(float)
    scale = (1.0 - normal[-1]) / since_onset[-1] ** exponent

    return normal + scale * since_onset**exponent


def _simulate_block(
    spec: UnitSpec,
    flights: dict[str, np.ndarray],
    health: np.ndarray,
    flight_slice: slice,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """All six arrays for the rows of the flights in `flight_slice`."""
    block_flights = {name: values[flight_slice] for name, values in flights.items()}
    flight_of_row = np.repeat(
        np.arange(len(block_flights["rows"])), block_flights["rows"]
    )
    per_row = {name: values[flight_of_row] for name, values in block_flights.items()}
    conditions = _flight_conditions(per_row, rng)
    health_rows = health[flight_slice][flight_of_row]

    sensors = _sensors(conditions, health_rows, per_row["day_offset"], rng)
    cycle = per_row["cycle"]
    hs = (cycle < spec.onset_cycle).astype(float)
    ones = np.ones(len(cycle))

    return {
        "W": conditions,
        "X_s": np.column_stack([sensors[name] for name in XS_NAMES]),
        "X_v": np.column_stack([sensors[name] for name in XV_NAMES]),
        "T": health_rows,
        "A": np.column_stack([spec.unit * ones, cycle, spec.flight_class * ones, hs]),
        "Y": (spec.flights - cycle).astype(np.int64)[:, None],
    }


def _flight_conditions(
    per_row: dict[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """W = (alt ft, Mach, TRA %, T2 °R) for each row, shape (rows, 4)."""
    phase, progress = _phase_progress(per_row)
    climb = _climb(per_row, progress)
    cruise = _cruise(per_row, progress)
    descent = _descent(per_row, progress)
    alt, mach, tra = (
        np.select([phase == 0, phase == 1], [c, u], d)
        for c, u, d in zip(climb, cruise, descent, strict=True)
    )

    # Recorded flight data are not smooth: small turbulence and sensor jitter.
    alt = alt + rng.normal(0.0, 15.0, alt.shape)
    mach = np.clip(mach + rng.normal(0.0, 0.002, mach.shape), 0.0, 0.9)
    tra = tra + rng.normal(0.0, 0.2, tra.shape)
    static_temperature, _ = _standard_atmosphere(alt, per_row["day_offset"])
    t2 = static_temperature * (1.0 + 0.2 * mach**2) + rng.normal(0.0, 0.2, alt.shape)

    return np.column_stack([alt, mach, tra, t2])


def _phase_progress(per_row: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Phase (0 climb, 1 cruise, 2 descent) and progress in (0, 1) within it."""
    rows, climb, descent = (per_row[k] for k in ("rows", "climb_rows", "descent_rows"))
    flight_starts = np.flatnonzero(np.r_[True, np.diff(per_row["cycle"]) != 0])
    lengths = np.diff(np.r_[flight_starts, len(rows)])
    row_in_flight = np.arange(len(rows)) - np.repeat(flight_starts, lengths)

    descent_start = rows - descent
    phase = (row_in_flight >= climb).astype(np.int64) + (row_in_flight >= descent_start)
    phase_start = np.choose(phase, [np.zeros_like(rows), climb, descent_start])
    phase_rows = np.choose(phase, [climb, descent_start - climb, descent])
    progress = (row_in_flight - phase_start + 0.5) / phase_rows

    return phase, progress


def _climb(flight: dict[str, np.ndarray], s: np.ndarray) -> tuple[np.ndarray, ...]:
    """Climb: climb rate falls with altitude while the aircraft accelerates."""
    start, top = flight["start_alt"], flight["cruise_alt"]
    alt = start + (top - start) * (1.0 - (1.0 - s) ** 2)
    mach = (
        flight["start_mach"] + (flight["cruise_mach"] - flight["start_mach"]) * s**0.5
    )
    tra = flight["climb_tra"] - 5.0 * s

    return alt, mach, tra


def _cruise(flight: dict[str, np.ndarray], s: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cruise: one step climb and slow Mach and throttle oscillations."""
    step = np.clip((s - flight["step_at"]) / 0.08, 0.0, 1.0)
    alt = flight["cruise_alt"] + flight["step_alt"] * step**2 * (3.0 - 2.0 * step)
    wobble = 2.0 * np.pi * (s + flight["wobble_phase"])
    mach = flight["cruise_mach"] + 0.008 * np.sin(2.0 * wobble)
    tra = flight["cruise_tra"] + 1.5 * np.sin(3.0 * wobble)

    return alt, mach, tra


def _descent(flight: dict[str, np.ndarray], s: np.ndarray) -> tuple[np.ndarray, ...]:
    """Descent: near idle, smooth at both ends, throttle up for the approach."""
    top = flight["cruise_alt"] + flight["step_alt"]
    remaining = 0.5 * (1.0 + np.cos(np.pi * s))
    alt = flight["end_alt"] + (top - flight["end_alt"]) * remaining
    mach = flight["end_mach"] + (flight["cruise_mach"] - flight["end_mach"]) * remaining
    tra = flight["descent_tra"] + 8.0 * s**4

    return alt, mach, tra


def _standard_atmosphere(
    alt_ft: np.ndarray, day_offset: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Static temperature (°R) and pressure (psia) of the troposphere (< 36,089 ft)."""
    temperature = 518.67 - 0.00356616 * alt_ft + day_offset
    pressure = 14.696 * (1.0 - 6.87559e-6 * alt_ft) ** 5.25588

    return temperature, pressure


def _sensors(
    conditions: np.ndarray,
    health_rows: np.ndarray,
    day_offset: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """X_s and X_v by name: nominal engine, health shifts, then measurement noise."""
    alt, mach, tra, t2 = conditions.T
    _, static_pressure = _standard_atmosphere(alt, day_offset)
    p2 = static_pressure * (1.0 + 0.2 * mach**2) ** 3.5
    power = np.clip((tra - 20.0) / 80.0, 0.02, 1.1)

    sensors = _nominal_engine(t2, p2, power)
    theta2 = t2 / 518.67
    _apply_health(sensors, health_rows, power, theta2)
    sensors["phi"] = sensors["Wf"] / sensors["Ps30"]
    for name, values in sensors.items():
        noise = rng.standard_normal(values.shape) * _NOISE[name[0]]
        sensors[name] = values * (1.0 + noise)

    return sensors


def _nominal_engine(
    t2: np.ndarray, p2: np.ndarray, power: np.ndarray
) -> dict[str, np.ndarray]:
    """Healthy-engine sensors from inlet conditions and power (0 idle, 1 max)."""
    sensors = _pressures(p2, power)
    sensors.update(_temperatures(t2, p2, sensors, power))
    sensors.update(_speeds_and_flows(t2, p2, power))
    sensors.update(_stall_margins(power, t2))

    return sensors


def _pressures(p2: np.ndarray, power: np.ndarray) -> dict[str, np.ndarray]:
    """Total pressures (psia) along the gas path from component pressure ratios."""
    fan_ratio = 1.0 + 0.55 * power**1.2
    lpc_ratio = 1.0 + 0.45 * power**1.1
    hpc_ratio = 4.0 + 8.0 * power
    hpt_ratio = 3.2 + 1.0 * power

    p21 = p2 * fan_ratio
    p24 = p21 * lpc_ratio
    p30 = p24 * hpc_ratio
    p40 = 0.96 * p30
    return {
        "P2": p2,
        "P21": p21,
        "P15": 0.985 * p21,
        "P24": p24,
        "P30": p30,
        "Ps30": 0.94 * p30,
        "P40": p40,
        "P45": p40 / hpt_ratio,
        "P50": p2 * (1.02 + 0.5 * power**1.3),
    }


def _temperatures(
    t2: np.ndarray, p2: np.ndarray, pressures: dict[str, np.ndarray], power: np.ndarray
) -> dict[str, np.ndarray]:
    """Total temperatures (°R) from polytropic compression and expansion."""
    t24 = t2 * (pressures["P24"] / p2) ** (0.2857 / 0.87)
    t30 = t24 * (pressures["P30"] / pressures["P24"]) ** (0.2857 / 0.84)
    # Burner temperature rise grows with the fuel-air ratio, i.e. with power.
    t40 = t30 + 1150.0 + 550.0 * power
    t48 = t40 * (pressures["P45"] / pressures["P40"]) ** 0.22
    t50 = t48 * (pressures["P50"] / pressures["P45"]) ** (0.2857 * 0.95)

    return {"T24": t24, "T30": t30, "T40": t40, "T48": t48, "T50": t50}


def _speeds_and_flows(
    t2: np.ndarray, p2: np.ndarray, power: np.ndarray
) -> dict[str, np.ndarray]:
    """Shaft speeds (rpm) and mass flows (pps) scaled by the inlet conditions."""
    root_theta = np.sqrt(t2 / 518.67)
    corrected = (p2 / 14.696) / root_theta
    fan_flow = corrected * (700.0 + 800.0 * power)
    core_flow = fan_flow / (1.0 + 5.8 - 0.8 * power)
    fuel_flow = core_flow * (0.011 + 0.014 * power)

    return {
        "Nf": 2250.0 * root_theta * (0.62 + 0.38 * power**0.8),
        "Nc": 9300.0 * root_theta * (0.80 + 0.20 * power**0.6),
        "Wf": fuel_flow,
        "W21": fan_flow,
        "W22": core_flow,
        "W25": 0.995 * core_flow,
        "W31": 0.07 * core_flow,
        "W32": 0.045 * core_flow,
        "W48": 0.955 * core_flow + fuel_flow,
        "W50": core_flow + fuel_flow,
    }


def _stall_margins(power: np.ndarray, t2: np.ndarray) -> dict[str, np.ndarray]:
    """Stall margins (%): largest at part power, shrinking on hot days."""
    hot = t2 / 518.67 - 1.0

    return {
        "SmFan": 14.0 + 8.0 * (1.0 - power) - 5.0 * hot,
        "SmLPC": 10.0 + 14.0 * (1.0 - power) - 6.0 * hot,
        "SmHPC": 20.0 + 10.0 * (1.0 - power) - 4.0 * hot,
    }


def _apply_health(
    sensors: dict[str, np.ndarray],
    health_rows: np.ndarray,
    power: np.ndarray,
    theta2: np.ndarray,
) -> None:
    """Shift sensors in place by the degraded modifiers.

    Relative shift = gain * sum_k sensitivity[sensor, k] * modifier_k, where the gain
    (0.5 + power) * sqrt(theta2) makes wear show most at high power and on warm inlets.
    """
    modifiers = health_rows[:, [T_NAMES.index(name) for name in _DEGRADING]]
    names = list(_SENSITIVITY)
    sensitivity = np.array([_SENSITIVITY[name] for name in names])  # (sensors, 3)
    shifts = modifiers @ sensitivity.T  # (rows, sensors)
    gain = (0.5 + power) * np.sqrt(theta2)

    for column, name in enumerate(names):
        sensors[name] = sensors[name] * (1.0 + gain * shifts[:, column])


def main(argv: list[str] | None = None) -> None:
    """Command line: generate a file and print where it went, its rows and size."""
    args = _parse_args(argv)
    compression = 1.0 if args.full_scale else args.time_compression
    started = time.perf_counter()
    path = generate_ncmapss(
        args.out, time_compression=compression, seed=args.seed, progress=True
    )
    seconds = time.perf_counter() - started

    rows = planned_rows(compression)
    split_rows = {
        split: sum(rows[spec.unit] for spec in DS02_UNITS if spec.split == split)
        for split in _SPLITS
    }
    size_mb = path.stat().st_size / 1e6
    print(
        f"wrote {path}: {split_rows['dev']:,} dev rows, {split_rows['test']:,} test "
        f"rows, {size_mb:.1f} MB, time compression {compression:g}, seed {args.seed}, "
        f"{seconds:.1f} s"
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m src.synthetic",
        description="Generate a synthetic N-CMAPSS DS02 file (exact HDF5 layout).",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("datasets/N-CMAPSS_DS02-006_synthetic.h5")
    )
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument(
        "--full-scale", action="store_true", help="1 row per second, DS02's row counts"
    )
    scale.add_argument(
        "--time-compression",
        type=float,
        default=DEFAULT_TIME_COMPRESSION,
        help=f"seconds per row, 1 to {MAX_TIME_COMPRESSION:g} "
        f"(default {DEFAULT_TIME_COMPRESSION:g})",
    )
    parser.add_argument("--seed", type=int, default=0)

    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
