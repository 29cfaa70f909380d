"""Training loop, checkpoints, exact resume and LOAD_MODEL, on a tiny generated file.

The file comes from `src.synthetic` at its coarsest time compression; windows of
five rows over the 14 X_s sensors keep every CNN run to a few seconds on two cores.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from config import get_config
from src import training
from src.checkpoint import (
    REQUIRED_KEYS,
    CheckpointError,
    CheckpointMismatch,
    check_compatible,
    load_checkpoint,
    save_checkpoint,
)
from src.cnn import evaluate_test_loss, load_model, mse_torch
from src.data_loader import create_training_and_testing_sets, load_data
from src.experiment import trained_models
from src.metrics import rmse
from src.synthetic import MAX_TIME_COMPRESSION, generate_ncmapss
from src.training import (
    History,
    TrainingInterrupted,
    fit_or_load,
    predict,
    train_model,
)

TEST_SETTINGS = {
    "features": "X_s",
    "win_len": 5,
    "stride": 10,
    "batch_size": 32,
    "epochs": 2,
    "learning_rate": 0.003,
    "max_train_batches": 0,
    "autosave_every": 0,
    "load_model": True,
    "device": "cpu",
    "seed": 0,
    "lstm_hidden_size": 16,
    "lstm_layers": 2,
    "lstm_dropout": 0.3,
}

LSTM_ARGS = {"n_features": 14, "hidden_size": 16, "num_layers": 2, "dropout": 0.3}


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """One intra-op thread: the tensors are tiny, and two threads per process stall
    badly when other test runs share the two cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def synthetic_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic")

    return generate_ncmapss(
        folder / "N-CMAPSS_synthetic.h5", time_compression=MAX_TIME_COMPRESSION
    )


def make_run(path: Path, layout: str, **overrides):
    """(config, splits) of a small run; the data is loaded anew (scaled in place)."""
    config = get_config(environ={}, **{**TEST_SETTINGS, **overrides})
    data = load_data(path, features=config.features)

    return config, create_training_and_testing_sets(data, config, layout=layout)


def mean_predictor_rmse(splits) -> float:
    """Validation RMSE of predicting the training windows' mean RUL everywhere."""
    train_mean = float(np.mean(splits.train.labels()))
    val_labels = splits.val.labels()

    return rmse(val_labels, np.full(len(val_labels), train_mean))


def assert_same_weights(model_a: nn.Module, model_b: nn.Module) -> None:
    """Every parameter and buffer (BatchNorm statistics too) bit for bit equal."""
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name


def run_killed_and_resumed(path, model_name, checkpoint, kill_after, **overrides):
    """Train until a simulated kill after `kill_after` batches, then resume."""
    config, splits = make_run(path, model_name, **overrides)
    with pytest.raises(TrainingInterrupted):
        fit_or_load(
            model_name,
            splits,
            config,
            checkpoint,
            progress=False,
            stop_after_batches=kill_after,
        )
    saved = load_checkpoint(checkpoint)
    model, history = fit_or_load(model_name, splits, config, checkpoint, progress=False)

    return saved, model, history


def check_resume_is_exact(path, tmp_path, model_name, kill_after, **overrides):
    """Kill-and-resume ends with the same weights and history as one whole run."""
    config, splits = make_run(path, model_name, **overrides)
    expected_model, expected_history = fit_or_load(
        model_name, splits, config, tmp_path / "whole.pt", progress=False
    )

    saved, model, history = run_killed_and_resumed(
        path, model_name, tmp_path / "killed.pt", kill_after, **overrides
    )

    assert_same_weights(model, expected_model)
    assert history.train_loss == expected_history.train_loss
    assert history.val_rmse == expected_history.val_rmse

    return saved


@pytest.fixture(scope="module")
def lstm_checkpoint(synthetic_file, tmp_path_factory) -> Path:
    """A finished one-epoch LSTM checkpoint; copy it before changing it."""
    path = tmp_path_factory.mktemp("lstm") / "lstm.pt"
    config, splits = make_run(
        synthetic_file, "lstm", epochs=1, max_train_batches=3, load_model=False
    )
    fit_or_load("lstm", splits, config, path, progress=False)

    return path


def copy_file(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())

    return target


# Training -------------------------------------------------------------------------


