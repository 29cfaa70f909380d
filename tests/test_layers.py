"""Tests of the hand-written autograd layers in src/layers.py.

Each Function is checked twice: gradcheck in float64 on tiny shapes, and equality of
outputs and gradients with torch's reference op on float32 shapes like the real ones.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import gradcheck

from src import layers
from src.layers import (
    AdaptiveAvgPool2dFunction,
    Conv2dFunction,
    CustomAdaptiveAvgPool2d,
    CustomConv2d,
    CustomDense,
    CustomFlatten,
    CustomLeakyReLU,
    CustomTanh,
    DenseFunction,
    FlattenFunction,
    LeakyReLUFunction,
    TanhFunction,
)

FLOAT32_TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}


def _double(*shape: int, channels_last: bool = False) -> torch.Tensor:
    """Random float64 leaf tensor that requires grad."""
    t = torch.randn(*shape, dtype=torch.float64)
    if channels_last:
        t = t.contiguous(memory_format=torch.channels_last)

    return t.requires_grad_()


def _assert_close_to_scale(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Float32 closeness for sums over many terms (a weight gradient over 80k rows):
    the absolute tolerance follows the size of the largest expected entry."""
    scale = expected.abs().max().item()
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5 * scale)


def _grads_of(output: torch.Tensor, grad_output: torch.Tensor, inputs) -> tuple:
    """Gradients of sum(output * grad_output) with respect to inputs."""
    return torch.autograd.grad(output, inputs, grad_output)


# ----------------------------------------------------------------------------------
# gradcheck, float64, tiny shapes
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("padding", [0, 1, (1, 2)])
@pytest.mark.parametrize("stride", [1, 2, (2, 1)])
def test_conv_gradcheck(stride, padding, bias):
    torch.manual_seed(0)
    x = _double(2, 3, 6, 5)
    weight = _double(4, 3, 3, 2)  # non-square kernel
    b = _double(4) if bias else None

    def conv(x, weight, b):
        return Conv2dFunction.apply(x, weight, b, stride, padding)

    assert gradcheck(conv, (x, weight, b))


@pytest.mark.parametrize(
    ("x_shape", "kernel", "stride", "padding"),
    [((2, 2, 1, 1), 3, 1, 1), ((2, 2, 3, 2), (2, 3), 2, 2)],
)
def test_conv_gradcheck_with_taps_that_only_see_padding(
    x_shape, kernel, stride, padding
):
    torch.manual_seed(0)
    x = _double(*x_shape)
    weight = _double(3, x_shape[1], *layers._as_pair(kernel, "kernel", 1))
    b = _double(3)

    def conv(x, weight, b):
        return Conv2dFunction.apply(x, weight, b, stride, padding)

    assert gradcheck(conv, (x, weight, b))


@pytest.mark.parametrize(
    ("kernel", "padding"),
    [((5, 2), (2, 0)), ((3, 2), (2, 1)), ((3, 2), (0, 1)), ((1, 2), 0)],
)
def test_conv_gradcheck_of_the_input_gradient_as_a_correlation(kernel, padding):
    # stride 1 with padding up to kernel - 1 takes the full-correlation path (kernels
    # two columns wide: one-column kernels take the band path)
    torch.manual_seed(0)
    x = _double(2, 3, 7, 4)
    weight = _double(2, 3, *kernel)
    b = _double(2)

    def conv(x, weight, b):
        return Conv2dFunction.apply(x, weight, b, 1, padding)

    assert gradcheck(conv, (x, weight, b))


