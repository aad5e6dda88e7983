"""Transfer learning: reuse a trained backbone for a new task with few labels.

The recipe: (1) train (or take) a network on a source task; (2) keep its backbone, the part that
maps an input to an embedding, and put a new head on it for the target classes; (3) train
either the head alone on frozen features, or everything, the backbone with a smaller learning
rate so that it is adjusted rather than overwritten.
"""

import torch
from torch import nn

from .data.split import Split, check_pair
from .device import seeded


def freeze(module: nn.Module) -> nn.Module:
    """Stop the gradient of every parameter of ``module`` (requires_grad = False); return it.

    Frozen parameters are left out of ``loss.backward()`` and so never change. (Batch-norm
    running statistics are buffers, not parameters: put the module in ``eval()`` mode too if
    they must stay fixed.)
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Make every parameter of ``module`` trainable again; return it."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def replace_head(model: nn.Module, num_classes: int, *, name: str = "head") -> nn.Module:
    """Swap the final ``nn.Linear`` called ``name`` for a fresh one with ``num_classes`` outputs.

    The new head has the old one's number of inputs (the embedding size), random weights and
    lives on the same device. The model is changed in place and returned.
    """
    old = getattr(model, name, None)
    if not isinstance(old, nn.Linear):
        raise ValueError(f"model.{name} must be an nn.Linear head, got {type(old).__name__}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    new = nn.Linear(old.in_features, num_classes).to(old.weight.device)
    setattr(model, name, new)
    return model


def finetune_optimizer(
    model: nn.Module, *, lr: float, backbone_lr: float, head: str = "head", **kwargs
) -> torch.optim.Optimizer:
    """Adam with two parameter groups: the head at ``lr``, everything else at ``backbone_lr``.

    A pretrained backbone already computes useful features; a learning rate a few times smaller
    than the new head's keeps it close to them while it adapts. Frozen parameters are skipped.
    """
    if lr <= 0 or backbone_lr < 0:
        raise ValueError(
            f"need lr > 0 and backbone_lr >= 0, got lr={lr}, backbone_lr={backbone_lr}"
        )
    head_module = getattr(model, head, None)
    if not isinstance(head_module, nn.Module):
        raise ValueError(f"model has no module called {head!r}")
    head_ids = {id(p) for p in head_module.parameters()}
    head_params = [p for p in head_module.parameters() if p.requires_grad]
    rest = [p for p in model.parameters() if id(p) not in head_ids and p.requires_grad]
    groups = [{"params": head_params, "lr": lr}]
    if rest:
        groups.append({"params": rest, "lr": backbone_lr})
    return torch.optim.Adam(groups, **kwargs)


@torch.no_grad()
def extract_features(backbone: nn.Module, X: torch.Tensor, *, batch_size: int = 512):
    """The backbone's embeddings of X, computed in eval mode (fixed batch-norm statistics)."""
    was_training = backbone.training
    backbone.eval()
    dev = next(backbone.parameters()).device
    out = torch.cat([backbone(X[i : i + batch_size].to(dev)) for i in range(0, len(X), batch_size)])
    backbone.train(was_training)
    return out


def select_classes(X: torch.Tensor, y: torch.Tensor, classes) -> Split:
    """The examples whose label is in ``classes``, relabelled 0..len(classes)-1 in that order."""
    check_pair(X, y)
    classes = [int(c) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be a non-empty list without repeats, got {classes}")
    mapping = torch.full((int(y.max()) + 1 if len(y) else 1,), -1, dtype=torch.long)
    for new, old in enumerate(classes):
        if 0 <= old < len(mapping):
            mapping[old] = new
    keep = mapping[y.cpu()] >= 0
    return Split(X[keep.to(X.device)], mapping[y.cpu()][keep].to(y.device))


def few_shot_split(X: torch.Tensor, y: torch.Tensor, k: int, *, seed: int = 0):
    """Split (X, y) into k labelled examples per class and the rest: (few_shot, rest) Splits.

    The k examples of each class are drawn at random (fixed by ``seed``); every class present
    in y must have at least k examples.
    """
    check_pair(X, y)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k (labels per class) must be a positive int, got {k!r}")
    generator = torch.Generator().manual_seed(seeded(seed))
    labels = y.cpu()
    chosen = []
    for c in labels.unique().tolist():
        idx = (labels == c).nonzero().flatten()
        if len(idx) < k:
            raise ValueError(f"class {c} has only {len(idx)} examples, fewer than k={k}")
        chosen.append(idx[torch.randperm(len(idx), generator=generator)[:k]])
    chosen = torch.cat(chosen)
    mask = torch.zeros(len(labels), dtype=torch.bool)
    mask[chosen] = True
    take, rest = chosen.to(X.device), (~mask).nonzero().flatten().to(X.device)
    return Split(X[take], y[take]), Split(X[rest], y[rest])
