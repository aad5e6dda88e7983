"""Small networks for vision beyond classification (chapter 07b): a grid detector, a classifier
that turns into a fully convolutional network (OverFeat), FCN and U-Net segmenters, max
unpooling, Gram matrices for style, and a Vision Transformer. Sizes suit 8x8 to 32x32 images.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_int, check_tensor


def conv_block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 convolution (padding keeps the size at stride 1), batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


class GridDetector(nn.Module):
    """Single-stage detector: a CNN with total stride 4 whose 1x1 head predicts, at every cell
    of the output grid, C class-centre logits and (w, h, dx, dy) for the box centred there."""

    def __init__(self, num_classes: int, width: int = 12):
        super().__init__()
        w = width
        self.num_classes = num_classes
        self.backbone = nn.Sequential(
            conv_block(1, w), conv_block(w, 2 * w, 2), conv_block(2 * w, 2 * w),
            conv_block(2 * w, 4 * w, 2), conv_block(4 * w, 4 * w),
        )  # fmt: skip
        self.head = nn.Conv2d(4 * w, num_classes + 4, 1)
        with torch.no_grad():  # start with centre scores sigmoid(-2) ~ 0.12, not 0.5 everywhere
            self.head.bias[:num_classes] = -2.0
        self.stride = 4

    def forward(self, x):
        check_tensor("x", x, ndim=4, dtype="floating")
        return self.head(self.backbone(x))


class ShapeClassifier(nn.Module):
    """A LeNet-like classifier of size x size crops: two (valid convolution, 2x2 max-pool)
    stages, 5x5 then 3x3 kernels, and two fully connected layers on the flattened
    (2 width, k, k) map, k = ((size - 4) / 2 - 2) / 2.

    No padding, so that the fully convolutional version (:func:`fully_convolutional`) computes
    on a larger image exactly what this network computes on each of its windows."""

    def __init__(self, num_classes: int, size: int = 16, width: int = 16, hidden: int = 64):
        super().__init__()
        if size % 4 or size < 12:
            raise ValueError(f"size must be a multiple of 4 and >= 12, got {size}")
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.k = ((size - 4) // 2 - 2) // 2
        self.fc1 = nn.Linear(2 * width * self.k**2, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.size = size

    def forward(self, x):
        check_tensor("x", x, shape=(None, 1, self.size, self.size), dtype="floating")
        return self.fc2(F.relu(self.fc1(self.features(x).flatten(1))))


def fully_convolutional(model: ShapeClassifier) -> nn.Sequential:
    """The same classifier with its fully connected layers rewritten as convolutions.

    fc1 sees a (C, k, k) map: it becomes a k x k convolution with the same weights reshaped to
    (hidden, C, k, k); fc2 becomes a 1x1 convolution. On a size x size input the result is a
    1x1 map equal to the classifier's logits; on an input of size + 4 m, an (m + 1) x (m + 1)
    map: the classifier on every window at a stride of 4 (the two poolings).
    """
    k = model.k
    hidden, flat = model.fc1.weight.shape
    conv1 = nn.Conv2d(flat // (k * k), hidden, k)
    conv2 = nn.Conv2d(hidden, model.fc2.out_features, 1)
    with torch.no_grad():
        conv1.weight.copy_(model.fc1.weight.view(hidden, -1, k, k))  # flatten is (C, k, k) order
        conv1.bias.copy_(model.fc1.bias)
        conv2.weight.copy_(model.fc2.weight[:, :, None, None])
        conv2.bias.copy_(model.fc2.bias)
    return nn.Sequential(model.features, conv1, nn.ReLU(), conv2)


def count_macs(model: nn.Module, x: torch.Tensor) -> int:
    """Multiply-accumulates of the Conv2d, ConvTranspose2d and Linear layers in model(x).

    A convolution costs (output elements) x (C_in / groups) x k_h x k_w; a linear layer
    (output elements) x (in_features). Activations, pooling and norms are left out.
    """
    total = 0

    def hook(module, _inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
            kh, kw = module.kernel_size
            c_in = module.in_channels if isinstance(module, nn.Conv2d) else module.out_channels
            # a transposed convolution multiplies each input element by C_out k_h k_w weights
            if isinstance(module, nn.ConvTranspose2d):
                total += _inputs[0].numel() * module.out_channels * kh * kw // module.groups
            else:
                total += output.numel() * c_in * kh * kw // module.groups
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear)]  # fmt: skip
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return total


class FCN(nn.Module):
    """Fully convolutional segmenter without skips: downsample 4x, then a learned 4x upsampling
    (a transposed convolution) back to the input size, C + 1 logits per pixel."""

    def __init__(self, num_classes: int, width: int = 16):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            conv_block(1, w), conv_block(w, 2 * w, 2), conv_block(2 * w, 2 * w),
            conv_block(2 * w, 4 * w, 2), conv_block(4 * w, 4 * w),
        )  # fmt: skip
        self.up = nn.ConvTranspose2d(4 * w, num_classes + 1, kernel_size=4, stride=4)

    def forward(self, x):
        check_tensor("x", x, ndim=4, dtype="floating")
        return self.up(self.encoder(x))


class UNet(nn.Module):
    """A two-level U-Net: the FCN's encoder, and a decoder that upsamples 2x at a time and
    concatenates the encoder's map of the same resolution (the skip) before two convolutions."""

    def __init__(self, num_classes: int, width: int = 16):
        super().__init__()
        w = width
        self.enc1 = conv_block(1, w)
        self.enc2 = nn.Sequential(conv_block(w, 2 * w, 2), conv_block(2 * w, 2 * w))
        self.bottom = nn.Sequential(conv_block(2 * w, 4 * w, 2), conv_block(4 * w, 4 * w))
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = conv_block(4 * w, 2 * w)
        self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.dec1 = conv_block(2 * w, w)
        self.out = nn.Conv2d(w, num_classes + 1, 1)

    def forward(self, x):
        check_tensor("x", x, ndim=4, dtype="floating")
        s1 = self.enc1(x)  # full resolution
        s2 = self.enc2(s1)  # 1/2
        h = self.bottom(s2)  # 1/4
        h = self.dec2(torch.cat([self.up2(h), s2], 1))
        h = self.dec1(torch.cat([self.up1(h), s1], 1))
        return self.out(h)


