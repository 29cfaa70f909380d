"""Comparison: per-cycle aggregation, baselines and the results files."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from src import compare, files, metrics
from src.data_loader import load_data, normalize_data
from src.windows import WindowDataset


def test_per_cycle_aggregation_matches_hand_computation():
    frame = pd.DataFrame(
        {
            "unit": [11, 11, 11, 14, 14],
            "row": [0, 1, 2, 0, 1],
            "cycle": [1, 1, 2, 1, 1],
            "y_true": [5.0, 5.0, 4.0, 9.0, 9.0],
            "y_pred": [4.0, 8.0, 1.0, 10.0, 12.0],
        }
    )

    cycles = compare.per_cycle(frame)

    assert cycles.unit.tolist() == [11, 11, 14]
    assert cycles.cycle.tolist() == [1, 2, 1]
    assert cycles.y_pred.tolist() == [6.0, 1.0, 11.0]
    assert cycles.y_true.tolist() == [5.0, 4.0, 9.0]
    assert cycles.windows.tolist() == [2, 1, 2]
    report = compare.evaluate(frame)
    assert report["cycle"]["rmse"] == pytest.approx(np.sqrt((1 + 9 + 4) / 3))
    assert report["window"]["n_samples"] == 5 and report["cycle"]["n_samples"] == 3
    assert report["rmse_per_unit"]["14"] == pytest.approx(np.sqrt((1 + 9) / 2))


def _splits(tiny_file):
    data = load_data(tiny_file)
    normalize_data(data, [2, 5])
    train = WindowDataset(data.select([2, 5]), win_len=3)
    test = WindowDataset(data.select([11, 14]), win_len=3)

    return train, test


def test_mean_baseline_rmse_is_spread_of_test_labels_around_train_mean(tiny_file):
    train, test = _splits(tiny_file)
    train_mean = train.labels().astype(np.float64).mean()
    y_test = test.labels().astype(np.float64)

    predictions = compare.mean_baseline(train, test)

    expected = np.sqrt(np.mean((y_test - train_mean) ** 2))
    assert metrics.rmse(y_test, predictions) == pytest.approx(expected)
    assert expected != pytest.approx(y_test.std())  # train mean != test mean here


def test_ridge_baseline_fits_a_linear_signal(tiny_file):
    train, test = _splits(tiny_file)

    predictions = compare.ridge_baseline(train, test)

    assert predictions.shape == (len(test),)
    assert np.isfinite(predictions).all()


def test_predictions_frame_checks_length(tiny_file):
    _, test = _splits(tiny_file)

    with pytest.raises(ValueError, match=f"3 predictions for {len(test)} windows"):
        compare.predictions_frame(test, np.zeros(3))


def test_results_files_have_documented_fields_and_overwrite(tiny_file, tmp_path):
    _, test = _splits(tiny_file)
    frame = compare.predictions_frame(test, test.labels() + 1.0)
    report = compare.evaluate(frame)
    context = {"config": {"win_len": 3}, "feature_names": ["a"], "parameters": 7}

    compare.write_results(tmp_path / "mean", report, frame, context)
    compare.write_results(tmp_path / "mean", report, frame, context)

    document = json.loads((tmp_path / "mean" / "metrics.json").read_text())
    assert set(document) >= {"window", "cycle", "rmse_per_unit", "config", "versions"}
    assert set(document["window"]) == set(metrics.REPORT_KEYS)
    assert document["window"]["rmse"] == pytest.approx(1.0)
    saved = pd.read_csv(tmp_path / "mean" / "predictions.csv")
    assert list(saved.columns) == ["unit", "row", "cycle", "y_true", "y_pred"]
    assert len(saved) == len(test)
    assert sorted(p.name for p in (tmp_path / "mean").iterdir()) == [
        "metrics.json",
        "predictions.csv",
    ]
    table = compare.comparison_table(compare.load_results(tmp_path))
    assert table.loc["mean", "parameters"] == 7


def test_interrupted_write_keeps_previous_results(tiny_file, tmp_path, monkeypatch):
    _, test = _splits(tiny_file)
    frame = compare.predictions_frame(test, test.labels())
    compare.write_results(tmp_path / "m", compare.evaluate(frame), frame, {})
    before = (tmp_path / "m" / "metrics.json").read_text()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        compare.write_results(tmp_path / "m", {"window": {}}, frame, {})

    assert (tmp_path / "m" / "metrics.json").read_text() == before
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "metrics.json",
        "predictions.csv",
    ]


def test_metrics_of_one_run_beside_predictions_of_another_are_refused(
    tiny_file, tmp_path, monkeypatch
):
    _, test = _splits(tiny_file)
    old = compare.predictions_frame(test, test.labels())
    new = compare.predictions_frame(test, test.labels() + 5.0)
    compare.write_results(tmp_path / "m", compare.evaluate(old), old, {})
    real_replace, replaced = files.os.replace, []

    def interrupt_second_replace(source, target):
        replaced.append(target)
        if len(replaced) == 2:
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", interrupt_second_replace)
    with pytest.raises(KeyboardInterrupt):
        compare.write_results(tmp_path / "m", compare.evaluate(new), new, {})
    monkeypatch.undo()

    # Ctrl-C between the two files: new predictions.csv, old metrics.json.
    assert pd.read_csv(tmp_path / "m" / "predictions.csv").y_pred.equals(new.y_pred)
    with pytest.raises(ValueError, match="m/predictions.csv does not belong to"):
        compare.load_results(tmp_path)


def test_results_get_the_umask_permissions_of_any_new_file(tmp_path):
    previous = os.umask(0o022)
    try:
        files.atomic_write_text(tmp_path / "metrics.json", "{}")
    finally:
        os.umask(previous)

    # mkstemp's 0600 made results unreadable to the rest of the team.
    assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == 0o644


def test_missing_results_say_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="make run"):
        compare.load_results(tmp_path)


def test_conclusions_are_read_off_the_table():
    table = pd.DataFrame(
        {
            "rmse": [20.0, 10.0, 8.0],
            "nasa_score_mean": [7.0, 2.0, 1.5],
            "accuracy": [0.3, 0.6, 0.7],
        },
        index=pd.Index(["mean", "ridge", "lstm"], name="model"),
    )

    text = compare.conclusions(table)

    assert "Lowest RMSE: **lstm**, 8.00 cycles, 60% below the mean baseline" in text
    assert "- ridge: RMSE 10.00 (50% below mean)" in text
    assert "- lstm: RMSE 8.00 (60% below mean), below ridge (10.00)" in text
    with pytest.raises(ValueError, match="no 'mean' row"):
        compare.conclusions(table.drop("mean"))
