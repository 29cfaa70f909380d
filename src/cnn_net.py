"""The RUL convolutional network, from our hand-written layers or torch's own.

Both variants share structure and module indexes, so a state_dict trained on one loads
into the other. Training and checkpoint helpers live in src/cnn.py.
"""

import torch.nn as nn

from src.layers import (
    CustomAdaptiveAvgPool2d,
    CustomConv2d,
    CustomDense,
    CustomFlatten,
    CustomLeakyReLU,
)

CONV_CHANNELS = 64
DENSE_UNITS = 64
NEGATIVE_SLOPE = 0.01


def build_cnn(native: bool = False) -> nn.Sequential:
    """Builds the CNN that maps a window of sensor readings to one RUL value.

    Three blocks of 3x3 convolution (padding 1) + BatchNorm2d + LeakyReLU, global
    average pooling, then Dense 64->64, LeakyReLU, Dense 64->1. Any window length and
    feature count work, since padding keeps the size and pooling removes it.

    Args:
        native: Use torch's nn.Conv2d, nn.Linear, nn.LeakyReLU, nn.AdaptiveAvgPool2d
            and nn.Flatten instead of our Custom* layers. BatchNorm2d is torch's in
            both variants.

    Returns:
        The network; indexes 0, 3, 6 are the convolutions, 11 and 13 the dense layers.

    Shapes:
        input: (B, 1, window_length, n_features); output: (B, 1)
    """
    conv, dense, leaky_relu, pool, flatten = _layer_types(native)
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
