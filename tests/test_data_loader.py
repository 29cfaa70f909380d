"""Loading, scaling, splitting and windowing on tiny files of known contents."""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest
import torch
from conftest import GROUP_NAMES, TINY_UNITS, write_ncmapss

from config import get_config
from src import files
from src.cnn_net import build_cnn
from src.data_loader import (
    DataFileError,
    create_training_and_testing_sets,
    load_data,
    normalize_data,
    split_units,
    unit_folds,
)
from src.windows import WindowDataset


def test_load_keeps_file_order_and_decodes_names(tiny_file):
    data = load_data(tiny_file)

    assert data.unit_ids() == [2, 5, 10, 11, 14]
    assert data.unit_ids("test") == [11, 14]
    expected = GROUP_NAMES["W"] + GROUP_NAMES["X_s"] + GROUP_NAMES["X_v"]
    assert data.feature_names == expected
    assert len(data.feature_names) == 32


def test_load_reads_each_unit_as_float32_rows(tiny_file):
    data = load_data(tiny_file)

    unit = data.unit(10)
    assert unit.features.dtype == np.float32 and unit.features.shape == (20, 32)
    assert unit.features[:, 0].tolist() == [10000.0 + row for row in range(20)]
    assert unit.rul.tolist() == [4.0] * 4 + [3.0] * 4 + [2.0] * 4 + [1.0] * 4 + [0] * 4
    assert unit.cycle.tolist() == np.repeat(np.arange(1, 6), 4).tolist()
    assert unit.flight_class == 3


def test_original_preset_has_36_columns_and_warns(tiny_file):
    with pytest.warns(UserWarning, match="leak the RUL label"):
        data = load_data(tiny_file, features="original")

    assert len(data.feature_names) == 36
    assert data.feature_names[-4:] == ["unit", "cycle", "Fc", "hs"]


def test_health_parameters_only_on_request_with_warning(tiny_file):
    with pytest.warns(UserWarning, match="health parameters"):
        data = load_data(tiny_file, features="W,T")

    assert data.feature_names == GROUP_NAMES["W"] + GROUP_NAMES["T"]


def test_default_features_do_not_warn(tiny_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_data(tiny_file)


def test_repeated_feature_group_is_refused(tiny_file):
    with pytest.raises(ValueError, match=r"\['W'\] named more than once"):
        load_data(tiny_file, features="W,X_s,W")


def test_an_empty_feature_list_says_what_was_expected(tiny_file):
    # FEATURES="," was "feature group(s) [''] named more than once"
    with pytest.raises(ValueError, match=r"unknown feature group\(s\) \['', ''\] in "):
        load_data(tiny_file, features=",")


def test_unknown_feature_group_is_named(tiny_file):
    with pytest.raises(ValueError, match="X_q"):
        load_data(tiny_file, features="W,X_q")


def test_unknown_unit_lists_available(tiny_file):
    data = load_data(tiny_file)

    with pytest.raises(KeyError, match=r"unknown unit id 7.*\[2, 5, 10, 11, 14\]"):
        data.unit(7)


# Windows ------------------------------------------------------------------------


def _windows(tiny_file, **kwargs) -> WindowDataset:
    data = load_data(tiny_file)

    return WindowDataset(data.select([2, 5, 10]), **kwargs)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"win_len": 0}, "win_len must be an integer >= 1, got 0"),
        ({"win_len": True}, "win_len must be an integer >= 1, got True"),
        ({"win_len": 3.0}, "win_len must be an integer >= 1, got 3.0"),
        ({"win_len": 3, "stride": "2"}, "stride must be an integer >= 1, got '2'"),
    ],
)
def test_window_sizes_must_be_integers(tiny_file, arguments, message):
    with pytest.raises(ValueError, match=message):
        _windows(tiny_file, **arguments)


