"""Convolution from scratch: loops, im2col, pooling, the convolution matrix and its transpose.

Everything here follows PyTorch's conventions, so each function can be checked against
``torch.nn.functional``: images are (N, C, H, W), weights are (C_out, C_in, k_h, k_w), and a
"convolution" is a cross-correlation (the kernel is not flipped),

    y[n, o, i, j] = b[o] + sum_{c, a, b} w[o, c, a, b] x_pad[n, c, s i + d a, s j + d b].
"""

import math

import torch
import torch.nn.functional as F

from .models.autoencoder import conv_output_size, conv_transpose_output_size
from .validation import check_same_dtype

__all__ = [
    "avg_pool2d",
    "conv2d_im2col",
    "conv2d_loops",
    "conv_matrix",
    "conv_output_size",
    "conv_transpose2d_matrix",
    "conv_transpose_output_size",
    "gradient_receptive_field",
    "im2col",
    "max_pool2d",
    "pool_output_size",
    "receptive_field",
]


def _pair(value, name):
    """An int or a pair of ints -> (int, int); a clear error otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int) for v in value)
    ):
        return tuple(value)
    raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")


def _check_hyper(stride, padding, dilation):
    s, p, d = _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation")
    if min(s) < 1:
        raise ValueError(f"stride must be >= 1, got {stride!r}")
    if min(p) < 0:
        raise ValueError(f"padding must be >= 0, got {padding!r}")
    if min(d) < 1:
        raise ValueError(f"dilation must be >= 1, got {dilation!r}")
    return s, p, d


def _check_conv_inputs(x, weight, bias):
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of shape (N, C_in, H, W), got {shape}")
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        raise ValueError("weight must be a tensor of shape (C_out, C_in, k_h, k_w)")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"weight expects C_in={weight.shape[1]} input channels but x has {x.shape[1]}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"bias must have shape ({weight.shape[0]},) (one per output channel), "
            f"got {tuple(bias.shape)}"
        )
    check_same_dtype(x=x, weight=weight, bias=bias)


def _output_hw(x_hw, k_hw, s, p, d):
    out = tuple(conv_output_size(x_hw[t], k_hw[t], s[t], p[t], d[t]) for t in range(2))
    if min(out) < 1:
        raise ValueError(
            f"a {k_hw} kernel (dilation {d}) does not fit a {x_hw} input with padding {p}"
        )
    return out


def conv2d_loops(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution with explicit loops over output positions (slow; for teaching).

    y[n, o, i, j] = b[o] + sum_{c, a, b} w[o, c, a, b] x_pad[n, c, s i + d a, s j + d b]

    Each output pixel is the dot product of the kernel with the input window under it; the
    loops run over the output rows and columns, the sum over (c, a, b) is one tensordot.
    """
    _check_conv_inputs(x, weight, bias)
    (sh, sw), (ph, pw), (dh, dw) = s, p, d = _check_hyper(stride, padding, dilation)
    kh, kw = weight.shape[2:]
    oh, ow = _output_hw(x.shape[2:], (kh, kw), s, p, d)
    xp = F.pad(x, (pw, pw, ph, ph))
    y = x.new_zeros(x.shape[0], weight.shape[0], oh, ow)
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)  # the window under (i, j)
            cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
            window = xp[:, :, rows, cols]  # (N, C_in, k_h, k_w)
            y[:, :, i, j] = torch.tensordot(window, weight, dims=([1, 2, 3], [1, 2, 3]))
    if bias is not None:
        y = y + bias[None, :, None, None]
    return y


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Unfold every k_h x k_w window of ``x`` (N, C, H, W) into a column.

    Returns (N, C k_h k_w, L) with L = H_out W_out, the same layout as ``F.unfold``: row
    c k_h k_w + a k_w + b holds x_pad[n, c, s i + d a, s j + d b] for output position (i, j).
    Built with one strided slice per kernel offset (a, b), so there is no loop over pixels.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError("x must be a tensor of shape (N, C, H, W)")
    kh, kw = _pair(kernel_size, "kernel_size")
    if min(kh, kw) < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_size!r}")
    (sh, sw), (ph, pw), (dh, dw) = s, p, d = _check_hyper(stride, padding, dilation)
    oh, ow = _output_hw(x.shape[2:], (kh, kw), s, p, d)
    xp = F.pad(x, (pw, pw, ph, ph))
    n, c = x.shape[:2]
    cols = x.new_empty(n, c, kh, kw, oh, ow)
    for a in range(kh):
        for b in range(kw):
            rows = slice(dh * a, dh * a + sh * (oh - 1) + 1, sh)  # offset (a, b) in every window
            columns = slice(dw * b, dw * b + sw * (ow - 1) + 1, sw)
            cols[:, :, a, b] = xp[:, :, rows, columns]
    return cols.reshape(n, c * kh * kw, oh * ow)


