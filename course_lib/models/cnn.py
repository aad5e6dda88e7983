"""Convolutional classifiers shared by several chapters."""

import torch
from torch import nn


class SmallCNN(nn.Module):
    """A LeNet-style classifier for small grey images (default 8x8 digits, 10 classes).

    conv(3x3) -> ReLU -> conv(3x3) -> ReLU -> max-pool(2) -> flatten -> linear -> ReLU -> linear.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 8,
        width: int = 32,
        hidden: int = 128,
    ):
        super().__init__()
        if image_size % 2:
            raise ValueError(f"image_size must be even (one 2x2 pooling), got {image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        flat = 2 * width * (image_size // 2) ** 2
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(x.shape)}")
        return self.classifier(self.features(x))


def _conv_out(i, k, p):
    from .autoencoder import conv_output_size

    return conv_output_size(i, k, 1, p)


class LeNet(nn.Module):
    """LeNet-style classifier: [conv(k) -> (ReLU) -> max-pool(2)] per entry of ``channels``,
    then flatten -> [linear -> ReLU] per entry of ``hidden`` -> linear to ``num_classes``.

    The spatial size after each block is floor((floor(i + 2p - k) + 1) / 2). The defaults are
    LeNet-5's widths (6, 16; 120, 84) with ReLU and max-pooling instead of the original
    tanh-like squashing and trainable sub-sampling.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        channels=(6, 16),
        hidden=(120, 84),
        kernel_size: int = 5,
        padding: int = 0,
        conv_activation: bool = True,
    ):
        super().__init__()
        layers, c, size = [], in_channels, image_size
        for n, width in enumerate(channels):
            size = _conv_out(size, kernel_size, padding) // 2
            if size < 1:
                raise ValueError(
                    f"image_size={image_size} is too small for {len(channels)} blocks of "
                    f"conv({kernel_size}, padding {padding}) + pool(2): block {n} has no pixels"
                )
            layers.append(nn.Conv2d(c, width, kernel_size, padding=padding))
            if conv_activation:
                layers.append(nn.ReLU())
            layers.append(nn.MaxPool2d(2))
            c = width
        self.features = nn.Sequential(*layers)
        sizes = [c * size * size, *hidden]
        mlp = [nn.Flatten()]
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            mlp += [nn.Linear(a, b), nn.ReLU()]
        mlp.append(nn.Linear(sizes[-1], num_classes))
        self.classifier = nn.Sequential(*mlp)
        self.in_channels, self.image_size = in_channels, image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.in_channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"expected images of shape (N, *{expected}), got {tuple(x.shape)}")
        return self.classifier(self.features(x))


def cnn_20_50_500(num_classes: int = 21, image_size: int = 28) -> LeNet:
    """The assignment's network "20-50-500-21": conv(20, 5x5) -> max-pool(2, stride 2) ->
    conv(50, 5x5) -> max-pool(2, stride 2) -> linear(500) -> ReLU -> linear(num_classes).

    As specified (and as in MatConvNet's LeNet example) only the fully connected layer has a
    ReLU; the max-pooling layers are the convolutional part's only non-linearity.
    """
    return LeNet(
        num_classes, 1, image_size, channels=(20, 50), hidden=(500,), conv_activation=False
    )


class SignalCNN(nn.Module):
    """1-D CNN for MNIST-1D-like signals (N, L): three conv1d(k=5, stride 2, padding 1) + ReLU
    layers of ``width`` channels, flatten, linear to ``num_classes`` (after Greydanus 2020)."""

    def __init__(self, length: int = 40, num_classes: int = 10, width: int = 25):
        super().__init__()
        layers, c, size = [], 1, length
        for _ in range(3):
            layers += [nn.Conv1d(c, width, 5, stride=2, padding=1), nn.ReLU()]
            c, size = width, (size + 2 - 5) // 2 + 1
        if size < 1:
            raise ValueError(f"length={length} is too short for three stride-2 convolutions")
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width * size, num_classes)
        self.length = length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.length:
            raise ValueError(f"expected signals of shape (N, {self.length}), got {tuple(x.shape)}")
        return self.head(self.features(x[:, None]).flatten(1))