# The temporal design (dropout 0.5, a dense head over every input) learns more slowly
# on this tiny data than the original one.
@pytest.mark.parametrize(("cnn_arch", "epochs"), [("original", 6), ("temporal", 12)])
def test_cnn_training_beats_predicting_the_training_mean(
    synthetic_file, tmp_path, cnn_arch, epochs
):
    config, splits = make_run(
        synthetic_file,
        "cnn",
        epochs=epochs,
        learning_rate=0.003,
        stride=5,
        load_model=False,
        cnn_arch=cnn_arch,
    )

    model, history = fit_or_load("cnn", splits, config, tmp_path / "cnn.pt")
    kept_val_rmse = history.val_rmse[history.selected_epoch - 1]

    assert history.epochs == epochs
    assert kept_val_rmse < 0.75 * mean_predictor_rmse(splits)
    assert kept_val_rmse == pytest.approx(
        rmse(splits.val.labels(), predict(model, splits.val))
    )
    assert history.train_loss[-1] < history.train_loss[0]
    assert not model.training


def test_epoch_summary_line_and_history_without_validation_units(
    synthetic_file, tmp_path, capsys
):
    config, splits = make_run(
        synthetic_file, "lstm", epochs=1, max_train_batches=2, val_fraction=0.0
    )

    history = train_model(
        nn.Sequential(nn.Flatten(), nn.Linear(5 * 14, 1)),
        splits,
        config,
        tmp_path / "linear.pt",
        model_name="linear",
        model_args={},
    )

    assert splits.val is None
    assert history.val_rmse == [None]
    assert len(history.train_loss) == len(history.epoch_seconds) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("epoch   1/1  train_loss")
    assert "val_rmse       n/a" in lines[0]


def test_max_train_batches_limits_each_epoch(synthetic_file, tmp_path):
    config, splits = make_run(
        synthetic_file, "lstm", epochs=2, max_train_batches=3, load_model=False
    )

    fit_or_load("lstm", splits, config, tmp_path / "lstm.pt", progress=False)

    saved = load_checkpoint(tmp_path / "lstm.pt")
    optimizer_steps = [
        int(state["step"]) for state in saved["optimizer_state"]["state"].values()
    ]
    assert set(optimizer_steps) == {6}
    assert (saved["epoch"], saved["batch"]) == (2, 0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, r"lower LEARNING_RATE \(now 0.003\)"),
        (
            {"lr_drop_epoch": 1},
            r"LEARNING_RATE \(now 0.003; epoch 1 trains at 0.0003 after LR_DROP_EPOCH",
        ),
    ],
)
def test_diverging_loss_stops_training_with_the_learning_rate_named(
    synthetic_file, tmp_path, overrides, message
):
    class NotANumber(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.weight * torch.full((len(x), 1), math.nan)

    config, splits = make_run(synthetic_file, "lstm", epochs=1, **overrides)
    model = NotANumber()

    with pytest.raises(FloatingPointError, match=message):
        train_model(
            model,
            splits,
            config,
            tmp_path / "nan.pt",
            model_name="nan",
            model_args={},
            progress=False,
        )

    assert torch.equal(model.weight.detach(), torch.ones(1))
    assert not (tmp_path / "nan.pt").exists()


def test_models_need_their_window_layout(synthetic_file, tmp_path):
    config, splits = make_run(synthetic_file, "cnn")

    with pytest.raises(ValueError, match="layout='lstm'"):
        fit_or_load("lstm", splits, config, tmp_path / "lstm.pt", progress=False)


def test_predict_matches_one_forward_pass_and_leaves_rng_and_mode_alone(
    synthetic_file,
):
    _, splits = make_run(synthetic_file, "cnn")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 14, 1))
    rng_before = torch.get_rng_state()

    predictions = predict(model, splits.val, batch_size=7)

    assert torch.equal(torch.get_rng_state(), rng_before)
    assert model.training
    x_all, _ = splits.val[np.arange(len(splits.val))]
    with torch.no_grad():
        expected = model.eval()(x_all).reshape(-1).numpy()
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-6)


def test_pick_device_and_seed_everything():
    assert training.pick_device("cpu") == torch.device("cpu")
    assert training.pick_device("auto").type in {"cpu", "cuda", "mps"}

    training.seed_everything(3)
    first = (torch.rand(2), np.random.rand(), random.random())
    training.seed_everything(3)
    second = (torch.rand(2), np.random.rand(), random.random())

    assert torch.equal(first[0], second[0]) and first[1:] == second[1:]


