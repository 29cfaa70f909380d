"""Read NASA's original C-MAPSS text files into the per-unit `RULData` of N-CMAPSS.

Train units become split "dev" with NASA's ids; test units become split "test" with
ids offset by `TEST_UNIT_OFFSET` (test unit 1 -> 1001; `nasa_unit_id` undoes it), so
`RULData.unit(id)` stays unique. A plain `.txt` file wins over its `.txt.gz` twin.
"""

from __future__ import annotations

import gzip
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from src.data_loader import DataFileError, JsonStats, RULData, UnitRecord
from src.windows import WindowDataset

# Subset -> number of operating conditions (Saxena et al. 2008).
SUBSET_CONDITIONS = {"FD001": 1, "FD002": 6, "FD003": 1, "FD004": 6}
FILE_KINDS = ("train", "test", "RUL")
N_COLUMNS = 26
SETTING_NAMES = ("setting1", "setting2", "setting3")
SENSOR_NAMES = tuple(f"s{number}" for number in range(1, 22))
COLUMN_NAMES = ("unit", "cycle", *SETTING_NAMES, *SENSOR_NAMES)
SETTING_COLUMNS = slice(2, 5)
# The 14 sensors that vary in FD001-FD004; the other 7 are (near) constant.
DEFAULT_SENSORS = (
    "s2",
    "s3",
    "s4",
    "s7",
    "s8",
    "s9",
    "s11",
    "s12",
    "s13",
    "s14",
    "s15",
    "s17",
    "s20",
    "s21",
)
TEST_UNIT_OFFSET = 1000
# Data rows of NASA's files, (train, test): a copy cut at a line boundary reads
# as valid data with fewer (or shorter) units and wrong labels for the last one.
NASA_ROWS = {
    "FD001": (20631, 13096),
    "FD002": (53759, 33991),
    "FD003": (24720, 16596),
    "FD004": (61249, 41214),
}
# Values become float32 features and int32 cycles: larger ones would not survive.
FLOAT32_MAX = float(np.finfo(np.float32).max)
INT32_MAX = int(np.iinfo(np.int32).max)
OBTAIN_HINT = (
    "Download C-MAPSS ('Turbofan Engine Degradation Simulation Data Set') from "
    "NASA's Prognostics Center of Excellence data repository and put "
    "train_FD00x.txt, test_FD00x.txt and RUL_FD00x.txt (plain or .gz) in the folder "
    "set by `cmapss_dir` in config.py (default datasets/cmapss/, environment "
    "variable CMAPSS_DIR)."
)


@dataclass(frozen=True)
class CmapssProtocol:
    """The common C-MAPSS evaluation protocol, as data.

    Attributes:
        sensors: Input sensors (the 14 informative ones).
        rul_cap: Piecewise-linear cap of training labels, in cycles.
        win_len: Cycles per window.
        test_unit_offset: Added to NASA's test unit ids in `RULData`.
        test_windows: How test units are scored.
    """

    sensors: tuple[str, ...] = DEFAULT_SENSORS
    rul_cap: int = 125
    win_len: int = 30
    test_unit_offset: int = TEST_UNIT_OFFSET
    test_windows: str = "last window per test unit; short units padded at the front"

    def to_dict(self) -> dict:
        return {**asdict(self), "sensors": list(self.sensors)}


CMAPSS_PROTOCOL = CmapssProtocol()


def nasa_unit_id(unit_id: int) -> int:
    """NASA's own id of a unit in `RULData` (test unit 1001 -> 1, train 7 -> 7)."""
    return unit_id - TEST_UNIT_OFFSET if unit_id > TEST_UNIT_OFFSET else unit_id


# Reading -------------------------------------------------------------------------


def subset_file(data_dir: str | Path, kind: str, subset: str) -> Path:
    """Path of `{kind}_{subset}.txt`, else of `.txt.gz`, in `data_dir`.

    Args:
        data_dir: Folder holding the C-MAPSS text files.
        kind: "train", "test" or "RUL".
        subset: "FD001" ... "FD004".

    Raises:
        DataFileError: If neither file exists; says where to get the data.
    """
    plain = Path(data_dir) / f"{kind}_{subset}.txt"
    for candidate in (plain, plain.with_name(plain.name + ".gz")):
        if candidate.is_file():
            return candidate
    raise DataFileError(
        f"C-MAPSS file {plain} (or {plain.name}.gz) does not exist. {OBTAIN_HINT}"
    )