def conv2d_im2col(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution as one matrix product: Y = W_mat @ im2col(x) (+ b).

    W_mat is the weight reshaped to (C_out, C_in k_h k_w); the product has shape
    (N, C_out, H_out W_out) and is folded back to (N, C_out, H_out, W_out).
    """
    _check_conv_inputs(x, weight, bias)
    s, p, d = _check_hyper(stride, padding, dilation)
    kh, kw = weight.shape[2:]
    oh, ow = _output_hw(x.shape[2:], (kh, kw), s, p, d)
    cols = im2col(x, (kh, kw), s, p, d)
    y = weight.reshape(weight.shape[0], -1) @ cols
    if bias is not None:
        y = y + bias[None, :, None]
    return y.reshape(x.shape[0], weight.shape[0], oh, ow)


def pool_output_size(i: int, k: int, s: int | None = None, p: int = 0) -> int:
    """Output length of a pooling layer: o = floor((i + 2p - k) / s) + 1 (s defaults to k)."""
    return conv_output_size(i, k, k if s is None else s, p)


def _pool_patches(x, kernel_size, stride, padding, fill):
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError("x must be a tensor of shape (N, C, H, W)")
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None else _pair(stride, "stride")
    p = _pair(padding, "padding")
    if min(k) < 1 or min(s) < 1 or min(p) < 0:
        raise ValueError(f"need kernel_size, stride >= 1 and padding >= 0; got {k}, {s}, {p}")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"padding {p} must be at most half the kernel size {k}")
    n, c, h, w = x.shape
    xp = F.pad(x, (p[1], p[1], p[0], p[0]), value=fill)
    # pooling treats every channel alone: fold the channels into the batch
    cols = im2col(xp.reshape(n * c, 1, h + 2 * p[0], w + 2 * p[1]), k, s)
    oh, ow = _output_hw((h + 2 * p[0], w + 2 * p[1]), k, s, (0, 0), (1, 1))
    return cols, (n, c, oh, ow)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max pooling: y[n, c, i, j] = max_{a, b} x_pad[n, c, s i + a, s j + b].

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch; the
    padding is -inf, so a padded cell never wins.
    """
    cols, shape = _pool_patches(x, kernel_size, stride, padding, fill=-math.inf)
    return cols.amax(dim=1).reshape(shape)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling: y[n, c, i, j] = (1 / k_h k_w) sum_{a, b} x_pad[n, c, s i + a, s j + b].

    The zero padding counts in the average (PyTorch's default ``count_include_pad=True``).
    """
    cols, shape = _pool_patches(x, kernel_size, stride, padding, fill=0.0)
    return cols.mean(dim=1).reshape(shape)


def conv_matrix(weight, input_size, stride=1, padding=0, dilation=1):
    """The matrix M of the (linear) convolution x -> conv2d(x, weight) on one image.

    ``input_size`` is (H, W) (or an int for square images). M has shape
    (C_out H_out W_out, C_in H W) and conv2d(x)[o, i, j] = sum_col M[row, col] x_flat[col]
    with row = (o, i, j) and col = (c, s i + d a - p, s j + d b - p) in row-major order:
    M[row, col] = w[o, c, a, b], and 0 where the window hangs over the padding. Each row holds
    one copy of the kernel, shifted: a sparse, (doubly block) Toeplitz matrix.
    """
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        raise ValueError("weight must be a tensor of shape (C_out, C_in, k_h, k_w)")
    H, W = _pair(input_size, "input_size")
    (sh, sw), (ph, pw), (dh, dw) = s, p, d = _check_hyper(stride, padding, dilation)
    c_out, c_in, kh, kw = weight.shape
    oh, ow = _output_hw((H, W), (kh, kw), s, p, d)
    M = weight.new_zeros(c_out, oh, ow, c_in, H, W)
    i = torch.arange(oh, device=weight.device)[:, None]
    j = torch.arange(ow, device=weight.device)[None, :]
    for a in range(kh):
        for b in range(kw):
            r, q = i * sh + a * dh - ph, j * sw + b * dw - pw  # input row/col of weight (a, b)
            ok = (r >= 0) & (r < H) & (q >= 0) & (q < W)
            ii, jj = torch.nonzero(ok, as_tuple=True)
            rr, qq = r.expand(oh, ow)[ok], q.expand(oh, ow)[ok]
            # M[o, i, j, c, r, q] = w[o, c, a, b] for every valid (i, j), every o and c
            M[:, ii, jj, :, rr, qq] = weight[:, :, a, b]
    return M.reshape(c_out * oh * ow, c_in * H * W)


def conv_transpose2d_matrix(z, weight, input_size, stride=1, padding=0, dilation=1):
    """Transposed convolution as the transpose of the convolution matrix: x = M^T z.

    ``weight`` (C_out, C_in, k_h, k_w) defines the forward convolution from (C_in, H, W) to
    (C_out, H_out, W_out), with (H, W) = ``input_size``; z is (N, C_out, H_out, W_out) and the
    result (N, C_in, H, W). This equals ``F.conv_transpose2d(z, weight, stride, padding,
    output_padding, dilation=dilation)`` with the output_padding that recovers (H, W).
    """
    M = conv_matrix(weight, input_size, stride, padding, dilation)
    H, W = _pair(input_size, "input_size")
    if z.ndim != 4 or z[0].numel() != M.shape[0]:
        raise ValueError(
            f"z must have shape (N, {weight.shape[0]}, H_out, W_out) matching the forward "
            f"convolution's output ({M.shape[0]} values per image), got {tuple(z.shape)}"
        )
    x = z.reshape(len(z), -1) @ M  # (M^T z_n)^T = z_n^T M for every image n
    return x.reshape(len(z), weight.shape[1], H, W)


def receptive_field(layers) -> int:
    """Receptive field (in input pixels, per side) of a stack of conv/pool layers.

    ``layers`` is a sequence of (k, s) or (k, s, d) tuples, first layer first. With jump
    J_l = s_1 ... s_{l-1} (the input distance between neighbouring units of layer l-1),
    r = 1 + sum_l d_l (k_l - 1) J_l.
    """
    r, jump = 1, 1
    for n, layer in enumerate(layers):
        if not (isinstance(layer, tuple | list) and len(layer) in (2, 3)):
            raise ValueError(f"layer {n} must be (k, s) or (k, s, d), got {layer!r}")
        k, s, d = (*layer, 1) if len(layer) == 2 else layer
        if min(k, s, d) < 1:
            raise ValueError(f"layer {n}: k, s and d must be >= 1, got {layer!r}")
        r += d * (k - 1) * jump
        jump *= s
    return r


def gradient_receptive_field(model, input_shape, channel=0, position=None):
    """The input pixels that one output unit depends on, found by back-propagation.

    Feeds a random input of ``input_shape`` (C, H, W) through ``model`` (which must map
    (N, C, H, W) to (N, C', H', W')), back-propagates from output unit (channel, i, j)
    (``position`` defaults to the centre) and returns the boolean (H, W) mask of pixels with a
    nonzero gradient in any input channel. Max-pooling routes the gradient through one pixel
    per window, so measure with average pooling to see the whole field.
    """
    param = next(model.parameters(), None)
    dev = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.get_default_dtype()
    x = torch.randn(1, *input_shape, device=dev, dtype=dtype, requires_grad=True)
    y = model(x)
    if y.ndim != 4:
        raise ValueError(f"model must return (N, C, H, W) feature maps, got {tuple(y.shape)}")
    i, j = (y.shape[2] // 2, y.shape[3] // 2) if position is None else position
    (grad,) = torch.autograd.grad(y[0, channel, i, j], x)
    return grad[0].abs().amax(dim=0) > 0