@pytest.mark.parametrize(
    ("stride", "padding", "scatters"),
    [(1, (4, 0), False), (1, (1, 0), False), (2, (4, 0), True), (1, (9, 0), True)],
)
def test_input_gradient_scatters_only_where_the_correlation_does_not_hold(
    monkeypatch, stride, padding, scatters
):
    calls = []
    scatter = layers._col2im_add
    monkeypatch.setattr(
        layers, "_col2im_add", lambda *args: calls.append(1) or scatter(*args)
    )
    x = torch.randn(2, 3, 12, 4, requires_grad=True)
    weight = torch.randn(2, 3, 9, 2)  # one column wide would take the band path

    Conv2dFunction.apply(x, weight, None, stride, padding).sum().backward()

    assert bool(calls) == scatters


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    ("height", "kernel_height", "stride", "padding"),
    [
        (7, 3, 1, 1),  # "same" padding, as the temporal CNN
        (7, 3, 2, 0),  # strided along the column
        (6, 2, 1, 3),  # padding wider than the kernel
        (3, 5, 1, 2),  # kernel longer than the input
        (1, 1, 1, 6),  # most outputs only see padding: whole blocks of bias
        (9, 4, 3, 2),
    ],
)
def test_column_kernel_gradcheck(
    monkeypatch, height, kernel_height, stride, padding, bias
):
    # One-column kernels take the band path; blocks of 2 rows make several blocks
    # whose input rows overlap.
    monkeypatch.setattr(layers, "_BAND_BLOCK_ROWS", 2)
    monkeypatch.setattr(layers, "_PatchMatrix", None)  # the im2col path would fail
    torch.manual_seed(0)
    x = _double(2, 3, height, 4)
    weight = _double(5, 3, kernel_height, 1)
    b = _double(5) if bias else None

    def conv(x, weight, b):
        return Conv2dFunction.apply(x, weight, b, (stride, 1), (padding, 0))

    expected = F.conv2d(x, weight, b, (stride, 1), (padding, 0))
    torch.testing.assert_close(conv(x, weight, b), expected)
    assert gradcheck(conv, (x, weight, b))


@pytest.mark.parametrize("channels_last", [False, True])
def test_column_kernels_match_torch_in_any_input_layout(channels_last):
    torch.manual_seed(0)
    x = _double(3, 2, 23, 5, channels_last=channels_last).requires_grad_(False)
    weight, b = _double(4, 2, 9, 1), _double(4)

    out = Conv2dFunction.apply(x, weight, b, 1, (4, 0))

    torch.testing.assert_close(out, F.conv2d(x, weight, b, 1, (4, 0)))


def test_column_kernels_take_an_empty_batch():
    x = torch.randn(0, 3, 30, 14, requires_grad=True)
    weight = torch.randn(10, 3, 9, 1, requires_grad=True)

    out = Conv2dFunction.apply(x, weight, None, 1, (4, 0))
    out.sum().backward()

    assert out.shape == (0, 10, 30, 14) and x.grad.shape == x.shape
    assert torch.equal(weight.grad, torch.zeros_like(weight))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_column_kernel_weight_gradient_is_as_precise_as_torchs(dtype):
    # Each tap sums about H_out products: summed in bfloat16 it was 10x off torch's.
    torch.manual_seed(0)
    x = torch.randn(8, 4, 500, 4, dtype=torch.float64)
    weight = torch.randn(4, 4, 9, 1, dtype=torch.float64) * 0.3
    grad_output = torch.randn(8, 4, 500, 4, dtype=torch.float64)

    def weight_gradient(conv, dtype):
        w = weight.to(dtype).requires_grad_()
        out = conv(x.to(dtype), w, None, 1, (4, 0))
        (grad,) = torch.autograd.grad(out, w, grad_output.to(dtype))
        assert grad.dtype == dtype
        return grad.double()

    exact = weight_gradient(F.conv2d, torch.float64)

    def error(grad):
        return ((grad - exact).abs().max() / exact.abs().max()).item()

    ours = error(weight_gradient(Conv2dFunction.apply, dtype))
    torchs = error(weight_gradient(F.conv2d, dtype))
    assert ours <= 2 * torchs


def test_column_kernels_with_a_large_band_matrix_take_im2col(monkeypatch):
    patch_matrices = []
    patch_matrix = layers._PatchMatrix
    monkeypatch.setattr(
        layers,
        "_PatchMatrix",
        lambda *args: patch_matrices.append(1) or patch_matrix(*args),
    )
    x, weight = _double(2, 3, 8, 4), _double(5, 3, 3, 1)  # A: 24 x 40 entries
    monkeypatch.setattr(layers, "_BAND_MAX_ENTRIES", 24 * 40 - 1)

    out = Conv2dFunction.apply(x, weight, None, 1, (1, 0))

    assert patch_matrices
    torch.testing.assert_close(out, F.conv2d(x, weight, None, 1, (1, 0)))


def test_column_kernel_output_feeds_the_next_layer_without_a_copy():
    # The band path lays its output out (B, W, H, C) in memory, the layout the next
    # column-kernel layer reads its input in, so stacked layers never transpose.
    x = torch.randn(4, 3, 30, 14)
    out = Conv2dFunction.apply(x, torch.randn(10, 3, 9, 1), None, 1, (4, 0))

    assert layers._as_columns(out).data_ptr() == out.data_ptr()
    assert torch.tanh(out).stride() == out.stride()  # activations keep it


