"""The units table the data notebook shows."""

from __future__ import annotations

from conftest import TINY_UNITS

from src.analysis import units_overview
from src.data_loader import load_data


def test_units_overview_has_end_of_life_and_onset(tiny_file):
    table = units_overview(load_data(tiny_file))

    expected_flights = [flights for _, flights, _ in TINY_UNITS.values()]
    assert table["end_of_life"].tolist() == expected_flights  # RUL 0 at last flight
    # conftest sets hs = 1 up to flight flights // 2, then 0.
    assert table["onset_cycle"].tolist() == [f // 2 + 1 for f in expected_flights]
