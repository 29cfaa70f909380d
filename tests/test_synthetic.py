"""Synthetic DS02 generator: N-CMAPSS layout, DS02 fleet, physics, learnability."""

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from src import synthetic
from src.synthetic import (
    A_NAMES,
    DEFAULT_TIME_COMPRESSION,
    DS02_UNITS,
    FULL_SCALE_ROWS,
    MIN_FLIGHT_ROWS,
    T_NAMES,
    W_NAMES,
    XS_NAMES,
    XV_NAMES,
    generate_ncmapss,
    planned_flight_rows,
    planned_rows,
)

METADATA_CSV = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "reference"
    / "ncmapss_engine_metadata.csv"
)
GROUPS = {"W": W_NAMES, "X_s": XS_NAMES, "X_v": XV_NAMES, "T": T_NAMES, "A": A_NAMES}
FILE_ORDER = {"dev": [2, 5, 10, 16, 18, 20], "test": [11, 14, 15]}
SPECS = {spec.unit: spec for spec in DS02_UNITS}
# Range of a unit's highest altitude (ft) per flight class; classes 1, 2 fly lower.
ALT_MAX_RANGE_FT = {1: (14000, 22000), 2: (20000, 28000), 3: (28000, 36000)}


@pytest.fixture(scope="module")
def default_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "N-CMAPSS_DS02-006_synthetic.h5"

    return generate_ncmapss(path)