def test_conv_gradcheck_across_uneven_batch_chunks(monkeypatch):
    torch.manual_seed(0)
    x = _double(5, 2, 4, 3)
    weight = _double(3, 2, 2, 2)
    b = _double(3)
    # Two samples' patch rows per chunk: chunks of 2, 2 and 1 samples.
    monkeypatch.setattr(layers, "_PATCH_CHUNK_BYTES", 2 * 12 * 8 * 8)

    def conv(x, weight, b):
        return Conv2dFunction.apply(x, weight, b, 1, 1)

    assert gradcheck(conv, (x, weight, b))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(3, 5), (2, 3, 5)])
def test_dense_gradcheck(x_shape, bias):
    torch.manual_seed(0)
    x = _double(*x_shape)
    weight = _double(4, 5)
    b = _double(4) if bias else None

    assert gradcheck(DenseFunction.apply, (x, weight, b))


@pytest.mark.parametrize("negative_slope", [0.0, 0.01, 0.3, 1.0, -0.5, 1.5])
def test_leaky_relu_gradcheck(negative_slope):
    torch.manual_seed(0)
    x = _double(2, 3, 4, 5)

    def leaky_relu(x):
        return LeakyReLUFunction.apply(x, negative_slope)

    assert gradcheck(leaky_relu, (x,))


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("output_size", [1, (1, 1), (2, 3), (None, 2), (7, 4)])
def test_adaptive_avg_pool_gradcheck(output_size, channels_last):
    torch.manual_seed(0)
    x = _double(1, 2, 5, 6, channels_last=channels_last)

    def pool(x):
        return AdaptiveAvgPool2dFunction.apply(x, output_size)

    assert gradcheck(pool, (x,))


@pytest.mark.parametrize("dims", [(1, -1), (0, 1), (2, 3), (-2, -1)])
def test_flatten_gradcheck(dims):
    torch.manual_seed(0)
    x = _double(2, 3, 4, 5)

    def flatten(x):
        return FlattenFunction.apply(x, *dims)

    assert gradcheck(flatten, (x,))


# ----------------------------------------------------------------------------------
# Equality with torch's reference ops, float32, real shapes
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch", "in_channels", "stride", "padding"),
    [(256, 1, 1, 1), (32, 64, 1, 1), (32, 64, (2, 1), (0, 2))],
)
def test_conv_matches_torch(batch, in_channels, stride, padding):
    _check_conv_against_torch(batch, in_channels, 64, (10, 32), 3, stride, padding)


@pytest.mark.parametrize(("in_channels", "out_channels"), [(1, 10), (10, 10), (10, 1)])
def test_temporal_conv_matches_torch(in_channels, out_channels):
    # the temporal CNN's 9x1 kernels over 30-cycle windows of 14 sensors
    size, kernel, padding = (30, 14), (9, 1), (4, 0)
    _check_conv_against_torch(512, in_channels, out_channels, size, kernel, 1, padding)


def _check_conv_against_torch(
    batch, in_channels, out_channels, size, kernel, stride, padding
) -> None:
    torch.manual_seed(0)
    x = torch.randn(batch, in_channels, *size, requires_grad=True)
    conv = CustomConv2d(
        in_channels, out_channels, kernel, stride=stride, padding=padding
    )
    inputs = (x, conv.weight, conv.bias)

    out = conv(x)
    grad_output = torch.randn_like(out)
    grads = _grads_of(out, grad_output, inputs)
    expected = F.conv2d(x, conv.weight, conv.bias, stride, padding)
    expected_grads = _grads_of(expected, grad_output, inputs)

    torch.testing.assert_close(out, expected, **FLOAT32_TOLERANCE)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        _assert_close_to_scale(grad, expected_grad)


def test_dense_matches_torch():
    torch.manual_seed(0)
    x = torch.randn(256, 64, requires_grad=True)
    dense = CustomDense(64, 64)
    inputs = (x, dense.weight, dense.bias)

    out = dense(x)
    grad_output = torch.randn_like(out)
    grads = _grads_of(out, grad_output, inputs)
    expected = F.linear(x, dense.weight, dense.bias)
    expected_grads = _grads_of(expected, grad_output, inputs)

    torch.testing.assert_close(out, expected, **FLOAT32_TOLERANCE)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad, **FLOAT32_TOLERANCE)


