"""The original design's CNN helpers: load a trained model, score it, MSE in torch.

Training goes through `src.training.fit_or_load("cnn", ...)`; the network itself is
`src.cnn_net.build_cnn`. These names are kept so the original notebooks read the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from config import get_config
from src.metrics import accuracy_within, r2
from src.training import LoadedModel, load_for_inference, predict


def load_model(
    checkpoint_path: str | Path | None = None, device: str = "auto"
) -> LoadedModel:
    """Load a trained model for inference from its checkpoint.

    Any registered architecture loads (the checkpoint names its own). New data must
    be scaled with the returned `scaler` and use the returned `feature_names` in
    that order, with windows of `win_len` rows in `layout`.

    Args:
        checkpoint_path: Checkpoint file; the configured CNN checkpoint of the
            configured dataset when None.
        device: Torch device name, or "auto" (cuda, then mps, then cpu).

    Returns:
        `LoadedModel` (model in eval mode, model_name, scaler, feature_names,
        win_len, layout, history, config); unpacks like a tuple.

    Raises:
        FileNotFoundError: If there is no checkpoint at the path.
        CheckpointError: If the file is truncated, corrupt or not a checkpoint.
    """
    if checkpoint_path is None:
        from src.experiment import dataset_tag  # the file actually read, if generated

        config = get_config()
        checkpoint_path = config.checkpoint_file("cnn", dataset_tag(config))

    return load_for_inference(checkpoint_path, device=device)


def evaluate_test_loss(
    model: nn.Module, dataset, batch_size: int = 256
) -> tuple[float, float, float]:
    """Score `model` on every window of `dataset` at once (never batch-averaged).

    Args:
        model: Network mapping a batch of windows to (B, 1) RUL.
        dataset: A `WindowDataset` in the layout the model reads, with >= 2 windows.
        batch_size: Windows per forward pass.

    Returns:
        (mean squared error in cycles^2, R^2, share of predictions within the
        default accuracy band of `src.metrics.accuracy_within`).
    """
    y_pred = predict(model, dataset, batch_size).astype(np.float64)
    y_true = dataset.labels().astype(np.float64)
    mse = float(np.mean((y_pred - y_true) ** 2))

    return mse, r2(y_true, y_pred), accuracy_within(y_true, y_pred)


def mse_torch(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """Mean squared error as a differentiable torch scalar.

    Args:
        y_pred: Predictions, (B, 1) or (B,).
        y_true: Targets, (B, 1) or (B,).

    Returns:
        mean((y_pred - y_true) ** 2) over the B samples, a 0-dim tensor.

    Raises:
        ValueError: If the two hold different numbers of samples; comparing (B, 1)
            with (B,) directly would broadcast to (B, B) and be silently wrong.
    """
    if y_pred.numel() != y_true.numel():
        raise ValueError(
            f"y_pred {tuple(y_pred.shape)} and y_true {tuple(y_true.shape)} hold "
            "different numbers of samples"
        )
    difference = y_pred.reshape(-1) - y_true.reshape(-1)  # (B,)

    return torch.mean(difference**2)