def test_numpy_integer_window_sizes_are_accepted_as_plain_ints(tiny_file):
    windows = _windows(tiny_file, win_len=np.int64(3), stride=np.int32(2))
    sizes = (windows.win_len, windows.stride, windows.downsample)

    assert windows[0][0].shape[-2] == 3
    assert [type(size) for size in sizes] == [int, int, int]
    model = build_cnn(
        arch="temporal", window_length=windows.win_len, n_features=windows.n_features
    )
    assert model(windows[[0, 1]][0]).shape == (2, 1)


@pytest.mark.parametrize(
    ("win_len", "stride", "downsample", "expected"),
    [
        (3, 1, 1, [18, 16, 18]),  # rows - win_len + 1 per unit (20, 18, 20 rows)
        (3, 2, 1, [9, 8, 9]),
        (20, 1, 1, [1, None, 1]),
        (2, 1, 2, [9, 8, 9]),  # 10, 9, 10 rows kept
        (4, 3, 2, [3, 2, 3]),
    ],
)
def test_exact_window_counts_per_unit(tiny_file, win_len, stride, downsample, expected):
    if None in expected:
        with pytest.raises(ValueError, match="unit 5 has 18 rows.*win_len=20"):
            _windows(tiny_file, win_len=win_len, stride=stride, downsample=downsample)
        return

    dataset = _windows(tiny_file, win_len=win_len, stride=stride, downsample=downsample)

    counts = [int((dataset.window_unit == unit).sum()) for unit in (2, 5, 10)]
    assert counts == expected
    assert len(dataset) == sum(expected)


def test_no_window_crosses_units_and_labels_align(tiny_file):
    dataset = _windows(tiny_file, win_len=4, stride=1)
    data = load_data(tiny_file)

    x, y = dataset[np.arange(len(dataset))]

    first_column = x[:, 0, :, 0].numpy()  # unit * 1000 + row
    units = np.floor(first_column / 1000)
    assert (units == dataset.window_unit[:, None]).all()
    assert (np.diff(first_column, axis=1) == 1).all()
    last_rows = (first_column[:, -1] % 1000).astype(int)
    assert (last_rows == dataset.window_row).all()
    pairs = zip(dataset.window_unit, last_rows, strict=True)
    expected = [data.unit(unit).rul[row] for unit, row in pairs]
    assert y.tolist() == expected
    assert np.array_equal(dataset.labels(), y.numpy())


def test_downsampled_windows_keep_every_kth_row(tiny_file):
    dataset = _windows(tiny_file, win_len=3, downsample=2)

    x, _ = dataset[0]

    assert x[0, :, 0].tolist() == [2000.0, 2002.0, 2004.0]
    assert dataset.window_row[0] == 4


def test_shapes_for_cnn_and_lstm_layouts(tiny_file):
    cnn = _windows(tiny_file, win_len=5, layout="cnn")
    lstm = _windows(tiny_file, win_len=5, layout="lstm")

    assert cnn[[0, 1, 2]][0].shape == (3, 1, 5, 32)
    assert lstm[[0, 1, 2]][0].shape == (3, 5, 32)
    assert cnn[0][0].shape == (1, 5, 32) and cnn[0][1].shape == ()
    assert torch.equal(cnn[7][0][0], lstm[7][0])


def test_batch_gather_equals_single_gather_in_any_order(tiny_file):
    dataset = _windows(tiny_file, win_len=3, stride=2)
    order = np.random.default_rng(0).permutation(len(dataset))

    x_batch, y_batch = dataset[order]

    for position, index in enumerate(order):
        x_single, y_single = dataset[int(index)]
        assert torch.equal(x_batch[position], x_single)
        assert y_batch[position] == y_single


def test_masks_and_fractional_indexes_are_refused(tiny_file):
    dataset = _windows(tiny_file, win_len=3)

    # np.asarray(..., int64) used to read a mask [True, False] as windows [1, 0]
    # and 1.7 as window 1.
    with pytest.raises(TypeError, match="window index.*got bool"):
        dataset[np.array([True, False])]
    with pytest.raises(TypeError, match="window index.*got float64"):
        dataset[np.array([1.7])]
    with pytest.raises(TypeError, match="window index.*got float"):
        dataset[1.5]
    assert dataset[[]][0].shape == (0, 1, 3, 32)
    assert torch.equal(dataset[torch.tensor(4)][0], dataset[4][0])


