"""Visible checks for chapter 07 (modern CNNs and transfer learning)."""

import torch
from torch import nn

from ..checks import case


# ----------------------------------------------------------------------------- modern_cnn.vgg_params
@case("modern_cnn.vgg_params", hint="A 3x3 conv has 9 * C_in * C_out weights plus C_out biases.")
def vgg_params_one_conv(fn):
    got = fn(1, 4, 1)
    assert got == 9 * 4 + 4, f"one 3x3 conv from 1 to 4 channels: got {got}"


@case(
    "modern_cnn.vgg_params",
    hint="Only the first conv sees C_in channels; the later ones map C_out to C_out.",
)
def vgg_params_two_convs(fn):
    block = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1))
    want = sum(p.numel() for p in block.parameters())
    got = fn(3, 8, 2)
    assert got == want, f"two convs 3 -> 8 -> 8: got {got}, which is not the count of torch's"


@case("modern_cnn.vgg_params", hint="Max-pooling and ReLU have no parameters.")
def vgg_params_returns_int(fn):
    got = fn(16, 16, 3)
    assert isinstance(got, int), f"return a Python int, got {type(got).__name__}"


# ----------------------------------------------------------------------------- modern_cnn.residual
def _modules(c_in, c_out, stride=1, seed=0):
    torch.manual_seed(seed)
    conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
    conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
    bn1, bn2 = nn.BatchNorm2d(c_out).eval(), nn.BatchNorm2d(c_out).eval()
    for bn in (bn1, bn2):
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    return conv1, bn1, conv2, bn2


@case("modern_cnn.residual", hint="Without a projection the output has the input's shape.")
def residual_shape(fn):
    x = torch.randn(2, 4, 5, 5)
    out = fn(x, *_modules(4, 4))
    assert tuple(out.shape) == (2, 4, 5, 5), f"got shape {tuple(out.shape)}"


@case(
    "modern_cnn.residual",
    hint="If F(x) is zero, y = ReLU(0 + x): add the shortcut *before* the last ReLU.",
)
def residual_zero_branch(fn):
    conv1, bn1, conv2, bn2 = _modules(3, 3)
    nn.init.zeros_(conv2.weight)
    bn2.bias.data.zero_()
    bn2.running_mean.zero_()
    x = torch.randn(2, 3, 4, 4)
    out = fn(x, conv1, bn1, conv2, bn2)
    assert torch.allclose(out, torch.relu(x), atol=1e-5), "with F = 0 the block must give ReLU(x)"


@case("modern_cnn.residual", hint="F(x) = bn2(conv2(ReLU(bn1(conv1(x))))); y = ReLU(F(x) + x).")
def residual_values(fn):
    from course_lib.models.modern_cnn import ResidualBlock

    block = ResidualBlock(3, 3).eval()
    modules = _modules(3, 3, seed=1)
    block.conv1, block.bn1, block.conv2, block.bn2 = modules
    x = torch.randn(2, 3, 6, 6)
    assert torch.allclose(fn(x, *modules), block(x), atol=1e-5), "wrong values"


@case("modern_cnn.residual", hint="When a shortcut module is given, add shortcut(x), not x.")
def residual_projection(fn):
    conv1, bn1, conv2, bn2 = _modules(2, 4, stride=2)
    shortcut = nn.Conv2d(2, 4, 1, stride=2, bias=False)
    out = fn(torch.randn(1, 2, 6, 6), conv1, bn1, conv2, bn2, shortcut)
    assert tuple(out.shape) == (1, 4, 3, 3), f"got shape {tuple(out.shape)}"


# ----------------------------------------------------------------------------- modern_cnn.transfer
class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(),
                                      nn.Linear(4 * 4 * 4, 8), nn.ReLU())  # fmt: skip
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        return self.head(self.backbone(x))


@case("modern_cnn.transfer", hint="The new head must have num_classes outputs.")
def transfer_head_size(fn):
    model = fn(_Net(), 3)
    assert isinstance(model.head, nn.Linear), "model.head must be an nn.Linear"
    assert model.head.out_features == 3, f"the head has {model.head.out_features} outputs"
    assert model.head.in_features == 8, "the head must take the backbone's 8 features"


@case("modern_cnn.transfer", hint="Set requires_grad to False on every backbone parameter.")
def transfer_backbone_frozen(fn):
    model = fn(_Net(), 3)
    trainable = [n for n, p in model.backbone.named_parameters() if p.requires_grad]
    assert not trainable, f"backbone parameters still trainable: {trainable}"


@case("modern_cnn.transfer", hint="The new head itself must stay trainable.")
def transfer_head_trainable(fn):
    model = fn(_Net(), 3)
    assert all(p.requires_grad for p in model.head.parameters()), "the head is frozen too"


@case("modern_cnn.transfer", hint="Keep the pretrained backbone's weights; only the head is new.")
def transfer_keeps_backbone(fn):
    net = _Net()
    before = {k: v.clone() for k, v in net.backbone.state_dict().items()}
    model = fn(net, 3)
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, before[k]), f"backbone weight {k} changed"


# ----------------------------------------------------------------------------- modern_cnn.few_shot
@case("modern_cnn.few_shot", hint="Return a 1-D tensor of indices into y.")
def few_shot_is_index_tensor(fn):
    idx = fn(torch.tensor([0, 0, 1, 1, 1]), 1, seed=0)
    assert isinstance(idx, torch.Tensor) and idx.ndim == 1, "expected a 1-D tensor of indices"


@case("modern_cnn.few_shot", hint="Take exactly k indices of every class present in y.")
def few_shot_counts(fn):
    y = torch.tensor([2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 2, 0])
    idx = fn(y, 2, seed=0)
    counts = torch.bincount(y[idx], minlength=3).tolist()
    assert counts == [2, 2, 2], f"got {counts} examples of classes 0, 1, 2"


@case("modern_cnn.few_shot", hint="Never pick the same example twice.")
def few_shot_no_repeats(fn):
    y = torch.arange(4).repeat(5)
    idx = fn(y, 5, seed=0)
    assert len(set(idx.tolist())) == len(idx) == 20, "some index appears twice"


@case("modern_cnn.few_shot", hint="Draw at random with a generator seeded by `seed`.")
def few_shot_random_but_seeded(fn):
    y = torch.arange(3).repeat(30)
    a, b = fn(y, 4, seed=0), fn(y, 4, seed=0)
    assert torch.equal(a.sort().values, b.sort().values), "the same seed gave other examples"
    others = [fn(y, 4, seed=s).sort().values for s in (1, 2, 3)]
    assert any(not torch.equal(a.sort().values, o) for o in others), "seeds change nothing"


@case("modern_cnn.few_shot", hint="Raise ValueError when a class has fewer than k examples.")
def few_shot_too_few(fn):
    try:
        fn(torch.tensor([0, 0, 0, 1]), 2, seed=0)
    except ValueError:
        return
    raise AssertionError("no ValueError for a class with 1 example and k = 2")