def read_table(path: str | Path, n_columns: int = N_COLUMNS) -> np.ndarray:
    """Read a whitespace-separated C-MAPSS text file (plain or gzipped).

    Trailing spaces, CRLF line endings and blank lines are accepted.

    Args:
        path: The file.
        n_columns: Columns every non-blank line must have (26, or 1 for RUL files).

    Returns:
        (rows, n_columns) float64 values, in file order.

    Raises:
        DataFileError: Unreadable file, no data, a line with another column count,
            or a value that is not a finite number (naming the line and value).
    """
    path = Path(path)
    numbered = _numbered_lines(path)
    if not numbered:
        raise DataFileError(f"{path} holds no data rows; expected {n_columns} columns")
    tokens = [line.split() for _, line in numbered]
    _check_widths(tokens, numbered, path, n_columns)
    if any("_" in line for _, line in numbered):  # float() reads 1_0 as 10
        _raise_first_bad_value(tokens, numbered, path)
    try:
        table = np.array(tokens, dtype=np.float64)
    except ValueError:
        _raise_first_bad_value(tokens, numbered, path)
    _check_table_finite(table, numbered, path)

    return table


def _numbered_lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, text) of each non-blank line."""
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("ascii")
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as error:
        raise DataFileError(
            f"cannot read {path}: {error}; expected a C-MAPSS text file "
            "(plain or gzipped). Download it again."
        ) from error
    lines = enumerate(text.splitlines(), start=1)

    return [(number, line) for number, line in lines if line.strip()]


def _check_widths(
    tokens: list[list[str]], numbered: list[tuple[int, str]], path: Path, n: int
) -> None:
    for values, (number, _) in zip(tokens, numbered, strict=True):
        if len(values) != n:
            raise DataFileError(
                f"{path}, line {number}: found {len(values)} columns, expected {n} "
                "whitespace-separated columns"
            )


def _raise_first_bad_value(
    tokens: list[list[str]], numbered: list[tuple[int, str]], path: Path
) -> None:
    for values, (number, _) in zip(tokens, numbered, strict=True):
        for column, value in enumerate(values, start=1):
            try:
                if "_" in value:
                    raise ValueError(value)
                float(value)
            except ValueError:
                raise DataFileError(
                    f"{path}, line {number}, column {column}: value {value!r} is "
                    "not a number; expected numeric columns only"
                ) from None


def _check_table_finite(
    table: np.ndarray, numbered: list[tuple[int, str]], path: Path
) -> None:
    bad = ~(np.abs(table) <= FLOAT32_MAX)  # NaN too; float32 holds the values
    if bad.any():
        row, column = (int(index) for index in np.argwhere(bad)[0])
        raise DataFileError(
            f"{path}, line {numbered[row][0]}, column {column + 1}: value "
            f"{table[row, column]} is not finite (in float32, whose largest value "
            f"is {FLOAT32_MAX:.4g}); expected finite numbers"
        )


# Units and labels ----------------------------------------------------------------


def load_cmapss(
    data_dir: str | Path,
    subset: str = "FD001",
    sensors: Sequence[str] = DEFAULT_SENSORS,
    include_settings: bool = False,
    official_sizes: bool = True,
) -> RULData:
    """Read one C-MAPSS subset into per-unit records with uncapped RUL labels.

    Train rows get RUL = last cycle - cycle. Test rows get RUL = the RUL file's
    value for the unit (line i is the i-th test unit in file order) + last observed
    cycle - cycle. Capping (`CMAPSS_PROTOCOL.rul_cap`) is left to `WindowDataset`.

    Args:
        data_dir: Folder with train_/test_/RUL_{subset}.txt (or .txt.gz).
        subset: "FD001" ... "FD004" (case-insensitive).
        sensors: Sensor names "s1" ... "s21", in the wanted column order.
        include_settings: Prepend the 3 operating settings to the features.
        official_sizes: Refuse train and test files whose row counts differ from
            NASA's (`NASA_ROWS`); False reads files changed on purpose.

    Returns:
        RULData: train units (split "dev"), then test units (split "test", ids
        + `TEST_UNIT_OFFSET`). `extra` holds the protocol, subset, sensors, files,
        condition count and each unit's (rows, 3) operating settings.

    Raises:
        ValueError: Unknown subset or sensor name.
        DataFileError: Missing or malformed files, RUL file of the wrong length.
    """
    subset = _check_subset(subset)
    feature_names = _feature_names(sensors, include_settings)
    columns = [COLUMN_NAMES.index(name) for name in feature_names]
    paths = {kind: subset_file(data_dir, kind, subset) for kind in FILE_KINDS}

    tables = {kind: read_table(paths[kind]) for kind in ("train", "test")}
    if official_sizes:
        _check_official_rows(tables, paths, subset)
    dev_blocks = _unit_blocks(tables["train"], paths["train"])
    test_blocks = _unit_blocks(tables["test"], paths["test"])
    final_rul = _read_final_rul(paths["RUL"], len(test_blocks), paths["test"])
    _check_test_ids([unit_id for unit_id, _ in test_blocks], paths)
    dev = _records(dev_blocks, "dev", columns, np.zeros(len(dev_blocks)))
    test = _records(test_blocks, "test", columns, final_rul)

    return RULData(
        source=f"C-MAPSS {subset} in {data_dir}",
        feature_names=feature_names,
        units=[record for record, _ in dev + test],
        extra=_extra(subset, sensors, include_settings, paths, dev + test),
    )


def _check_subset(subset: str) -> str:
    name = str(subset).strip().upper()
    if name not in SUBSET_CONDITIONS:
        raise ValueError(
            f"unknown C-MAPSS subset {subset!r}; expected one of "
            f"{list(SUBSET_CONDITIONS)}"
        )

    return name


def _check_official_rows(
    tables: dict[str, np.ndarray], paths: dict[str, Path], subset: str
) -> None:
    for kind, expected in zip(("train", "test"), NASA_ROWS[subset], strict=True):
        if len(tables[kind]) != expected:
            raise DataFileError(
                f"{paths[kind]} holds {len(tables[kind])} data rows; NASA's "
                f"{kind}_{subset} holds {expected}. Expected an unchanged copy (was "
                "the download cut short?). The main job and notebooks read files "
                "changed on purpose with CMAPSS_OFFICIAL_SIZES=0 "
                "(cmapss_official_sizes in config.py); the C-MAPSS benchmark reads "
                "NASA's files only."
            )


def _feature_names(sensors: Sequence[str], include_settings: bool) -> list[str]:
    sensors = [sensors] if isinstance(sensors, str) else list(sensors)
    unknown = [name for name in sensors if name not in SENSOR_NAMES]
    if unknown or not sensors or len(set(sensors)) != len(sensors):
        raise ValueError(
            f"bad sensor list {sensors} (unknown: {unknown}); expected distinct "
            "names among s1 ... s21"
        )
    settings = list(SETTING_NAMES) if include_settings else []

    return settings + sensors


def _records(
    blocks: list[tuple[int, np.ndarray]],
    split: str,
    columns: list[int],
    final_rul: np.ndarray,
) -> list[tuple[UnitRecord, np.ndarray]]:
    """(record, (rows, 3) operating settings) of every unit, in file order."""
    offset = TEST_UNIT_OFFSET if split == "test" else 0
    records = []
    for (unit_id, block), rul_at_end in zip(blocks, final_rul, strict=True):
        record = _unit_record(block, unit_id + offset, split, columns, rul_at_end)
        records.append((record, block[:, SETTING_COLUMNS].astype(np.float32)))

    return records


def _unit_record(
    block: np.ndarray, unit_id: int, split: str, columns: list[int], rul_at_end: float
) -> UnitRecord:
    """One unit's record; RUL = `rul_at_end` + last cycle - cycle (uncapped)."""
    cycle = block[:, 1].astype(np.int32)
    rul = rul_at_end + (cycle[-1] - cycle)

    return UnitRecord(
        unit=unit_id,
        split=split,
        features=np.ascontiguousarray(block[:, columns], dtype=np.float32),
        rul=rul.astype(np.float32),
        cycle=cycle,
    )


