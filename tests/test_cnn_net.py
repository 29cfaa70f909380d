"""Tests of build_cnn: shapes, structure, native/custom equivalence, autograd graph."""

import pytest
import torch
import torch.nn as nn

from src.cnn_net import build_cnn
from src.layers import (
    CustomAdaptiveAvgPool2d,
    CustomConv2d,
    CustomDense,
    CustomFlatten,
    CustomLeakyReLU,
    CustomTanh,
)

CUSTOM_TYPES = [CustomConv2d, nn.BatchNorm2d, CustomLeakyReLU] * 3 + [
    CustomAdaptiveAvgPool2d,
    CustomFlatten,
    CustomDense,
    CustomLeakyReLU,
    CustomDense,
]
NATIVE_TYPES = [nn.Conv2d, nn.BatchNorm2d, nn.LeakyReLU] * 3 + [
    nn.AdaptiveAvgPool2d,
    nn.Flatten,
    nn.Linear,
    nn.LeakyReLU,
    nn.Linear,
]
# Backward nodes allowed in the custom network's graph: ours, and torch's BatchNorm.
OUR_BACKWARD_NODES = {
    "Conv2dFunctionBackward",
    "DenseFunctionBackward",
    "LeakyReLUFunctionBackward",
    "AdaptiveAvgPool2dFunctionBackward",
    "FlattenFunctionBackward",
}
TORCH_BACKWARD_NODES = {"NativeBatchNormBackward0", "AccumulateGrad"}


def _custom_and_native_pair() -> tuple[nn.Sequential, nn.Sequential]:
    """A custom network and a native one loaded with its state_dict."""
    torch.manual_seed(0)
    custom, native = build_cnn(), build_cnn(native=True)
    native.load_state_dict(custom.state_dict())

    return custom, native


@pytest.mark.parametrize("native", [False, True])
def test_structure_and_indexes(native):
    expected_types = NATIVE_TYPES if native else CUSTOM_TYPES

    model = build_cnn(native=native)

    assert [type(module) for module in model] == expected_types
    assert [model[i].out_channels for i in (0, 3, 6)] == [64, 64, 64]
    assert (model[11].out_features, model[13].out_features) == (64, 1)


@pytest.mark.parametrize("native", [False, True])
@pytest.mark.parametrize(("window_length", "n_features"), [(10, 32), (30, 14), (1, 1)])
def test_output_shape_for_any_window(native, window_length, n_features):
    model = build_cnn(native=native)
    x = torch.randn(4, 1, window_length, n_features)

    y = model(x)

    assert y.shape == (4, 1)


def test_state_dicts_have_the_same_keys_and_shapes():
    custom, native = build_cnn(), build_cnn(native=True)

    custom_shapes = {k: v.shape for k, v in custom.state_dict().items()}
    native_shapes = {k: v.shape for k, v in native.state_dict().items()}

    assert custom_shapes == native_shapes


@pytest.mark.parametrize("train", [True, False])
def test_custom_weights_give_the_same_output_in_the_native_net(train):
    custom, native = _custom_and_native_pair()
    custom.train(train)
    native.train(train)
    x = torch.randn(32, 1, 10, 32)

    y_custom, y_native = custom(x), native(x)

    torch.testing.assert_close(y_custom, y_native, rtol=1e-4, atol=1e-5)


def test_custom_and_native_gradients_match():
    # float64: three BatchNorm layers amplify float32 rounding past any tight
    # tolerance (the first conv's gradient differed by 1e-3 relative on one CPU)
    custom, native = (model.double() for model in _custom_and_native_pair())
    x = torch.randn(32, 1, 30, 14, dtype=torch.float64)
    target = torch.randn(32, 1, dtype=torch.float64)

    for model in (custom, native):
        nn.functional.mse_loss(model(x), target).backward()

    for (name, p_custom), p_native in zip(
        custom.named_parameters(), native.parameters(), strict=True
    ):
        if name in {"0.bias", "3.bias", "6.bias"}:
            continue  # BatchNorm cancels a conv bias: both gradients are ~1e-9 noise
        scale = p_native.grad.abs().max().item()
        torch.testing.assert_close(
            p_custom.grad, p_native.grad, rtol=1e-9, atol=1e-10 * scale, msg=name
        )


def test_custom_graph_has_only_our_backward_nodes_and_batch_norm():
    model = build_cnn()

    y = model(torch.randn(4, 1, 10, 32))
    node_names = _backward_node_names(y.grad_fn)

    assert node_names - TORCH_BACKWARD_NODES == OUR_BACKWARD_NODES


def _backward_node_names(root) -> set[str]:
    """Class names of every node reachable from root in the autograd graph."""
    names, stack, seen = set(), [root], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        stack.extend(next_node for next_node, _ in node.next_functions)

    return names


