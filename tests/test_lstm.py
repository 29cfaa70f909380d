"""The LSTM regressor: shapes, arguments, dropout, learning and exact resume."""

from __future__ import annotations

import pytest
import test_training as shared
import torch

from src.lstm import LSTMRegressor
from src.training import fit_or_load

# The generated file and the one-thread setting of the training tests.
synthetic_file = shared.synthetic_file
single_thread = shared.single_thread


@pytest.mark.parametrize(
    ("batch", "win_len", "n_features", "num_layers"),
    [(1, 1, 1, 1), (4, 10, 32, 2), (3, 30, 14, 3), (2, 50, 36, 1)],
)
def test_output_is_one_rul_per_window(batch, win_len, n_features, num_layers):
    model = LSTMRegressor(n_features, hidden_size=8, num_layers=num_layers)

    output = model(torch.randn(batch, win_len, n_features))

    assert output.shape == (batch, 1)
    assert output.dtype == torch.float32


def test_wrong_input_layout_is_refused_with_the_expected_shape():
    model = LSTMRegressor(14, hidden_size=8)

    with pytest.raises(ValueError, match=r"expects input \(B, L, 14\).*layout='lstm'"):
        model(torch.randn(2, 1, 10, 14))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_features": 0}, "n_features must be an integer >= 1, got 0"),
        ({"hidden_size": 2.5}, "hidden_size must be an integer >= 1, got 2.5"),
        ({"num_layers": 0}, "num_layers must be an integer >= 1"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
    ],
)
def test_invalid_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        LSTMRegressor(**{"n_features": 4, **arguments})


def test_constructor_args_rebuild_the_same_architecture():
    model = LSTMRegressor(14, hidden_size=16, num_layers=3, dropout=0.25)

    rebuilt = LSTMRegressor(**model.constructor_args)
    rebuilt.load_state_dict(model.state_dict())

    assert model.constructor_args == {
        "n_features": 14,
        "hidden_size": 16,
        "num_layers": 3,
        "dropout": 0.25,
    }
    assert "n_features=14, hidden_size=16, num_layers=3, dropout=0.25" in repr(model)


def test_dropout_acts_in_training_mode_only_even_with_one_layer():
    torch.manual_seed(0)
    model = LSTMRegressor(6, hidden_size=32, num_layers=1, dropout=0.5)
    x = torch.randn(8, 10, 6)

    train_outputs = [model(x) for _ in range(2)]
    model.eval()
    eval_outputs = [model(x) for _ in range(2)]

    assert not torch.equal(train_outputs[0], train_outputs[1])
    assert torch.equal(eval_outputs[0], eval_outputs[1])


def test_training_beats_predicting_the_training_mean(synthetic_file, tmp_path):
    config, splits = shared.make_run(
        synthetic_file, "lstm", epochs=12, stride=5, lstm_dropout=0.1, load_model=False
    )

    model, history = fit_or_load(
        "lstm", splits, config, tmp_path / "lstm.pt", progress=False
    )

    assert history.epochs == 12
    assert history.val_rmse[-1] < 0.75 * shared.mean_predictor_rmse(splits)
    assert history.train_loss[-1] < history.train_loss[0]
    assert not model.training


def test_resume_after_mid_epoch_kill_equals_uninterrupted_run(synthetic_file, tmp_path):
    # Dropout 0.3 between and after the layers: resuming must restore the RNG too.
    # 6 batches per epoch, saves every 4; the kill after batch 11 (epoch 2, batch
    # 5) falls back to the save after epoch 2, batch 4.
    settings = {"max_train_batches": 6, "autosave_every": 4, "batch_size": 16}

    saved = shared.check_resume_is_exact(
        synthetic_file, tmp_path, "lstm", 11, **settings
    )

    assert (saved["epoch"], saved["batch"]) == (1, 4)


def test_resume_after_epoch_end_save_equals_uninterrupted_run(synthetic_file, tmp_path):
    settings = {"epochs": 3, "max_train_batches": 3, "batch_size": 16}

    saved = shared.check_resume_is_exact(
        synthetic_file, tmp_path, "lstm", 7, **settings
    )

    assert (saved["epoch"], saved["batch"]) == (2, 0)