def test_leaky_relu_matches_torch_including_zero():
    torch.manual_seed(0)
    x = torch.randn(32, 64, 10, 32)
    x[0, 0, 0, :4] = 0.0  # torch uses the negative slope at exactly zero
    x.requires_grad_()

    out = CustomLeakyReLU(0.01)(x)
    grad_output = torch.randn_like(out)
    (grad,) = _grads_of(out, grad_output, (x,))
    expected = F.leaky_relu(x, 0.01)
    (expected_grad,) = _grads_of(expected, grad_output, (x,))

    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    torch.testing.assert_close(grad, expected_grad, **FLOAT32_TOLERANCE)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("negative_slope", [0.0, 0.01, 0.2, 1.0, 1.1, -0.3])
def test_leaky_relu_equals_torch_in_every_dtype_at_every_value(dtype, negative_slope):
    # max(x, 0 * x) gave NaN for +inf with slope 0; a bfloat16 slope tensor
    # rounded s, and so one output in ten; 1 - s + s is not always 1.
    torch.manual_seed(0)
    special = [float("inf"), -float("inf"), float("nan"), -0.0, 0.0, 1e-30, -1e-30]
    x = torch.cat([torch.randn(10000) * 3, torch.tensor(special)]).to(dtype)
    x.requires_grad_()
    grad_output = torch.randn(x.shape).to(dtype)

    out = LeakyReLUFunction.apply(x, negative_slope)
    (grad,) = _grads_of(out, grad_output, (x,))
    expected = F.leaky_relu(x, negative_slope)
    (expected_grad,) = _grads_of(expected, grad_output, (x,))

    exact = {"rtol": 0, "atol": 0, "equal_nan": True}
    torch.testing.assert_close(out, expected, **exact)
    torch.testing.assert_close(grad, expected_grad, **exact)
    numbers = ~expected.isnan()
    assert torch.equal(out[numbers].signbit(), expected[numbers].signbit())


def test_tanh_gradcheck():
    torch.manual_seed(0)
    x = _double(2, 3, 4, 5) * 3  # well into both saturated tails

    assert gradcheck(TanhFunction.apply, (x,))


def test_tanh_matches_torch():
    torch.manual_seed(0)
    x = (torch.randn(32, 10, 30, 14) * 3).requires_grad_()

    out = CustomTanh()(x)
    grad_output = torch.randn_like(out)
    (grad,) = _grads_of(out, grad_output, (x,))
    expected = torch.tanh(x)
    (expected_grad,) = _grads_of(expected, grad_output, (x,))

    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    torch.testing.assert_close(grad, expected_grad, **FLOAT32_TOLERANCE)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("output_size", [(1, 1), (3, 5)])
def test_adaptive_avg_pool_matches_torch(output_size, channels_last):
    torch.manual_seed(0)
    x = torch.randn(32, 64, 10, 32)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_()

    out = CustomAdaptiveAvgPool2d(output_size)(x)
    grad_output = torch.randn_like(out)
    (grad,) = _grads_of(out, grad_output, (x,))
    expected = F.adaptive_avg_pool2d(x, output_size)
    (expected_grad,) = _grads_of(expected, grad_output, (x,))

    torch.testing.assert_close(out, expected, **FLOAT32_TOLERANCE)
    torch.testing.assert_close(grad, expected_grad, **FLOAT32_TOLERANCE)


def test_flatten_matches_torch():
    x = torch.randn(256, 64, 1, 1, requires_grad=True)

    out = CustomFlatten()(x)
    grad_output = torch.randn_like(out)
    (grad,) = _grads_of(out, grad_output, (x,))

    assert torch.equal(out, torch.flatten(x, 1))
    assert torch.equal(grad, grad_output.view(256, 64, 1, 1))


# ----------------------------------------------------------------------------------
# Our backward passes are the ones that run
# ----------------------------------------------------------------------------------


_ALL_FUNCTIONS = [
    Conv2dFunction,
    DenseFunction,
    LeakyReLUFunction,
    AdaptiveAvgPool2dFunction,
    FlattenFunction,
]


def test_each_backward_runs_once_per_use(monkeypatch):
    calls = {function.__name__: 0 for function in _ALL_FUNCTIONS}
    for function in _ALL_FUNCTIONS:
        monkeypatch.setattr(function, "backward", _counting(function, calls))
    model = nn.Sequential(
        CustomConv2d(1, 4, 3, padding=1),
        CustomLeakyReLU(),
        CustomAdaptiveAvgPool2d(1),
        CustomFlatten(),
        CustomDense(4, 1),
    )

    model(torch.randn(2, 1, 5, 6)).sum().backward()

    assert calls == {function.__name__: 1 for function in _ALL_FUNCTIONS}


