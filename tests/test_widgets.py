import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from ipywidgets import IntSlider

from course_lib.widgets import explore


def test_explore_draws_default_then_redraws_on_change():
    calls = []

    def draw(n):
        calls.append(n)
        fig, ax = plt.subplots()
        ax.plot(range(n))
        return fig

    slider = IntSlider(value=3, min=1, max=10)
    explore(draw, n=slider)
    assert calls == [3]  # the static default is drawn once
    slider.value = 7
    assert calls == [3, 7]  # and redrawn live when the control moves


def test_explore_needs_value_widgets():
    with pytest.raises(ValueError, match="at least one control"):
        explore(lambda: None)
    with pytest.raises(TypeError, match="value widget"):
        explore(lambda n: None, n=3)