# Resume ---------------------------------------------------------------------------


def test_cnn_resume_after_mid_epoch_kill_equals_uninterrupted_run(
    synthetic_file, tmp_path
):
    # 5 batches per epoch, saves after batches 2 and 4; the kill after batch 8
    # (epoch 2, batch 3) falls back to the save after epoch 2, batch 2.
    settings = {"max_train_batches": 5, "autosave_every": 2, "batch_size": 16}

    saved = check_resume_is_exact(synthetic_file, tmp_path, "cnn", 8, **settings)

    assert (saved["epoch"], saved["batch"]) == (1, 2)
    assert len(saved["history"]["train_loss"]) == 1


def test_cnn_resume_after_epoch_end_save_equals_uninterrupted_run(
    synthetic_file, tmp_path
):
    settings = {"max_train_batches": 4, "autosave_every": 0, "batch_size": 16}

    saved = check_resume_is_exact(synthetic_file, tmp_path, "cnn", 6, **settings)

    assert (saved["epoch"], saved["batch"]) == (1, 0)


def test_temporal_cnn_resume_with_dropout_equals_uninterrupted_run(
    synthetic_file, tmp_path
):
    # The temporal design draws dropout masks from torch's global RNG: the
    # checkpoint's RNG states must bring the resumed run onto the same masks.
    settings = {"max_train_batches": 5, "autosave_every": 2, "batch_size": 16}

    saved = check_resume_is_exact(
        synthetic_file, tmp_path, "cnn", 8, cnn_arch="temporal", **settings
    )

    assert saved["model_args"]["arch"] == "temporal"
    assert (
        saved["model_args"]["window_length"],
        saved["model_args"]["n_features"],
    ) == (
        5,
        14,
    )


@pytest.mark.parametrize(
    ("drop_epoch", "expected"),
    [(0, [0.01, 0.01, 0.01]), (2, [0.01, 0.001, 0.001]), (9, [0.01, 0.01, 0.01])],
)
def test_learning_rate_drops_from_the_configured_epoch(drop_epoch, expected):
    config = get_config(environ={}, learning_rate=0.01, lr_drop_epoch=drop_epoch)

    rates = [training.learning_rate_at(config, epoch) for epoch in range(3)]

    assert rates == pytest.approx(expected)


def test_a_rate_drop_after_the_last_epoch_is_said(synthetic_file, tmp_path):
    config, splits = make_run(
        synthetic_file, "cnn", epochs=1, max_train_batches=1, lr_drop_epoch=3
    )

    with pytest.warns(UserWarning, match="LR_DROP_EPOCH=3 is after the last epoch"):
        fit_or_load("cnn", splits, config, tmp_path / "cnn.pt", progress=False)

    saved = load_checkpoint(tmp_path / "cnn.pt")
    assert saved["optimizer_state"]["param_groups"][0]["lr"] == 0.003


def test_resume_across_a_learning_rate_drop_equals_uninterrupted_run(
    synthetic_file, tmp_path
):
    # 3 epochs of 4 batches, the rate drops at epoch 2; the kill after batch 7 falls
    # back to the save after epoch 2, batch 2, where the optimizer holds the new rate.
    settings = {"max_train_batches": 4, "autosave_every": 2, "batch_size": 16}

    saved = check_resume_is_exact(
        synthetic_file, tmp_path, "cnn", 7, epochs=3, lr_drop_epoch=2, **settings
    )

    assert (saved["epoch"], saved["batch"]) == (1, 2)
    assert saved["optimizer_state"]["param_groups"][0]["lr"] == pytest.approx(3e-4)


# Checkpoint files -----------------------------------------------------------------


def test_checkpoint_loads_with_weights_only_and_holds_the_run(lstm_checkpoint):
    checkpoint = torch.load(lstm_checkpoint, weights_only=True)

    assert set(REQUIRED_KEYS) <= checkpoint.keys()
    assert checkpoint["model_name"] == "lstm"
    model_args = dict(checkpoint["model_args"])
    label_mean, label_std = model_args.pop("label_mean"), model_args.pop("label_std")
    assert model_args == LSTM_ARGS
    assert label_mean > 0 and label_std > 0  # the model answers in cycles
    assert checkpoint["feature_names"][:2] == ["T24", "T30"]
    assert checkpoint["windows"]["win_len"] == 5
    assert checkpoint["scaler"]["fitted_on_units"] == checkpoint["units"]["train"]
    assert checkpoint["config"]["learning_rate"] == 0.003
    assert checkpoint["versions"]["torch"] == torch.__version__
    assert len(checkpoint["rng_states"]["numpy"]["keys"]) == 624