def _counting(function, calls: dict):
    """A backward that counts its calls, then runs function's own backward."""
    original = function.backward

    def backward(ctx, *grads):
        calls[function.__name__] += 1
        return original(ctx, *grads)

    return staticmethod(backward)


def test_grad_fn_is_our_function_node_on_the_leaves():
    x = torch.randn(2, 3, 5, 5, requires_grad=True)
    conv = CustomConv2d(3, 4, 3)

    out = conv(x)
    next_nodes = [node for node, _ in out.grad_fn.next_functions]

    assert isinstance(out.grad_fn, Conv2dFunction._backward_cls)
    # Straight to the leaves: no torch op recorded a graph inside our forward.
    assert [type(node).__name__ for node in next_nodes] == ["AccumulateGrad"] * 3


# ----------------------------------------------------------------------------------
# Backward contract: no in-place change of the incoming gradient, skipped inputs
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        CustomConv2d(3, 4, 3, padding=1),
        CustomLeakyReLU(),
        CustomAdaptiveAvgPool2d((2, 2)),
        CustomFlatten(),
    ],
)
def test_backward_leaves_incoming_gradient_unchanged(module):
    x = torch.randn(2, 3, 5, 6, requires_grad=True)
    out = module(x)
    grad_output = torch.randn_like(out)
    grad_output_before = grad_output.clone()

    out.backward(grad_output)

    assert torch.equal(grad_output, grad_output_before)


def _conv_pair(kernel):
    conv = CustomConv2d(3, 4, kernel).double()
    return conv, lambda x: F.conv2d(x, conv.weight, conv.bias)


def _dense_pair():
    dense = CustomDense(8, 2).double()
    return dense, lambda x: F.linear(x, dense.weight, dense.bias)


def _pool_pair():
    return CustomAdaptiveAvgPool2d((2, 3)), lambda x: F.adaptive_avg_pool2d(x, (2, 3))


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize(
    "pair",
    [lambda: _conv_pair((3, 3)), lambda: _conv_pair((3, 1)), _dense_pair, _pool_pair],
    ids=["conv-im2col", "conv-band", "dense", "pool"],
)
def test_outputs_take_in_place_operations_like_torchs(pair, channels_last):
    # Outputs were views made inside the Function, which torch forbids changing.
    torch.manual_seed(0)
    ours, native = pair()
    x = _double(2, 3, 6, 8, channels_last=channels_last)
    inputs = (x, *ours.parameters())

    out = F.relu(ours(x), inplace=True)
    expected = F.relu(native(x), inplace=True)
    grads = _grads_of(out, torch.ones_like(out), inputs)
    expected_grads = _grads_of(expected, torch.ones_like(expected), inputs)

    torch.testing.assert_close(out, expected)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad)


def test_conv_skips_input_gradient_when_not_needed():
    x = torch.randn(2, 3, 5, 6)  # data, no grad
    conv = CustomConv2d(3, 4, 3)

    conv(x).sum().backward()

    assert conv.weight.grad is not None and conv.bias.grad is not None
    assert x.grad is None


# ----------------------------------------------------------------------------------
# Initialisation and repr
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_init_draws_like_torch(bias):
    torch.manual_seed(3)
    conv, dense = CustomConv2d(3, 8, (3, 2), bias=bias), CustomDense(7, 5, bias=bias)
    torch.manual_seed(3)
    native_conv, native_dense = (
        nn.Conv2d(3, 8, (3, 2), bias=bias),
        nn.Linear(7, 5, bias),
    )

    custom_params = [*conv.parameters(), *dense.parameters()]
    native_params = [*native_conv.parameters(), *native_dense.parameters()]

    assert len(custom_params) == len(native_params)
    for custom, native in zip(custom_params, native_params, strict=True):
        assert torch.equal(custom, native)


def test_extra_repr_names_the_settings():
    modules = [
        CustomConv2d(1, 64, 3, padding=1),
        CustomDense(64, 1, bias=False),
        CustomLeakyReLU(0.2),
        CustomAdaptiveAvgPool2d((1, 1)),
        CustomFlatten(),
    ]

    texts = [repr(module) for module in modules]

    assert texts == [
        "CustomConv2d(1, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), "
        "bias=True)",
        "CustomDense(in_features=64, out_features=1, bias=False)",
        "CustomLeakyReLU(negative_slope=0.2)",
        "CustomAdaptiveAvgPool2d(output_size=(1, 1))",
        "CustomFlatten(start_dim=1, end_dim=-1)",
    ]


