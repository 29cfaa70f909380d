"""A stacked-LSTM regressor of RUL from one window of sensor rows.

Uses torch's own `nn.LSTM`: the hand-written layers of this project are the CNN's.
Only the last time step's hidden state feeds the dense head, so any window length
works with the same weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class LSTMRegressor(nn.Module):
    """Stacked LSTM, last time step, then Linear -> LeakyReLU -> Linear to one RUL.

    Dropout acts between stacked LSTM layers (torch's `dropout` argument, which
    needs two or more layers) and on the last hidden state before the head, so a
    one-layer model is regularised too.

    Args:
        n_features: Features m per time step.
        hidden_size: LSTM hidden units, also the width of the head's hidden layer.
        num_layers: Stacked LSTM layers.
        dropout: Drop probability in [0, 1).

    Shapes:
        x (B, L, m) float32 -> (B, 1) RUL in cycles; any window length L >= 1.
    """

    def __init__(
        self,
        n_features: int,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        _check_arguments(n_features, hidden_size, num_layers, dropout)
        self.n_features, self.hidden_size = n_features, hidden_size
        self.num_layers, self.dropout = num_layers, dropout

        # torch warns about inter-layer dropout on a single layer, where it is a no-op.
        self.lstm = nn.LSTM(
            input_size=n_features,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.last_step_dropout = nn.Dropout(dropout)
        self.head = nn.Sequential(
            nn.Linear(hidden_size, hidden_size),
            nn.LeakyReLU(),
            nn.Linear(hidden_size, 1),
        )

    @property
    def constructor_args(self) -> dict[str, Any]:
        """Keyword arguments that rebuild this architecture (stored in checkpoints)."""
        return {
            "n_features": self.n_features,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != self.n_features:
            raise ValueError(
                f"LSTMRegressor expects input (B, L, {self.n_features}), got "
                f"{tuple(x.shape)}; build the windows with layout='lstm'"
            )

        outputs, _ = self.lstm(x)  # (B, L, hidden_size)
        last_step = self.last_step_dropout(outputs[:, -1, :])  # (B, hidden_size)

        return self.head(last_step)  # (B, 1)

    def extra_repr(self) -> str:
        return ", ".join(
            f"{key}={value}" for key, value in self.constructor_args.items()
        )


def _check_arguments(
    n_features: int, hidden_size: int, num_layers: int, dropout: float
) -> None:
    for name, value in (
        ("n_features", n_features),
        ("hidden_size", hidden_size),
        ("num_layers", num_layers),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
