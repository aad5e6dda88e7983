"""The models of chapter 07b: FC-to-conv rewrite, MAC counts, max unpooling, Gram matrices, ViT."""

import pytest
import torch
import torch.nn.functional as F
from tolerances import assert_close
from torch import nn

from course_lib.models.dense_vision import (
    FCN,
    GridDetector,
    PatchEmbedding,
    ShapeClassifier,
    UNet,
    ViT,
    count_macs,
    fully_convolutional,
    gram_matrix,
    max_unpool2d,
)


def test_fully_convolutional_equals_the_classifier_and_slides_it():
    torch.manual_seed(0)
    clf = ShapeClassifier(5, size=16).double().eval()
    dense = fully_convolutional(clf).double().eval()
    x = torch.rand(4, 1, 16, 16, dtype=torch.float64)
    assert_close(dense(x).flatten(1), clf(x), ops=2048)
    big = torch.rand(2, 1, 24, 24, dtype=torch.float64)
    scores = dense(big)
    assert scores.shape == (2, 5, 3, 3)
    # cell (i, j) of the map is the classifier on the window at (4 i, 4 j)
    for i in range(3):
        for j in range(3):
            window = big[:, :, 4 * i : 4 * i + 16, 4 * j : 4 * j + 16]
            assert_close(scores[:, :, i, j], clf(window), ops=2048)


def test_count_macs_by_hand():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert count_macs(conv, torch.zeros(1, 3, 10, 10)) == 8 * 10 * 10 * 3 * 9
    lin = nn.Linear(7, 4)
    assert count_macs(lin, torch.zeros(5, 7)) == 5 * 4 * 7
    up = nn.ConvTranspose2d(6, 2, 4, stride=4)
    assert count_macs(up, torch.zeros(1, 6, 3, 3)) == 9 * 6 * 2 * 16
    grouped = nn.Conv2d(4, 4, 3, groups=4)
    assert count_macs(grouped, torch.zeros(1, 4, 5, 5)) == 4 * 3 * 3 * 9
    assert not conv._forward_hooks  # the hooks are removed


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_max_unpool_matches_pytorch(dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 9, 8, generator=g, dtype=dtype)
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    torch.testing.assert_close(
        max_unpool2d(pooled, idx, (9, 8)), F.max_unpool2d(pooled, idx, 2, output_size=(9, 8))
    )
    with pytest.raises(ValueError, match="indices must have shape"):
        max_unpool2d(pooled, idx[:, :2], (9, 8))
    with pytest.raises(ValueError, match="beyond an 2x2 plane"):
        max_unpool2d(pooled, idx, (2, 2))


def test_gram_matrix_matches_a_loop():
    g = torch.Generator().manual_seed(1)
    f = torch.randn(2, 4, 3, 5, generator=g, dtype=torch.float64)
    expected = torch.zeros(2, 4, 4, dtype=torch.float64)
    for n in range(2):
        for i in range(4):
            for j in range(4):
                expected[n, i, j] = (f[n, i] * f[n, j]).sum() / 15
    torch.testing.assert_close(gram_matrix(f), expected)
    # it forgets where: shuffling the positions leaves it unchanged
    perm = torch.randperm(15, generator=g)
    shuffled = f.flatten(2)[:, :, perm].view_as(f)
    torch.testing.assert_close(gram_matrix(shuffled), expected)
    with pytest.raises(ValueError, match="features must be 4-D"):
        gram_matrix(f[0])


def test_shapes_of_the_dense_models():
    x = torch.rand(2, 1, 32, 32)
    assert FCN(5, width=4)(x).shape == (2, 6, 32, 32)
    assert UNet(5, width=4)(x).shape == (2, 6, 32, 32)
    assert GridDetector(5, width=4)(x).shape == (2, 9, 8, 8)
    with pytest.raises(ValueError, match=r"x must have shape \(\?, 1, 16, 16\)"):
        ShapeClassifier(5, size=16)(x)
    with pytest.raises(ValueError, match="size must be a multiple of 4 and >= 12"):
        ShapeClassifier(5, size=18)


def test_vit_tokens_and_errors():
    torch.manual_seed(0)
    vit = ViT(image_size=8, patch=2, num_classes=10, dim=16, depth=1, heads=2, mlp=32)
    x = torch.rand(3, 1, 8, 8)
    assert vit.embed(x).shape == (3, 16, 16)
    assert vit.pos.shape == (1, 17, 16) and vit(x).shape == (3, 10)
    # patch embedding = linear map of each flattened patch
    emb = PatchEmbedding(2, 5)
    patches = x.unfold(2, 2, 2).unfold(3, 2, 2).reshape(3, 16, 4)
    expected = patches @ emb.proj.weight.view(5, 4).T + emb.proj.bias
    torch.testing.assert_close(emb(x), expected)
    with pytest.raises(ValueError, match="multiples of 2"):
        emb(torch.rand(1, 1, 7, 8))
    with pytest.raises(ValueError, match="multiple of patch"):
        ViT(image_size=9, patch=2, num_classes=3)
