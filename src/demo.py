"""Interactive RUL demo: pick an engine unit and a moment of its life, see the RUL.

`RULDemo` holds the logic and the ipywidgets; notebooks only create and display it.
Predictions of each (model, unit) are computed once and cached, so moving the time
slider only looks values up and redraws one figure.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import ipywidgets as widgets
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from src.data_loader import RULData
from src.windows import WindowDataset

Predictor = Callable[[WindowDataset], np.ndarray]


@dataclass
class UnitView:
    """Windows of one unit with what the demo shows about them."""

    dataset: WindowDataset
    cycles: np.ndarray  # (n,) flight cycle of each window
    y_true: np.ndarray  # (n,) RUL at each window's last row


@dataclass
class Reading:
    """What the demo displays for the selected window."""

    unit: int
    model: str
    window: int
    cycle: int
    position: int
    predicted: float
    true: float

    @property
    def error(self) -> float:
        return self.predicted - self.true


class RULDemo:
    """Unit dropdown, cycle and position sliders, model toggle; RUL shown at once.

    Args:
        data: Scaled data (every unit is offered; test units first, marked).
        predictors: Model name -> function returning one prediction per window of a
            WindowDataset (e.g. `lambda ds: predict(model, ds)`).
        layouts: Model name -> window layout the model expects ("cnn" or "lstm").
        win_len, stride, downsample: Window settings the models were trained with.
        test_units: Units to list first and mark as test units.
    """

    def __init__(
        self,
        data: RULData,
        predictors: dict[str, Predictor],
        layouts: dict[str, str],
        win_len: int,
        stride: int = 1,
        downsample: int = 1,
        test_units: list[int] | None = None,
    ) -> None:
        if not predictors:
            raise ValueError("the demo needs at least one model")
        self.data, self.predictors, self.layouts = data, predictors, layouts
        self.windows = {"win_len": win_len, "stride": stride, "downsample": downsample}
        self.test_units = list(test_units or data.unit_ids("test"))
        self._views: dict[tuple[int, str], UnitView] = {}
        self._quiet = False  # set while one change moves several widgets
        self._predictions: dict[tuple[str, int], np.ndarray] = {}
        self._plot = _Plot(win_len)
        self._build_widgets()
        self._on_unit_change()

    # Logic -----------------------------------------------------------------------

    def view(self, unit: int, layout: str) -> UnitView:
        """Windows of `unit` in `layout`, built once."""
        key = (unit, layout)
        if key not in self._views:
            dataset = WindowDataset(
                [self.data.unit(unit)], layout=layout, **self.windows
            )
            self._views[key] = UnitView(dataset, dataset.window_cycle, dataset.labels())

        return self._views[key]

    def predictions(self, model: str, unit: int) -> np.ndarray:
        """Prediction for every window of `unit` by `model`, computed once."""
        key = (model, unit)
        if key not in self._predictions:
            dataset = self.view(unit, self.layouts[model]).dataset
            self._predictions[key] = np.asarray(self.predictors[model](dataset))

        return self._predictions[key]

    def reading(self, unit: int, model: str, cycle: int, position: int) -> Reading:
        """Predicted and true RUL of the `position`-th window in flight `cycle`."""
        view = self.view(unit, self.layouts[model])
        in_cycle = np.flatnonzero(view.cycles == cycle)
        if len(in_cycle) == 0:
            available = np.unique(view.cycles)
            raise ValueError(
                f"unit {unit} has no window in cycle {cycle}; cycles "
                f"{available.min()}..{available.max()}"
            )
        window = int(in_cycle[min(position, len(in_cycle) - 1)])
        predicted = float(self.predictions(model, unit)[window])

        return Reading(
            unit, model, window, cycle, position, predicted, float(view.y_true[window])
        )

    def select(
        self,
        unit: int | None = None,
        cycle: int | None = None,
        position: int | None = None,
        model: str | None = None,
    ) -> Reading:
        """Set the widgets as a user would and return what is displayed."""
        if model is not None:
            self.model.value = model
        if unit is not None:
            if unit not in self.data.unit_ids():
                raise ValueError(
                    f"unknown unit {unit}; available: {self.data.unit_ids()}"
                )
            self.unit.value = unit
        if cycle is not None:
            self.cycle.value = cycle
        if position is not None:
            self.position.value = position

        return self.current

    # Widgets ----------------------------------------------------------------------

    def _build_widgets(self) -> None:
        others = [u for u in self.data.unit_ids() if u not in self.test_units]
        options = [(f"unit {u} (test)", u) for u in self.test_units]
        options += [(f"unit {u}", u) for u in others]
        self.unit = widgets.Dropdown(options=options, description="Engine")
        self.model = widgets.ToggleButtons(
            options=list(self.predictors), description="Model"
        )
        self.cycle = widgets.IntSlider(
            description="Flight cycle", continuous_update=True
        )
        self.position = widgets.IntSlider(
            description="Window in flight", continuous_update=True
        )
        self.numbers = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.unit.observe(lambda _: self._on_unit_change(), "value")
        self.model.observe(lambda _: self._on_unit_change(), "value")
        self.cycle.observe(lambda _: self._on_cycle_change(), "value")
        self.position.observe(lambda _: self._refresh(), "value")
        controls = widgets.VBox([self.unit, self.model, self.cycle, self.position])
        self.widget = widgets.VBox([widgets.HBox([controls, self.numbers]), self.image])

    def _on_unit_change(self) -> None:
        view = self.view(self.unit.value, self.layouts[self.model.value])
        self.predictions(self.model.value, self.unit.value)
        with self.cycle.hold_trait_notifications():
            self.cycle.min, self.cycle.max = (
                int(view.cycles.min()),
                int(view.cycles.max()),
            )
        self._on_cycle_change()

    def _on_cycle_change(self) -> None:
        view = self.view(self.unit.value, self.layouts[self.model.value])
        self.position.max = max(int((view.cycles == self.cycle.value).sum()) - 1, 0)
        self._refresh()

    def _refresh(self) -> None:
        self.current = self.reading(
            self.unit.value, self.model.value, self.cycle.value, self.position.value
        )
        self.numbers.value = _numbers_html(self.current)
        self.image.value = self._render(self.current)

    def _render(self, reading: Reading) -> bytes:
        view = self.view(reading.unit, self.layouts[reading.model])
        key = (reading.unit, reading.model)
        if not self._plot.show(key):
            predicted = self.predictions(reading.model, reading.unit)
            self._plot.draw_background(
                key, view.y_true, predicted, self.data.feature_names
            )
        x, _ = view.dataset[reading.window]

        return self._plot.render(reading, x.reshape(x.shape[-2:]).numpy())


def _numbers_html(reading: Reading) -> str:
    style = "font-size:2.2em;font-weight:bold"
    return (
        f"<div style='padding-left:2em'>"
        f"<div>Predicted RUL <span style='{style}'>{reading.predicted:.1f}</span></div>"
        f"<div>True RUL <span style='{style}'>{reading.true:.0f}</span></div>"
        f"<div>Error {reading.error:+.1f} cycles (unit {reading.unit}, "
        f"flight {reading.cycle}, window {reading.window})</div></div>"
    )


class _Plot:
    """Trajectory and sensor-window figure, drawn in full once per unit and model.

    The drawn background (pixels and axis limits) of every (unit, model) is kept, so
    a change restores one and draws only the three moving artists
    (time marker, predicted point, window image) on top: axes and lines stay.
    """

    def __init__(self, win_len: int) -> None:
        self.win_len = win_len
        self.figure = Figure(figsize=(11, 3.6), dpi=72)
        FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.06, right=0.98, bottom=0.14, top=0.9)
        self.trajectory, self.sensors = self.figure.subplots(1, 2)
        self.key = None
        self.backgrounds: dict[tuple, tuple] = {}  # key -> (pixels, xlim, ylim)

    def show(self, key) -> bool:
        """Make `key`'s saved background current; False if it was never drawn."""
        if key not in self.backgrounds:
            return False
        self.background, xlim, ylim = self.backgrounds[key]
        # The moving artists are placed through these limits.
        self.trajectory.set_xlim(xlim)
        self.trajectory.set_ylim(ylim)
        self.key = key

        return True

    def draw_background(self, key, y_true, predicted, feature_names) -> None:
        trajectory, sensors = self.trajectory, self.sensors
        trajectory.clear()
        sensors.clear()
        steps = np.arange(len(predicted))
        trajectory.plot(steps, y_true, color="black", label="true RUL")
        trajectory.plot(steps, predicted, color="tab:blue", alpha=0.7, label=key[1])
        trajectory.set(
            xlabel="window (time)",
            ylabel="RUL [cycles]",
            title=f"unit {key[0]}: predicted vs true RUL",
        )
        trajectory.legend(loc="upper right")
        self.marker = trajectory.axvline(0, color="tab:red", animated=True)
        (self.point,) = trajectory.plot([0], [0], "o", color="tab:red", animated=True)
        blank = np.zeros((len(feature_names), self.win_len))
        self.image = sensors.imshow(
            blank, aspect="auto", cmap="coolwarm", vmin=-3, vmax=3, animated=True
        )
        sensors.set_yticks(range(len(feature_names)), feature_names, fontsize=6)
        sensors.set(xlabel="row in window", title="current window (z-scores)")
        self.figure.canvas.draw()
        self.background = self.figure.canvas.copy_from_bbox(self.figure.bbox)
        limits = (self.trajectory.get_xlim(), self.trajectory.get_ylim())
        self.backgrounds[key] = (self.background, *limits)
        self.key = key

    def render(self, reading: Reading, window: np.ndarray) -> bytes:
        """PNG of the figure with the marker at `reading` and `window` shown.

        Shapes:
            window: (win_len, m), drawn as m rows by win_len columns.
        """
        canvas = self.figure.canvas
        canvas.restore_region(self.background)
        self.marker.set_xdata([reading.window, reading.window])
        self.point.set_data([reading.window], [reading.predicted])
        self.image.set_data(window.T)
        self.image.set_extent(
            (-0.5, window.shape[0] - 0.5, window.shape[1] - 0.5, -0.5)
        )
        for artist in (self.marker, self.point, self.image):
            artist.axes.draw_artist(artist)
        buffer = io.BytesIO()
        PIL.Image.fromarray(np.asarray(canvas.buffer_rgba())).save(
            buffer, format="png", compress_level=1
        )

        return buffer.getvalue()


def demo_for_models(
    data: RULData, models: dict[str, nn.Module], layouts: dict[str, str], config
) -> RULDemo:
    """A demo over `models` (name -> network) with the run's window settings."""
    predictors = {
        name: partial(_predict_windows, model, config.batch_size)
        for name, model in models.items()
    }

    return RULDemo(
        data, predictors, layouts, config.win_len, config.stride, config.downsample
    )


def _predict_windows(model: nn.Module, batch_size: int, dataset) -> np.ndarray:
    from src.training import predict

    return predict(model, dataset, batch_size)
