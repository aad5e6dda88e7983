"""Modern CNN blocks: output shapes, parameter formulas, shortcuts, and torch references."""

import pytest
import torch
import torch.nn.functional as F
from tolerances import allclose
from torch import nn

from course_lib.data.shapes import place_on_canvas
from course_lib.models.modern_cnn import (
    DeepNet,
    InceptionBlock,
    ResidualBlock,
    VGGNet,
    conv_parameters,
    layer_gradient_norms,
    num_parameters,
    receptive_field,
    vgg_block,
)


def test_conv_parameters_formula_matches_torch():
    for c_in, c_out, k in [(1, 8, 3), (16, 32, 5), (3, 3, 1)]:
        conv = nn.Conv2d(c_in, c_out, k)
        assert conv_parameters(c_in, c_out, k) == num_parameters(conv)
        assert conv_parameters(c_in, c_out, k, bias=False) == conv.weight.numel()
    with pytest.raises(ValueError, match="kernel_size"):
        conv_parameters(1, 1, 0)


def test_receptive_field_of_stacks():
    assert receptive_field([3]) == 3
    assert receptive_field([3, 3]) == 5
    assert receptive_field([3, 3, 3]) == 7
    # conv3 -> pool2 (stride 2) -> conv3: the second conv steps 2 input pixels at a time
    assert receptive_field([3, 2, 3], [1, 2, 1]) == 8
    with pytest.raises(ValueError, match="strides"):
        receptive_field([3, 3], [1])


def test_receptive_field_by_gradient():
    """The input pixels that influence one output pixel form a square of the stated side."""
    net = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(3)])
    x = torch.randn(1, 1, 15, 15, requires_grad=True)
    net(x)[0, 0, 7, 7].backward()
    rows, cols = (x.grad[0, 0].abs() > 0).nonzero(as_tuple=True)
    assert rows.max() - rows.min() + 1 == receptive_field([3, 3, 3]) == 7
    assert cols.max() - cols.min() + 1 == 7


def test_vgg_block_shape_and_parameters():
    block = vgg_block(3, 8, num_convs=3)
    assert block(torch.randn(2, 3, 16, 16)).shape == (2, 8, 8, 8)
    assert num_parameters(block) == (9 * 3 * 8 + 8) + 2 * (9 * 8 * 8 + 8)
    assert vgg_block(3, 8, 2, pool=False)(torch.randn(1, 3, 6, 6)).shape == (1, 8, 6, 6)
    with pytest.raises(ValueError, match="num_convs"):
        vgg_block(3, 8, 0)


def test_stacked_3x3_has_fewer_weights_than_one_big_kernel():
    C = 16
    two = vgg_block(C, C, 2, pool=False)
    assert num_parameters(two) - 2 * C == 2 * 9 * C * C < 25 * C * C
    three = vgg_block(C, C, 3, pool=False)
    assert num_parameters(three) - 3 * C == 27 * C * C < 49 * C * C


def test_inception_block_shape_and_parameters():
    block = InceptionBlock(32, c1=8, c3_reduce=12, c3=16, c5_reduce=4, c5=8, pool_proj=8)
    out = block(torch.randn(2, 32, 7, 7))
    assert out.shape == (2, 8 + 16 + 8 + 8, 7, 7) and block.out_channels == 40
    expected = (
        conv_parameters(32, 8, 1)
        + conv_parameters(32, 12, 1) + conv_parameters(12, 16, 3)
        + conv_parameters(32, 4, 1) + conv_parameters(4, 8, 5)
        + conv_parameters(32, 8, 1)
    )  # fmt: skip
    assert num_parameters(block) == expected
    with pytest.raises(ValueError, match=r"\(N, 32, H, W\)"):
        block(torch.randn(2, 16, 7, 7))


def test_inception_branches_are_the_concatenated_channels():
    torch.manual_seed(0)
    block = InceptionBlock(4, 2, 2, 3, 1, 2, 1).eval()
    x = torch.randn(1, 4, 5, 5)
    out = block(x)
    assert torch.equal(out[:, :2], block.branch1(x))
    assert torch.equal(out[:, 2:5], block.branch3(x))
    assert torch.equal(out[:, 5:7], block.branch5(x))
    assert torch.equal(out[:, 7:], block.branch_pool(x))


