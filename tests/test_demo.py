"""The RUL demo driven programmatically, as a user moving the widgets would."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from src.data_loader import load_data, normalize_data
from src.demo import RULDemo


class WindowSum(torch.nn.Module):
    """A stand-in model whose prediction is easy to recompute for one window."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1).sum(dim=1, keepdim=True)


def _predict(model, dataset):
    with torch.no_grad():
        return model(dataset[np.arange(len(dataset))][0]).squeeze(1).numpy()


@pytest.fixture
def demo(tiny_file):
    data = load_data(tiny_file)
    normalize_data(data, [2, 5])
    cnn, lstm = WindowSum(), WindowSum()
    predictors = {
        "CNN": lambda ds: _predict(cnn, ds),
        "LSTM": lambda ds: _predict(lstm, ds) * 2,
    }
    layouts = {"CNN": "cnn", "LSTM": "lstm"}

    return RULDemo(data, predictors, layouts, win_len=3)


def test_units_listed_test_first_and_marked(demo):
    labels = [label for label, _ in demo.unit.options]

    assert labels[:2] == ["unit 11 (test)", "unit 14 (test)"]
    assert [unit for _, unit in demo.unit.options] == [11, 14, 2, 5, 10]


def test_changing_unit_and_time_changes_the_display(demo):
    first = demo.select(unit=11, cycle=1, position=0)
    html_first, image_first = demo.numbers.value, demo.image.value

    later = demo.select(unit=14, cycle=2, position=3)

    assert (later.unit, later.cycle, later.position) == (14, 2, 3)
    assert later.true == 0.0 and first.true == 2.0
    assert demo.numbers.value != html_first
    assert demo.image.value != image_first
    assert bytes(demo.image.value).startswith(b"\x89PNG")
    assert f"{later.predicted:.1f}" in demo.numbers.value


def test_displayed_prediction_equals_the_model_on_that_window(demo):
    reading = demo.select(unit=10, cycle=3, position=1, model="CNN")
    x, y = demo.view(10, "cnn").dataset[reading.window]

    expected = float(x.sum())

    assert reading.predicted == pytest.approx(expected, rel=1e-5)
    assert reading.true == float(y)
    assert reading.error == pytest.approx(reading.predicted - reading.true)
    # Window of unit 10 (4 rows per flight, win_len 3): flight 3 starts at row 8,
    # so its second window ends at row 9.
    assert demo.view(10, "cnn").dataset.window_row[reading.window] == 9


def test_model_toggle_switches_prediction(demo):
    cnn = demo.select(unit=11, cycle=2, position=0, model="CNN")

    lstm = demo.select(model="LSTM")

    assert lstm.predicted == pytest.approx(2 * cnn.predicted, rel=1e-5)
    assert lstm.true == cnn.true


def test_predictions_are_computed_once_per_model_and_unit(tiny_file):
    data = load_data(tiny_file)
    calls = []

    def predictor(dataset):
        calls.append(dataset.unit_ids[0])
        return np.zeros(len(dataset))

    demo = RULDemo(data, {"CNN": predictor}, {"CNN": "cnn"}, win_len=3)
    for cycle in (1, 2, 3, 1):
        demo.select(unit=11, cycle=cycle)
    demo.select(unit=14)
    demo.select(unit=11)

    assert calls == [11, 14]


def test_sliders_follow_the_unit(demo):
    demo.select(unit=14)

    assert (demo.cycle.min, demo.cycle.max) == (1, 2)
    demo.select(cycle=1)
    assert demo.position.max == 4  # 7 rows in flight 1, windows end at rows 2..6
    with pytest.raises(ValueError, match="no window in cycle 9"):
        demo.reading(14, "CNN", 9, 0)


def test_returning_to_a_unit_redraws_the_same_picture(demo):
    demo.select(unit=11, cycle=2, position=1, model="CNN")
    first = bytes(demo.image.value)

    demo.select(unit=14, cycle=1, position=0, model="LSTM")
    demo.select(unit=11, cycle=2, position=1, model="CNN")

    assert bytes(demo.image.value) == first


def test_unknown_unit_lists_the_available_ones(demo):
    with pytest.raises(ValueError, match=r"unknown unit 99; available: \[2, 5, 10"):
        demo.select(unit=99)