def test_custom_net_rejects_wrong_channel_count():
    model = build_cnn()

    with pytest.raises(ValueError, match="3 channels, expected 1"):
        model(torch.randn(2, 3, 10, 32))


# The temporal design: kernels along time only, flatten, dropout, dense head.
TEMPORAL_CUSTOM_TYPES = [CustomConv2d, CustomLeakyReLU] * 5 + [
    CustomFlatten,
    nn.Dropout,
    CustomDense,
    CustomLeakyReLU,
    CustomDense,
]


def _temporal_pair(window_length: int, n_features: int, activation: str):
    torch.manual_seed(0)
    sizes = {"window_length": window_length, "n_features": n_features}
    custom = build_cnn(arch="temporal", activation=activation, **sizes)
    native = build_cnn(native=True, arch="temporal", activation=activation, **sizes)
    native.load_state_dict(custom.state_dict())

    return custom, native


def test_temporal_structure_keeps_each_sensor_apart_until_the_dense_head():
    model = build_cnn(arch="temporal", window_length=30, n_features=14)
    with_tanh = build_cnn(
        arch="temporal", window_length=30, n_features=14, activation="tanh"
    )

    assert [type(module) for module in model] == TEMPORAL_CUSTOM_TYPES
    assert [type(module) for module in with_tanh] == [
        CustomTanh if kind is CustomLeakyReLU else kind
        for kind in TEMPORAL_CUSTOM_TYPES
    ]
    assert [model[i].kernel_size for i in (0, 2, 4, 6, 8)] == [(9, 1)] * 4 + [(3, 1)]
    assert [model[i].out_channels for i in (0, 2, 4, 6, 8)] == [10, 10, 10, 10, 1]
    assert (model[12].in_features, model[12].out_features) == (30 * 14, 100)
    assert model[14].out_features == 1


def test_temporal_output_depends_on_a_sensor_only_through_its_own_column():
    model = build_cnn(arch="temporal", window_length=30, n_features=14).eval()
    convolutions = model[:10]
    x = torch.randn(2, 1, 30, 14)
    changed = x.clone()
    changed[..., 5] += 1.0

    difference = (convolutions(changed) - convolutions(x)).abs().sum(dim=(0, 1, 2))

    assert difference[5] > 0
    assert torch.count_nonzero(difference) == 1


@pytest.mark.parametrize("activation", ["leaky_relu", "tanh"])
@pytest.mark.parametrize(("window_length", "n_features"), [(10, 32), (30, 14), (1, 1)])
def test_temporal_custom_and_native_agree_in_output_and_gradients(
    window_length, n_features, activation
):
    custom, native = _temporal_pair(window_length, n_features, activation)
    x, target = torch.randn(16, 1, window_length, n_features), torch.randn(16, 1)

    for model in (custom, native):
        model.eval()  # dropout off, so both see the same activations
        nn.functional.mse_loss(model(x), target).backward()

    torch.testing.assert_close(custom(x), native(x), rtol=1e-4, atol=1e-5)
    for (name, p_custom), p_native in zip(
        custom.named_parameters(), native.parameters(), strict=True
    ):
        scale = p_native.grad.abs().max().item()
        torch.testing.assert_close(
            p_custom.grad, p_native.grad, rtol=1e-3, atol=1e-4 * scale, msg=name
        )


@pytest.mark.parametrize(
    ("activation", "node"),
    [("leaky_relu", "LeakyReLUFunctionBackward"), ("tanh", "TanhFunctionBackward")],
)
def test_temporal_graph_has_only_our_backward_nodes_and_dropout(activation, node):
    model = build_cnn(
        arch="temporal", window_length=10, n_features=32, activation=activation
    ).train()
    ours = {
        "Conv2dFunctionBackward",
        "DenseFunctionBackward",
        "FlattenFunctionBackward",
    }

    y = model(torch.randn(4, 1, 10, 32))
    node_names = _backward_node_names(y.grad_fn)

    assert node_names - {"AccumulateGrad", "MulBackward0"} == ours | {node}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"arch": "resnet"}, "unknown CNN arch 'resnet'"),
        ({"activation": "relu"}, "unknown CNN activation 'relu'"),
        ({"activation": "tanh"}, "original CNN design uses LeakyReLU only"),
        ({"arch": "temporal"}, "needs window_length as an int >= 1, got None"),
        (
            {"arch": "temporal", "window_length": 30, "n_features": 0},
            "needs n_features as an int >= 1, got 0",
        ),
    ],
)
def test_bad_design_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        build_cnn(**arguments)


def test_temporal_net_refuses_a_window_of_another_size():
    model = build_cnn(arch="temporal", window_length=30, n_features=14)

    with pytest.raises(ValueError, match="built for windows of 30 rows x 14 features"):
        model(torch.randn(2, 1, 20, 14))
    with pytest.raises(ValueError, match=r"got input of shape \(2, 1, 30, 13\)"):
        model(torch.randn(2, 1, 30, 13))
