"""Read N-CMAPSS HDF5 files into per-unit float32 arrays, scale them, split by unit.

`load_data()` reads one engine unit at a time with h5py slices, so the full 1 Hz
file fits in memory as float32. `normalize_data()` fits z-score statistics on the
training units only. `create_training_and_testing_sets()` splits by engine unit and
wraps the units in window datasets (see `src.windows`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from src.files import atomic_write_text
from src.windows import WindowDataset

SPLITS = ("dev", "test")
GROUPS = ("W", "X_s", "X_v", "T", "A")
LABEL_KEY = "Y"
# The leading columns of A, read as integers: engine unit, flight cycle, flight class.
ID_COLUMNS = ("unit", "cycle", "Fc")
# Named feature presets. "original" is the 36-column input of the original design.
FEATURE_PRESETS = {
    "default": ("W", "X_s", "X_v"),
    "original": ("W", "X_s", "X_v", "A"),
}
LEAKY_GROUPS = {
    "A": "A holds `unit` (an identifier) and `cycle`/`hs`, which leak the RUL label",
    "T": "T holds the simulated health parameters, unknown for a real engine",
}
OBTAIN_HINT = (
    "Download N-CMAPSS from NASA's Prognostics Center of Excellence data repository "
    "(https://www.nasa.gov/intelligent-systems-division, 'Turbofan Engine "
    "Degradation Simulation Data Set-2') and place the .h5 file in datasets/, or run "
    "`python -m src.synthetic` to generate a file with the same layout."
)


@dataclass
class UnitRecord:
    """One engine unit's run to failure.

    Attributes:
        unit: Engine unit id as stored in the file.
        split: "dev" or "test", the file's split the unit comes from.
        features: (rows, m) float32 inputs, one row per sample (second or cycle).
        rul: (rows,) float32 remaining useful life in flight cycles.
        cycle: (rows,) int32 flight cycle of each row.
        flight_class: Flight class (1 short, 2 medium, 3 long) or None if unknown.
    """

    unit: int
    split: str
    features: np.ndarray
    rul: np.ndarray
    cycle: np.ndarray
    flight_class: int | None = None

    @property
    def rows(self) -> int:
        return len(self.rul)


class JsonStats:
    """Save and load any statistics class with `to_dict` / `from_dict` as JSON."""

    def save(self, path: str | Path) -> None:
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | Path):
        return cls.from_dict(json.loads(Path(path).read_text()))


@dataclass
class ScalerStats(JsonStats):
    """Z-score statistics fitted on training units; saved with every model."""

    feature_names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    fitted_on_units: list[int]

    def to_dict(self) -> dict:
        return {
            "feature_names": list(self.feature_names),
            "mean": [float(value) for value in self.mean],
            "scale": [float(value) for value in self.scale],
            "fitted_on_units": [int(unit) for unit in self.fitted_on_units],
        }

    @classmethod
    def from_dict(cls, values: dict) -> ScalerStats:
        return cls(
            feature_names=list(values["feature_names"]),
            mean=np.asarray(values["mean"], dtype=np.float64),
            scale=np.asarray(values["scale"], dtype=np.float64),
            fitted_on_units=list(values["fitted_on_units"]),
        )


@dataclass
class RULData:
    """All units of one dataset file, in file order (dev units, then test units).

    Attributes:
        source: Where the data came from (a file path or a description).
        feature_names: Names of the m feature columns.
        units: Per-unit records.
        scaler: The statistics the features were scaled with, None while raw.
    """

    source: str
    feature_names: list[str]
    units: list[UnitRecord]
    scaler: ScalerStats | None = None
    extra: dict = field(default_factory=dict)

    def unit_ids(self, split: str | None = None) -> list[int]:
        """Unit ids in file order, optionally of one split only."""
        return [u.unit for u in self.units if split is None or u.split == split]

    def unit(self, unit_id: int) -> UnitRecord:
        """The record of `unit_id`; raises KeyError listing the available ids."""
        for record in self.units:
            if record.unit == unit_id:
                return record
        raise KeyError(
            f"unknown unit id {unit_id} in {self.source}; available: {self.unit_ids()}"
        )

    def select(self, unit_ids: Iterable[int]) -> list[UnitRecord]:
        """Records of `unit_ids`, in the order given."""
        return [self.unit(unit_id) for unit_id in unit_ids]


class DataFileError(ValueError):
    """A data file is missing, unreadable or does not have the expected layout."""


# What h5py raises for a damaged file: OSError when opening or reading, KeyError
# for an object whose header is damaged, RuntimeError for damaged group info.
H5PY_ERRORS = (OSError, KeyError, RuntimeError)


def resolve_feature_groups(features: str | Sequence[str]) -> tuple[str, ...]:
    """Turn a preset name or comma-separated group list into group names.

    Warns when a group leaks the label or is not observable on a real engine.

    Raises:
        ValueError: For an unknown preset or group name.
    """
    if isinstance(features, str):
        preset = FEATURE_PRESETS.get(features)
        names = preset or tuple(part.strip() for part in features.split(","))
    else:
        names = tuple(features)
    unknown = [name for name in names if name not in GROUPS]
    if unknown or not names:
        raise ValueError(
            f"unknown feature group(s) {unknown or names!r} in FEATURES="
            f"{features!r}; expected presets {list(FEATURE_PRESETS)} or a comma "
            f"list of {list(GROUPS)}"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"feature group(s) {repeated} named more than once")
    for name in names:
        if name in LEAKY_GROUPS:
            warnings.warn(f"feature group {name}: {LEAKY_GROUPS[name]}", stacklevel=2)

    return names


def load_data(path: str | Path, features: str | Sequence[str] = "default") -> RULData:
    """Read an N-CMAPSS HDF5 file unit by unit into float32 arrays.

    Args:
        path: The .h5 file (e.g. datasets/N-CMAPSS_DS02-006.h5).
        features: Preset ("default" = W, X_s, X_v: 32 columns; "original" adds A)
            or a comma-separated list of groups among W, X_s, X_v, T, A.

    Returns:
        RULData with every dev unit, then every test unit, in file order.

    Raises:
        DataFileError: Missing, truncated or corrupt file, missing key, name
            arrays that disagree with column counts, row counts that differ
            between arrays, non-contiguous units, a unit id in both splits, NaN or
            infinite values, unit/cycle/flight class that are not whole numbers.
    """
    path = Path(path)
    groups = resolve_feature_groups(features)
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist. {OBTAIN_HINT}")
    if path.stat().st_size == 0:
        raise DataFileError(
            f"data file {path} is empty (0 bytes: an interrupted download?). "
            f"{OBTAIN_HINT}"
        )
    if not h5py.is_hdf5(path):
        raise DataFileError(
            f"data file {path} is not an HDF5 file (no HDF5 signature); expected an "
            "N-CMAPSS .h5 file (C-MAPSS text files are read with "
            f"DATASET=cmapss:FD00x and CMAPSS_DIR set to their folder). {OBTAIN_HINT}"
        )
    try:
        with h5py.File(path, "r") as file:
            return _read_file(file, path, groups)
    except H5PY_ERRORS as error:
        raise DataFileError(
            f"cannot read HDF5 file {path}: it is truncated or corrupt ({error}). "
            f"Download it again or regenerate it. {OBTAIN_HINT}"
        ) from error


def _read_file(file: h5py.File, path: Path, groups: tuple[str, ...]) -> RULData:
    feature_names = []
    for group in groups:
        feature_names += _column_names(file, path, group)
    units = []
    for split in SPLITS:
        units += _read_split(file, path, split, groups)
    _check_unique_units(units, path)

    return RULData(source=str(path), feature_names=feature_names, units=units)


def _check_unique_units(units: list[UnitRecord], path: Path) -> None:
    # One id in both splits would make `RULData.unit(id)` return the dev unit for
    # the test unit, so the test windows would silently be training data.
    split_of = {}
    for record in units:
        first = split_of.setdefault(record.unit, record.split)
        if first != record.split:
            raise DataFileError(
                f"{path}: unit {record.unit} is in both A_{first} and "
                f"A_{record.split}; expected each unit id in one split only"
            )


def _column_names(file: h5py.File, path: Path, group: str) -> list[str]:
    names_key = f"{group}_var"
    try:
        names = [_decode(name) for name in _dataset(file, path, names_key)[()]]
    except UnicodeDecodeError as error:
        raise DataFileError(
            f"{path}: {names_key} holds a name that is not UTF-8 text ({error}); "
            "expected column names"
        ) from error
    for split in SPLITS:
        columns = _table(file, path, f"{group}_{split}").shape[1]
        if columns != len(names):
            raise DataFileError(
                f"{path}: {names_key} has {len(names)} names but {group}_{split} has "
                f"{columns} columns; expected one name per column"
            )

    return names


def _decode(name: bytes | str) -> str:
    return name.decode("utf-8").strip() if isinstance(name, bytes) else str(name)


def _dataset(file: h5py.File, path: Path, key: str) -> h5py.Dataset:
    if key not in file:
        raise DataFileError(
            f"{path}: key {key!r} is missing; an N-CMAPSS file holds "
            f"{_expected_keys()}, this one holds {sorted(map(str, file.keys()))}"
        )
    if not isinstance(file[key], h5py.Dataset):
        raise DataFileError(f"{path}: {key} is an HDF5 group, expected a dataset")

    return file[key]


def _table(file: h5py.File, path: Path, key: str, min_columns: int = 1) -> h5py.Dataset:
    """The dataset `key`, checked to be a (rows, columns) array of numbers."""
    dataset = _dataset(file, path, key)
    if dataset.ndim != 2:
        raise DataFileError(
            f"{path}: {key} has shape {dataset.shape}; expected a 2-D array "
            "(rows, columns)"
        )
    if dataset.dtype.kind not in "biuf":
        raise DataFileError(
            f"{path}: {key} holds {dataset.dtype.str} values; expected numbers"
        )
    if dataset.shape[1] < min_columns:
        raise DataFileError(
            f"{path}: {key} has {dataset.shape[1]} column(s); expected at least "
            f"{min_columns} ({', '.join(ID_COLUMNS)} first)"
        )

    return dataset


def _expected_keys() -> list[str]:
    data = [f"{group}_{split}" for split in SPLITS for group in (*GROUPS, LABEL_KEY)]

    return data + [f"{group}_var" for group in GROUPS]


def _read_split(
    file: h5py.File, path: Path, split: str, groups: tuple[str, ...]
) -> list[UnitRecord]:
    keys = [f"{group}_{split}" for group in (*groups, LABEL_KEY, "A")]
    rows = _check_row_counts(file, path, keys)
    label = _dataset(file, path, f"{LABEL_KEY}_{split}")
    if label.ndim != 2 or label.shape[1] != 1:
        raise DataFileError(
            f"{path}: {LABEL_KEY}_{split} has shape {label.shape}; expected ({rows}, 1)"
        )
    auxiliary = _table(file, path, f"A_{split}", min_columns=len(ID_COLUMNS))
    unit_column = auxiliary[:, 0]
    records = []
    for unit_id, start, stop in _unit_runs(unit_column, path, f"A_{split}"):
        records.append(_read_unit(file, path, split, groups, unit_id, start, stop))

    return records


def _check_row_counts(file: h5py.File, path: Path, keys: list[str]) -> int:
    counts = {key: _table(file, path, key).shape[0] for key in keys}
    if len(set(counts.values())) != 1:
        raise DataFileError(
            f"{path}: row counts differ between arrays {counts}; expected equal counts"
        )

    return next(iter(counts.values()))


def _unit_runs(
    unit_column: np.ndarray, path: Path, key: str
) -> list[tuple[int, int, int]]:
    """(unit, start, stop) of each contiguous run of a unit id, in file order."""
    if len(unit_column) == 0:
        return []
    _check_whole_numbers(unit_column[:, None], path, key, unit_id=None)
    change = np.flatnonzero(np.diff(unit_column)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(unit_column)]])
    unit_ids = unit_column[starts].astype(np.int64)
    if len(set(unit_ids.tolist())) != len(unit_ids):
        raise DataFileError(
            f"{path}: rows of a unit are not contiguous in {key} (unit order "
            f"{unit_ids.tolist()}); expected each unit's rows in one block"
        )

    return list(zip(unit_ids.tolist(), starts.tolist(), stops.tolist(), strict=True))


def _read_unit(
    file: h5py.File,
    path: Path,
    split: str,
    groups: tuple[str, ...],
    unit_id: int,
    start: int,
    stop: int,
) -> UnitRecord:
    keys = [f"{group}_{split}" for group in groups]
    widths = [file[key].shape[1] for key in keys]
    features = np.empty((stop - start, sum(widths)), dtype=np.float32)
    column = 0
    for key, width in zip(keys, widths, strict=True):
        # HDF5 converts float64 to float32 while reading into the slice.
        target = np.s_[:, column : column + width]
        file[key].read_direct(features, np.s_[start:stop], target)
        _check_finite(features[target], path, key, unit_id)
        column += width
    label = _read_block(file, f"{LABEL_KEY}_{split}", start, stop)[:, 0]
    auxiliary = _read_block(file, f"A_{split}", start, stop)
    _check_finite(label, path, f"{LABEL_KEY}_{split}", unit_id)
    _check_whole_numbers(auxiliary[:, :3], path, f"A_{split}", unit_id)

    return UnitRecord(
        unit=unit_id,
        split=split,
        features=features,
        rul=label,
        cycle=auxiliary[:, 1].astype(np.int32),
        flight_class=int(auxiliary[0, 2]),
    )


def _read_block(file: h5py.File, key: str, start: int, stop: int) -> np.ndarray:
    block = np.empty((stop - start, *file[key].shape[1:]), dtype=np.float32)
    file[key].read_direct(block, np.s_[start:stop])

    return block


def _check_finite(
    values: np.ndarray, path: Path, key: str, unit_id: int | None
) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        where = f"unit {unit_id}, " if unit_id is not None else ""
        raise DataFileError(
            f"{path}: {key} holds {int(bad.sum())} NaN or infinite value(s) "
            f"({where}first at row {row} of the unit); expected finite numbers"
        )


def _check_whole_numbers(
    values: np.ndarray, path: Path, key: str, unit_id: int | None
) -> None:
    """Raise unless the (rows, k) leading `ID_COLUMNS` of A are finite integers."""
    bad = ~np.isfinite(values) | (values != np.round(values))
    bad |= np.abs(values) >= 2**31  # ids and cycles are int32
    if bad.any():
        row, column = (int(index) for index in np.argwhere(bad)[0])
        where = (
            f"row {row}"
            if unit_id is None
            else f"unit {unit_id}, row {row} of the unit"
        )
        raise DataFileError(
            f"{path}: {key} column {ID_COLUMNS[column]!r} holds "
            f"{values[row, column]:g} ({where}); expected a whole number"
        )


def split_units(
    data: RULData, val_units: Sequence[int] = (), val_fraction: float = 0.2, seed=0
) -> tuple[list[int], list[int], list[int]]:
    """Split engine units (never windows) into train, validation and test units.

    Args:
        data: Loaded data; dev units are split, test units stay test units.
        val_units: Explicit validation units (dev unit ids); wins over the fraction.
        val_fraction: Share of dev units drawn (by `seed`) for validation when
            `val_units` is empty; at least one unit if the fraction is above 0.
        seed: Seed of the draw.

    Returns:
        (train_units, val_units, test_units), each in file order.

    Raises:
        ValueError: For an empty dev or test split, validation units that are
            not dev units, or no training units left.
    """
    for split in SPLITS:
        if not data.unit_ids(split):
            raise ValueError(
                f"{data.source} has no {split} units (its {split} split is empty); "
                "expected dev units to train on and test units to evaluate on"
            )
    dev = data.unit_ids("dev")
    unknown = [unit for unit in val_units if unit not in dev]
    if unknown:
        raise ValueError(
            f"validation unit(s) {unknown} are not dev units of {data.source}; "
            f"available: {dev}"
        )
    chosen = set(val_units) or _draw_units(dev, val_fraction, seed)
    train = [unit for unit in dev if unit not in chosen]
    if not train:
        raise ValueError(f"no training units left after validation units {chosen}")

    return train, [u for u in dev if u in chosen], data.unit_ids("test")


def unit_folds(units: Sequence[int], n_folds: int, seed: int = 0) -> list[list[int]]:
    """Partition engine units into `n_folds` validation folds for cross-validation.

    Every unit lands in exactly one fold; fold sizes differ by at most one unit.

    Args:
        units: Dev unit ids to partition.
        n_folds: Number of folds, from 2 to the number of units.
        seed: Seed of the shuffle that assigns units to folds.

    Returns:
        One list of unit ids per fold, each in the order of `units`.

    Raises:
        ValueError: For unit ids that are not ints or repeat, an `n_folds` outside
            2..len(units), or a seed that is not an int.
    """
    not_ints = [unit for unit in units if not _is_int(unit)]
    if not_ints:
        raise ValueError(f"unit ids must be ints, got {not_ints[:5]}")
    units = [int(unit) for unit in units]  # numpy ints become plain (JSON) ints
    repeated = sorted({unit for unit in units if units.count(unit) > 1})
    if repeated:
        raise ValueError(
            f"unit ids must be distinct to be split into folds: {repeated}"
        )
    if not _is_int(n_folds) or not 2 <= n_folds <= len(units):
        raise ValueError(
            f"n_folds must be an int from 2 to the {len(units)} units, got {n_folds!r}"
        )
    if not _is_int(seed):
        raise ValueError(
            f"seed must be an int (folds must be reproducible), got {seed!r}"
        )
    shuffled = np.random.default_rng(seed).permutation(len(units))
    fold_of = {units[index]: rank % n_folds for rank, index in enumerate(shuffled)}

    return [[unit for unit in units if fold_of[unit] == k] for k in range(n_folds)]


def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _draw_units(units: list[int], fraction: float, seed: int) -> set[int]:
    if fraction <= 0 or len(units) < 2:
        return set()
    count = min(len(units) - 1, max(1, round(fraction * len(units))))
    drawn = np.random.default_rng(seed).choice(units, size=count, replace=False)

    return set(drawn.tolist())


def normalize_data(
    data: RULData, train_units: Sequence[int], stats: ScalerStats | None = None
) -> ScalerStats:
    """Z-score every unit's features in place with statistics of `train_units` only.

    Args:
        data: Raw (unscaled) data; scaled in place to keep one float32 copy.
        train_units: Units the statistics are fitted on (ignored if `stats` given).
        stats: Saved statistics to apply instead of fitting (for inference).

    Returns:
        The statistics applied, also stored as `data.scaler`.

    Raises:
        ValueError: If `data` is already scaled or `stats` names other features.
    """
    if data.scaler is not None:
        raise ValueError(f"{data.source} is already scaled; load it again to rescale")
    stats = stats or fit_scaler(data, train_units)
    if stats.feature_names != data.feature_names:
        raise ValueError(
            f"scaler features {stats.feature_names} differ from the data's "
            f"{data.feature_names}"
        )
    mean, scale = stats.mean.astype(np.float32), stats.scale.astype(np.float32)
    for record in data.units:
        np.subtract(record.features, mean, out=record.features)
        np.divide(record.features, scale, out=record.features)
    data.scaler = stats

    return stats


def fit_scaler(data: RULData, train_units: Sequence[int]) -> ScalerStats:
    """Fit z-score statistics on the rows of `train_units` (float64 accumulation)."""
    if not train_units:
        raise ValueError("cannot fit the scaler: no training units given")
    scaler = StandardScaler()
    for record in data.select(train_units):
        scaler.partial_fit(record.features)

    return ScalerStats(
        feature_names=list(data.feature_names),
        mean=scaler.mean_.copy(),
        scale=scaler.scale_.copy(),
        fitted_on_units=list(train_units),
    )


@dataclass
class DataSplits:
    """Window datasets of one run, split by engine unit, with the scaler applied."""

    train: WindowDataset
    val: WindowDataset | None
    test: WindowDataset
    scaler: ScalerStats
    train_units: list[int]
    val_units: list[int]
    test_units: list[int]
    feature_names: list[str]


def create_training_and_testing_sets(
    data: RULData, config, layout: str = "cnn", stats=None
) -> DataSplits:
    """Split by unit, scale with training-unit statistics, and build window datasets.

    Training and validation labels are capped at `config.rul_cap` cycles when it is
    above 0; test labels never are. C-MAPSS data (`data.extra["protocol"]`) is
    tested on the last window of each test unit, as published.

    Args:
        data: Raw data from `load_data` or `load_cmapss` (scaled in place here).
        config: Resolved `config.Config` (win_len, stride, downsample, val_units,
            val_fraction, seed, rul_cap, scale_per_condition).
        layout: "cnn" for (B, 1, win_len, m) windows, "lstm" for (B, win_len, m).
        stats: Saved scaler statistics to reuse (e.g. from a checkpoint).

    Returns:
        DataSplits with train, validation (None if no validation units) and test
        window datasets.
    """
    train_units, val_units, test_units = split_units(
        data, config.val_units, config.val_fraction, config.seed
    )
    _ensure_scaled(data, train_units, stats, config.scale_per_condition)
    windows = {
        "win_len": config.win_len,
        "stride": config.stride,
        "downsample": config.downsample,
        "layout": layout,
    }
    capped = {**windows, "rul_cap": config.rul_cap or None}

    return DataSplits(
        train=WindowDataset(data.select(train_units), **capped),
        val=WindowDataset(data.select(val_units), **capped) if val_units else None,
        test=_test_windows(data, test_units, windows),
        scaler=data.scaler,
        train_units=train_units,
        val_units=val_units,
        test_units=test_units,
        feature_names=list(data.feature_names),
    )


def _test_windows(data: RULData, test_units: list[int], windows: dict) -> WindowDataset:
    if "protocol" in data.extra:  # C-MAPSS: the last window of each test unit
        from src.cmapss import last_window_dataset

        if windows["downsample"] != 1:
            raise ValueError(
                f"downsample must be 1 for C-MAPSS ({data.source}), got "
                f"{windows['downsample']}: it has one row per cycle, and the test "
                "protocol scores the window that ends at each test unit's last cycle"
            )
        return last_window_dataset(data, windows["win_len"], windows["layout"])

    return WindowDataset(data.select(test_units), **windows)


def _ensure_scaled(
    data: RULData, train_units: list[int], stats, per_condition: bool = False
) -> None:
    if data.scaler is None and per_condition:
        from src.cmapss import normalize_per_condition

        conditions = data.extra.get("n_conditions", 6)
        normalize_per_condition(data, train_units, conditions, stats=stats)
        return
    if data.scaler is None:
        normalize_data(data, train_units, stats)
        return
    expected = stats.fitted_on_units if stats else train_units
    if data.scaler.fitted_on_units != list(expected):
        raise ValueError(
            f"{data.source} was scaled with statistics of units "
            f"{data.scaler.fitted_on_units}, expected units {list(expected)}; "
            "load it again"
        )


def read_unit_frame(
    path: str | Path, unit_id: int, groups: Sequence[str] = GROUPS
) -> pd.DataFrame:
    """Every named column of `groups` for one unit, raw, as a DataFrame (analysis).

    Args:
        path: N-CMAPSS file.
        unit_id: Unit to read (dev or test).
        groups: Any of W, X_s, X_v, T, A; Y is always added as column "RUL".

    Returns:
        DataFrame with one row per second of the unit, float64 as stored.

    Raises:
        DataFileError: As `load_data`; KeyError for an unknown unit (lists ids).
    """
    path = Path(path)
    try:
        with h5py.File(path, "r") as file:
            return _unit_frame(file, path, unit_id, groups)
    except (OSError, RuntimeError) as error:  # KeyError here is an unknown unit
        raise DataFileError(f"cannot read HDF5 file {path}: {error}") from error


def _unit_frame(file: h5py.File, path: Path, unit_id: int, groups) -> pd.DataFrame:
    available = []
    for split in SPLITS:
        units = _dataset(file, path, f"A_{split}")[:, 0]
        for unit, start, stop in _unit_runs(units, path, f"A_{split}"):
            available.append(unit)
            if unit == unit_id:
                columns = {}
                for group in groups:
                    names = _column_names(file, path, group)
                    block = file[f"{group}_{split}"][start:stop]
                    columns.update(zip(names, block.T, strict=True))
                columns["RUL"] = file[f"{LABEL_KEY}_{split}"][start:stop, 0]
                return pd.DataFrame(columns)
    raise KeyError(f"unknown unit id {unit_id} in {path}; available: {available}")
