"""Hand-written autograd layers: convolution, dense, LeakyReLU, pooling, flatten.

Each layer is a ``torch.autograd.Function`` whose backward pass is derived and coded
here; torch autograd only chains the Functions together. Convolution runs as im2col:
a channels-last patch matrix times the flattened kernels, processed in batch chunks
small enough to stay in cache. Kernels one column wide (the temporal CNN's 9x1) skip
the patch matrix: each input column times a band matrix built from the kernels.
Unsupported options raise ValueError, naming them.
"""

import math

import torch
import torch.nn as nn
from torch.autograd.function import once_differentiable

# A patch matrix holds kh*kw copies of its input. Whole-batch matrices (189 MB at
# batch 256, 64 channels, 10x32) get fresh pages on every call and fall out of cache;
# chunks of about this size made the training step 1.8x faster (4-48 MB measured).
_PATCH_CHUNK_BYTES = 12 * 2**20


# ----------------------------------------------------------------------------------
# Convolution helpers
# ----------------------------------------------------------------------------------


def _as_pair(value: int | tuple[int, int], name: str, minimum: int) -> tuple[int, int]:
    """Turns an int or a pair of ints into a pair, checking each is >= minimum.

    Args:
        value: An int, or a tuple/list of two ints.
        name: Option name used in the error message.
        minimum: Smallest allowed value.

    Returns:
        The value as a (height, width) pair.

    Raises:
        ValueError: If value is not an int or pair of ints, or is below minimum.
    """
    pair = (value, value) if isinstance(value, int) else tuple(value)
    valid = len(pair) == 2 and all(isinstance(v, int) for v in pair)
    if not valid or min(pair) < minimum:
        raise ValueError(
            f"{name} must be an int or a pair of ints >= {minimum}, got {value!r}"
        )

    return pair


def _wide(dtype: torch.dtype) -> torch.dtype:
    """The dtype to sum or scale in: dtype itself, float32 for bfloat16 and float16.

    Narrow floats would round long sums and slopes; torch's kernels widen likewise.
    """
    return torch.promote_types(dtype, torch.float32)


def _check_dtype(layer: str, x: torch.Tensor, weight: torch.Tensor) -> None:
    """Raises ValueError unless x has the weight's dtype, naming both and the fix."""
    if x.dtype != weight.dtype:
        fix = f"convert the input (x.to({weight.dtype}))"
        if x.is_floating_point():
            fix += f" or the model (model.to({x.dtype}))"
        raise ValueError(
            f"{layer} input is {x.dtype}, expected {weight.dtype} like its weights; "
            f"{fix}"
        )


def _check_conv_input(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> None:
    """Raises ValueError unless weight, bias and x fit together.

    The weight must be 4-D, the bias hold one entry per output channel in the
    weight's dtype, and x be 4-D with the weight's dtype and input channel count.
    """
    if weight.dim() != 4:
        raise ValueError(
            "conv weight must be 4-D (C_out, C_in, kh, kw), "
            f"got shape {tuple(weight.shape)}"
        )
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(
            f"conv bias must have shape ({weight.shape[0]},), one entry per output "
            f"channel, got {tuple(bias.shape)}"
        )
    if bias is not None and bias.dtype != weight.dtype:
        raise ValueError(
            f"conv bias is {bias.dtype}, expected {weight.dtype} like the weight"
        )
    _check_dtype("conv", x, weight)
    if x.dim() != 4:
        raise ValueError(
            f"conv input must be 4-D (B, C_in, H, W), got shape {tuple(x.shape)}"
        )
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"conv input has {x.shape[1]} channels, expected {weight.shape[1]} "
            f"(input shape {tuple(x.shape)}, weight shape {tuple(weight.shape)})"
        )


def _conv_output_size(
    in_size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> tuple[int, int]:
    """Output (H_out, W_out) of a convolution; raises if the kernel does not fit."""
    padded = tuple(size + 2 * pad for size, pad in zip(in_size, padding, strict=True))
    if padded[0] < kernel[0] or padded[1] < kernel[1]:
        raise ValueError(
            f"padded input {padded} is smaller than the kernel {kernel} "
            f"(input {in_size}, padding {padding})"
        )

    return tuple(
        (size - k) // s + 1 for size, k, s in zip(padded, kernel, stride, strict=True)
    )


def _patch_view(
    x_pad: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int]
) -> torch.Tensor:
    """Zero-copy view of every kernel window of a padded channels-last input.

    Args:
        x_pad: Padded input, any strides.
        kernel: (kh, kw).
        stride: (sh, sw).

    Returns:
        A strided view; element [b, i, j, u, v, c] is x_pad[b, i*sh + u, j*sw + v, c].

    Shapes:
        x_pad: (B, H_pad, W_pad, C_in) -> (B, H_out, W_out, kh, kw, C_in)
    """
    B, H_pad, W_pad, C = x_pad.shape
    out_size = _conv_output_size((H_pad, W_pad), kernel, stride, (0, 0))
    s_b, s_h, s_w, s_c = x_pad.stride()
    shape = (B, *out_size, *kernel, C)
    strides = (s_b, s_h * stride[0], s_w * stride[1], s_h, s_w, s_c)

    return x_pad.as_strided(shape, strides)


def _flat_kernels(weight: torch.Tensor) -> torch.Tensor:
    """Kernels as rows in the (kh, kw, C_in) order of the patch matrix columns.

    Shapes:
        weight: (C_out, C_in, kh, kw) -> (C_out, kh*kw*C_in)
    """
    return weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1)