def read_all(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as file:
        return {key: file[key][()] for key in file}


def split_frame(data: dict[str, np.ndarray], split: str) -> pd.DataFrame:
    """One split as a table with named columns (W, X_s, X_v, T, A) and RUL."""
    frames = [
        pd.DataFrame(data[f"{group}_{split}"], columns=list(names))
        for group, names in GROUPS.items()
    ]
    frame = pd.concat(frames, axis=1)
    frame["RUL"] = data[f"Y_{split}"][:, 0]

    return frame


def check_fleet_structure(data: dict[str, np.ndarray]) -> None:
    """Unit order, contiguity, cycles, RUL and health state of every unit."""
    for split, units in FILE_ORDER.items():
        frame = split_frame(data, split)
        unit_column = frame["unit"].to_numpy()
        changes = np.flatnonzero(np.diff(unit_column)) + 1
        assert unit_column[np.r_[0, changes]].tolist() == units  # contiguous, ordered

        for unit, rows in frame.groupby("unit", sort=False):
            spec = SPECS[int(unit)]
            cycle = rows["cycle"].to_numpy()
            flight_starts = np.flatnonzero(np.diff(cycle)) + 1
            assert np.all(np.diff(cycle) >= 0)
            assert cycle[np.r_[0, flight_starts]].tolist() == list(
                range(1, spec.flights + 1)
            )
            assert np.array_equal(rows["RUL"], spec.flights - cycle)
            assert np.array_equal(rows["hs"], (cycle < spec.onset_cycle).astype(float))
            assert np.all(rows["Fc"] == spec.flight_class)


def test_layout_matches_ncmapss(default_file: Path) -> None:
    data = read_all(default_file)

    expected_keys = {f"{g}_{s}" for g in (*GROUPS, "Y") for s in ("dev", "test")}
    expected_keys |= {f"{group}_var" for group in GROUPS}
    assert set(data) == expected_keys
    assert len(data) == 17
    for group, names in GROUPS.items():
        assert data[f"{group}_var"].ndim == 1
        assert data[f"{group}_var"].dtype.kind == "S"
        assert [name.decode() for name in data[f"{group}_var"]] == list(names)
    for split in ("dev", "test"):
        rows = len(data[f"Y_{split}"])
        assert data[f"Y_{split}"].dtype == np.int64
        assert data[f"Y_{split}"].shape == (rows, 1)
        for group, names in GROUPS.items():
            assert data[f"{group}_{split}"].dtype == np.float64
            assert data[f"{group}_{split}"].shape == (rows, len(names))


def test_fleet_structure_follows_ds02(default_file: Path) -> None:
    check_fleet_structure(read_all(default_file))


def test_blocks_smaller_than_a_unit_keep_the_structure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Full-scale units span several blocks; force that path on a small file.
    monkeypatch.setattr(synthetic, "_BLOCK_ROWS", 100)

    path = generate_ncmapss(tmp_path / "blocks.h5")

    check_fleet_structure(read_all(path))


def test_rows_per_flight_follow_the_plan(default_file: Path) -> None:
    plan = planned_flight_rows(DEFAULT_TIME_COMPRESSION)

    data = read_all(default_file)

    for split in ("dev", "test"):
        frame = split_frame(data, split)
        for unit, rows in frame.groupby("unit", sort=False):
            per_flight = rows.groupby("cycle").size().to_numpy()
            assert np.array_equal(per_flight, plan[int(unit)])
            assert per_flight.min() >= MIN_FLIGHT_ROWS
    assert planned_rows(DEFAULT_TIME_COMPRESSION) == {
        unit: int(rows.sum()) for unit, rows in plan.items()
    }


def test_default_file_is_small(default_file: Path) -> None:
    assert 3e6 < default_file.stat().st_size < 8e6


def test_full_scale_plan_reproduces_ds02_rows() -> None:
    rows = planned_rows(1.0)

    assert rows == {spec.unit: spec.rows for spec in DS02_UNITS}
    for split, total in FULL_SCALE_ROWS.items():
        assert sum(rows[s.unit] for s in DS02_UNITS if s.split == split) == total
    assert FULL_SCALE_ROWS == {"dev": 5263447, "test": 1253743}


@pytest.mark.parametrize("time_compression", [1.0, 7.5, 120.0, 1000.0])
def test_compression_keeps_every_flight(time_compression: float) -> None:
    plan = planned_flight_rows(time_compression)

    assert list(plan) == [spec.unit for spec in DS02_UNITS]
    for spec in DS02_UNITS:
        assert len(plan[spec.unit]) == spec.flights
        assert plan[spec.unit].min() >= MIN_FLIGHT_ROWS


@pytest.mark.skipif(not METADATA_CSV.exists(), reason=f"{METADATA_CSV} is absent")
def test_embedded_table_matches_metadata() -> None:
    metadata = pd.read_csv(METADATA_CSV)
    ds02 = metadata[metadata["dataset"] == "DS02"].set_index("unit")

    assert sorted(ds02.index) == sorted(SPECS)
    for unit, spec in SPECS.items():
        row = ds02.loc[unit]
        assert row["split"] == spec.split
        assert int(row["flight_class"]) == spec.flight_class
        assert int(row["flights"]) == spec.flights
        assert int(row["onset_cycle"]) == spec.onset_cycle
        assert int(row["rows"]) == spec.rows
    assert ds02.groupby("split")["rows"].sum().to_dict() == FULL_SCALE_ROWS


def test_same_seed_same_data_other_seed_other_data(
    tmp_path: Path, default_file: Path
) -> None:
    again = read_all(generate_ncmapss(tmp_path / "again.h5", seed=0))
    other = read_all(generate_ncmapss(tmp_path / "other.h5", seed=1))

    reference = read_all(default_file)

    for key, values in reference.items():
        assert np.array_equal(values, again[key]), key
    for key in ("W_dev", "X_s_dev", "X_v_test", "T_dev"):
        assert not np.array_equal(reference[key], other[key]), key
    assert np.array_equal(reference["Y_dev"], other["Y_dev"])  # same fleet


def test_values_are_finite_and_physically_plausible(default_file: Path) -> None:
    data = read_all(default_file)

    for key, values in data.items():
        if values.dtype.kind == "f":
            assert np.isfinite(values).all(), key
    for split in ("dev", "test"):
        frame = split_frame(data, split)
        for unit, rows in frame.groupby("unit"):
            low, high = ALT_MAX_RANGE_FT[SPECS[int(unit)].flight_class]
            assert low < rows["alt"].max() < high, unit
        assert frame["alt"].min() > 0
        assert frame["Mach"].between(0.0, 0.9).all()
        assert frame["TRA"].between(20.0, 100.0).all()
        assert frame["T2"].between(400.0, 570.0).all()  # °R
        assert frame["T48"].between(1500.0, 2600.0).all()
        assert frame["T30"].between(700.0, 1700.0).all()
        assert frame["Nf"].between(1200.0, 2500.0).all()  # rpm
        assert frame["Nc"].between(6500.0, 10000.0).all()
        assert frame["Wf"].between(0.3, 8.0).all()  # pps


def test_health_degrades_faster_after_onset(default_file: Path) -> None:
    data = read_all(default_file)

    for split in ("dev", "test"):
        frame = split_frame(data, split)
        for unit, rows in frame.groupby("unit"):
            spec = SPECS[int(unit)]
            per_flight = rows.groupby("cycle")[list(T_NAMES)].first()
            hpt = per_flight["HPT_eff_mod"].to_numpy()
            last_healthy = spec.onset_cycle - 2  # index of flight onset_cycle - 1
            normal_rate = (hpt[0] - hpt[last_healthy]) / last_healthy
            abnormal_rate = (hpt[last_healthy] - hpt[-1]) / (
                len(hpt) - 1 - last_healthy
            )
            assert np.all(np.diff(hpt) <= 0) and hpt[0] < 0
            assert abnormal_rate > 1.5 * normal_rate
            lpt_degrades = per_flight["LPT_flow_mod"].iloc[-1] < 0
            assert lpt_degrades == (spec.failure_mode == "HPT+LPT")
            assert (per_flight[["fan_eff_mod", "HPC_flow_mod"]] == 0).all().all()


def test_interrupted_run_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real_write_block = synthetic._write_block

    def fail_on_third_block(*args) -> None:
        calls.append(1)
        if len(calls) % 3 == 0:
            raise KeyboardInterrupt
        real_write_block(*args)

    monkeypatch.setattr(synthetic, "_write_block", fail_on_third_block)
    target = tmp_path / "N-CMAPSS_DS02-006_synthetic.h5"
    previous = tmp_path / "kept.h5"
    previous.write_bytes(b"an earlier file")

    with pytest.raises(KeyboardInterrupt):
        generate_ncmapss(target)
    with pytest.raises(KeyboardInterrupt):
        generate_ncmapss(previous)

    assert not target.exists()
    assert previous.read_bytes() == b"an earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.h5"]


