"""The RUL convolutional networks, from our hand-written layers or torch's own.

Two designs: "original" (square kernels, global average pooling; the project's first
design) and "temporal" (kernels along time only, so each sensor keeps its own column
up to a dense head; the shape of Li et al. 2018's C-MAPSS CNN). The custom and native
variants of a design share structure and module indexes, so a state_dict trained on
one loads into the other. Training and checkpoint helpers live in src/cnn.py.
"""

from functools import partial

import torch
import torch.nn as nn

from config import CNN_ACTIVATIONS as ACTIVATIONS
from config import CNN_ARCHITECTURES as ARCHITECTURES
from src.layers import (
    CustomAdaptiveAvgPool2d,
    CustomConv2d,
    CustomDense,
    CustomFlatten,
    CustomLeakyReLU,
    CustomTanh,
)

CONV_CHANNELS = 64
DENSE_UNITS = 64
NEGATIVE_SLOPE = 0.01
# The temporal design (Li et al. 2018 used 10 filters of length 10, dropout 0.5 and
# 100 dense units). An odd length lets symmetric zero padding keep the window length.
TEMPORAL_CHANNELS = 10
TEMPORAL_KERNEL_LENGTH = 9
TEMPORAL_CONV_LAYERS = 4
TEMPORAL_DENSE_UNITS = 100
TEMPORAL_DROPOUT = 0.5


def build_cnn(
    native: bool = False,
    arch: str = "original",
    window_length: int | None = None,
    n_features: int | None = None,
    activation: str = "leaky_relu",
) -> nn.Sequential:
    """Builds a CNN that maps a window of sensor readings to one RUL value.

    "original": three blocks of 3x3 convolution (padding 1) + BatchNorm2d +
    LeakyReLU, global average pooling, then Dense 64->64, LeakyReLU, Dense 64->1.
    Any window length and feature count work, since pooling removes them.

    "temporal": four blocks of 9x1 convolution (10 filters, padding 4 along time) +
    activation, a 3x1 convolution to one channel + activation, flatten, dropout 0.5,
    Dense (window_length * n_features)->100, activation, Dense 100->1. Kernels never
    mix sensors, so the dense head sees which sensor moved; the input size is fixed.
    The activation is LeakyReLU or tanh (Li et al. 2018's choice).

    Args:
        native: Use torch's nn.Conv2d, nn.Linear, nn.LeakyReLU, nn.AdaptiveAvgPool2d
            and nn.Flatten instead of our Custom* layers. BatchNorm2d and Dropout are
            torch's in both variants.
        arch: "original" or "temporal".
        window_length: Rows per window; required by "temporal", unused otherwise.
        n_features: Columns per window; required by "temporal", unused otherwise.
        activation: "leaky_relu" or "tanh" (our TanhFunction, or nn.Tanh when
            native); the original design takes "leaky_relu" only.

    Returns:
        The network. "original": indexes 0, 3, 6 are the convolutions, 11 and 13
        the dense layers. "temporal": 0, 2, 4, 6, 8 convolutions, 12 and 14 dense.

    Shapes:
        input: (B, 1, window_length, n_features); output: (B, 1)

    Raises:
        ValueError: For an unknown `arch` or `activation`, tanh in the original
            design, or "temporal" without both sizes >= 1.
            A "temporal" network raises it for input of another window size.
    """
    _check_activation(arch, activation)
    conv, dense, leaky_relu, pool, flatten = _layer_types(native)
    if arch == "original":
        return _original(conv, dense, leaky_relu, pool, flatten)
    if arch == "temporal":
        _check_sizes(window_length, n_features)
        if activation == "tanh":
            nonlinearity = nn.Tanh if native else CustomTanh
        else:
            nonlinearity = partial(leaky_relu, NEGATIVE_SLOPE)
        return _temporal(conv, dense, nonlinearity, flatten, window_length, n_features)

    raise ValueError(f"unknown CNN arch {arch!r}; expected one of {ARCHITECTURES}")


def _original(conv, dense, leaky_relu, pool, flatten) -> nn.Sequential:
    blocks = []
    for in_channels in (1, CONV_CHANNELS, CONV_CHANNELS):
        blocks += [
            conv(in_channels, CONV_CHANNELS, kernel_size=3, padding=1),
            nn.BatchNorm2d(CONV_CHANNELS),
            leaky_relu(NEGATIVE_SLOPE),
        ]
    head = [
        pool((1, 1)),
        flatten(),
        dense(CONV_CHANNELS, DENSE_UNITS),
        leaky_relu(NEGATIVE_SLOPE),
        dense(DENSE_UNITS, 1),
    ]

    return nn.Sequential(*blocks, *head)


def _temporal(
    conv, dense, nonlinearity, flatten, window_length: int, n_features: int
) -> nn.Sequential:
    kernel = (TEMPORAL_KERNEL_LENGTH, 1)
    padding = (TEMPORAL_KERNEL_LENGTH // 2, 0)
    blocks = []
    in_channels = 1
    for _ in range(TEMPORAL_CONV_LAYERS):
        blocks += [
            conv(in_channels, TEMPORAL_CHANNELS, kernel_size=kernel, padding=padding),
            nonlinearity(),
        ]
        in_channels = TEMPORAL_CHANNELS
    blocks += [
        conv(TEMPORAL_CHANNELS, 1, kernel_size=(3, 1), padding=(1, 0)),
        nonlinearity(),
    ]
    head = [
        flatten(),  # (B, 1, L, m) -> (B, L * m)
        nn.Dropout(TEMPORAL_DROPOUT),
        dense(window_length * n_features, TEMPORAL_DENSE_UNITS),
        nonlinearity(),
        dense(TEMPORAL_DENSE_UNITS, 1),
    ]
    network = nn.Sequential(*blocks, *head)
    # Without it, a window of another size fails deep in the dense head.
    network.register_forward_pre_hook(
        partial(_check_window_size, (window_length, n_features))
    )

    return network


def _check_window_size(
    size: tuple[int, int], module: nn.Module, inputs: tuple[torch.Tensor, ...]
) -> None:
    x = inputs[0]
    if tuple(x.shape[-2:]) != size:
        raise ValueError(
            f"the temporal CNN was built for windows of {size[0]} rows x {size[1]} "
            f"features, got input of shape {tuple(x.shape)}; use the window length "
            "and feature list it was trained with"
        )


def _check_activation(arch: str, activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown CNN activation {activation!r}; expected one of {ACTIVATIONS}"
        )
    if arch == "original" and activation != "leaky_relu":
        raise ValueError(
            f"the original CNN design uses LeakyReLU only, got activation "
            f"{activation!r}; tanh needs arch 'temporal'"
        )


def _check_sizes(window_length: int | None, n_features: int | None) -> None:
    for name, value in (("window_length", window_length), ("n_features", n_features)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f'arch "temporal" needs {name} as an int >= 1, got {value!r}'
            )


def _layer_types(native: bool) -> tuple[type[nn.Module], ...]:
    """(conv, dense, leaky_relu, pool, flatten) classes of the chosen variant."""
    if native:
        return nn.Conv2d, nn.Linear, nn.LeakyReLU, nn.AdaptiveAvgPool2d, nn.Flatten

    return (
        CustomConv2d,
        CustomDense,
        CustomLeakyReLU,
        CustomAdaptiveAvgPool2d,
        CustomFlatten,
    )
