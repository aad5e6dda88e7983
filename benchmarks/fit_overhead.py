"""How much does ``course_lib.fit`` cost over a hand-written PyTorch loop?

Both train the same MLP on the same digits, with the same seed, optimizer, batch order and
number of epochs; the script checks that they end at the same loss and prints the ratio of
their median wall-clock times (target: <= 1.05).

    python benchmarks/fit_overhead.py [--repeat 5] [--epochs 30]
"""

import argparse
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F

from course_lib import device, fit, set_seed
from course_lib.data import load_digits


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def hand_loop(model, X, y, *, epochs, lr, batch_size, seed):
    """The loop a PyTorch user writes: same shuffling generator as fit, no history, no bar."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator).to(X.device)
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return F.cross_entropy(model(X), y).item()


def timed(fn):
    start = time.perf_counter()
    result = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    dev = device()
    train, _, _ = load_digits()
    X, y = train.X.to(dev), train.y.to(dev)
    settings = dict(epochs=args.epochs, lr=1e-3, batch_size=64, seed=0)

    fit_times, loop_times = [], []
    for _ in range(args.repeat):
        set_seed(0)
        model = make_model().to(dev)
        t, _ = timed(
            lambda m=model: fit(
                m, (X, y), loss_fn=F.cross_entropy, progress=False, device=dev, **settings
            )
        )
        fit_loss = F.cross_entropy(model(X), y).item()
        fit_times.append(t)

        set_seed(0)
        model = make_model().to(dev)
        t, loop_loss = timed(lambda m=model: hand_loop(m, X, y, **settings))
        loop_times.append(t)
        if abs(fit_loss - loop_loss) > 1e-5 * max(1.0, loop_loss):
            raise SystemExit(f"the two loops diverged: fit {fit_loss:.6f} vs hand {loop_loss:.6f}")

    ratio = statistics.median(fit_times) / statistics.median(loop_times)
    print(f"device {dev}; final training loss {loop_loss:.5f} (identical for both)")
    print(
        f"fit: median {statistics.median(fit_times):.3f} s; hand-written loop: median "
        f"{statistics.median(loop_times):.3f} s; ratio {ratio:.3f} (target <= 1.05)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