def _unit_blocks(table: np.ndarray, path: Path) -> list[tuple[int, np.ndarray]]:
    """(NASA unit id, rows) of each unit; units contiguous, cycles increasing."""
    _check_integral(table, path)
    unit_column = table[:, 0]
    changes = np.flatnonzero(np.diff(unit_column)) + 1
    starts = np.concatenate([[0], changes])
    unit_ids = unit_column[starts].astype(np.int64).tolist()
    if len(set(unit_ids)) != len(unit_ids) or min(unit_ids) < 1:
        raise DataFileError(
            f"{path}: unit ids in file order are {unit_ids}; expected positive ids, "
            "each unit's rows in one block"
        )
    if max(unit_ids) >= TEST_UNIT_OFFSET:
        raise DataFileError(
            f"{path}: unit id {max(unit_ids)} reaches the test id offset "
            f"{TEST_UNIT_OFFSET}; expected NASA ids below it"
        )
    blocks = list(zip(unit_ids, np.split(table, starts[1:]), strict=True))
    for unit_id, block in blocks:
        _check_cycles(block[:, 1], path, unit_id)

    return blocks


def _check_integral(table: np.ndarray, path: Path) -> None:
    ids = table[:, :2]
    bad = (ids != np.round(ids)) | (np.abs(ids) > INT32_MAX)
    if bad.any():
        row, column = (int(index) for index in np.argwhere(bad)[0])
        raise DataFileError(
            f"{path}: data row {row + 1} has {COLUMN_NAMES[column]} "
            f"{ids[row, column]}; expected an integer of magnitude <= {INT32_MAX}"
        )