def test_loader_is_reproducible_and_resumes_mid_epoch(tiny_file):
    dataset = _windows(tiny_file, win_len=3)

    first = [y for _, y in dataset.loader(8, shuffle=True, seed=1, epoch=2)]
    again = [y for _, y in dataset.loader(8, shuffle=True, seed=1, epoch=2)]
    resumed = [
        y for _, y in dataset.loader(8, shuffle=True, seed=1, epoch=2, start_batch=3)
    ]
    other_epoch = [y for _, y in dataset.loader(8, shuffle=True, seed=1, epoch=3)]

    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(first[3:], resumed, strict=True))
    assert not torch.equal(torch.cat(first), torch.cat(other_epoch))
    assert sorted(torch.cat(first).tolist()) == sorted(dataset.labels().tolist())


def test_last_only_and_rul_cap(tiny_file):
    dataset = _windows(tiny_file, win_len=3, last_only=True, rul_cap=1.5)

    _, y = dataset[[0, 1, 2]]

    assert len(dataset) == 3
    assert dataset.window_row.tolist() == [19, 17, 19]
    assert y.tolist() == [0.0, 0.0, 0.0]
    capped = _windows(tiny_file, win_len=3, rul_cap=1.5).labels()
    assert capped.max() == 1.5
    with pytest.raises(ValueError, match="rul_cap must be a number >= 0"):
        _windows(tiny_file, win_len=3, rul_cap=-5)


# Scaling and splits ---------------------------------------------------------------


def test_scaler_is_fitted_on_training_units_only(tiny_file):
    data = load_data(tiny_file)
    raw_train = np.concatenate([data.unit(u).features for u in (2, 5)])
    raw_test = data.unit(11).features.copy()

    stats = normalize_data(data, train_units=[2, 5])

    assert np.allclose(stats.mean, raw_train.mean(axis=0), rtol=1e-6)
    assert np.allclose(stats.scale, raw_train.std(axis=0), rtol=1e-4)
    scaled = np.concatenate([data.unit(u).features for u in (2, 5)])
    assert np.allclose(scaled.mean(axis=0), 0, atol=1e-3)
    expected_test = (raw_test - stats.mean) / stats.scale
    assert np.allclose(data.unit(11).features, expected_test, atol=1e-4)
    assert stats.fitted_on_units == [2, 5]


def test_scaler_statistics_round_trip_and_reuse(tiny_file, tmp_path):
    fitted = normalize_data(load_data(tiny_file), train_units=[2, 5])
    fitted.save(tmp_path / "scaler.json")
    again = load_data(tiny_file)

    from src.data_loader import ScalerStats

    reused = normalize_data(
        again, [10], stats=ScalerStats.load(tmp_path / "scaler.json")
    )

    assert reused.fitted_on_units == [2, 5]
    assert np.array_equal(reused.mean, fitted.mean)
    with pytest.raises(ValueError, match="already scaled"):
        normalize_data(again, [2])


def test_interrupted_scaler_save_keeps_the_previous_file(
    tiny_file, tmp_path, monkeypatch
):
    path = tmp_path / "scaler" / "scaler.json"
    path.parent.mkdir()
    normalize_data(load_data(tiny_file), train_units=[2, 5]).save(path)
    before = path.read_text()

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        normalize_data(load_data(tiny_file), train_units=[10]).save(path)

    assert path.read_text() == before
    assert [name.name for name in path.parent.iterdir()] == ["scaler.json"]