class _PatchMatrix:
    """The im2col patch matrix P of a batch, built a few samples at a time.

    Rows are output positions (b, i, j) and columns kernel taps (u, v, c), so a row
    is kh*kw contiguous channel vectors of the channels-last input. Chunks reuse one
    buffer (and one padded copy of their samples), small enough to stay in cache.
    """

    def __init__(
        self,
        x: torch.Tensor,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> None:
        """Sizes the chunks and allocates the buffers.

        Shapes:
            x: (B, C_in, H, W), any memory layout.
        """
        B, C_in, H, W = x.shape
        self.x_nhwc = x.permute(0, 2, 3, 1)  # (B, H, W, C_in), a view
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.out_size = _conv_output_size((H, W), kernel, stride, padding)
        self.rows_per_sample = self.out_size[0] * self.out_size[1]
        self.patch_len = kernel[0] * kernel[1] * C_in
        sample_bytes = self.rows_per_sample * self.patch_len * x.element_size()
        chunk_samples = _PATCH_CHUNK_BYTES // max(1, sample_bytes)
        self.samples_per_chunk = max(1, min(B, chunk_samples))

        self.buffer = x.new_empty(
            self.samples_per_chunk * self.rows_per_sample, self.patch_len
        )
        self.padded = None
        if padding != (0, 0):
            # Zeroed once: chunks only ever overwrite the interior.
            padded_size = (H + 2 * padding[0], W + 2 * padding[1])
            self.padded = x.new_zeros(self.samples_per_chunk, *padded_size, C_in)

    def chunks(self):
        """Yields (first, stop, rows): sample range and its row range in P."""
        B, step = self.x_nhwc.shape[0], self.samples_per_chunk
        for first in range(0, B, step):
            stop = min(B, first + step)
            rows = slice(first * self.rows_per_sample, stop * self.rows_per_sample)
            yield first, stop, rows

    def scratch(self, first: int, stop: int) -> torch.Tensor:
        """The buffer rows for samples first..stop-1, contents undefined.

        Shapes:
            output: ((stop - first)*H_out*W_out, kh*kw*C_in)
        """
        return self.buffer[: (stop - first) * self.rows_per_sample]

    def fill(self, first: int, stop: int) -> torch.Tensor:
        """Writes and returns the rows of P for samples first..stop-1.

        Shapes:
            output: ((stop - first)*H_out*W_out, kh*kw*C_in)
        """
        samples = self.x_nhwc[first:stop]
        if self.padded is not None:
            (ph, pw), (H, W) = self.padding, samples.shape[1:3]
            padded = self.padded[: stop - first]
            padded[:, ph : ph + H, pw : pw + W].copy_(samples)
            samples = padded
        windows = _patch_view(samples, self.kernel, self.stride)
        patches = self.scratch(first, stop)
        patches.view(windows.shape).copy_(windows)

        return patches


def _tap_slices(
    tap: int, stride: int, pad: int, in_len: int, out_len: int
) -> tuple[slice, slice]:
    """Output and input index ranges one kernel tap connects along one axis.

    Output i reads input i*stride + tap - pad; outputs whose input falls in the
    zero padding are left out, so col2im never needs a padded buffer.

    Returns:
        (output slice, input slice); both empty when the tap only sees padding.
    """
    first = max(0, -((tap - pad) // stride))  # ceil((pad - tap) / stride)
    last = min(out_len - 1, (in_len - 1 + pad - tap) // stride)
    if last < first:
        return slice(0, 0), slice(0, 0)
    start = first * stride + tap - pad
    stop = start + (last - first) * stride + 1

    return slice(first, last + 1), slice(start, stop, stride)


def _col2im_add(
    grad_x: torch.Tensor,
    cols: torch.Tensor,
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> None:
    """Adds each patch-row gradient back onto the input positions it was copied from.

    Args:
        grad_x: Input gradient of a chunk, updated in place.
        cols: Gradient of the chunk's patch matrix rows.
        stride: (sh, sw).
        padding: (ph, pw).

    Shapes:
        grad_x: (b, H, W, C_in); cols: (b, H_out, W_out, kh, kw, C_in)
    """
    _, H, W, _ = grad_x.shape
    _, H_out, W_out, kh, kw, _ = cols.shape
    for u in range(kh):
        out_rows, in_rows = _tap_slices(u, stride[0], padding[0], H, H_out)
        for v in range(kw):
            out_cols, in_cols = _tap_slices(v, stride[1], padding[1], W, W_out)
            grad_x[:, in_rows, in_cols] += cols[:, out_rows, out_cols, u, v]


# ----------------------------------------------------------------------------------
# Column kernels (kw == 1) as a band matrix
# ----------------------------------------------------------------------------------

# Output rows per band block. For 9x1 kernels, 10 -> 10 channels, batch 512, 30x14
# on one thread, blocks of 5, 6, 10, 15 and 30 rows took 16, 18, 15, 20 and 26 ms
# forward (the whole band, 30, does 3.3x the multiply-adds).
_BAND_BLOCK_ROWS = 10


# The band matrix has (H*C_in) x (H_out*C_out) entries, gathered whole: up to this
# many (16 MB in float32), larger ones (long windows, wide layers) use im2col.
_BAND_MAX_ENTRIES = 2**22


def _takes_band_path(
    x_shape: torch.Size,
    weight_shape: torch.Size,
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> bool:
    """True for kernels one column wide, unpadded and unstrided along the width (so
    each input column is convolved alone), whose band matrix is small enough."""
    C_out, C_in, kh, kw = weight_shape
    if kw != 1 or stride[1] != 1 or padding[1] != 0:
        return False
    H = x_shape[2]
    out_len = (H + 2 * padding[0] - kh) // stride[0] + 1

    return H * C_in * out_len * C_out <= _BAND_MAX_ENTRIES


def _band_index(
    weight_shape: torch.Size, in_len: int, stride: int, pad: int, device: torch.device
) -> torch.Tensor:
    """Where each entry of the band matrix A comes from in the flattened kernels.

    A maps one input column, flattened as (h, c), to its output column (i, o):
    A[h*C_in + c, i*C_out + o] = W[o, c, h - i*stride + pad, 0] where that tap
    exists, else 0. Entries that are 0 hold C_out*C_in*kh, the index of a zero
    appended to the flattened kernels.

    Shapes:
        output: (in_len*C_in, out_len*C_out), int64
    """
    C_out, C_in, kh, _ = weight_shape
    out_len = (in_len + 2 * pad - kh) // stride + 1
    h = torch.arange(in_len, device=device).view(-1, 1, 1, 1)
    c = torch.arange(C_in, device=device).view(1, -1, 1, 1)
    i = torch.arange(out_len, device=device).view(1, 1, -1, 1)
    o = torch.arange(C_out, device=device).view(1, 1, 1, -1)
    tap = h - i * stride + pad
    flat = (o * C_in + c) * kh + tap.clamp(0, kh - 1)
    index = torch.where((tap >= 0) & (tap < kh), flat, C_out * C_in * kh)

    return index.reshape(in_len * C_in, out_len * C_out)


def _band_blocks(
    in_len: int, out_len: int, kh: int, stride: int, pad: int
) -> list[tuple[slice, slice]]:
    """(output rows, input rows) of each block of the band matrix.

    Block b covers output rows [b*R, (b+1)*R) with R = _BAND_BLOCK_ROWS and the
    input rows their taps read; rows that fall in the zero padding are left out,
    so a block of outputs that only see padding has an empty input range.
    """
    blocks = []
    for first in range(0, out_len, _BAND_BLOCK_ROWS):
        stop = min(out_len, first + _BAND_BLOCK_ROWS)
        start_in = max(0, first * stride - pad)
        stop_in = max(start_in, min(in_len, (stop - 1) * stride - pad + kh))
        blocks.append((slice(first, stop), slice(start_in, stop_in)))

    return blocks


class _Band:
    """A column-kernel convolution as products with blocks of its band matrix.

    Each input column (b, w) is a row vector of its H*C_in values, laid out (h, c);
    its output column is that vector times the band matrix A (`_band_index`). Only
    the blocks of A around its diagonal are multiplied, in place on strided views:
    no patch matrix is built, at the price of the zeros inside each block.
    """

    def __init__(
        self, x_shape: torch.Size, weight: torch.Tensor, stride: int, pad: int
    ) -> None:
        _, C_in, H, _ = x_shape
        C_out, _, kh, _ = weight.shape
        self.in_len = H
        self.out_len = (H + 2 * pad - kh) // stride + 1
        self.index = _band_index(weight.shape, H, stride, pad, weight.device)
        # (columns of Y, rows of X) per block, in A's units: rows times channels.
        self.blocks = [
            (_scaled(out_rows, C_out), _scaled(in_rows, C_in))
            for out_rows, in_rows in _band_blocks(H, self.out_len, kh, stride, pad)
        ]

    def matrix(self, weight: torch.Tensor) -> torch.Tensor:
        """A, gathered from the kernels and a zero."""
        flat = torch.cat([weight.reshape(-1), weight.new_zeros(1)])

        return flat[self.index]

    def kernel_gradient(self, grad_matrix: torch.Tensor, weight_shape) -> torch.Tensor:
        """dL/dW: each entry of dL/dA added onto the tap it was gathered from."""
        flat = grad_matrix.new_zeros(weight_shape.numel() + 1)
        flat.index_add_(0, self.index.view(-1), grad_matrix.view(-1))

        return flat[:-1].view(weight_shape)


def _scaled(rows: slice, channels: int) -> slice:
    """The (row, channel) entries of rows first..stop-1 in a row-major flattening."""
    return slice(rows.start * channels, rows.stop * channels)


def _as_columns(t: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) as rows of (h, c): free when laid out (B, W, H, C) in memory.

    Shapes:
        t: (B, C, H, W) -> (B*W, H*C)
    """
    B, C, H, W = t.shape

    return t.permute(0, 3, 2, 1).reshape(B * W, H * C)


def _empty_by_columns(like: torch.Tensor, B: int, C: int, H: int, W: int):
    """A new (B, C, H, W) tensor laid out (B, W, H, C), and its `_as_columns` view.

    The tensor is not a view itself, which leaves a layer's output free for
    in-place operations, as torch's is.
    """
    t = torch.empty_strided(
        (B, C, H, W), (W * H * C, 1, C, H * C), dtype=like.dtype, device=like.device
    )

    return t, _as_columns(t)


def _band_forward(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, band: _Band
) -> tuple[torch.Tensor, torch.Tensor]:
    """Y = X A + bias, block by block; returns (output, X as columns for backward)."""
    B, _, _, W = x.shape
    columns = _as_columns(x)
    matrix = band.matrix(weight)
    result, out = _empty_by_columns(x, B, weight.shape[0], band.out_len, W)
    bias_row = None if bias is None else bias.repeat(band.out_len)
    for out_cols, in_cols in band.blocks:
        target = out[:, out_cols]
        if in_cols.start == in_cols.stop and bias_row is None:
            target.zero_()  # outputs whose taps all fall in the padding
        elif in_cols.start == in_cols.stop:
            target.copy_(bias_row[out_cols].expand_as(target))
        elif bias_row is None:
            torch.mm(columns[:, in_cols], matrix[in_cols, out_cols], out=target)
        else:
            torch.addmm(
                bias_row[out_cols],
                columns[:, in_cols],
                matrix[in_cols, out_cols],
                out=target,
            )

    return result, columns


def _band_backward(
    grad_output: torch.Tensor,
    columns: torch.Tensor,
    weight: torch.Tensor,
    band: _Band,
    needs: tuple[bool, bool, bool],
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """Gradients of Y = X A + bias, block by block, with G = dL/dY as columns.

    (1) dL/dbias = G summed over its rows and its H_out output rows.
    (2) dL/dA = X^T G, one block at a time; dL/dW gathers it back onto the taps.
    (3) dL/dX = G A^T; neighbouring blocks share input rows, so blocks add up.

    Returns:
        (dL/dx laid out (B, W, H, C_in), dL/dweight, dL/dbias); None where
        `needs` (input, weight, bias) is False.
    """
    B, C_out, _, W = grad_output.shape
    C_in = weight.shape[1]
    grad_rows = _as_columns(grad_output)  # (B*W, H_out*C_out)
    grad_x = grad_weight = grad_bias = None

    # (1)
    if needs[2]:
        grad_bias = grad_rows.sum(dim=0).view(band.out_len, C_out).sum(dim=0)

    # (2) Each tap gathers about H_out entries of dL/dA: in bfloat16 or float16
    # that sum, held in the input's precision, lost a digit against torch's, so
    # it is accumulated in at least float32.
    if needs[1]:
        accumulate = _wide(columns.dtype)
        wide_columns, wide_rows = columns.to(accumulate), grad_rows.to(accumulate)
        grad_matrix = wide_rows.new_zeros(band.index.shape)
        for out_cols, in_cols in band.blocks:
            grad_matrix[in_cols, out_cols].addmm_(
                wide_columns[:, in_cols].t(), wide_rows[:, out_cols]
            )
        grad_weight = band.kernel_gradient(grad_matrix, weight.shape)
        grad_weight = grad_weight.to(weight.dtype)

    # (3)
    if needs[0]:
        matrix = band.matrix(weight)
        grad_x, grad_columns = _empty_by_columns(grad_rows, B, C_in, band.in_len, W)
        grad_columns.zero_()
        for out_cols, in_cols in band.blocks:
            grad_columns[:, in_cols].addmm_(
                grad_rows[:, out_cols], matrix[in_cols, out_cols].t()
            )

    return grad_x, grad_weight, grad_bias


# ----------------------------------------------------------------------------------
# Functions
# ----------------------------------------------------------------------------------


class Conv2dFunction(torch.autograd.Function):
    """2-D cross-correlation by im2col, with zero padding and stride.

    Y[b, o, i, j] = bias[o] + sum_{c,u,v} W[o, c, u, v] X_pad[b, c, i*sh+u, j*sw+v],
    computed as Y_mat = P W_mat^T + bias, where P holds one flattened window per row.
    Kernels one column wide, unpadded and unstrided along the width, see each input
    column alone: there Y_col = X_col A + bias with A the band matrix of the kernels
    (`_Band`), which copies nothing. For the temporal CNN's 9x1 kernels (10 channels,
    batch 512, 30x14, one thread) forward and backward took 55 ms this way against
    102 ms by im2col, and the CNN's training step 1.1x torch's time against 1.95x.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0):
        """Convolves x with weight.

        Args:
            ctx: Autograd context.
            x: Input batch.
            weight: Kernels.
            bias: Per-output-channel bias, or None.
            stride: Int or (sh, sw), each >= 1.
            padding: Int or (ph, pw) zeros added on both sides, each >= 0.

        Returns:
            The output, NCHW-shaped and laid out channels-last in memory; on the
            band path laid out (B, W_out, H_out, C_out), the layout it reads best.

        Shapes:
            x: (B, C_in, H, W); weight: (C_out, C_in, kh, kw); bias: (C_out,)
            output: (B, C_out, H_out, W_out), H_out = (H + 2ph - kh) // sh + 1
        """
        _check_conv_input(x, weight, bias)
        stride = _as_pair(stride, "stride", 1)
        padding = _as_pair(padding, "padding", 0)
        kernel = tuple(weight.shape[2:])
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        ctx.band = None
        _conv_output_size(tuple(x.shape[2:]), kernel, stride, padding)  # fits?
        if _takes_band_path(x.shape, weight.shape, stride, padding):
            ctx.band = _Band(x.shape, weight, stride[0], padding[0])
            out, columns = _band_forward(x, weight, bias, ctx.band)
            ctx.save_for_backward(columns, weight)
            return out

        out = _correlate(x, weight, bias, stride, padding)
        ctx.save_for_backward(x, weight)

        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        """Gradients of the loss L with respect to x, weight and bias.

        With G the output gradient as a (B*H_out*W_out, C_out) matrix:
        (1) dL/dbias = sum of G over batch, height and width (its rows).
        (2) dL/dW_mat = G^T P, summed over batch chunks; P is rebuilt from x.
        (3) dL/dX = col2im(G W_mat): each patch-row gradient is added back onto the
            input positions it was copied from; padding positions are dropped.
            With stride 1 and padding p <= k - 1 on both axes this equals a full
            correlation, computed as in forward without the scatter:
            dX[b, c, y, x] = sum_{o,u,v} G_pad[b, o, y+u, x+v] W[o, c, kh-1-u, kw-1-v],
            G zero-padded by (kh - 1 - ph, kw - 1 - pw).

        Args:
            ctx: Autograd context.
            grad_output: dL/dY, any memory layout.

        Returns:
            (dL/dx, dL/dweight, dL/dbias, None, None); None where not needed.

        Shapes:
            grad_output: (B, C_out, H_out, W_out)
        """
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        if ctx.band is not None:
            columns, weight = ctx.saved_tensors
            needs = (needs_x, needs_weight, needs_bias and ctx.has_bias)
            grads = _band_backward(grad_output, columns, weight, ctx.band, needs)
            return *grads, None, None

        x, weight = ctx.saved_tensors
        # G as (B*H_out*W_out, C_out); free when grad_output is channels-last.
        grad_rows = grad_output.permute(0, 2, 3, 1).reshape(-1, weight.shape[0])
        patch_matrix = _PatchMatrix(x, tuple(weight.shape[2:]), ctx.stride, ctx.padding)
        grad_x = grad_weight = grad_bias = None

        # (1)
        if needs_bias and ctx.has_bias:
            grad_bias = grad_rows.sum(dim=0)

        # (2)
        if needs_weight:
            grad_weight = _conv_grad_weight(patch_matrix, grad_rows, weight.shape)

        # (3)
        full_padding = _full_correlation_padding(weight, ctx.stride, ctx.padding)
        if needs_x and full_padding is not None:
            grad_x = _conv_grad_input_by_correlation(grad_output, weight, full_padding)
        elif needs_x:
            grad_x = _conv_grad_input(patch_matrix, grad_rows, weight)

        return grad_x, grad_weight, grad_bias, None, None


def _correlate(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> torch.Tensor:
    """Y_mat = P W_mat^T + bias, one chunk of the patch matrix P at a time.

    Returns:
        The output, NCHW-shaped and laid out channels-last in memory, so that rows
        ordered (b, i, j) fill it at no extra cost. It is a tensor of its own, not a
        view, which leaves it free for in-place operations, as torch's is.

    Shapes:
        x: (B, C_in, H, W); weight: (C_out, C_in, kh, kw)
        output: (B, C_out, H_out, W_out)
    """
    patch_matrix = _PatchMatrix(x, tuple(weight.shape[2:]), stride, padding)
    weight_mat = _flat_kernels(weight)  # (C_out, kh*kw*C_in)
    C_out = weight.shape[0]
    result = torch.empty(
        (x.shape[0], C_out, *patch_matrix.out_size),
        dtype=x.dtype,
        device=x.device,
        memory_format=torch.channels_last,
    )
    out = result.permute(0, 2, 3, 1).view(-1, C_out)  # (B*H_out*W_out, C_out)

    for first, stop, rows in patch_matrix.chunks():
        patches = patch_matrix.fill(first, stop)  # (b*H_out*W_out, K)
        if bias is None:
            torch.mm(patches, weight_mat.t(), out=out[rows])
        else:
            torch.addmm(bias, patches, weight_mat.t(), out=out[rows])

    return result


def _full_correlation_padding(
    weight: torch.Tensor, stride: tuple[int, int], padding: tuple[int, int]
) -> tuple[int, int] | None:
    """Padding (kh - 1 - ph, kw - 1 - pw) of step (3) as a correlation, or None.

    None where the identity does not hold as written: a stride above 1, or a
    padding wider than the kernel minus one.
    """
    kernel = tuple(weight.shape[2:])
    full = tuple(k - 1 - p for k, p in zip(kernel, padding, strict=True))
    if stride != (1, 1) or min(full) < 0:
        return None

    return full


def _conv_grad_input_by_correlation(
    grad_output: torch.Tensor, weight: torch.Tensor, full_padding: tuple[int, int]
) -> torch.Tensor:
    """Step (3) of Conv2dFunction.backward as a full correlation (stride 1).

    The flipped kernels with input and output channels swapped, run over the
    zero-padded output gradient: the same im2col product as forward, with no
    scatter-add. For 9x1 kernels on 10 channels (batch 512, 30x14) it took 10.3 ms
    against col2im's 14.8 ms on two threads, 19.5 against 29.6 on one (such kernels
    now take the band path).

    Returns:
        dL/dx, NCHW-shaped and laid out channels-last in memory.

    Shapes:
        grad_output: (B, C_out, H_out, W_out); output: (B, C_in, H, W)
    """
    flipped = weight.flip(2, 3).transpose(0, 1)  # (C_in, C_out, kh, kw)

    return _correlate(grad_output, flipped, None, (1, 1), full_padding)


def _conv_grad_weight(
    patch_matrix: _PatchMatrix, grad_rows: torch.Tensor, weight_shape: torch.Size
) -> torch.Tensor:
    """Step (2) of Conv2dFunction.backward: dL/dW_mat = G^T P, chunk by chunk.

    Args:
        patch_matrix: Rebuilds P from the forward input.
        grad_rows: G, the output gradient as rows.
        weight_shape: Shape of the kernels.

    Returns:
        dL/dweight, contiguous like the weight.

    Shapes:
        grad_rows: (B*H_out*W_out, C_out); output: (C_out, C_in, kh, kw)
    """
    C_out, C_in, kh, kw = weight_shape
    grad_weight_mat = grad_rows.new_zeros(C_out, patch_matrix.patch_len)
    for first, stop, rows in patch_matrix.chunks():
        grad_weight_mat.addmm_(grad_rows[rows].t(), patch_matrix.fill(first, stop))

    grad_weight = grad_weight_mat.view(C_out, kh, kw, C_in)  # columns were (u, v, c)

    return grad_weight.permute(0, 3, 1, 2).contiguous()


def _conv_grad_input(
    patch_matrix: _PatchMatrix, grad_rows: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """Step (3) of Conv2dFunction.backward: dL/dX = col2im(G W_mat), chunk by chunk.

    The patch matrix's buffer, free once step (2) is done, holds each chunk's G W_mat.

    Args:
        patch_matrix: Supplies the geometry and the reusable buffer.
        grad_rows: G, the output gradient as rows.
        weight: Forward kernels.

    Returns:
        dL/dx, NCHW-shaped and laid out channels-last in memory.

    Shapes:
        grad_rows: (B*H_out*W_out, C_out); output: (B, C_in, H, W)
    """
    weight_mat = _flat_kernels(weight)  # (C_out, kh*kw*C_in)
    grad_x = grad_rows.new_empty(patch_matrix.x_nhwc.shape)  # (B, H, W, C_in)
    for first, stop, rows in patch_matrix.chunks():
        cols = patch_matrix.scratch(first, stop)  # (b*H_out*W_out, K)
        torch.mm(grad_rows[rows], weight_mat, out=cols)
        cols_6d = cols.view(stop - first, *patch_matrix.out_size, *weight.shape[2:], -1)
        grad_x_chunk = grad_x[first:stop].zero_()
        _col2im_add(grad_x_chunk, cols_6d, patch_matrix.stride, patch_matrix.padding)

    return grad_x.permute(0, 3, 1, 2)


class DenseFunction(torch.autograd.Function):
    """Fully connected layer y = x W^T + b over the last dimension."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        """Applies the affine map to every row of x.

        Args:
            ctx: Autograd context.
            x: Input features.
            weight: Weight matrix W.
            bias: Bias b, or None.

        Returns:
            x W^T + b.

        Shapes:
            x: (*, in_features); weight: (out_features, in_features)
            bias: (out_features,); output: (*, out_features)
        """
        _check_dense_input(x, weight)
        x_rows = x.reshape(-1, weight.shape[1])  # (N, in_features)
        # Written into a tensor of the output's shape: a view made here could not
        # take in-place operations.
        y = x.new_empty(*x.shape[:-1], weight.shape[0])
        y_rows = y.view(-1, weight.shape[0])
        if bias is None:
            torch.mm(x_rows, weight.t(), out=y_rows)
        else:
            torch.addmm(bias, x_rows, weight.t(), out=y_rows)

        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None

        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        """Gradients of the loss L for y = x W^T + b, with G = dL/dy as rows.

        (1) dL/dx = G W
        (2) dL/dW = G^T x
        (3) dL/db = sum of G over its rows

        Args:
            ctx: Autograd context.
            grad_output: dL/dy.

        Returns:
            (dL/dx, dL/dW, dL/db); None where not needed.

        Shapes:
            grad_output: (*, out_features)
        """
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        grad_rows = grad_output.reshape(-1, weight.shape[0])  # (N, out_features)
        grad_x = grad_weight = grad_bias = None

        # (1)
        if needs_x:
            grad_x = (grad_rows @ weight).view(x.shape)

        # (2)
        if needs_weight:
            grad_weight = grad_rows.t() @ x.reshape(-1, weight.shape[1])

        # (3)
        if needs_bias and ctx.has_bias:
            grad_bias = grad_rows.sum(dim=0)

        return grad_x, grad_weight, grad_bias


def _check_dense_input(x: torch.Tensor, weight: torch.Tensor) -> None:
    """Raises ValueError unless the last dimension of x is in_features."""
    _check_dtype("dense", x, weight)
    if x.dim() == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"dense input must have shape (*, {weight.shape[1]}), got {tuple(x.shape)}"
        )


class LeakyReLUFunction(torch.autograd.Function):
    """Leaky rectifier y = x for x > 0, y = s x otherwise (s = negative_slope)."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        """Applies the leaky rectifier elementwise.

        Args:
            ctx: Autograd context.
            x: Input of any shape.
            negative_slope: Slope s for x <= 0.

        Returns:
            x times its local slope (1 where x > 0, else s), which is also dy/dx
            and is kept for backward. max(x, s x) was one pass shorter but gave NaN
            for x = +inf and s = 0 (torch gives inf).
        """
        local_slope = _leaky_relu_slope(x, negative_slope)
        ctx.save_for_backward(local_slope)

        return (x * local_slope).to(x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        """dL/dx = G * slope(x), slope(x) = 1 for x > 0 and s otherwise; G = dL/dy.

        The slope was computed in forward from sign(x), which is exactly 0 at
        x = 0 (slope s, like torch).

        Args:
            ctx: Autograd context.
            grad_output: dL/dy.

        Returns:
            (dL/dx, None).
        """
        (local_slope,) = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None

        return (grad_output * local_slope).to(grad_output.dtype), None


class TanhFunction(torch.autograd.Function):
    """Hyperbolic tangent y = tanh(x), with dy/dx = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        """Applies tanh elementwise; the output is kept, as the gradient needs y.

        Args:
            ctx: Autograd context.
            x: Input of any shape.

        Returns:
            tanh(x), same shape.
        """
        y = torch.tanh(x)
        ctx.save_for_backward(y)

        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        """dL/dx = G * (1 - y^2); G = dL/dy.

        Args:
            ctx: Autograd context.
            grad_output: dL/dy.

        Returns:
            dL/dx.
        """
        (y,) = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None

        return grad_output * (1 - y * y)


def _leaky_relu_slope(x: torch.Tensor, s: float) -> torch.Tensor:
    """Elementwise derivative of the leaky rectifier: 1 where x > 0, else s.

    Built from sign(x) rather than a boolean mask, as torch.where and bool-to-float
    conversion were 5-10x slower than these passes on our CPU.
    Held in at least float32: in bfloat16 s itself would be rounded, and x s then
    rounded twice (torch rounds once).
    """
    wide = _wide(x.dtype)
    if 0 <= s <= 1:
        # sign -1 or 0 -> s, 1 -> 1
        return torch.sign(x).to(wide).clamp_(min=s, max=1)

    # Slopes outside [0, 1] are rare; 1 - s + s is not always exactly 1.
    one, slope = (torch.tensor(v, dtype=wide, device=x.device) for v in (1.0, s))

    return torch.where(x > 0, one, slope)


def _adaptive_pool_matrix(
    in_size: int, out_size: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """Averaging matrix of 1-D adaptive pooling, using torch's bin edges.

    Bin p covers [floor(p * in / out), ceil((p + 1) * in / out)).

    Shapes:
        output: (out_size, in_size)
    """
    p = torch.arange(out_size, device=device)
    start = (p * in_size) // out_size
    stop = -((-(p + 1) * in_size) // out_size)
    positions = torch.arange(in_size, device=device)
    inside = (positions >= start[:, None]) & (positions < stop[:, None])
    inside = inside.to(dtype)

    return inside / inside.sum(dim=1, keepdim=True)


def _pool_output_size(
    output_size: int | tuple[int | None, int | None], in_size: tuple[int, int]
) -> tuple[int, int]:
    """Resolves an adaptive pooling size; None keeps that input dimension.

    Raises:
        ValueError: If output_size is not an int >= 1 or a pair of such / None.
    """
    pair = (output_size, output_size) if isinstance(output_size, int) else output_size
    valid = isinstance(pair, tuple | list) and len(pair) == 2
    valid = valid and all(v is None or (isinstance(v, int) and v >= 1) for v in pair)
    if not valid:
        raise ValueError(
            "output_size must be an int >= 1 or a pair of ints >= 1 or None, "
            f"got {output_size!r}"
        )

    return tuple(
        size if v is None else v for v, size in zip(pair, in_size, strict=True)
    )


def _is_channels_last(x: torch.Tensor) -> bool:
    """True for a 4-D tensor laid out channels-last but not also NCHW-contiguous."""
    if x.dim() != 4 or x.is_contiguous():
        return False

    return x.is_contiguous(memory_format=torch.channels_last)


def _spatial_map(
    t: torch.Tensor,
    matrix: torch.Tensor,
    out_size: tuple[int, int],
    channels_last: bool,
) -> torch.Tensor:
    """Applies a linear map to the flattened (H, W) plane of every channel.

    Works in the tensor's own layout, so a channels-last tensor is not copied.

    Args:
        t: Input whose last two dimensions are the plane.
        matrix: The map M; out_flat = M t_flat.
        out_size: (H_out, W_out), with H_out * W_out rows in M.
        channels_last: Whether t (and the result) are laid out channels-last.

    Returns:
        The mapped tensor.

    Shapes:
        t: (*, H, W); matrix: (H_out*W_out, H*W); output: (*, H_out, W_out)
    """
    plane_out, plane = matrix.shape  # named: -1 is ambiguous in an empty batch
    layout = torch.channels_last if channels_last else torch.contiguous_format
    mapped = torch.empty(
        (*t.shape[:-2], *out_size), dtype=t.dtype, device=t.device, memory_format=layout
    )  # a tensor of its own, not a view, so it takes in-place operations
    if channels_last:
        B, C = t.shape[:2]
        columns = t.permute(0, 2, 3, 1).reshape(B, plane, C)  # (B, H*W, C)
        out = mapped.permute(0, 2, 3, 1).view(B, plane_out, C)
        torch.matmul(matrix, columns, out=out)
    else:
        rows = t.reshape(-1, plane)  # (*, H*W)
        torch.mm(rows, matrix.t(), out=mapped.view(-1, plane_out))

    return mapped


class AdaptiveAvgPool2dFunction(torch.autograd.Function):
    """Adaptive average pooling over the last two dimensions.

    Averaging over a rectangular bin is separable, so the pooled plane is
    y_flat = A x_flat with A = A_h kron A_w, the 1-D averaging matrices.
    """

    @staticmethod
    def forward(ctx, x, output_size=1):
        """Averages each bin of every (H, W) plane.

        Args:
            ctx: Autograd context.
            x: Input batch or single sample.
            output_size: Int or (H_out, W_out); None keeps that input size.

        Returns:
            The pooled tensor, in x's memory layout.

        Shapes:
            x: (B, C, H, W) or (C, H, W) -> (B, C, H_out, W_out) or (C, H_out, W_out)
        """
        if x.dim() not in (3, 4):
            raise ValueError(
                f"pool input must be 3-D or 4-D (*, H, W), got shape {tuple(x.shape)}"
            )
        if not x.is_floating_point():
            raise ValueError(f"pool input is {x.dtype}, expected a floating dtype")
        in_size = tuple(x.shape[-2:])
        out_size = _pool_output_size(output_size, in_size)
        pool = _pool_matrix(in_size, out_size, x)  # (H_out*W_out, H*W)

        ctx.in_size, ctx.out_size = in_size, out_size
        ctx.channels_last = _is_channels_last(x)

        return _spatial_map(x, pool, out_size, ctx.channels_last)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        """dL/dx_flat = A^T G_flat, with G = dL/dy.

        (1) Rebuild the averaging matrix A.
        (2) Spread each bin's gradient back over its inputs with A^T.

        Args:
            ctx: Autograd context.
            grad_output: dL/dy.

        Returns:
            (dL/dx, None), dL/dx laid out like the forward input.

        Shapes:
            grad_output: (*, H_out, W_out) -> dL/dx: (*, H, W)
        """
        if not ctx.needs_input_grad[0]:
            return None, None

        # (1)
        pool = _pool_matrix(ctx.in_size, ctx.out_size, grad_output)

        # (2)
        grad_x = _spatial_map(grad_output, pool.t(), ctx.in_size, ctx.channels_last)

        return grad_x, None


def _pool_matrix(
    in_size: tuple[int, int], out_size: tuple[int, int], like: torch.Tensor
) -> torch.Tensor:
    """2-D adaptive averaging matrix A_h kron A_w in like's dtype and device.

    Shapes:
        output: (H_out*W_out, H*W)
    """
    rows, cols = (
        _adaptive_pool_matrix(n_in, n_out, like.dtype, like.device)
        for n_in, n_out in zip(in_size, out_size, strict=True)
    )

    return torch.kron(rows, cols)


def _flatten_shape(shape: torch.Size, start_dim: int, end_dim: int) -> tuple[int, ...]:
    """Shape after merging dimensions start_dim..end_dim, like torch.flatten."""
    rank = len(shape)
    in_range = all(-rank <= dim < rank for dim in (start_dim, end_dim))
    if not in_range or start_dim % rank > end_dim % rank:
        raise ValueError(
            f"cannot flatten dims {start_dim}..{end_dim} of shape {tuple(shape)}"
        )
    start, end = start_dim % rank, end_dim % rank

    return (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])


class FlattenFunction(torch.autograd.Function):
    """Merges a range of dimensions into one; the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, x, start_dim=1, end_dim=-1):
        """Flattens dimensions start_dim..end_dim (inclusive) of x.

        Args:
            ctx: Autograd context.
            x: Input.
            start_dim: First dimension to merge.
            end_dim: Last dimension to merge.

        Returns:
            x reshaped (a view when the layout allows).

        Shapes:
            x: (B, C, H, W) with defaults -> (B, C*H*W)
        """
        ctx.in_shape = x.shape

        return x.reshape(_flatten_shape(x.shape, start_dim, end_dim))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        """dL/dx is dL/dy reshaped to the input shape (flattening moves no value).

        Args:
            ctx: Autograd context.
            grad_output: dL/dy.

        Returns:
            (dL/dx, None, None).
        """
        if not ctx.needs_input_grad[0]:
            return None, None, None

        return grad_output.reshape(ctx.in_shape), None, None


# ----------------------------------------------------------------------------------
# Modules
# ----------------------------------------------------------------------------------


def _check_supported(name: str, value, supported) -> None:
    """Raises ValueError naming an option whose value we do not implement."""
    if value != supported:
        raise ValueError(
            f"{name}={value!r} is not supported, only {name}={supported!r}"
        )


class CustomConv2d(nn.Module):
    """Conv2d on Conv2dFunction, initialised like torch.nn.Conv2d.

    Supports stride and zero padding; dilation, groups, other padding modes and
    string padding ("same", "valid") raise ValueError.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        padding_mode: str = "zeros",
    ) -> None:
        """Creates the kernels (and bias) and initialises them.

        Args:
            in_channels: Input channels C_in.
            out_channels: Output channels C_out.
            kernel_size: Int or (kh, kw).
            stride: Int or (sh, sw).
            padding: Int or (ph, pw) zeros on both sides.
            bias: Whether to learn a per-channel bias.
            dilation: Must be 1.
            groups: Must be 1.
            padding_mode: Must be "zeros".
        """
        super().__init__()
        if isinstance(padding, str):
            raise ValueError(f"padding={padding!r} is not supported, give ints")
        _check_supported("dilation", _as_pair(dilation, "dilation", 1), (1, 1))
        _check_supported("groups", groups, 1)
        _check_supported("padding_mode", padding_mode, "zeros")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _as_pair(kernel_size, "kernel_size", 1)
        self.stride = _as_pair(stride, "stride", 1)
        self.padding = _as_pair(padding, "padding", 0)

        weight_shape = (out_channels, in_channels, *self.kernel_size)
        self.weight = nn.Parameter(torch.empty(weight_shape))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Same draws as torch.nn.Conv2d: Kaiming-uniform kernels, small bias."""
        _init_like_torch(self.weight, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (B, C_in, H, W) -> (B, C_out, H_out, W_out); see Conv2dFunction."""
        return Conv2dFunction.apply(
            x, self.weight, self.bias, self.stride, self.padding
        )

    def extra_repr(self) -> str:
        has_bias = self.bias is not None
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={has_bias}"
        )


class CustomDense(nn.Module):
    """Linear layer on DenseFunction, initialised like torch.nn.Linear."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        """Creates the weight (and bias) and initialises them.

        Args:
            in_features: Input size.
            out_features: Output size.
            bias: Whether to learn a bias.
        """
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Same draws as torch.nn.Linear: Kaiming-uniform weight, small bias."""
        _init_like_torch(self.weight, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (*, in_features) -> (*, out_features)."""
        return DenseFunction.apply(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


def _init_like_torch(weight: nn.Parameter, bias: nn.Parameter | None) -> None:
    """Initialises as torch's Conv2d and Linear do, drawing in the same order.

    The weight is Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
    1/sqrt(fan_in)); the bias is drawn from the same bound.
    """
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = weight[0].numel()
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        nn.init.uniform_(bias, -bound, bound)


class CustomLeakyReLU(nn.Module):
    """LeakyReLU on LeakyReLUFunction."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        """Args:
        negative_slope: Slope for inputs <= 0.
        """
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: any -> same."""
        return LeakyReLUFunction.apply(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class CustomTanh(nn.Module):
    """Tanh on TanhFunction."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: any -> same."""
        return TanhFunction.apply(x)


class CustomAdaptiveAvgPool2d(nn.Module):
    """AdaptiveAvgPool2d on AdaptiveAvgPool2dFunction (any output size)."""

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        """Args:
        output_size: Int or (H_out, W_out); None keeps that input size.
        """
        super().__init__()
        _pool_output_size(output_size, (1, 1))  # fail at construction, not later
        self.output_size = output_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (B, C, H, W) -> (B, C, H_out, W_out); 3-D input also works."""
        return AdaptiveAvgPool2dFunction.apply(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class CustomFlatten(nn.Module):
    """Flatten on FlattenFunction."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        """Args:
        start_dim: First dimension to merge.
        end_dim: Last dimension to merge (inclusive).
        """
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (B, C, H, W) -> (B, C*H*W) with the defaults."""
        return FlattenFunction.apply(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
