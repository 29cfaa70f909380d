"""Figures written to reports/figures survive an interrupted save."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from src import plots


def test_interrupted_figure_save_keeps_the_previous_png(tmp_path, monkeypatch):
    figure = Figure()
    figure.subplots().plot([0, 1], [1, 0])
    path = plots.save_figure(figure, "curve", tmp_path)
    before = path.read_bytes()
    real_savefig = figure.savefig

    def half_then_interrupt(target, **kwargs):
        real_savefig(target, **kwargs)
        with open(target, "r+b") as file:
            file.truncate(100)
        raise KeyboardInterrupt

    monkeypatch.setattr(figure, "savefig", half_then_interrupt)

    # A Ctrl-C inside savefig used to leave a truncated PNG in reports/figures.
    with pytest.raises(KeyboardInterrupt):
        plots.save_figure(figure, "curve", tmp_path)

    assert path.read_bytes() == before
    assert [name.name for name in tmp_path.iterdir()] == ["curve.png"]


def test_one_window_per_unit_is_drawn_as_one_panel():
    frame = pd.DataFrame(
        {
            "unit": range(1001, 1101),
            "row": 0,
            "cycle": 50,
            "y_true": np.linspace(0, 140, 100),
            "y_pred": np.linspace(5, 130, 100),
        }
    )

    figure = plots.predictions_per_unit(frame, "CNN: test units")

    assert len(figure.axes) == 1
    assert figure.get_size_inches()[0] <= 10
    assert len(figure.axes[0].lines[1].get_xdata()) == 100


def test_distributions_without_flight_class_still_draw_every_row():
    sample = pd.DataFrame({"s2": np.arange(50.0), "flight_class": [None] * 50})

    figure = plots.distributions_by_class(sample, ["s2"])

    heights = [patch.get_height() for patch in figure.axes[0].patches]
    assert sum(heights) > 0