def test_split_is_by_unit_and_validation_units_are_checked(tiny_file):
    data = load_data(tiny_file)

    train, val, test = split_units(data, val_units=[5])
    drawn = split_units(data, val_fraction=0.34, seed=3)

    assert (train, val, test) == ([2, 10], [5], [11, 14])
    assert set(drawn[0]).isdisjoint(drawn[1]) and len(drawn[1]) == 1
    assert drawn == split_units(data, val_fraction=0.34, seed=3)
    with pytest.raises(ValueError, match=r"unit\(s\) \[11\].*available: \[2, 5, 10\]"):
        split_units(data, val_units=[11])


def test_folds_partition_the_units_reproducibly():
    units = [3, 7, 8, 12, 20, 21, 30]

    folds = unit_folds(units, n_folds=3, seed=5)

    assert sorted(unit for fold in folds for unit in fold) == sorted(units)
    assert sorted(len(fold) for fold in folds) == [2, 2, 3]
    assert all(fold == sorted(fold, key=units.index) for fold in folds)
    assert folds == unit_folds(units, n_folds=3, seed=5)
    assert folds != unit_folds(units, n_folds=3, seed=6)


@pytest.mark.parametrize("n_folds", [1, 4, True, 2.0])
def test_fold_count_outside_two_to_the_unit_count_is_refused(n_folds):
    with pytest.raises(ValueError, match=f"from 2 to the 3 units, got {n_folds!r}"):
        unit_folds([1, 2, 3], n_folds=n_folds)


def test_repeated_units_cannot_be_split_into_folds():
    with pytest.raises(ValueError, match=r"distinct to be split into folds: \[2, 5\]$"):
        unit_folds([1, 2, 2, 3, 5, 5], n_folds=2)


@pytest.mark.parametrize("units", [[1, 2.0, 3], [1, "2", 3], [1, True, 3]])
def test_fold_units_must_be_ints(units):
    with pytest.raises(ValueError, match=r"unit ids must be ints, got \["):
        unit_folds(units, n_folds=2)


def test_folds_of_numpy_units_are_plain_ints():
    folds = unit_folds(np.array([4, 9, 16, 25], dtype=np.int64), n_folds=2)

    assert all(type(unit) is int for fold in folds for unit in fold)
    assert sorted(unit for fold in folds for unit in fold) == [4, 9, 16, 25]


@pytest.mark.parametrize("seed", [None, 1.5])
def test_folds_need_an_int_seed(seed):
    with pytest.raises(ValueError, match=f"seed must be an int .* got {seed!r}"):
        unit_folds([1, 2, 3], n_folds=2, seed=seed)


def test_create_sets_uses_config_and_keeps_units_apart(tiny_file):
    config = get_config(environ={}, win_len=3, stride=2, val_units=(10,))
    data = load_data(tiny_file)

    splits = create_training_and_testing_sets(data, config, layout="lstm")

    assert splits.train_units == [2, 5] and splits.val_units == [10]
    assert set(splits.train.window_unit) == {2, 5}
    assert set(splits.val.window_unit) == {10}
    assert set(splits.test.window_unit) == {11, 14}
    assert splits.scaler.fitted_on_units == [2, 5]
    assert splits.train[[0]][0].shape == (1, 3, 32)


# Bad input ------------------------------------------------------------------------


def test_missing_file_says_where_to_get_it(tmp_path):
    with pytest.raises(DataFileError, match=r"does not exist.*synthetic"):
        load_data(tmp_path / "N-CMAPSS_DS02-006.h5")