def _check_cycles(cycle: np.ndarray, path: Path, unit_id: int) -> None:
    if (np.diff(cycle) <= 0).any():
        raise DataFileError(
            f"{path}: cycles of unit {unit_id} are not strictly increasing "
            f"(first cycles {cycle[:5].astype(int).tolist()}); expected file order"
        )


def _read_final_rul(rul_path: Path, n_test_units: int, test_path: Path):
    """(n_test_units,) RUL after each test unit's last cycle; line i is unit i."""
    final_rul = read_table(rul_path, n_columns=1)[:, 0]
    if len(final_rul) != n_test_units:
        raise DataFileError(
            f"{rul_path} has {len(final_rul)} RUL values but {test_path} has "
            f"{n_test_units} test units; expected one value per test unit, in order"
        )
    if (final_rul < 0).any():
        index = int(np.flatnonzero(final_rul < 0)[0])
        raise DataFileError(
            f"{rul_path}, value {index + 1}: RUL {final_rul[index]} is negative; "
            "expected RUL >= 0 cycles"
        )

    return final_rul


def _check_test_ids(unit_ids: list[int], paths: dict[str, Path]) -> None:
    """Line i of the RUL file belongs to test unit i: ids must be 1 ... N in order."""
    for position, unit_id in enumerate(unit_ids, start=1):
        if unit_id != position:
            raise DataFileError(
                f"{paths['test']}: test unit number {position} in file order has id "
                f"{unit_id}; expected ids 1 ... {len(unit_ids)} in order, since line "
                f"i of {paths['RUL'].name} holds the RUL of test unit i"
            )


def _extra(
    subset: str,
    sensors: Sequence[str],
    include_settings: bool,
    paths: dict[str, Path],
    records: list[tuple[UnitRecord, np.ndarray]],
) -> dict:
    return {
        "subset": subset,
        "sensors": list(sensors),
        "include_settings": include_settings,
        "rul_cap": CMAPSS_PROTOCOL.rul_cap,
        "win_len": CMAPSS_PROTOCOL.win_len,
        "test_unit_offset": TEST_UNIT_OFFSET,
        "n_conditions": SUBSET_CONDITIONS[subset],
        "protocol": CMAPSS_PROTOCOL.to_dict(),
        "files": {kind: str(path) for kind, path in paths.items()},
        "operating_settings": {record.unit: values for record, values in records},
    }


# Test windows ---------------------------------------------------------------------


