"""Figures written to reports/figures survive an interrupted save."""

from __future__ import annotations

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