@pytest.mark.parametrize("bad", [0.5, 0, -3.0, 1e6, float("nan"), float("inf"), True])
def test_bad_time_compression_is_rejected(tmp_path: Path, bad: float) -> None:
    with pytest.raises(ValueError, match=r"time_compression.*\[1, 1000\].*got"):
        generate_ncmapss(tmp_path / "bad.h5", time_compression=bad)
    with pytest.raises(ValueError, match="time_compression"):
        planned_rows(bad)

    assert list(tmp_path.iterdir()) == []


def test_bad_seed_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed .* got -1"):
        generate_ncmapss(tmp_path / "bad.h5", seed=-1)


def test_a_folder_as_target_is_refused_before_generating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_generation(*args) -> None:
        raise AssertionError("generated a whole file for a target it cannot replace")

    monkeypatch.setattr(synthetic, "_write_file", no_generation)

    # Used to fail with IsADirectoryError only at the final rename.
    with pytest.raises(ValueError, match=f"{tmp_path} is a folder; expected"):
        generate_ncmapss(tmp_path)


def flight_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean of every column per (unit, flight)."""
    return frame.groupby(["unit", "cycle"], sort=False).mean()


def ridge_rmse_ratio(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """RMSE of a scaled Ridge on sensors and flight conditions over the mean baseline.

    No A, T or time columns: only X_s, X_v and W.
    """
    features = [*XS_NAMES, *XV_NAMES, *W_NAMES]
    model = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    model.fit(train[features], train["RUL"])

    predicted = model.predict(test[features])
    rmse = np.sqrt(np.mean((predicted - test["RUL"]) ** 2))
    baseline = np.sqrt(np.mean((train["RUL"].mean() - test["RUL"]) ** 2))

    return rmse / baseline


def test_rul_is_learnable_from_flight_means(default_file: Path) -> None:
    data = read_all(default_file)

    train = flight_means(split_frame(data, "dev"))
    test = flight_means(split_frame(data, "test"))

    assert ridge_rmse_ratio(train, test) < 0.6


def test_rul_is_learnable_from_single_rows(default_file: Path) -> None:
    data = read_all(default_file)

    ratio = ridge_rmse_ratio(split_frame(data, "dev"), split_frame(data, "test"))

    assert ratio < 0.7


def test_cli_reports_path_rows_and_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.h5"

    synthetic.main(["--out", str(out), "--time-compression", "800", "--seed", "3"])

    rows = planned_rows(800.0)
    dev_rows = sum(rows[s.unit] for s in DS02_UNITS if s.split == "dev")
    printed = capsys.readouterr().out
    assert out.exists()
    assert str(out) in printed
    assert f"{dev_rows:,} dev rows" in printed
    assert " MB" in printed