def pad_short_units(
    units: Sequence[UnitRecord], win_len: int
) -> tuple[list[UnitRecord], dict[int, int]]:
    """Repeat each short unit's first row at its front until it has `win_len` rows.

    This is the common C-MAPSS practice for test units shorter than one window; it
    keeps every unit's last row (and last-window label) unchanged. Padded rows copy
    the first row's features, RUL and cycle. Warns naming the padded units.

    Args:
        units: Unit records (not modified).
        win_len: Rows each unit must have.

    Returns:
        (records in the given order, {unit id: padded rows} of the padded units).
    """
    padded, counts = [], {}
    for record in units:
        missing = win_len - record.rows
        if missing > 0:
            counts[record.unit] = missing
            record = _pad_front(record, missing)
        padded.append(record)
    if counts:
        warnings.warn(
            f"padded {len(counts)} of {len(units)} units shorter than "
            f"win_len={win_len} by repeating their first row: {counts} "
            "(unit: rows added)",
            stacklevel=2,
        )

    return padded, counts


def _pad_front(record: UnitRecord, missing: int) -> UnitRecord:
    def repeat_first(values: np.ndarray) -> np.ndarray:
        return np.concatenate([np.repeat(values[:1], missing, axis=0), values])

    return replace(
        record,
        features=repeat_first(record.features),
        rul=repeat_first(record.rul),
        cycle=repeat_first(record.cycle),
    )


def last_window_dataset(
    data: RULData,
    win_len: int = CMAPSS_PROTOCOL.win_len,
    layout: str = "cnn",
    rul_cap: float | None = None,
) -> WindowDataset:
    """The test protocol: the last window of every test unit, short units padded.

    Records the padding as `data.extra["padded_test_units"]` ({unit id: rows}).

    Args:
        data: Loaded (and usually scaled) C-MAPSS data.
        win_len: Cycles per window.
        layout: "cnn" or "lstm" (see `WindowDataset`).
        rul_cap: Cap of the labels, None to score against the true RUL.

    Returns:
        WindowDataset with one window per test unit, in file order.
    """
    test_units = data.select(data.unit_ids("test"))
    padded, counts = pad_short_units(test_units, win_len)
    data.extra["padded_test_units"] = counts
    dataset = WindowDataset(
        padded, win_len, layout=layout, last_only=True, rul_cap=rul_cap
    )
    # Rows in the units as read: the padding moved each padded unit's rows back.
    added = [counts.get(int(unit), 0) for unit in dataset.window_unit]
    dataset.window_row = dataset.window_row - np.array(added, dtype=np.int64)

    return dataset


# Scaling per operating condition -------------------------------------------------


@dataclass
class ConditionScalerStats(JsonStats):
    """Z-score statistics per operating condition, fitted on training units.

    Attributes:
        feature_names: Names of the m scaled features.
        centers: (n_conditions, 3) operating-setting centre of each condition.
        mean: (n_conditions, m) feature means per condition.
        scale: (n_conditions, m) feature standard deviations per condition.
        fitted_on_units: Units the statistics come from.
    """

    feature_names: list[str]
    centers: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    fitted_on_units: list[int]

    @property
    def n_conditions(self) -> int:
        return len(self.centers)

    def condition_of(self, settings: np.ndarray) -> np.ndarray:
        """Index of the nearest condition centre for (rows, 3) settings, (rows,)."""
        offsets = settings[:, None, :] - self.centers[None, :, :]  # (rows, k, 3)

        return np.argmin((offsets**2).sum(axis=2), axis=1)

    def to_dict(self) -> dict:
        return {
            "kind": "per_condition",
            "feature_names": list(self.feature_names),
            "centers": self.centers.tolist(),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "fitted_on_units": [int(unit) for unit in self.fitted_on_units],
        }

    @classmethod
    def from_dict(cls, values: dict) -> ConditionScalerStats:
        return cls(
            feature_names=list(values["feature_names"]),
            centers=np.asarray(values["centers"], dtype=np.float64),
            mean=np.asarray(values["mean"], dtype=np.float64),
            scale=np.asarray(values["scale"], dtype=np.float64),
            fitted_on_units=list(values["fitted_on_units"]),
        )


