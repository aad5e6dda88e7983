"""Interactive figures that still make sense on a static page.

``explore`` draws the figure once at the controls' default values as an ordinary output, so
the rendered book and a notebook run without a live kernel show it, and then redraws that same
output in place whenever a control changes.
"""

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import DisplayHandle, display


def explore(draw, **controls) -> None:
    """Show ``draw(**values)`` for the controls' current values and redraw it on every change.

    ``draw`` makes a Matplotlib figure (it may create its own with ``plt.subplots``) and returns
    the figure or an Axes. ``controls`` are ipywidgets value widgets, e.g.
    ``explore(draw, degree=IntSlider(3, 1, 15))``. Returns nothing, so that a notebook cell
    ending in ``explore(...)`` does not display the controls twice.
    """
    if not controls:
        raise ValueError("explore needs at least one control, e.g. degree=IntSlider(3, 1, 10)")
    for name, control in controls.items():
        if not hasattr(control, "value"):
            raise TypeError(f"control {name!r} must be an ipywidgets value widget")

    def render():
        result = draw(**{name: c.value for name, c in controls.items()})
        fig = result if isinstance(result, plt.Figure) else plt.gcf()
        plt.close(fig)
        return fig

    box = widgets.HBox(list(controls.values()))
    for name, control in controls.items():
        control.description = control.description or name
    display(box)
    handle = DisplayHandle()
    handle.display(render())

    def on_change(_change):
        handle.update(render())

    for control in controls.values():
        control.observe(on_change, names="value")
