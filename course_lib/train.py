"""A short, readable training loop: ``fit`` trains, ``evaluate`` measures.

Data are given as (X, y) pairs of tensors (for example a ``Split``), so that a whole small
dataset can live on the device and mini-batches are plain slices.
"""

import copy

import torch
from tqdm.auto import tqdm

from .data.split import batches, check_pair
from .device import device as default_device
from .device import seeded
from .metrics import accuracy

DEFAULT_METRICS = {"accuracy": accuracy}


def _as_pair(data, name):
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise TypeError(f"{name} must be an (X, y) pair of tensors, got {type(data).__name__}")
    X, y = data
    check_pair(X, y)
    return X, y


@torch.no_grad()
def evaluate(model, data, loss_fn=None, *, metrics=None, batch_size: int = 1024) -> dict:
    """Return the mean loss (if ``loss_fn`` is given) and each metric on ``data``.

    Metrics are functions ``metric(outputs, targets) -> float`` computed on all outputs at once.
    The model is put in eval mode and restored to its previous mode afterwards.
    """
    X, y = _as_pair(data, "data")
    metrics = DEFAULT_METRICS if metrics is None else metrics
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    outputs = torch.cat([model(xb.to(dev)) for xb, _ in batches(X, y, batch_size)])
    model.train(was_training)
    y = y.to(dev)
    result = {}
    if loss_fn is not None:
        result["loss"] = loss_fn(outputs, y).item()
    for name, metric in metrics.items():
        result[name] = metric(outputs, y)
    return result


def fit(
    model,
    train_data,
    *,
    loss_fn,
    epochs: int = 10,
    lr: float = 1e-3,
    optimizer=None,
    batch_size: int = 64,
    val_data=None,
    metrics=None,
    clip_grad: float | None = None,
    patience: int | None = None,
    device=None,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Train ``model`` with mini-batch gradient descent and return its history.

    Each step computes the mini-batch loss L = (1/B) sum_i loss(f(x_i), y_i), back-propagates,
    optionally clips the gradient norm to ``clip_grad``, and lets the optimizer update the
    parameters (Adam with learning rate ``lr`` unless ``optimizer`` is given).

    The history maps ``train_loss`` and, with ``val_data``, ``val_loss`` and ``val_<metric>``
    to one value per epoch. With ``patience``, training stops after that many epochs without
    a better validation loss, and the best weights are restored.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if patience is not None and val_data is None:
        raise ValueError("early stopping (patience) needs val_data to watch")
    dev = torch.device(device) if device is not None else default_device()
    model.to(dev)
    X, y = (t.to(dev) for t in _as_pair(train_data, "train_data"))
    if val_data is not None:
        val_data = tuple(t.to(dev) for t in _as_pair(val_data, "val_data"))
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seeded(seed))
    history = {"train_loss": []}
    best_loss, best_state, bad_epochs = float("inf"), None, 0

    bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=False)
    for _ in bar:
        model.train()
        total, count = 0.0, 0
        for xb, yb in batches(X, y, batch_size, shuffle=True, generator=generator):
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
        history["train_loss"].append(total / count)
        postfix = {"train_loss": f"{total / count:.4f}"}

        if val_data is not None:
            scores = evaluate(model, val_data, loss_fn, metrics=metrics)
            for name, value in scores.items():
                history.setdefault(f"val_{name}", []).append(value)
            postfix["val_loss"] = f"{scores['loss']:.4f}"
            if patience is not None:
                if scores["loss"] < best_loss:
                    best_loss, bad_epochs = scores["loss"], 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    bad_epochs += 1
                    if bad_epochs >= patience:
                        break
        bar.set_postfix(postfix)

    if best_state is not None:
        model.load_state_dict(best_state)
    return history
