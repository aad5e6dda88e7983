"""Convolution from scratch (course_lib.conv) against torch.nn.functional, and the CNN models."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.conv import (
    avg_pool2d,
    conv2d_im2col,
    conv2d_loops,
    conv_matrix,
    conv_output_size,
    conv_transpose2d_matrix,
    conv_transpose_output_size,
    gradient_receptive_field,
    im2col,
    max_pool2d,
    pool_output_size,
    receptive_field,
)
from course_lib.models.cnn import LeNet, SignalCNN, cnn_20_50_500

HYPER = [
    (1, 0, 1),
    (2, 1, 1),
    (1, 2, 2),
    (3, 1, 1),
    ((2, 1), (1, 2), (1, 2)),
]


def _data(seed=0, n=2, c_in=3, c_out=4, hw=(9, 8), k=(3, 2)):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c_in, *hw, generator=g, dtype=torch.float64)
    w = torch.randn(c_out, c_in, *k, generator=g, dtype=torch.float64)
    b = torch.randn(c_out, generator=g, dtype=torch.float64)
    return x, w, b


@pytest.mark.parametrize("fn", [conv2d_loops, conv2d_im2col])
@pytest.mark.parametrize("stride, padding, dilation", HYPER)
def test_conv2d_equals_torch(fn, stride, padding, dilation):
    x, w, b = _data()
    ref = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    assert torch.allclose(fn(x, w, b, stride, padding, dilation), ref)
    assert torch.allclose(fn(x, w, None, stride, padding, dilation), ref - b[None, :, None, None])


def test_conv2d_one_channel_hand_example():
    # the 5x5 example with a vertical-edge kernel: cross-correlation, no flip
    x = torch.tensor(
        [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]],
        dtype=torch.float,
    )[None, None]
    k = torch.tensor([[1, 0, -1]] * 3, dtype=torch.float)[None, None]
    expected = torch.tensor([[6, -9, -8], [-3, -2, -3], [-3, 0, -2]], dtype=torch.float)
    assert torch.equal(conv2d_loops(x, k)[0, 0], expected)
    # a true convolution flips the kernel; for this antisymmetric kernel that negates the output
    assert torch.equal(conv2d_loops(x, k.flip(-1, -2))[0, 0], -expected)


def test_conv2d_gradients_match_torch():
    x, w, b = _data(seed=1)
    grads = []
    for fn in (conv2d_im2col, F.conv2d):
        xs, ws = x.clone().requires_grad_(), w.clone().requires_grad_()
        fn(xs, ws, b, 2, 1).square().sum().backward()
        grads.append((xs.grad, ws.grad))
    assert torch.allclose(grads[0][0], grads[1][0]) and torch.allclose(grads[0][1], grads[1][1])


@pytest.mark.parametrize("stride, padding, dilation", HYPER)
def test_im2col_equals_unfold(stride, padding, dilation):
    x, _, _ = _data()
    ref = F.unfold(x, (3, 2), dilation=dilation, padding=padding, stride=stride)
    assert torch.equal(im2col(x, (3, 2), stride, padding, dilation), ref)


@pytest.mark.parametrize(
    "kernel, stride, padding", [(2, None, 0), (3, 2, 1), (3, 1, 0), ((3, 2), (1, 2), (1, 0))]
)
def test_pooling_equals_torch(kernel, stride, padding):
    x, _, _ = _data(seed=2)
    assert torch.equal(
        max_pool2d(x, kernel, stride, padding), F.max_pool2d(x, kernel, stride, padding)
    )
    assert torch.allclose(
        avg_pool2d(x, kernel, stride, padding), F.avg_pool2d(x, kernel, stride, padding)
    )


def test_pooling_worked_example():
    x = torch.tensor([[6, 6, 6, 6], [4, 5, 5, 4], [2, 4, 4, 2], [2, 4, 4, 2]], dtype=torch.float)
    assert torch.equal(max_pool2d(x[None, None], 2)[0, 0], torch.tensor([[6.0, 6], [4, 4]]))
    assert torch.equal(avg_pool2d(x[None, None], 2)[0, 0], torch.tensor([[5.25, 5.25], [3, 3]]))


@pytest.mark.parametrize("stride, padding, dilation", HYPER)
def test_conv_matrix_is_the_convolution(stride, padding, dilation):
    x, w, b = _data(n=3)
    M = conv_matrix(w, (9, 8), stride, padding, dilation)
    ref = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    assert M.shape == (ref[0].numel(), x[0].numel())
    assert torch.allclose((x.reshape(3, -1) @ M.T).reshape(ref.shape), ref)


def test_conv_matrix_source_example():
    # 3x3 input, 2x2 kernel (w1 w2; w3 w4): the 4 x 9 matrix of the lecture
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]])[None, None]
    expected = torch.tensor(
        [
            [1, 2, 0, 3, 4, 0, 0, 0, 0],
            [0, 1, 2, 0, 3, 4, 0, 0, 0],
            [0, 0, 0, 1, 2, 0, 3, 4, 0],
            [0, 0, 0, 0, 1, 2, 0, 3, 4],
        ],
        dtype=torch.float,
    )
    assert torch.equal(conv_matrix(w, 3), expected)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (2, 0, 2), (3, 1, 1)])
def test_transposed_convolution_is_the_transpose(stride, padding, dilation):
    x, _, _ = _data()
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    y = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    z = torch.randn_like(y)
    got = conv_transpose2d_matrix(z, w, (9, 8), stride, padding, dilation)
    op = tuple(
        (9, 8)[t] - conv_transpose_output_size(y.shape[2 + t], 3, stride, padding, 0, dilation)
        for t in range(2)
    )
    ref = F.conv_transpose2d(
        z, w, stride=stride, padding=padding, output_padding=op, dilation=dilation
    )
    assert torch.allclose(got, ref)
    # the adjoint identity <conv(x), z> = <x, conv^T(z)>
    assert torch.allclose((y * z).sum(), (x * got).sum())


@pytest.mark.parametrize(
    "i, k, s, p, expected",
    [(4, 3, 1, 0, 2), (5, 4, 1, 2, 6), (5, 3, 1, 1, 5), (5, 3, 1, 2, 7), (5, 3, 2, 0, 2),
     (6, 3, 2, 1, 3), (7, 3, 3, 0, 2), (7, 3, 2, 1, 4), (32, 5, 1, 2, 32)],
)  # fmt: skip
def test_output_size_examples_match_conv2d(i, k, s, p, expected):
    assert conv_output_size(i, k, s, p) == expected  # (5, 3, 1, 2) is 7: the source's erratum
    out = nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, i, i))
    assert out.shape[-1] == expected


def test_pool_output_size_matches_torch():
    for i, k, s in [(28, 2, None), (7, 3, 2), (10, 3, 3)]:
        out = F.max_pool2d(torch.zeros(1, 1, i, i), k, s)
        assert pool_output_size(i, k, s) == out.shape[-1]


def test_receptive_field_formula_and_gradients_agree():
    layers = [(5, 1), (2, 2), (5, 1), (2, 2)]
    assert receptive_field(layers) == 16
    assert receptive_field([(3, 1)] * 3) == 7
    assert receptive_field([(3, 1, 2)]) == 5
    net = nn.Sequential(nn.Conv2d(1, 3, 5), nn.AvgPool2d(2), nn.Conv2d(3, 3, 5), nn.AvgPool2d(2))
    mask = gradient_receptive_field(net, (1, 28, 28))
    rows, cols = mask.any(1).nonzero(), mask.any(0).nonzero()
    assert rows.max() - rows.min() + 1 == 16 and cols.max() - cols.min() + 1 == 16
    assert mask.sum() == 16 * 16


def test_bad_input_gets_clear_errors():
    x, w, b = _data()
    with pytest.raises(ValueError, match="C_in"):
        conv2d_loops(x[:, :2], w)
    with pytest.raises(ValueError, match="x must be"):
        conv2d_im2col(x[0], w)
    with pytest.raises(ValueError, match="bias"):
        conv2d_im2col(x, w, b[:2])
    with pytest.raises(ValueError, match="stride"):
        conv2d_loops(x, w, stride=0)
    with pytest.raises(TypeError, match="padding"):
        im2col(x, 3, padding=1.5)
    with pytest.raises(ValueError, match="does not fit"):
        conv2d_im2col(x, torch.randn(4, 3, 12, 12, dtype=torch.float64))
    with pytest.raises(ValueError, match="padding"):
        max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="layer 1"):
        receptive_field([(3, 1), (3,)])


def test_models_shapes_and_parameter_counts():
    net = cnn_20_50_500(21, image_size=32)
    assert net(torch.zeros(2, 1, 32, 32)).shape == (2, 21)
    assert sum(p.numel() for p in net.parameters()) == 661_591  # 520 + 25,050 + 625,500 + 10,521
    assert sum(p.numel() for p in cnn_20_50_500(21, 28).parameters()) == 436_591
    assert not any(isinstance(m, nn.ReLU) for m in net.features)
    lenet = LeNet(image_size=16, padding=2)
    assert lenet(torch.zeros(3, 1, 16, 16)).shape == (3, 10)
    assert SignalCNN()(torch.zeros(4, 40)).shape == (4, 10)
    with pytest.raises(ValueError, match="expected images"):
        lenet(torch.zeros(3, 1, 8, 8))
    with pytest.raises(ValueError, match="too small"):
        LeNet(image_size=8)
    with pytest.raises(ValueError, match="signals"):
        SignalCNN()(torch.zeros(4, 1, 40))


def test_cnn_figures_draw_and_reject_bad_shapes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plot.cnn import (
        draw_conv_arithmetic,
        draw_conv_step,
        show_feature_maps,
        show_filters,
        show_saliency,
    )

    fig = show_filters(torch.randn(6, 1, 5, 5), ncol=3)
    assert sum(ax.images != [] for ax in fig.axes) == 6
    fig2 = show_feature_maps(torch.rand(4, 7, 7))
    fig3 = show_saliency(torch.rand(3, 1, 8, 8), torch.rand(3, 8, 8), titles="abc")
    ax = draw_conv_arithmetic(7, 3, 3, 0)
    assert "= 2" in ax.get_title() and "never covered" in ax.get_title()
    assert "= 4" in draw_conv_arithmetic(7, 3, 2, 1).get_title()
    assert "no output" in draw_conv_arithmetic(2, 5, 1, 0).get_title()
    with pytest.raises(ValueError, match="weight"):
        show_filters(torch.randn(5, 5))
    with pytest.raises(ValueError, match="maps"):
        show_feature_maps(torch.rand(1, 4, 7, 7))
    with pytest.raises(ValueError, match="saliency"):
        show_saliency(torch.rand(3, 1, 8, 8), torch.rand(2, 8, 8))
    with pytest.raises(ValueError, match="p >= 0"):
        draw_conv_arithmetic(5, 3, 1, -1)
    x = torch.tensor([[7.0, 2, 3], [4, 5, 3], [3, 3, 2]])
    fig4 = draw_conv_step(x, torch.tensor([[1.0, 0], [0, -1]]), 3)
    assert fig4._suptitle.get_text() == "y[1,1] = 1*5 + (-1)*2 = 3"
    with pytest.raises(ValueError, match="step"):
        draw_conv_step(x, torch.ones(2, 2), 4)
    for f in (fig, fig2, fig3, fig4, ax.figure):
        plt.close(f)