def test_residual_block_identity_and_projection_shapes():
    same = ResidualBlock(8, 8)
    assert isinstance(same.shortcut, nn.Identity)
    assert same(torch.randn(2, 8, 6, 6)).shape == (2, 8, 6, 6)
    down = ResidualBlock(8, 16, stride=2)
    assert isinstance(down.shortcut, nn.Sequential)
    assert down(torch.randn(2, 8, 6, 6)).shape == (2, 16, 3, 3)
    # conv1 + bn1 + conv2 + bn2 + projection (1x1 conv, no bias) + its bn
    expected = 9 * 8 * 16 + 2 * 16 + 9 * 16 * 16 + 2 * 16 + 8 * 16 + 2 * 16
    assert num_parameters(down) == expected
    no_bn = ResidualBlock(8, 8, batch_norm=False)
    assert num_parameters(no_bn) == 2 * conv_parameters(8, 8, 3)
    with pytest.raises(ValueError, match="projection=True"):
        ResidualBlock(8, 16, projection=False)


def test_residual_block_with_zero_branch_is_relu_of_identity():
    """With F(x) = 0 (last BN scale zero) the block returns ReLU(x), He et al.'s identity map."""
    block = ResidualBlock(4, 4)
    nn.init.zeros_(block.bn2.weight)
    x = torch.randn(3, 4, 5, 5)
    assert torch.allclose(block(x), torch.relu(x))
    plain = ResidualBlock(4, 4, residual=False)
    nn.init.zeros_(plain.bn2.weight)
    assert torch.count_nonzero(plain(x)) == 0  # without the shortcut the signal is lost


def test_residual_block_matches_functional_reference():
    torch.manual_seed(0)
    block = ResidualBlock(3, 6, stride=2).eval()
    for bn in (block.bn1, block.bn2, block.shortcut[1]):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 3, 8, 8)

    def bn(t, m):
        return F.batch_norm(t, m.running_mean, m.running_var, m.weight, m.bias, False)

    h = torch.relu(bn(F.conv2d(x, block.conv1.weight, stride=2, padding=1), block.bn1))
    f = bn(F.conv2d(h, block.conv2.weight, padding=1), block.bn2)
    s = bn(F.conv2d(x, block.shortcut[0].weight, stride=2), block.shortcut[1])
    assert allclose(block(x), torch.relu(f + s), ops=2 * 9 * 6)  # two 3x3 convs over 6 channels


def test_deep_net_depth_shapes_and_any_input_size():
    net = DeepNet(3, width=8, num_classes=5)
    assert net.depth == 8
    assert len([m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]) == 8
    for side in (8, 16):
        assert net(torch.randn(2, 1, side, side)).shape == (2, 5)
    assert net.backbone(torch.randn(2, 1, 8, 8)).shape == (2, 8)
    plain = DeepNet(3, width=8, num_classes=5, residual=False)
    assert num_parameters(plain) == num_parameters(net)  # the same layers, no extra weights
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        net(torch.randn(2, 8, 8))


def test_gradient_norms_vanish_in_the_plain_net_only():
    torch.manual_seed(0)
    X, y = torch.rand(64, 1, 8, 8), torch.randint(0, 10, (64,))
    plain = DeepNet(10, width=8, residual=False, batch_norm=False)
    res = DeepNet(10, width=8, residual=True, batch_norm=False)
    res.load_state_dict(plain.state_dict())  # identical weights, only the shortcuts differ
    g_plain = layer_gradient_norms(plain, X, y, F.cross_entropy)
    g_res = layer_gradient_norms(res, X, y, F.cross_entropy)
    assert len(g_plain) == len(g_res) == plain.depth
    assert g_plain[0] < 1e-3 * g_plain[-1]
    assert g_res[0] > 1e-1 * g_res[-1]
    assert all(p.grad is None for p in plain.parameters())


def test_vgg_net_shapes_and_errors():
    net = VGGNet(((8, 2), (16, 1)), image_size=12, embedding=32, num_classes=5)
    assert net(torch.randn(3, 1, 12, 12)).shape == (3, 5)
    assert net.backbone(torch.randn(3, 1, 12, 12)).shape == (3, 32)
    with pytest.raises(ValueError, match="divisible"):
        VGGNet(((8, 1), (8, 1)), image_size=10)


def test_place_on_canvas():
    images = torch.ones(50, 1, 8, 8)
    canvas, offsets = place_on_canvas(images, 12, noise=0.3, seed=1)
    assert canvas.shape == (50, 1, 12, 12) and offsets.shape == (50, 2)
    for i in range(50):
        r, c = offsets[i].tolist()
        assert torch.all(canvas[i, 0, r : r + 8, c : c + 8] == 1)
        outside = canvas[i, 0].clone()
        outside[r : r + 8, c : c + 8] = 0
        assert outside.max() <= 0.3
    assert len({tuple(o) for o in offsets.tolist()}) > 5
    again, _ = place_on_canvas(images, 12, noise=0.3, seed=1)
    assert torch.equal(canvas, again)
    with pytest.raises(ValueError, match="size"):
        place_on_canvas(images, 6)
