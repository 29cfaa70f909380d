"""C-MAPSS text reader: tiny synthetic files of known contents, then the real data."""

from __future__ import annotations

import gzip
import hashlib
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from config import get_config
from src import run
from src.cmapss import (
    CMAPSS_PROTOCOL,
    DEFAULT_SENSORS,
    SENSOR_NAMES,
    ConditionScalerStats,
    last_window_dataset,
    load_cmapss,
    nasa_unit_id,
    normalize_per_condition,
    pad_short_units,
    read_table,
)
from src.data_loader import (
    DataFileError,
    create_training_and_testing_sets,
    normalize_data,
)
from src.sources import load_configured_data

# Tiny files are not NASA's: their row counts are not checked against NASA's.
load_tiny = partial(load_cmapss, official_sizes=False)
# NASA unit id -> cycles; the RUL file holds one value per test unit, in order.
TRAIN_UNITS = {1: 5, 2: 7}
TEST_UNITS = {1: 3, 2: 6}
FINAL_RUL = [10, 4]
# The six operating conditions of FD002/FD004: altitude (kft), Mach, TRA.
CONDITIONS = [
    (0.0, 0.0, 100.0),
    (10.0, 0.25, 100.0),
    (20.0, 0.7, 100.0),
    (25.0, 0.62, 60.0),
    (35.0, 0.84, 100.0),
    (42.0, 0.84, 100.0),
]


def coded_values(unit: int, cycle: int) -> list[float]:
    """Columns 3-26 of a row: unit * 100 + cycle + (0-based column) / 100."""
    return [unit * 100 + cycle + column / 100 for column in range(2, 26)]


def condition_values(unit: int, cycle: int) -> list[float]:
    """Settings of condition cycle % 6; sensors at that condition's own level."""
    condition = cycle % len(CONDITIONS)
    noise = np.random.default_rng(unit * 1000 + cycle).normal(size=21)
    sensors = 100.0 * (condition + 1) * (1 + np.arange(21) / 10) + noise
    if unit == 3:
        sensors += 1e4  # a unit the scaler must not be fitted on

    return [*CONDITIONS[condition], *sensors.tolist()]


def write_lines(path: Path, lines: list[str], crlf: bool = False) -> Path:
    """Write `lines` as ASCII, gzipped when `path` ends in .gz."""
    ending = "\r\n" if crlf else "\n"
    raw = (ending.join(lines) + ending).encode("ascii")
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)

    return path


def table_lines(units: dict[int, int], values: Callable = coded_values) -> list[str]:
    """NASA's layout: unit, cycle, 24 values, two trailing spaces per line."""
    lines = []
    for unit, cycles in units.items():
        for cycle in range(1, cycles + 1):
            numbers = " ".join(f"{value:.4f}" for value in values(unit, cycle))
            lines.append(f"{unit} {cycle} {numbers}  ")

    return lines