def normalize_per_condition(
    data: RULData,
    train_units: Sequence[int],
    n_conditions: int = 6,
    stats: ConditionScalerStats | None = None,
    seed: int = 0,
) -> ConditionScalerStats:
    """Z-score each row with the statistics of its operating condition, in place.

    Conditions are k-means clusters (fixed `seed`) of the training rows' 3
    operating settings; every row joins its nearest centre. Use it for the
    6-condition FD002/FD004; for FD001/FD003 `normalize_data` is the plain choice.

    Args:
        data: Raw data from `load_cmapss` (needs `extra["operating_settings"]`).
        train_units: Units the clusters and statistics are fitted on.
        n_conditions: Number of clusters (warns if the subset has another count).
        stats: Saved statistics to apply instead of fitting.
        seed: Seed of k-means.

    Returns:
        The statistics applied, also stored as `data.scaler`.

    Raises:
        ValueError: Already scaled data, missing settings, other feature names.
    """
    if data.scaler is not None:
        raise ValueError(f"{data.source} is already scaled; load it again to rescale")
    settings = _operating_settings(data)
    stats = stats or fit_condition_scaler(data, train_units, n_conditions, seed)
    if stats.feature_names != data.feature_names:
        raise ValueError(
            f"scaler features {stats.feature_names} differ from the data's "
            f"{data.feature_names}"
        )
    for record in data.units:
        condition = stats.condition_of(settings[record.unit])
        scaled = (record.features - stats.mean[condition]) / stats.scale[condition]
        record.features[:] = scaled
    data.scaler = stats

    return stats


def fit_condition_scaler(
    data: RULData, train_units: Sequence[int], n_conditions: int = 6, seed: int = 0
) -> ConditionScalerStats:
    """Cluster the training rows' settings and fit z-score statistics per cluster."""
    if not train_units:
        raise ValueError("cannot fit the scaler: no training units given")
    _warn_condition_count(data, n_conditions)
    settings_of = _operating_settings(data)
    settings = np.concatenate([settings_of[unit] for unit in train_units])
    features = np.concatenate([data.unit(unit).features for unit in train_units])
    centers = _condition_centers(settings, n_conditions, seed)

    stats = ConditionScalerStats(
        feature_names=list(data.feature_names),
        centers=centers,
        mean=np.zeros((n_conditions, features.shape[1])),
        scale=np.ones((n_conditions, features.shape[1])),
        fitted_on_units=list(train_units),
    )
    condition = stats.condition_of(settings)
    for index in range(n_conditions):
        scaler = StandardScaler().fit(features[condition == index])
        stats.mean[index], stats.scale[index] = scaler.mean_, scaler.scale_

    return stats


def _condition_centers(settings: np.ndarray, n_conditions: int, seed: int):
    """(n_conditions, 3) k-means centres, sorted by setting1, then 2, then 3."""
    distinct = len(np.unique(settings, axis=0))
    if n_conditions < 1 or distinct < n_conditions:
        raise ValueError(
            f"cannot form n_conditions={n_conditions} operating conditions from "
            f"{distinct} distinct settings of the training rows; expected "
            "1 <= n_conditions <= distinct settings"
        )
    kmeans = KMeans(n_clusters=n_conditions, n_init=10, random_state=seed)
    centers = kmeans.fit(settings.astype(np.float64)).cluster_centers_
    # Sorted so that condition indices do not depend on k-means' label order.
    order = np.lexsort(centers.T[::-1])

    return centers[order]


def _operating_settings(data: RULData) -> dict[int, np.ndarray]:
    settings = data.extra.get("operating_settings")
    if settings is None:
        raise ValueError(
            f"{data.source} has no extra['operating_settings']; per-condition "
            "scaling needs the C-MAPSS settings (load the data with load_cmapss)"
        )

    return settings


def _warn_condition_count(data: RULData, n_conditions: int) -> None:
    known = data.extra.get("n_conditions")
    if known is not None and known != n_conditions:
        warnings.warn(
            f"{data.extra.get('subset')} has {known} operating condition(s) but "
            f"n_conditions={n_conditions} clusters were asked for",
            stacklevel=3,
        )
