"""The building blocks of modern CNNs: VGG, Inception and residual blocks, and deep nets.

Each block is small enough to read in one go. The parameter formulas in the docstrings are
checked against ``sum(p.numel() for p in block.parameters())`` in ``tests/test_modern_cnn.py``.
"""

import torch
from torch import nn


def _check_positive(**values) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_images(x: torch.Tensor, channels: int) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != channels:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"expected images of shape (N, {channels}, H, W), got {shape}")


def num_parameters(module: nn.Module, *, trainable_only: bool = False) -> int:
    """The number of scalar parameters of ``module`` (only those with requires_grad, if asked)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def conv_parameters(in_channels: int, out_channels: int, kernel_size: int, bias=True) -> int:
    """Parameters of a k x k convolution: k^2 C_in C_out weights (+ C_out biases)."""
    _check_positive(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size)
    return kernel_size**2 * in_channels * out_channels + (out_channels if bias else 0)


def receptive_field(kernel_sizes, strides=None) -> int:
    """Receptive field of a stack of convolutions / poolings, in input pixels.

    r = 1 + sum_l (k_l - 1) * prod_{m < l} s_m: each layer widens the field by k_l - 1 steps of
    the layers below it. Two 3x3 convolutions see 5x5 pixels, three see 7x7.
    """
    kernel_sizes = list(kernel_sizes)
    strides = [1] * len(kernel_sizes) if strides is None else list(strides)
    if len(strides) != len(kernel_sizes):
        raise ValueError(
            f"strides has {len(strides)} entries but kernel_sizes has {len(kernel_sizes)}"
        )
    for k in kernel_sizes + strides:
        _check_positive(kernel_or_stride=k)
    field, jump = 1, 1
    for k, s in zip(kernel_sizes, strides, strict=True):
        field += (k - 1) * jump
        jump *= s
    return field


def vgg_block(in_channels: int, out_channels: int, num_convs: int, *, pool: bool = True):
    """VGG's unit: ``num_convs`` times (3x3 conv, padding 1 -> ReLU), then a 2x2 max-pool.

    The convolutions keep the height and width, the pooling halves them. Parameters:
    9 C_in C_out + C_out for the first conv and 9 C_out^2 + C_out for each further one.
    """
    _check_positive(in_channels=in_channels, out_channels=out_channels, num_convs=num_convs)
    layers = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1)]
        layers += [nn.ReLU()]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class InceptionBlock(nn.Module):
    """GoogLeNet's Inception module: four parallel branches, concatenated along the channels.

    branch 1: 1x1 conv (c1)                      branch 2: 1x1 (c3_reduce) -> 3x3 conv (c3)
    branch 3: 1x1 (c5_reduce) -> 5x5 conv (c5)   branch 4: 3x3 max-pool -> 1x1 conv (pool_proj)
    Every branch keeps H and W (padding), so the output has c1 + c3 + c5 + pool_proj channels.
    The 1x1 "reductions" shrink the channels before the expensive 3x3 and 5x5 convolutions.
    Each convolution is followed by a ReLU.
    """

    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        _check_positive(
            in_channels=in_channels, c1=c1, c3_reduce=c3_reduce, c3=c3, c5_reduce=c5_reduce,
            c5=c5, pool_proj=pool_proj,
        )  # fmt: skip
        self.in_channels = in_channels
        self.out_channels = c1 + c3 + c5 + pool_proj

        def conv(i, o, k):
            return [nn.Conv2d(i, o, k, padding=k // 2), nn.ReLU()]

        self.branch1 = nn.Sequential(*conv(in_channels, c1, 1))
        self.branch3 = nn.Sequential(*conv(in_channels, c3_reduce, 1), *conv(c3_reduce, c3, 3))
        self.branch5 = nn.Sequential(*conv(in_channels, c5_reduce, 1), *conv(c5_reduce, c5, 5))
        self.branch_pool = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), *conv(in_channels, pool_proj, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, self.in_channels)
        branches = (self.branch1, self.branch3, self.branch5, self.branch_pool)
        return torch.cat([b(x) for b in branches], dim=1)


class ResidualBlock(nn.Module):
    """ResNet's basic block: y = ReLU(F(x) + shortcut(x)).

    F(x) = BN(conv3x3(ReLU(BN(conv3x3_stride(x))))), the *residual* the block has to learn.
    The shortcut is the identity when the shape is unchanged; when ``stride > 1`` or the
    channels change (or ``projection=True``), it is a 1x1 convolution with that stride
    (followed by BN), He et al.'s "projection shortcut". ``residual=False`` drops the shortcut
    (y = ReLU(F(x))): the same block in a *plain* network. ``batch_norm=False`` leaves the
    normalisation out and gives the convolutions a bias instead.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        *,
        batch_norm: bool = True,
        residual: bool = True,
        projection: bool | None = None,
    ):
        super().__init__()
        _check_positive(in_channels=in_channels, out_channels=out_channels, stride=stride)
        self.in_channels, self.out_channels, self.residual = in_channels, out_channels, residual
        needs_projection = stride != 1 or in_channels != out_channels
        if projection is None:
            projection = needs_projection
        elif residual and needs_projection and not projection:
            raise ValueError(
                f"an identity shortcut needs the same shape: in_channels={in_channels}, "
                f"out_channels={out_channels}, stride={stride}; use projection=True"
            )

        def norm(c):
            return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=not batch_norm)
        self.bn1 = norm(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=not batch_norm)
        self.bn2 = norm(out_channels)
        self.shortcut = nn.Identity()
        if residual and projection:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=not batch_norm),
                norm(out_channels),
            )

    def residual_branch(self, x: torch.Tensor) -> torch.Tensor:
        """F(x), the part of the block that has weights to learn."""
        return self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, self.in_channels)
        out = self.residual_branch(x)
        if self.residual:
            out = out + self.shortcut(x)
        return torch.relu(out)