def test_failing_save_keeps_the_previous_checkpoint_and_no_temporary_file(
    lstm_checkpoint, tmp_path, monkeypatch
):
    path = copy_file(lstm_checkpoint, tmp_path / "model.pt")
    before = path.read_bytes()

    def fail_midway(obj, target, *args, **kwargs):
        Path(target).write_bytes(before[:100])
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", fail_midway)

    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(load_checkpoint(path), path)

    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.pt"]


def test_checkpoint_gets_the_umask_permissions_of_any_new_file(
    lstm_checkpoint, tmp_path
):
    previous = os.umask(0o022)
    try:
        save_checkpoint(load_checkpoint(lstm_checkpoint), tmp_path / "model.pt")
    finally:
        os.umask(previous)

    # mkstemp's 0600 made checkpoints unreadable to the rest of the team.
    assert (tmp_path / "model.pt").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_checkpoint_names_the_file_and_the_remedy(
    lstm_checkpoint, tmp_path, damage
):
    content = lstm_checkpoint.read_bytes()
    damaged = {
        "truncated": content[: len(content) // 2],
        "garbage": b"not a checkpoint at all",
        "empty": b"",
    }[damage]
    path = tmp_path / "damaged.pt"
    path.write_bytes(damaged)

    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)

    assert str(path) in str(error.value)
    assert "LOAD_MODEL=0" in str(error.value)


def test_a_file_of_other_tensors_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2)}, path)

    with pytest.raises(CheckpointError, match="keys .* are missing"):
        load_checkpoint(path)


LOADED_OBJECTS = []


def _record_unpickling():
    LOADED_OBJECTS.append("ran")

    return "payload"


class _Payload:
    def __reduce__(self):
        return (_record_unpickling, ())


def test_pickled_objects_are_refused_without_running_them(tmp_path):
    path = tmp_path / "pickle.pt"
    torch.save({"model": _Payload()}, path)

    with pytest.raises(CheckpointError, match="objects other than tensors"):
        load_checkpoint(path)

    assert LOADED_OBJECTS == []


def matching_request(checkpoint: dict) -> dict:
    """Keyword arguments of `check_compatible` that match `checkpoint` exactly."""
    return {
        "model_name": checkpoint["model_name"],
        "model_args": checkpoint["model_args"],
        "feature_names": checkpoint["feature_names"],
        "win_len": checkpoint["windows"]["win_len"],
        "train_units": checkpoint["units"]["train"],
        "windows": {
            "downsample": checkpoint["windows"]["downsample"],
            "rul_cap": checkpoint["windows"]["rul_cap"],
        },
        "scaler": checkpoint["scaler"],
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"model_name": "cnn", "model_args": {"native": False}},
            "architecture: checkpoint 'lstm', run 'cnn'",
        ),
        (
            {"model_args": {**LSTM_ARGS, "hidden_size": 32}},
            "lstm argument hidden_size: checkpoint 16, run 32",
        ),
        (
            {"model_args": {**LSTM_ARGS, "bidirectional": True}},
            "lstm argument bidirectional: checkpoint 'absent', run True",
        ),
        ({"win_len": 30}, "window length: checkpoint 5, run 30"),
        ({"train_units": [2]}, "training units: checkpoint .*, run \\[2\\]"),
        ({"windows": {"downsample": 3}}, "downsample: checkpoint 1, run 3"),
        ({"windows": {"rul_cap": 125.0}}, "RUL cap: checkpoint None, run 125.0"),
        (
            {"scaler": {"kind": "per_condition"}},
            "input scaling: checkpoint global, run per_condition",
        ),
    ],
)
def test_mismatched_checkpoint_names_the_difference(lstm_checkpoint, change, expected):
    checkpoint = load_checkpoint(lstm_checkpoint)
    check_compatible(checkpoint, **matching_request(checkpoint))

    with pytest.raises(CheckpointMismatch, match=expected):
        check_compatible(checkpoint, **{**matching_request(checkpoint), **change})


