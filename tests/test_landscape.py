"""Loss-landscape slices: filter normalisation and the value at the origin."""

import pytest
import torch

from course_lib.landscape import loss_slice, random_direction


def _model_and_data():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    X, y = torch.randn(20, 4), torch.randint(0, 3, (20,))
    return model, X, y


def test_direction_is_filter_normalised():
    model, _, _ = _model_and_data()
    d = random_direction(model, generator=torch.Generator().manual_seed(1))
    for name, p in model.named_parameters():
        if p.ndim == 1:
            assert torch.count_nonzero(d[name]) == 0
        else:
            torch.testing.assert_close(d[name].norm(dim=1), p.detach().norm(dim=1))


def test_slice_matches_direct_evaluation():
    model, X, y = _model_and_data()
    loss_fn = torch.nn.functional.cross_entropy
    gen = torch.Generator().manual_seed(2)
    d1, d2 = random_direction(model, generator=gen), random_direction(model, generator=gen)
    alphas, betas = torch.tensor([-0.5, 0.0, 0.5]), torch.tensor([0.0, 0.25])
    surface = loss_slice(model, loss_fn, X, y, d1, d2, alphas, betas)
    assert surface.shape == (2, 3)
    with torch.no_grad():
        assert surface[0, 1].item() == pytest.approx(loss_fn(model(X), y).item(), rel=1e-6)
        moved = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
        moved.load_state_dict(
            {n: p + 0.5 * d1[n] + 0.25 * d2[n] for n, p in model.state_dict().items()}
        )
        assert surface[1, 2].item() == pytest.approx(loss_fn(moved(X), y).item(), rel=1e-6)
    line = loss_slice(model, loss_fn, X, y, d1, None, alphas)
    torch.testing.assert_close(line, surface[0])
    with pytest.raises(ValueError, match="betas"):
        loss_slice(model, loss_fn, X, y, d1, d2, alphas)


def test_plot_paths_draws_each_path():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib import optim
    from course_lib.plot.optim import plot_paths

    path = optim.trajectory(
        lambda p: optim.Adam(p, lr=0.1),
        optim.rosenbrock,
        torch.tensor([-1.0, 1.0], dtype=torch.float64),
        10,
    )
    ax = plot_paths(optim.rosenbrock, {"adam": path, "nan": torch.full((3, 2), float("nan"))})
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["adam", "nan"]
    plt.close(ax.figure)
