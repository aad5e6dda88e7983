"""Transfer-learning helpers: freezing, new heads, two learning rates, few-shot subsets."""

import copy

import pytest
import torch
import torch.nn.functional as F
from tolerances import allclose

from course_lib.models.modern_cnn import DeepNet, VGGNet, num_parameters
from course_lib.transfer import (
    extract_features,
    few_shot_split,
    finetune_optimizer,
    freeze,
    replace_head,
    select_classes,
    unfreeze,
)


def test_freeze_stops_updates_of_the_backbone_only():
    torch.manual_seed(0)
    net = VGGNet(((4, 1), (8, 1)), image_size=8, embedding=16, num_classes=3)
    freeze(net.backbone)
    assert num_parameters(net, trainable_only=True) == num_parameters(net.head)
    before = copy.deepcopy(net.state_dict())
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    loss = F.cross_entropy(net(torch.randn(8, 1, 8, 8)), torch.randint(0, 3, (8,)))
    loss.backward()
    opt.step()
    after = net.state_dict()
    for name in before:
        changed = not torch.equal(before[name], after[name])
        assert changed == name.startswith("head"), name
    unfreeze(net.backbone)
    assert num_parameters(net, trainable_only=True) == num_parameters(net)
    with pytest.raises(TypeError, match="nn.Module"):
        freeze("backbone")


def test_replace_head_keeps_the_backbone():
    net = DeepNet(1, width=8, num_classes=5)
    backbone_state = copy.deepcopy(net.backbone.state_dict())
    old_head = net.head
    replace_head(net, 3)
    assert net.head is not old_head and net.head.in_features == 8 and net.head.out_features == 3
    assert net.eval()(torch.randn(2, 1, 8, 8)).shape == (2, 3)  # eval: BN statistics fixed
    for k, v in net.backbone.state_dict().items():
        assert torch.equal(v, backbone_state[k])
    with pytest.raises(ValueError, match="model.fc"):
        replace_head(net, 3, name="fc")
    with pytest.raises(ValueError, match="num_classes"):
        replace_head(net, 0)


def test_finetune_optimizer_groups_and_learning_rates():
    net = DeepNet(1, width=8, num_classes=5)
    opt = finetune_optimizer(net, lr=1e-2, backbone_lr=1e-3)
    head_group, backbone_group = opt.param_groups
    assert head_group["lr"] == 1e-2 and backbone_group["lr"] == 1e-3
    assert {id(p) for p in head_group["params"]} == {id(p) for p in net.head.parameters()}
    n_backbone = sum(p.numel() for p in backbone_group["params"])
    assert n_backbone == num_parameters(net.backbone)
    freeze(net.backbone)
    assert len(finetune_optimizer(net, lr=1e-2, backbone_lr=1e-3).param_groups) == 1
    with pytest.raises(ValueError, match="lr"):
        finetune_optimizer(net, lr=0, backbone_lr=1e-3)


def test_finetune_optimizer_steps_like_two_torch_adams():
    """One step with the two groups equals separate torch Adams at the two learning rates."""
    torch.manual_seed(0)
    net = DeepNet(1, width=4, num_classes=3, batch_norm=False)
    ref = copy.deepcopy(net)
    X, y = torch.randn(6, 1, 8, 8), torch.randint(0, 3, (6,))
    opt = finetune_optimizer(net, lr=1e-2, backbone_lr=1e-4)
    ref_opts = [
        torch.optim.Adam(ref.head.parameters(), lr=1e-2),
        torch.optim.Adam(ref.backbone.parameters(), lr=1e-4),
    ]
    for model, opts in ((net, [opt]), (ref, ref_opts)):
        F.cross_entropy(model(X), y).backward()
        for o in opts:
            o.step()
    for p, q in zip(net.parameters(), ref.parameters(), strict=True):
        assert torch.allclose(p, q)


def test_extract_features_uses_eval_mode_and_restores_it():
    net = DeepNet(1, width=8, num_classes=5)
    net.train()
    X = torch.randn(10, 1, 8, 8)
    feats = extract_features(net.backbone, X, batch_size=3)
    assert feats.shape == (10, 8) and net.backbone.training
    net.eval()
    with torch.no_grad():
        # batches of 3 and of 10 may take different kernels: compare with a dtype tolerance
        assert allclose(feats, net.backbone(X), ops=64)


def test_select_classes_relabels_in_order():
    X = torch.arange(10.0)[:, None]
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    sub = select_classes(X, y, [7, 5])
    assert sub.y.tolist() == [1, 0] and sub.X.flatten().tolist() == [5.0, 7.0]
    with pytest.raises(ValueError, match="repeats"):
        select_classes(X, y, [5, 5])


def test_few_shot_split_has_k_per_class_and_is_disjoint():
    y = torch.arange(5).repeat_interleave(20)
    X = torch.arange(100.0)[:, None]
    few, rest = few_shot_split(X, y, 3, seed=1)
    assert torch.bincount(few.y).tolist() == [3] * 5
    assert len(rest.y) == 85
    ids = set(few.X.flatten().tolist()) | set(rest.X.flatten().tolist())
    assert len(ids) == 100  # every example exactly once
    again, _ = few_shot_split(X, y, 3, seed=1)
    other, _ = few_shot_split(X, y, 3, seed=2)
    assert torch.equal(few.X, again.X) and not torch.equal(few.X, other.X)
    with pytest.raises(ValueError, match="fewer than k=30"):
        few_shot_split(X, y, 30)
    with pytest.raises(ValueError, match="positive int"):
        few_shot_split(X, y, 0)