def test_mismatched_feature_list_names_added_and_removed_features(lstm_checkpoint):
    checkpoint = load_checkpoint(lstm_checkpoint)
    saved_names = checkpoint["feature_names"]
    requested = matching_request(checkpoint)
    requested["feature_names"] = ["alt", *saved_names[:1], *saved_names[2:]]

    with pytest.raises(CheckpointMismatch) as error:
        check_compatible(checkpoint, **requested)

    assert "feature list (14 -> 14): added ['alt'], removed ['T30']" in str(error.value)


def test_fit_or_load_refuses_a_checkpoint_of_another_window_length(
    synthetic_file, lstm_checkpoint, tmp_path
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    config, splits = make_run(synthetic_file, "lstm", epochs=1, win_len=8)

    with pytest.raises(CheckpointMismatch, match="window length") as error:
        fit_or_load("lstm", splits, config, path, progress=False)

    assert str(path) in str(error.value)


# LOAD_MODEL -----------------------------------------------------------------------


def test_finished_checkpoint_is_used_without_training(
    synthetic_file, lstm_checkpoint, tmp_path, monkeypatch
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    before = path.read_bytes()
    saved = load_checkpoint(path)
    config, splits = make_run(synthetic_file, "lstm", epochs=1, max_train_batches=3)

    def no_training(*args, **kwargs):
        raise AssertionError("train_model ran for a finished checkpoint")

    monkeypatch.setattr(training, "train_model", no_training)
    model, history = fit_or_load("lstm", splits, config, path, progress=False)

    assert history == History.from_dict(saved["history"])
    assert path.read_bytes() == before
    for name, value in model.state_dict().items():
        assert torch.equal(value, saved["model_state"][name]), name


def test_load_model_false_trains_from_scratch_and_overwrites(
    synthetic_file, lstm_checkpoint, tmp_path, monkeypatch
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    config, splits = make_run(
        synthetic_file, "lstm", epochs=1, max_train_batches=2, load_model=False
    )
    calls = []
    real_train_model = training.train_model

    def counting_train_model(*args, **kwargs):
        calls.append(kwargs["resume"])
        return real_train_model(*args, **kwargs)

    monkeypatch.setattr(training, "train_model", counting_train_model)
    fit_or_load("lstm", splits, config, path, progress=False)

    assert calls == [None]
    saved = load_checkpoint(path)
    assert saved["config"]["max_train_batches"] == 2


def test_more_epochs_resume_a_finished_checkpoint(
    synthetic_file, lstm_checkpoint, tmp_path, caplog
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    config, splits = make_run(synthetic_file, "lstm", epochs=2, max_train_batches=3)

    with caplog.at_level(logging.INFO, logger="src.training"):
        _, history = fit_or_load("lstm", splits, config, path, progress=False)

    assert f"resuming {path} at epoch 2/2, batch 0" in caplog.text
    assert history.epochs == 2
    first_epoch = load_checkpoint(lstm_checkpoint)["history"]["train_loss"]
    assert history.train_loss[:1] == first_epoch


def test_resuming_with_other_settings_warns_and_names_them(
    synthetic_file, lstm_checkpoint, tmp_path
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    config, splits = make_run(
        synthetic_file, "lstm", epochs=2, max_train_batches=3, batch_size=16
    )

    with pytest.warns(UserWarning, match="batch_size: 32 -> 16"):
        fit_or_load("lstm", splits, config, path, progress=False)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"learning_rate": 0.5}, "learning_rate: 0.003 -> 0.5"),
        ({"batch_size": 7}, "batch_size: 32 -> 7"),
        ({"seed": 99}, "seed: 0 -> 99"),
        ({"select_best": False}, "select_best: True -> False"),
        ({"lr_drop_epoch": 1}, "lr_drop_epoch: 0 -> 1"),
        ({"max_train_batches": 0}, "max_train_batches: 3 -> 0"),
    ],
)
def test_finished_checkpoint_trained_otherwise_is_refused_naming_the_setting(
    synthetic_file, lstm_checkpoint, tmp_path, change, expected
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    settings = {"epochs": 1, "max_train_batches": 3, **change}
    config, splits = make_run(synthetic_file, "lstm", **settings)

    with pytest.raises(CheckpointMismatch) as refused:
        fit_or_load("lstm", splits, config, path, progress=False)

    message = str(refused.value)
    assert f"finished checkpoint {path} was trained with other settings" in message
    assert f"  - {expected}\n" in message
    assert "LOAD_MODEL=0" in message


@pytest.mark.parametrize(
    "change", [{"cnn_arch": "original"}, {"lr_drop_factor": 0.5}, {"device": "auto"}]
)
def test_finished_checkpoint_is_reused_when_only_unused_settings_changed(
    synthetic_file, lstm_checkpoint, tmp_path, monkeypatch, change
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    config, splits = make_run(
        synthetic_file, "lstm", epochs=1, max_train_batches=3, **change
    )
    monkeypatch.setattr(training, "train_model", None)  # would fail if called

    _, history = fit_or_load("lstm", splits, config, path, progress=False)

    assert history.epochs == 1


def test_finished_cnn_is_reused_with_other_lstm_settings_and_the_same_split(
    synthetic_file, tmp_path, monkeypatch
):
    path = tmp_path / "cnn.pt"
    settings = {"epochs": 1, "max_train_batches": 3, "val_units": (2, 5)}
    config, splits = make_run(synthetic_file, "cnn", **settings)
    fit_or_load("cnn", splits, config, path, progress=False)
    changed = {"lstm_hidden_size": 32, "val_units": (5, 2), "val_fraction": 0.3}
    config, splits = make_run(synthetic_file, "cnn", **{**settings, **changed})
    monkeypatch.setattr(training, "train_model", None)  # would fail if called

    _, history = fit_or_load("cnn", splits, config, path, progress=False)

    assert history.epochs == 1


def test_finished_checkpoint_from_before_select_best_is_refused_under_it(
    synthetic_file, lstm_checkpoint, tmp_path
):
    checkpoint = load_checkpoint(lstm_checkpoint)
    del checkpoint["config"]["select_best"]
    path = tmp_path / "old.pt"
    save_checkpoint(checkpoint, path)
    config, splits = make_run(synthetic_file, "lstm", epochs=1, max_train_batches=3)

    with pytest.raises(CheckpointMismatch, match="select_best: False -> True"):
        fit_or_load("lstm", splits, config, path, progress=False)


def test_finished_checkpoint_of_more_epochs_is_refused_for_fewer(
    synthetic_file, lstm_checkpoint, tmp_path
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    config, splits = make_run(synthetic_file, "lstm", epochs=2, max_train_batches=3)
    fit_or_load("lstm", splits, config, path, progress=False)
    fewer = dataclasses.replace(config, epochs=1)

    with pytest.raises(CheckpointMismatch, match="epochs: 2 trained -> 1"):
        fit_or_load("lstm", splits, fewer, path, progress=False)


def test_finished_checkpoint_is_reused_from_another_data_folder(
    synthetic_file, lstm_checkpoint, tmp_path, monkeypatch
):
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    moved = copy_file(synthetic_file, tmp_path / "moved.h5")
    config, splits = make_run(moved, "lstm", epochs=1, max_train_batches=3)
    config = dataclasses.replace(config, filename=str(moved))
    monkeypatch.setattr(training, "train_model", None)  # would fail if called

    _, history = fit_or_load("lstm", splits, config, path, progress=False)

    assert history.epochs == 1


# The original design's CNN helpers ------------------------------------------------


def test_load_model_rebuilds_the_checkpoint_for_inference(lstm_checkpoint):
    loaded = load_model(lstm_checkpoint, device="cpu")

    assert loaded.model_name == "lstm" and not loaded.model.training
    assert loaded.win_len == 5 and loaded.layout == "lstm"
    assert loaded.scaler.feature_names == loaded.feature_names
    saved = load_checkpoint(lstm_checkpoint)["model_state"]
    for name, value in loaded.model.state_dict().items():
        assert torch.equal(value, saved[name]), name


def test_temporal_cnn_checkpoint_loads_for_inference_and_refuses_the_other_design(
    synthetic_file, tmp_path
):
    path = tmp_path / "cnn.pt"
    config, splits = make_run(
        synthetic_file,
        "cnn",
        cnn_arch="temporal",
        cnn_activation="tanh",
        epochs=1,
        max_train_batches=3,
    )
    model, _ = fit_or_load("cnn", splits, config, path, progress=False)

    loaded = load_model(path, device="cpu")
    original = dataclasses.replace(config, cnn_arch="original")
    leaky = dataclasses.replace(config, cnn_activation="leaky_relu")

    np.testing.assert_array_equal(
        predict(loaded.model, splits.val), predict(model, splits.val)
    )
    with pytest.raises(CheckpointMismatch) as refused:
        fit_or_load("cnn", splits, original, path, progress=False)
    assert "cnn argument arch: checkpoint 'temporal', run 'original'" in str(
        refused.value
    )
    assert "window_length" not in str(refused.value)  # the design explains it
    with pytest.raises(CheckpointMismatch, match="activation: checkpoint 'tanh'"):
        fit_or_load("cnn", splits, leaky, path, progress=False)


def write_pre_cnn_arch_checkpoint(synthetic_file, path, **overrides):
    """A CNN checkpoint as written before CNN_ARCH and the rate drop existed."""
    config, splits = make_run(synthetic_file, "cnn", cnn_arch="original", **overrides)
    fit_or_load("cnn", splits, config, path, progress=False)
    checkpoint = load_checkpoint(path)
    del checkpoint["model_args"]["arch"]
    for name in ("cnn_arch", "lr_drop_epoch", "lr_drop_factor"):
        del checkpoint["config"][name]
    save_checkpoint(checkpoint, path)

    return checkpoint


def test_checkpoint_from_before_cnn_arch_resumes_as_the_original_design(
    synthetic_file, tmp_path
):
    path = tmp_path / "old.pt"
    settings = {"max_train_batches": 2, "epochs": 1}
    old = write_pre_cnn_arch_checkpoint(synthetic_file, path, **settings)
    config, splits = make_run(
        synthetic_file, "cnn", cnn_arch="original", **{**settings, "epochs": 2}
    )

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "settings differ" warning either
        model, history = fit_or_load("cnn", splits, config, path, progress=False)
    loaded = load_model(path, device="cpu")

    assert (
        history.epochs == 2 and history.train_loss[0] == old["history"]["train_loss"][0]
    )
    assert load_checkpoint(path)["model_args"]["arch"] == "original"
    assert loaded.config["cnn_arch"] == "original"
    assert_same_weights(loaded.model, model)


def test_checkpoint_from_before_cnn_arch_is_refused_for_the_temporal_design(
    synthetic_file, tmp_path
):
    path = tmp_path / "old.pt"
    write_pre_cnn_arch_checkpoint(synthetic_file, path, max_train_batches=2)
    config, splits = make_run(synthetic_file, "cnn", cnn_arch="temporal")

    with pytest.raises(
        CheckpointMismatch, match="argument arch: checkpoint 'original', run 'temporal'"
    ):
        fit_or_load("cnn", splits, config, path, progress=False)


def test_lstm_resumes_without_warning_when_only_the_cnn_design_changed(
    synthetic_file, tmp_path
):
    path = tmp_path / "lstm.pt"
    settings = {"max_train_batches": 2, "cnn_arch": "original"}
    config, splits = make_run(synthetic_file, "lstm", epochs=1, **settings)
    fit_or_load("lstm", splits, config, path, progress=False)
    resumed = dataclasses.replace(config, epochs=2, cnn_arch="temporal")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, history = fit_or_load("lstm", splits, resumed, path, progress=False)

    assert history.epochs == 2


def test_demo_models_refuse_a_checkpoint_cut_into_other_windows(
    synthetic_file, tmp_path
):
    settings = {"cnn_arch": "temporal", "epochs": 1, "max_train_batches": 2}
    paths = {"checkpoint_path": str(tmp_path / "{dataset}" / "{model}.pt")}
    config, splits = make_run(synthetic_file, "cnn", **settings, **paths)
    checkpoint = config.checkpoint_file("cnn", "t")
    fit_or_load("cnn", splits, config, checkpoint, progress=False)
    data = load_data(synthetic_file, features=config.features)
    create_training_and_testing_sets(data, config, layout="cnn")  # scales `data`

    models = trained_models(config, data, "t")

    assert list(models) == ["cnn"]
    assert predict(models["cnn"].model, splits.val).shape == (len(splits.val),)
    for change, message in [
        ({"win_len": 7}, "trained with WIN_LEN=5, the current run uses 7"),
        ({"downsample": 2}, "trained with DOWNSAMPLE=1, the current run uses 2"),
    ]:
        with pytest.raises(ValueError, match=message):
            trained_models(dataclasses.replace(config, **change), data, "t")


def test_evaluate_test_loss_matches_metrics_computed_by_hand(synthetic_file):
    _, splits = make_run(synthetic_file, "cnn")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(5 * 14, 1))
    with torch.no_grad():
        model[1].bias.fill_(40.0)

    mse, r2, accuracy = evaluate_test_loss(model, splits.test, batch_size=7)

    x_all, y_all = splits.test[np.arange(len(splits.test))]
    with torch.no_grad():
        y_pred = model(x_all).reshape(-1).double()
    error = y_pred - y_all.double()
    total = ((y_all.double() - y_all.double().mean()) ** 2).sum()
    # Batches of 7 and one batch of all round the float32 forward pass differently.
    assert mse == pytest.approx(float((error**2).mean()), rel=1e-6)
    assert r2 == pytest.approx(1 - float((error**2).sum() / total), rel=1e-6)
    expected_accuracy = float(((error >= -13) & (error <= 10)).double().mean())
    assert accuracy == pytest.approx(expected_accuracy)
    assert 0.0 < accuracy < 1.0


def test_mse_torch_does_not_broadcast_columns_against_rows():
    y_pred = torch.tensor([[1.0], [2.0], [4.0]], requires_grad=True)
    y_true = torch.tensor([1.0, 0.0, 1.0])

    loss = mse_torch(y_pred, y_true)
    loss.backward()

    assert loss.ndim == 0
    assert loss.item() == pytest.approx((0 + 4 + 9) / 3)
    assert torch.allclose(y_pred.grad.reshape(-1), torch.tensor([0.0, 4.0, 6.0]) / 3)
    with pytest.raises(ValueError, match="different numbers of samples"):
        mse_torch(y_pred, torch.zeros(4))


def test_label_scaled_model_answers_in_cycles():
    net = nn.Linear(3, 1)
    model = training.build_model(
        "cnn", {"native": True, "label_mean": 40.0, "label_std": 20.0}
    )
    scaled = training.LabelScaled(net, label_mean=40.0, label_std=20.0)
    x = torch.randn(4, 3)

    output = scaled(x)

    assert torch.allclose(output, 40.0 + 20.0 * net(x))
    assert isinstance(model, training.LabelScaled)
    assert {"label_mean", "label_std"} <= model.state_dict().keys()
    with pytest.raises(ValueError, match="label_std must be > 0, got 0.0"):
        training.LabelScaled(net, 40.0, 0.0)


def test_model_keeps_the_epoch_with_the_lowest_validation_rmse(
    synthetic_file, tmp_path
):
    config, splits = make_run(synthetic_file, "cnn", epochs=4, learning_rate=0.03)

    model, history = fit_or_load(
        "cnn", splits, config, tmp_path / "cnn.pt", progress=False
    )

    best = int(np.argmin(history.val_rmse))
    assert history.selected_epoch == best + 1
    kept = rmse(splits.val.labels(), predict(model, splits.val))
    assert kept == pytest.approx(history.val_rmse[best], rel=1e-5)
    reloaded, again = fit_or_load("cnn", splits, config, tmp_path / "cnn.pt")
    assert_same_weights(reloaded, model)
    assert again.selected_epoch == history.selected_epoch


def test_select_best_off_keeps_the_last_epoch(synthetic_file, tmp_path):
    config, splits = make_run(synthetic_file, "lstm", epochs=2, select_best=False)

    model, history = fit_or_load(
        "lstm", splits, config, tmp_path / "l.pt", progress=False
    )

    assert history.selected_epoch == 2
    kept = rmse(splits.val.labels(), predict(model, splits.val))
    assert kept == pytest.approx(history.val_rmse[-1], rel=1e-5)
    assert load_checkpoint(tmp_path / "l.pt")["best"] is None


def test_a_checkpoint_trained_on_other_data_is_refused(
    lstm_checkpoint, tmp_path_factory, tmp_path
):
    # Same units, flights and labels as `synthetic_file`, other sensor values: the
    # finished checkpoint used to be reused on inputs scaled with other statistics.
    folder = tmp_path_factory.mktemp("other_seed")
    other = generate_ncmapss(
        folder / "N-CMAPSS_synthetic.h5", time_compression=MAX_TIME_COMPRESSION, seed=1
    )
    path = copy_file(lstm_checkpoint, tmp_path / "lstm.pt")
    config, splits = make_run(other, "lstm", epochs=1, max_train_batches=3)

    with pytest.raises(CheckpointMismatch, match=r"scaler mean of '\w+': checkpoint"):
        fit_or_load("lstm", splits, config, path, progress=False)