def write_subset(
    directory: Path,
    subset: str = "FD001",
    suffix: str = ".txt",
    crlf: bool = False,
    train: dict[int, int] = TRAIN_UNITS,
    test: dict[int, int] = TEST_UNITS,
    final_rul: list[int] = FINAL_RUL,
    values: Callable = coded_values,
) -> Path:
    """Write train_, test_ and RUL_{subset} files into `directory`; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "train": table_lines(train, values),
        "test": table_lines(test, values),
        "RUL": [f"{value} " for value in final_rul],
    }
    for kind, lines in files.items():
        write_lines(directory / f"{kind}_{subset}{suffix}", lines, crlf)

    return directory


def replace_line(path: Path, line_number: int, text: str) -> None:
    """Replace the 1-based line `line_number` of the plain file `path`."""
    lines = path.read_text().splitlines()
    lines[line_number - 1] = text
    write_lines(path, lines)


@pytest.fixture
def subset_dir(tmp_path: Path) -> Path:
    return write_subset(tmp_path / "cmapss")


# Units and labels -----------------------------------------------------------------


def test_units_per_split_with_offset_test_ids(subset_dir):
    data = load_tiny(subset_dir)

    assert data.unit_ids("dev") == [1, 2]
    assert data.unit_ids("test") == [1001, 1002]
    assert [nasa_unit_id(unit) for unit in data.unit_ids()] == [1, 2, 1, 2]
    assert [data.unit(unit).rows for unit in data.unit_ids()] == [5, 7, 3, 6]
    assert data.unit(2).cycle.tolist() == list(range(1, 8))
    assert data.unit(1002).features.dtype == np.float32


def test_train_labels_count_down_to_zero(subset_dir):
    data = load_tiny(subset_dir)

    assert data.unit(1).rul.tolist() == [4, 3, 2, 1, 0]
    assert data.unit(2).rul.tolist() == [6, 5, 4, 3, 2, 1, 0]
    assert data.unit(1).rul.dtype == np.float32


def test_test_labels_add_rul_file_value(subset_dir):
    data = load_tiny(subset_dir)

    assert data.unit(1001).rul.tolist() == [12, 11, 10]
    assert data.unit(1002).rul.tolist() == [9, 8, 7, 6, 5, 4]


def test_labels_are_stored_uncapped(tmp_path):
    directory = write_subset(tmp_path, train={1: 200}, final_rul=[300, 4])

    data = load_tiny(directory)

    assert data.unit(1).rul.max() == 199
    assert data.unit(1001).rul[-1] == 300


def test_default_sensors_in_order(subset_dir):
    data = load_tiny(subset_dir)

    assert data.feature_names == list(DEFAULT_SENSORS)
    assert len(DEFAULT_SENSORS) == 14
    columns = [SENSOR_NAMES.index(name) + 5 for name in DEFAULT_SENSORS]
    expected = [100 + 1 + column / 100 for column in columns]  # unit 1, cycle 1
    assert np.allclose(data.unit(1).features[0], expected)


def test_sensor_selection_keeps_the_given_order(subset_dir):
    data = load_tiny(subset_dir, sensors=["s21", "s2"])

    assert data.feature_names == ["s21", "s2"]
    assert np.allclose(data.unit(2).features[0], [201.25, 201.06])


def test_settings_are_prepended_on_request(subset_dir):
    data = load_tiny(subset_dir, sensors=["s1"], include_settings=True)

    assert data.feature_names == ["setting1", "setting2", "setting3", "s1"]
    assert np.allclose(data.unit(1001).features[2], [103.02, 103.03, 103.04, 103.05])


def test_extra_records_the_protocol(subset_dir):
    data = load_tiny(subset_dir, subset="fd001")

    assert data.extra["subset"] == "FD001"
    assert data.extra["rul_cap"] == 125 and data.extra["win_len"] == 30
    assert data.extra["sensors"] == list(DEFAULT_SENSORS)
    assert data.extra["test_unit_offset"] == 1000
    assert data.extra["protocol"] == CMAPSS_PROTOCOL.to_dict()
    assert data.extra["operating_settings"][1001].shape == (3, 3)


# File formats ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".txt", ".txt.gz"])
@pytest.mark.parametrize("crlf", [False, True])
def test_plain_gz_and_crlf_read_identically(tmp_path, suffix, crlf):
    reference = load_tiny(write_subset(tmp_path / "reference"))

    data = load_tiny(write_subset(tmp_path / "variant", suffix=suffix, crlf=crlf))

    for expected, record in zip(reference.units, data.units, strict=True):
        assert record.unit == expected.unit
        assert np.array_equal(record.features, expected.features)
        assert np.array_equal(record.rul, expected.rul)
    assert data.extra["files"]["train"].endswith(f"train_FD001{suffix}")


def test_plain_file_wins_over_gz(subset_dir):
    write_lines(subset_dir / "RUL_FD001.txt.gz", ["50", "60"])

    data = load_tiny(subset_dir)

    assert data.unit(1001).rul[-1] == 10
    assert data.extra["files"]["RUL"].endswith("RUL_FD001.txt")


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path):
    path = write_lines(tmp_path / "RUL_FD001.txt", ["", "7 ", "", "x"])

    with pytest.raises(DataFileError, match=r"line 4, column 1: value 'x'"):
        read_table(path, n_columns=1)


# Bad input ------------------------------------------------------------------------


def row(*tokens: str, width: int = 26) -> str:
    """A line starting with `tokens`, filled with zeros up to `width` columns."""
    return " ".join([*tokens] + ["0"] * (width - len(tokens))) + "  "


@pytest.mark.parametrize(
    ("kind", "line", "text", "message"),
    [
        ("train", 3, row("1", "3", width=3), r"train_FD001.txt, line 3: found 3 "),
        ("test", 2, row("1", "2", width=27), r"line 2: found 27 columns, expected 26"),
        ("train", 2, row("1", "2", *"0000", "abc"), r"line 2, column 7: .*'abc'"),
        ("test", 1, row("1", "1", "nan"), r"line 1, column 3: value nan is not fin"),
        ("RUL", 2, "4 5", r"RUL_FD001.txt, line 2: found 2 columns, expected 1"),
        ("RUL", 1, "-3", r"RUL -3.0 is negative"),
        ("train", 12, row("1", "8"), r"unit ids in file order are \[1, 2, 1\]"),
        ("train", 2, row("1", "1"), r"cycles of unit 1 are not strictly increa"),
        ("train", 1, row("1.5", "1"), r"data row 1 has unit 1.5; expected an int"),
    ],
)
def test_malformed_lines_are_named(subset_dir, kind, line, text, message):
    replace_line(subset_dir / f"{kind}_FD001.txt", line, text)

    with pytest.raises(DataFileError, match=message):
        load_tiny(subset_dir)


def test_test_units_must_be_numbered_as_the_rul_lines(tmp_path):
    directory = write_subset(tmp_path, test={2: 3, 1: 6})

    with pytest.raises(
        DataFileError, match=r"test unit number 1 in file order has id 2"
    ):
        load_tiny(directory)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (row("1", "2", "0_1"), r"line 2, column 3: value '0_1' is not a number"),
        (row("1", "2", "1e39"), r"line 2, column 3: value 1e\+39 is not finite"),
        (row("1", "3000000000"), r"cycle 3000000000.0; expected an integer of magn"),
    ],
)
def test_values_float32_and_int32_cannot_hold_are_refused(subset_dir, text, message):
    replace_line(subset_dir / "train_FD001.txt", 2, text)

    with pytest.raises(DataFileError, match=message):
        load_tiny(subset_dir)


def test_rul_beyond_float32_is_refused(tmp_path):
    directory = write_subset(tmp_path, final_rul=[10, "1e40"])

    with pytest.raises(DataFileError, match=r"RUL_FD001.txt, line 2, column 1: value"):
        load_tiny(directory)


def test_rul_file_length_must_match_test_units(tmp_path):
    directory = write_subset(tmp_path, final_rul=[10, 4, 8])

    with pytest.raises(DataFileError, match=r"3 RUL values but .* has 2 test units"):
        load_tiny(directory)


def test_files_of_other_sizes_than_nasas_are_refused_unless_asked(subset_dir):
    with pytest.raises(DataFileError) as caught:
        load_cmapss(subset_dir)

    message = str(caught.value)
    assert (
        "train_FD001.txt holds 12 data rows; NASA's train_FD001 holds 20631" in message
    )
    assert "CMAPSS_OFFICIAL_SIZES=0" in message
    assert "the C-MAPSS benchmark reads NASA's files only" in message
    assert load_cmapss(subset_dir, official_sizes=False).unit_ids("dev") == [1, 2]


def test_the_configured_run_reads_files_changed_on_purpose_when_asked(subset_dir):
    environ = {"DATASET": "cmapss:FD001", "CMAPSS_DIR": str(subset_dir)}

    with pytest.raises(DataFileError, match="holds 12 data rows"):
        load_configured_data(get_config(environ=environ))
    lax = get_config(environ={**environ, "CMAPSS_OFFICIAL_SIZES": "0"})
    assert load_configured_data(lax).unit_ids("test") == [1001, 1002]


def test_missing_file_says_where_to_get_and_put_it(subset_dir):
    (subset_dir / "test_FD001.txt").unlink()

    with pytest.raises(DataFileError) as caught:
        load_tiny(subset_dir)

    message = str(caught.value)
    assert "test_FD001.txt" in message and "does not exist" in message
    assert "Prognostics Center of Excellence" in message
    assert "Turbofan Engine Degradation Simulation Data Set" in message
    assert "cmapss_dir" in message and "datasets/cmapss/" in message


def test_corrupt_gz_and_empty_files_are_refused(tmp_path):
    corrupt = tmp_path / "train_FD001.txt.gz"
    corrupt.write_bytes(b"\x1f\x8b not really gzip")
    empty = write_lines(tmp_path / "RUL_FD001.txt", [" ", ""])

    with pytest.raises(DataFileError, match=r"cannot read .*train_FD001.txt.gz"):
        read_table(corrupt)
    damaged = bytearray(gzip.compress(b"1 1 " + b"0 " * 24 + b"\n" * 50))
    damaged[12:20] = b"\xff" * 8  # a valid header over a broken deflate stream
    corrupt.write_bytes(bytes(damaged))
    with pytest.raises(DataFileError, match=r"cannot read .*train_FD001.txt.gz"):
        read_table(corrupt)
    with pytest.raises(DataFileError, match=r"RUL_FD001.txt holds no data rows"):
        read_table(empty, n_columns=1)


def test_unknown_subset_and_sensor_are_named(subset_dir):
    with pytest.raises(ValueError, match=r"'FD005'.*\['FD001', 'FD002'"):
        load_tiny(subset_dir, subset="FD005")
    with pytest.raises(ValueError, match=r"unknown: \['s22'\]"):
        load_tiny(subset_dir, sensors=["s2", "s22"])


# Padding and test windows ---------------------------------------------------------


def test_pad_short_units_repeats_the_first_row_and_warns(subset_dir):
    data = load_tiny(subset_dir)
    units = data.select(data.unit_ids("test"))  # 3 and 6 rows

    with pytest.warns(UserWarning, match=r"padded 1 of 2 units .*\{1001: 2\}"):
        padded, counts = pad_short_units(units, win_len=5)

    assert counts == {1001: 2}
    short = padded[0]
    assert short.rows == 5
    assert np.array_equal(short.features[:3], np.repeat(units[0].features[:1], 3, 0))
    assert np.array_equal(short.features[2:], units[0].features)
    assert short.rul.tolist() == [12, 12, 12, 11, 10]
    assert padded[1] is units[1]
    assert data.unit(1001).rows == 3  # the input records are left alone


def test_pad_short_units_is_silent_when_nothing_is_short(subset_dir):
    data = load_tiny(subset_dir)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        padded, counts = pad_short_units(data.units, win_len=3)

    assert counts == {}
    assert padded == data.units


def test_last_window_dataset_scores_each_test_unit_once(subset_dir):
    data = load_tiny(subset_dir, sensors=["s2"])

    with pytest.warns(UserWarning, match="padded 1 of 2"):
        dataset = last_window_dataset(data, win_len=5, layout="lstm")
    x, y = dataset[np.arange(len(dataset))]

    assert len(dataset) == 2
    assert y.tolist() == FINAL_RUL
    assert data.extra["padded_test_units"] == {1001: 2}
    assert np.allclose(x[0, :, 0].numpy(), [101.06] * 3 + [102.06, 103.06])
    assert dataset.window_row.tolist() == [2, 5]  # last rows of the units as read
    assert dataset.window_cycle.tolist() == [3, 6]


def test_downsampled_splits_are_refused_for_cmapss(subset_dir):
    config = get_config(environ={}, dataset="cmapss:FD001", win_len=2, downsample=2)
    data = load_tiny(subset_dir)

    with pytest.raises(ValueError, match=r"downsample must be 1 for C-MAPSS .*got 2"):
        create_training_and_testing_sets(data, config, layout="lstm")


# Scaling per operating condition --------------------------------------------------


@pytest.fixture
def conditions_dir(tmp_path: Path) -> Path:
    """FD002-like files: six conditions, unit 3 far off the training units."""
    units = {"train": {1: 24, 2: 30, 3: 18}, "test": {1: 12}, "final_rul": [5]}

    return write_subset(tmp_path, "FD002", values=condition_values, **units)


def test_summary_of_a_per_condition_scaled_run_lists_each_conditions_statistics(
    conditions_dir, monkeypatch, capsys
):
    environ = {
        "DATASET": "cmapss:FD002",
        "CMAPSS_DIR": str(conditions_dir),
        "CMAPSS_OFFICIAL_SIZES": "0",
        "SCALE_PER_CONDITION": "1",
        "WIN_LEN": "5",
        "VAL_UNITS": "3",
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.argv", ["src.run", "--summary"])

    run.main()  # stopped with a 2-D mean handed to a DataFrame column

    printed = capsys.readouterr().out
    table = printed.split("Scaler statistics (training units only):\n")[1]
    header = " ".join(table.splitlines()[0].split())
    assert header == " ".join(f"mean {n} std {n}" for n in range(1, 7))
    assert len(table.strip().splitlines()) == 2 + len(DEFAULT_SENSORS)


def test_per_condition_scaling_is_fitted_on_training_units_only(conditions_dir):
    data = load_tiny(conditions_dir, subset="FD002")
    settings = data.extra["operating_settings"]

    stats = normalize_per_condition(data, train_units=[1, 2])

    assert stats.fitted_on_units == [1, 2] and data.scaler is stats
    assert np.allclose(stats.centers, sorted(CONDITIONS), atol=1e-4)
    rows = np.concatenate([data.unit(unit).features for unit in (1, 2)])
    condition = stats.condition_of(np.concatenate([settings[1], settings[2]]))
    for index in range(6):
        chosen = rows[condition == index]
        assert np.allclose(chosen.mean(axis=0), 0, atol=1e-4)
        assert np.allclose(chosen.std(axis=0), 1, atol=1e-4)
    assert data.unit(3).features.min() > 10  # +1e4 stays far off: not fitted on


def test_per_condition_stats_round_trip_and_reapply(conditions_dir, tmp_path):
    fitted = load_tiny(conditions_dir, subset="FD002")
    stats = normalize_per_condition(fitted, train_units=[1, 2])
    stats.save(tmp_path / "scaler.json")
    fresh = load_tiny(conditions_dir, subset="FD002")

    loaded = ConditionScalerStats.load(tmp_path / "scaler.json")
    normalize_per_condition(fresh, train_units=[], stats=loaded)

    assert loaded.to_dict() == stats.to_dict()
    assert loaded.to_dict()["kind"] == "per_condition"
    for expected, record in zip(fitted.units, fresh.units, strict=True):
        assert np.array_equal(record.features, expected.features)


def test_one_condition_matches_plain_scaling(subset_dir):
    plain, per_condition = load_tiny(subset_dir), load_tiny(subset_dir)

    normalize_data(plain, [1, 2])
    normalize_per_condition(per_condition, [1, 2], n_conditions=1)

    for expected, record in zip(plain.units, per_condition.units, strict=True):
        assert np.allclose(record.features, expected.features, atol=1e-5)


def test_per_condition_scaling_refuses_bad_requests(conditions_dir, subset_dir):
    data = load_tiny(conditions_dir, subset="FD002")
    single = load_tiny(subset_dir)

    with (
        pytest.warns(UserWarning, match="FD002 has 6 operating condition"),
        pytest.raises(ValueError, match="n_conditions=7 .* from 6 distinct"),
    ):
        normalize_per_condition(data, [1, 2], n_conditions=7)
    with pytest.warns(UserWarning, match="FD001 has 1 operating condition"):
        normalize_per_condition(single, [1, 2], n_conditions=2)
    with pytest.raises(ValueError, match="already scaled"):
        normalize_per_condition(single, [1, 2], n_conditions=1)


# Real data ------------------------------------------------------------------------

# subset -> facts checked by an independent reading of NASA's files.
REAL_FACTS = {
    "FD001": {
        "rows": (20_631, 13_096),
        "max_train_rul": 361,
        "rul_file": (7, 145, 7552),  # min, max, sum
        "shortest_test": (1, 31),  # NASA unit id, cycles
    },
    "FD003": {
        "rows": (24_720, 16_596),
        "max_train_rul": 524,
        "rul_file": (6, 145, 7532),
        "shortest_test": (52, 38),
    },
}


@pytest.mark.realdata
def test_real_files_match_sha256sums(real_dir):
    listed = (real_dir / "SHA256SUMS").read_text().split("\n")

    digests = dict(line.split()[::-1] for line in listed if line.strip())

    assert len(digests) == 6
    for name, digest in digests.items():
        assert hashlib.sha256((real_dir / name).read_bytes()).hexdigest() == digest


@pytest.mark.realdata
@pytest.mark.parametrize("kept_rows", [20630, 10000])
def test_real_train_file_cut_at_a_line_boundary_is_refused(
    real_dir, tmp_path, kept_rows
):
    # Cut inside unit 100, or inside unit 50: every row left is valid data.
    for kind in ("test", "RUL"):
        name = f"{kind}_FD001.txt.gz"
        (tmp_path / name).write_bytes((real_dir / name).read_bytes())
    with gzip.open(real_dir / "train_FD001.txt.gz", "rt") as train:
        kept = train.readlines()[:kept_rows]
    (tmp_path / "train_FD001.txt").write_text("".join(kept))

    with pytest.raises(DataFileError, match=f"holds {kept_rows} data rows; NASA's"):
        load_cmapss(tmp_path)


@pytest.mark.realdata
@pytest.mark.parametrize("subset", list(REAL_FACTS))
def test_real_subset_units_rows_and_labels(real_dir, subset):
    facts = REAL_FACTS[subset]

    data = load_cmapss(real_dir, subset=subset)

    dev, test = data.select(data.unit_ids("dev")), data.select(data.unit_ids("test"))
    assert data.unit_ids("dev") == list(range(1, 101))
    assert data.unit_ids("test") == list(range(1001, 1101))
    assert (sum(u.rows for u in dev), sum(u.rows for u in test)) == facts["rows"]
    assert max(u.rul.max() for u in dev) == facts["max_train_rul"]
    assert all(u.rul[-1] == 0 for u in dev)
    final_rul = np.array([u.rul[-1] for u in test])
    low, high, total = facts["rul_file"]
    assert (final_rul.min(), final_rul.max(), final_rul.sum()) == (low, high, total)
    shortest = min(test, key=lambda u: u.rows)
    assert (nasa_unit_id(shortest.unit), shortest.rows) == facts["shortest_test"]


@pytest.mark.realdata
@pytest.mark.parametrize("subset", list(REAL_FACTS))
def test_real_last_windows_cover_every_test_unit(real_dir, subset):
    data = load_cmapss(real_dir, subset=subset)
    normalize_data(data, data.unit_ids("dev"))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every test unit has >= 30 cycles
        dataset = last_window_dataset(data, win_len=CMAPSS_PROTOCOL.win_len)
    x, y = dataset[np.arange(len(dataset))]

    assert tuple(x.shape) == (100, 1, 30, 14)
    assert data.extra["padded_test_units"] == {}
    expected = [data.unit(unit).rul[-1] for unit in data.unit_ids("test")]
    assert y.tolist() == expected


@pytest.mark.realdata
def test_real_fd001_padding_for_longer_windows(real_dir):
    data = load_cmapss(real_dir)

    with pytest.warns(UserWarning, match="padded 4 of 100 units"):
        dataset = last_window_dataset(data, win_len=40)

    assert len(dataset) == 100
    assert data.extra["padded_test_units"] == {1001: 9, 1022: 1, 1039: 3, 1085: 6}


@pytest.mark.realdata
def test_real_fd001_excluded_sensors_are_near_constant(real_dir):
    data = load_cmapss(real_dir, sensors=SENSOR_NAMES)
    rows = np.concatenate([u.features for u in data.select(data.unit_ids("dev"))])

    distinct = {
        name: len(np.unique(rows[:, column]))
        for column, name in enumerate(data.feature_names)
    }

    excluded = set(SENSOR_NAMES) - set(DEFAULT_SENSORS)
    assert max(distinct[name] for name in excluded) <= 2
    assert min(distinct[name] for name in DEFAULT_SENSORS) >= 13