class DeepNet(nn.Module):
    """A deep CNN classifier: stem conv -> ``num_blocks`` blocks -> global average pool -> linear.

    The blocks are ``ResidualBlock``s of constant ``width``; with ``residual=False`` the very
    same layers without the shortcuts form the *plain* network of the same depth. The net has
    2 * num_blocks + 2 weight layers. ``backbone`` maps images to a ``width``-dimensional
    embedding (after the global average pooling, so any input size works); ``head`` is the one
    linear layer on top, which transfer learning replaces. ``stem_stride=2`` halves the image in
    the stem, so that the blocks work on smaller (cheaper) maps.
    """

    def __init__(
        self,
        num_blocks: int,
        *,
        width: int = 16,
        num_classes: int = 10,
        in_channels: int = 1,
        residual: bool = True,
        batch_norm: bool = True,
        stem_stride: int = 1,
    ):
        super().__init__()
        _check_positive(
            num_blocks=num_blocks, width=width, num_classes=num_classes, in_channels=in_channels,
            stem_stride=stem_stride,
        )  # fmt: skip
        self.in_channels, self.depth = in_channels, 2 * num_blocks + 2
        stem = [nn.Conv2d(in_channels, width, 3, stem_stride, padding=1, bias=not batch_norm)]
        stem += [nn.BatchNorm2d(width)] if batch_norm else []
        blocks = [
            ResidualBlock(width, width, batch_norm=batch_norm, residual=residual)
            for _ in range(num_blocks)
        ]
        self.backbone = nn.Sequential(
            *stem, nn.ReLU(), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, self.in_channels)
        return self.head(self.backbone(x))


def layer_gradient_norms(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn) -> list:
    """||dL/dW_l|| for the weight of every conv and linear layer, from input to output.

    One forward and backward pass on (X, y); the model's gradients are cleared afterwards.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    if not layers:
        raise ValueError("model has no Conv2d or Linear layers")
    model.zero_grad(set_to_none=True)
    loss_fn(model(X), y).backward()
    norms = [m.weight.grad.norm().item() for m in layers]
    model.zero_grad(set_to_none=True)
    return norms


class VGGNet(nn.Module):
    """A small VGG-style classifier: VGG blocks -> flatten -> linear -> ReLU (= ``backbone``),
    then one linear ``head``.

    ``blocks`` lists (out_channels, num_convs) per block; each block halves the image, so
    ``image_size`` must be divisible by 2^len(blocks). The backbone's output, of size
    ``embedding``, is the feature vector that transfer learning reuses.
    """

    def __init__(
        self,
        blocks=((16, 2), (32, 1)),
        *,
        image_size: int = 12,
        in_channels: int = 1,
        embedding: int = 64,
        num_classes: int = 10,
    ):
        super().__init__()
        blocks = [tuple(b) for b in blocks]
        if not blocks or any(len(b) != 2 for b in blocks):
            raise ValueError(f"blocks must be (out_channels, num_convs) pairs, got {blocks}")
        _check_positive(
            image_size=image_size, in_channels=in_channels, embedding=embedding,
            num_classes=num_classes,
        )  # fmt: skip
        if image_size % 2 ** len(blocks):
            raise ValueError(
                f"image_size must be divisible by 2^{len(blocks)} (one pooling per block), "
                f"got {image_size}"
            )
        layers, channels = [], in_channels
        for out_channels, num_convs in blocks:
            layers.append(vgg_block(channels, out_channels, num_convs))
            channels = out_channels
        side = image_size // 2 ** len(blocks)
        self.in_channels = in_channels
        self.backbone = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(channels * side**2, embedding), nn.ReLU()
        )
        self.head = nn.Linear(embedding, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, self.in_channels)
        return self.head(self.backbone(x))
