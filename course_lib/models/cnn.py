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