def test_truncated_file_is_reported(tiny_file, tmp_path):
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(tiny_file.read_bytes()[: tiny_file.stat().st_size // 2])

    with pytest.raises(DataFileError, match="truncated or corrupt"):
        load_data(truncated)


def test_not_an_hdf5_file_is_reported(tmp_path):
    bogus = tmp_path / "bogus.h5"
    bogus.write_text("unit,cycle\n1,1\n")

    # was "truncated or corrupt ... Download it again", for a C-MAPSS text file too
    with pytest.raises(DataFileError, match="bogus.h5 is not an HDF5 file.*cmapss"):
        load_data(bogus)


def test_an_empty_file_is_called_empty_with_where_to_get_the_data(tmp_path):
    empty = tmp_path / "N-CMAPSS_DS02-006.h5"
    empty.write_bytes(b"")

    with pytest.raises(DataFileError, match="is empty .*Download N-CMAPSS from"):
        load_data(empty)


def test_missing_key_is_named(tmp_path):
    path = write_ncmapss(tmp_path / "f.h5", drop=("X_v_test",))

    with pytest.raises(DataFileError, match="'X_v_test' is missing"):
        load_data(path)


def test_name_array_must_match_columns(tmp_path):
    def short_names(data):
        data["X_s_var"] = data["X_s_var"][:-1]

    path = write_ncmapss(tmp_path / "f.h5", mutate=short_names)

    with pytest.raises(DataFileError, match="X_s_var has 13 names but X_s_dev has 14"):
        load_data(path)


def test_row_counts_must_agree(tmp_path):
    def drop_label_row(data):
        data["Y_dev"] = data["Y_dev"][:-1]

    path = write_ncmapss(tmp_path / "f.h5", mutate=drop_label_row)

    with pytest.raises(DataFileError, match="row counts differ.*'Y_dev': 57"):
        load_data(path)


def test_label_shape_is_checked(tmp_path):
    def flat_label(data):
        data["Y_test"] = data["Y_test"][:, 0]

    path = write_ncmapss(tmp_path / "f.h5", mutate=flat_label)

    with pytest.raises(DataFileError, match=r"Y_test has shape \(29,\)"):
        load_data(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_located(tmp_path, bad):
    def poison(data):
        data["X_v_dev"][25, 3] = bad  # unit 5 starts at row 20

    path = write_ncmapss(tmp_path / "f.h5", mutate=poison)

    with pytest.raises(
        DataFileError, match="X_v_dev holds 1 NaN.*unit 5, first at row 5"
    ):
        load_data(path)


def test_non_contiguous_units_are_refused(tmp_path):
    units = {2: ("dev", 2, 3), 5: ("dev", 2, 3), 11: ("test", 2, 3)}

    def interleave(data):
        data["A_dev"][[0, 6]] = data["A_dev"][[6, 0]]

    path = write_ncmapss(tmp_path / "f.h5", units=units, mutate=interleave)

    with pytest.raises(DataFileError, match="not contiguous"):
        load_data(path)


def test_reading_never_writes_the_file(tiny_file):
    before = tiny_file.read_bytes()

    load_data(tiny_file)

    assert tiny_file.read_bytes() == before
    with h5py.File(tiny_file) as file:
        assert len(file.keys()) == 17
    assert sum(f * r for s, f, r in TINY_UNITS.values() if s == "dev") == 58


def test_read_unit_frame_names_every_column(tiny_file):
    from src.data_loader import read_unit_frame

    frame = read_unit_frame(tiny_file, 14, groups=("W", "T", "A"))

    assert len(frame) == 14
    assert list(frame.columns[:4]) == GROUP_NAMES["W"]
    assert "HPT_eff_mod" in frame.columns and frame.columns[-1] == "RUL"
    assert frame["unit"].eq(14).all() and frame["alt"].iloc[0] == 14000.0
    with pytest.raises(KeyError, match=r"unknown unit id 3.*\[2, 5, 10, 11, 14\]"):
        read_unit_frame(tiny_file, 3)


def test_a_unit_id_in_both_splits_is_refused(tmp_path):
    units = {2: ("dev", 2, 3), 5: ("dev", 2, 3), 11: ("test", 2, 3)}

    def reuse_dev_id(data):
        data["A_test"][:, 0] = 2

    path = write_ncmapss(tmp_path / "f.h5", units=units, mutate=reuse_dev_id)

    # Else `RULData.unit(2)` answers with the dev unit and the test windows are
    # silently built from training data.
    with pytest.raises(DataFileError, match=r"f.h5: unit 2 is in both A_dev and A_t"):
        load_data(path)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (1, np.nan, r"A_dev column 'cycle' holds nan \(unit 2, row 3 of the unit\)"),
        (2, np.inf, r"A_dev column 'Fc' holds inf \(unit 2, row 3 of the unit\)"),
        (0, 2.5, r"A_dev column 'unit' holds 2.5 \(row 3\)"),
    ],
)
def test_unit_cycle_and_flight_class_must_be_whole_numbers(
    tmp_path, column, value, message
):
    def poison(data):
        data["A_dev"][3, column] = value

    path = write_ncmapss(tmp_path / "f.h5", mutate=poison)

    # A NaN cycle used to become -2147483648 with only a RuntimeWarning, and a
    # unit id of 2.5 became unit 2.
    with pytest.raises(DataFileError, match=message + ".*expected a whole number"):
        load_data(path)


def test_arrays_must_be_two_dimensional_numeric_datasets(tmp_path):
    def flat_settings(data):
        data["W_dev"] = data["W_dev"][:, 0]

    def text_sensors(data):
        data["X_s_test"] = data["X_s_test"].astype("S12")

    def one_auxiliary_column(data):
        data["A_test"] = data["A_test"][:, :1]

    flat = write_ncmapss(tmp_path / "flat.h5", mutate=flat_settings)
    text = write_ncmapss(tmp_path / "text.h5", mutate=text_sensors)
    narrow = write_ncmapss(tmp_path / "narrow.h5", mutate=one_auxiliary_column)
    grouped = write_ncmapss(tmp_path / "group.h5", drop=("X_v_dev",))
    with h5py.File(grouped, "a") as file:
        file.create_group("X_v_dev")

    with pytest.raises(DataFileError, match=r"flat.h5: W_dev has shape \(58,\);"):
        load_data(flat)
    with pytest.raises(DataFileError, match=r"X_s_test holds \|S12 values; expected"):
        load_data(text)
    with pytest.raises(DataFileError, match=r"A_test has 1 column.*unit, cycle, Fc"):
        load_data(narrow)
    with pytest.raises(DataFileError, match="X_v_dev is an HDF5 group, expected a"):
        load_data(grouped)


@pytest.mark.parametrize("split", ["dev", "test"])
def test_an_empty_split_is_named(tmp_path, split):
    def empty(data):
        for key in [key for key in data if key.endswith(f"_{split}")]:
            data[key] = data[key][:0]

    path = write_ncmapss(tmp_path / "f.h5", mutate=empty)
    data = load_data(path)

    assert data.unit_ids(split) == []
    with pytest.raises(ValueError, match=f"f.h5 has no {split} units"):
        split_units(data)


def test_a_damaged_object_header_is_reported_as_corrupt(tiny_file, tmp_path):
    with h5py.File(tiny_file) as file:
        header = h5py.h5o.get_info(file["W_dev"].id).addr
    damaged = bytearray(tiny_file.read_bytes())
    damaged[header : header + 8] = b"\xff" * 8
    path = tmp_path / "damaged.h5"
    path.write_bytes(bytes(damaged))

    # h5py raises KeyError for it, which escaped as "bad object header version".
    with pytest.raises(DataFileError, match="damaged.h5: it is truncated or corrupt"):
        load_data(path)


def test_names_that_are_not_text_and_absurd_unit_ids_are_named(tmp_path):
    def binary_name(data):
        data["W_var"][1] = b"\xff\xfe"

    def absurd_unit(data):
        data["A_test"][:5, 0] = 1e300

    names = write_ncmapss(tmp_path / "names.h5", mutate=binary_name)
    units = write_ncmapss(tmp_path / "units.h5", mutate=absurd_unit)

    with pytest.raises(DataFileError, match="W_var holds a name that is not UTF-8"):
        load_data(names)
    with pytest.raises(DataFileError, match="column 'unit' holds 1e\\+300 \\(row 0"):
        load_data(units)