def max_unpool2d(x: torch.Tensor, indices: torch.Tensor, output_size) -> torch.Tensor:
    """Inverse of max pooling (SegNet): put each value back where its maximum came from.

    ``indices`` are those of ``F.max_pool2d(..., return_indices=True)``: for each pooled value,
    the flat position h * W + w in its (H, W) input plane. Every other position is 0.
    """
    check_tensor("x", x, ndim=4)
    check_tensor("indices", indices, shape=tuple(x.shape), dtype="integer")
    H, W = output_size
    n, c = x.shape[:2]
    if int(indices.max()) >= H * W:
        raise ValueError(f"indices go up to {int(indices.max())}, beyond an {H}x{W} plane")
    out = x.new_zeros(n, c, H * W)
    out.scatter_(2, indices.flatten(2), x.flatten(2))
    return out.view(n, c, H, W)


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """G_ij = (1 / (H W)) sum_p F_ip F_jp for each image's (C, H, W) feature map: (N, C, C).

    It keeps which channels fire together and drops where: a summary of texture, not layout.
    """
    check_tensor("features", features, ndim=4, dtype="floating")
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


class PatchEmbedding(nn.Module):
    """Cut the image into p x p patches and map each linearly to a d-vector: a p x p
    convolution with stride p, flattened to (N, number of patches, d)."""

    def __init__(self, patch: int, dim: int, channels: int = 1):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, patch, stride=patch)
        self.patch = patch

    def forward(self, x):
        check_tensor("x", x, ndim=4, dtype="floating")
        if x.shape[-1] % self.patch or x.shape[-2] % self.patch:
            raise ValueError(f"image sides {tuple(x.shape[-2:])} must be multiples of {self.patch}")
        return self.proj(x).flatten(2).transpose(1, 2)


class ViT(nn.Module):
    """Vision Transformer: patch embeddings, a learned class token in front, learned position
    embeddings added, a pre-norm transformer encoder, and a linear head on the class token."""

    def __init__(self, image_size: int, patch: int, num_classes: int, dim: int = 32,
                 depth: int = 2, heads: int = 4, mlp: int = 64, dropout: float = 0.0):  # fmt: skip
        super().__init__()
        check_int("image_size", image_size, min_value=1)
        if image_size % patch:
            raise ValueError(f"image_size {image_size} must be a multiple of patch {patch}")
        self.embed = PatchEmbedding(patch, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(0.02 * torch.randn(1, (image_size // patch) ** 2 + 1, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout, batch_first=True,
                                           norm_first=True)  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        tokens = self.embed(x)
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], 1) + self.pos
        return self.head(self.norm(self.encoder(tokens)[:, 0]))