# ----------------------------------------------------------------------------------
# Unsupported options and bad shapes raise, naming the value
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"dilation": 2}, "dilation=\\(2, 2\\)"),
        ({"groups": 2}, "groups=2"),
        ({"padding_mode": "reflect"}, "padding_mode='reflect'"),
        ({"padding": "same"}, "padding='same'"),
        ({"stride": 0}, "stride .* got 0"),
        ({"padding": (1, -1)}, "padding .* got \\(1, -1\\)"),
    ],
)
def test_conv_rejects_unsupported_options(option, match):
    with pytest.raises(ValueError, match=match):
        CustomConv2d(2, 2, 3, **option)


@pytest.mark.parametrize(
    ("x_shape", "match"),
    [
        ((1, 10, 32), "4-D .* got shape \\(1, 10, 32\\)"),
        ((2, 3, 10, 32), "3 channels, expected 1"),
        ((2, 1, 1, 1), "smaller than the kernel \\(3, 3\\)"),
    ],
)
def test_conv_rejects_bad_input_shapes(x_shape, match):
    conv = CustomConv2d(1, 4, 3)

    with pytest.raises(ValueError, match=match):
        conv(torch.randn(*x_shape))


@pytest.mark.parametrize(
    ("weight_shape", "bias", "match"),
    [
        ((2, 1, 1), None, "weight must be 4-D .* got shape \\(2, 1, 1\\)"),
        # one-column kernels: the band path sliced a long bias without a word
        ((2, 1, 1, 1), torch.zeros(3), "bias must have shape \\(2,\\).* got \\(3,\\)"),
        ((2, 1, 3, 3), torch.zeros(1), "bias must have shape \\(2,\\).* got \\(1,\\)"),
        ((2, 1, 1, 1), torch.zeros(2, dtype=torch.float64), "bias is torch.float64"),
    ],
)
def test_conv_function_rejects_a_weight_or_bias_that_does_not_fit(
    weight_shape, bias, match
):
    with pytest.raises(ValueError, match=match):
        Conv2dFunction.apply(torch.zeros(1, 1, 3, 3), torch.zeros(weight_shape), bias)


def test_dense_rejects_wrong_feature_count():
    dense = CustomDense(64, 1)

    with pytest.raises(ValueError, match="\\(\\*, 64\\), got \\(8, 32\\)"):
        dense(torch.randn(8, 32))


@pytest.mark.parametrize("channels_last", [False, True])
def test_pool_takes_an_empty_batch(channels_last):
    x = _double(0, 3, 5, 6, channels_last=channels_last)

    out = AdaptiveAvgPool2dFunction.apply(x, 1)
    out.sum().backward()

    assert out.shape == (0, 3, 1, 1) and x.grad.shape == x.shape


@pytest.mark.parametrize("output_size", [0, (2, 0), (1, 2, 3), "global"])
def test_pool_rejects_bad_output_size(output_size):
    with pytest.raises(ValueError, match="output_size .* got"):
        CustomAdaptiveAvgPool2d(output_size)


def test_pool_rejects_2d_input():
    with pytest.raises(ValueError, match="got shape \\(10, 32\\)"):
        CustomAdaptiveAvgPool2d(1)(torch.randn(10, 32))


def test_flatten_rejects_bad_dims():
    with pytest.raises(ValueError, match="dims 2..1 of shape \\(2, 3, 4\\)"):
        CustomFlatten(2, 1)(torch.randn(2, 3, 4))


@pytest.mark.parametrize(
    ("module", "x"),
    [
        (CustomConv2d(1, 4, 3), torch.randn(2, 1, 5, 6, dtype=torch.float64)),
        (CustomConv2d(1, 4, 3), torch.ones(2, 1, 5, 6, dtype=torch.long)),
        (CustomDense(6, 2), torch.randn(3, 6, dtype=torch.float64)),
        (CustomAdaptiveAvgPool2d(1), torch.ones(2, 1, 5, 6, dtype=torch.long)),
    ],
)
def test_layers_name_a_dtype_mismatch(module, x):
    # torch's own message named neither the layer nor the fix.
    with pytest.raises(ValueError, match=f"input is {x.dtype}.*expected"):
        module(x)
