"""Visible checks for chapter 06 (convolutional networks)."""

import torch
import torch.nn.functional as F

from ..checks import case


# ----------------------------------------------------------------------------- cnn.output_size
@case("cnn.output_size", hint="With no padding and stride 1 the output is i - k + 1 wide.")
def output_size_valid(fn):
    assert fn(5, 3, 1, 0) == 3, "wrong for i=5, k=3, s=1, p=0"


@case("cnn.output_size", hint="Padding adds p cells on *both* sides of the input.")
def output_size_padding(fn):
    assert fn(6, 3, 1, 1) == 6, "wrong for i=6, k=3, s=1, p=1 ('same' padding)"


@case("cnn.output_size", hint="Divide by the stride, round *down*, then add 1.")
def output_size_stride(fn):
    assert fn(7, 3, 2, 0) == 3, "wrong for i=7, k=3, s=2, p=0"
    assert fn(7, 3, 3, 0) == 2, "wrong for i=7, k=3, s=3 (the windows do not tile the input)"


@case("cnn.output_size", hint="Return a Python int.")
def output_size_is_int(fn):
    out = fn(32, 5, 1, 2)
    assert isinstance(out, int), f"returned a {type(out).__name__}"


# ----------------------------------------------------------------------------- cnn.conv2d
def _small(seed=0, c_in=2, c_out=3, hw=6, k=3):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, c_in, hw, hw, generator=g, dtype=torch.float64)
    w = torch.randn(c_out, c_in, k, k, generator=g, dtype=torch.float64)
    return x, w


@case("cnn.conv2d", hint="The output is (N, C_out, H_out, W_out).")
def conv2d_shape(fn):
    x, w = _small()
    out = fn(x, w)
    assert tuple(out.shape) == (2, 3, 4, 4), f"expected shape (2, 3, 4, 4), got {tuple(out.shape)}"


@case("cnn.conv2d", hint="Do not flip the kernel: PyTorch computes a cross-correlation.")
def conv2d_one_channel(fn):
    x = torch.arange(16.0, dtype=torch.float64).reshape(1, 1, 4, 4)
    w = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]], dtype=torch.float64)
    out = fn(x, w)
    assert torch.allclose(out, F.conv2d(x, w)), "wrong values for one channel, stride 1"


@case("cnn.conv2d", hint="Sum over the input channels as well as over the kernel window.")
def conv2d_channels(fn):
    x, w = _small(seed=1)
    assert torch.allclose(fn(x, w), F.conv2d(x, w)), "wrong values with 2 in / 3 out channels"


@case("cnn.conv2d", hint="Pad with zeros first; the window for output (i, j) starts at (s i, s j).")
def conv2d_stride_padding(fn):
    x, w = _small(seed=2, hw=7)
    for s, p in [(2, 0), (1, 1), (2, 1)]:
        out = fn(x, w, stride=s, padding=p)
        assert torch.allclose(out, F.conv2d(x, w, stride=s, padding=p)), (
            f"wrong for stride={s}, padding={p}"
        )


# ----------------------------------------------------------------------------- cnn.max_pool
@case("cnn.max_pool", hint="A k x k window with stride k: H_out = H // k.")
def max_pool_shape(fn):
    out = fn(torch.zeros(2, 3, 8, 6), 2)
    assert tuple(out.shape) == (2, 3, 4, 3), f"expected (2, 3, 4, 3), got {tuple(out.shape)}"


@case("cnn.max_pool", hint="Take the maximum of each non-overlapping k x k window.")
def max_pool_worked_example(fn):
    x = torch.tensor([[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[None, None]
    out = fn(x, 2)
    assert torch.equal(out, torch.tensor([[[[6.0, 8], [3, 4]]]])), "wrong on a 4 x 4 example"


@case("cnn.max_pool", hint="Pool every channel of every image on its own.")
def max_pool_channels(fn):
    x = torch.randn(3, 4, 6, 6, generator=torch.Generator().manual_seed(0))
    assert torch.equal(fn(x, 3), F.max_pool2d(x, 3)), "wrong with several images and channels"


@case("cnn.max_pool", hint="Rows or columns left over after the last full window are dropped.")
def max_pool_leftover(fn):
    x = torch.randn(1, 1, 7, 5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(fn(x, 2), F.max_pool2d(x, 2)), "wrong when H or W is not a multiple of k"
