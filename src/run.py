"""The main job (`make run`): load the configured data and build the window splits.

Prints a summary: units, rows, windows, feature list and scaler statistics.
"""

from __future__ import annotations

import logging

import pandas as pd

from config import get_config
from src.data_loader import create_training_and_testing_sets
from src.sources import load_configured_data
from src.summary import scaler_table, units_table


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    config = get_config()
    data = load_configured_data(config)
    splits = create_training_and_testing_sets(data, config)
    pd.set_option("display.width", 120)
    print(f"Data: {data.source}")
    print(
        f"Windows: win_len={config.win_len}, stride={config.stride}, "
        f"downsample={config.downsample}"
    )
    print(units_table(data, splits).to_string())
    print(
        f"\nWindows: train {len(splits.train):,}, "
        f"validation {len(splits.val) if splits.val else 0:,}, "
        f"test {len(splits.test):,}"
    )
    print(
        f"\nFeatures ({len(splits.feature_names)}): {', '.join(splits.feature_names)}"
    )
    print("\nScaler statistics (training units only):")
    print(scaler_table(splits).to_string(float_format="{:.4g}".format))


if __name__ == "__main__":
    main()
