"""The main job (`make run`): execute the four notebooks top to bottom.

Settings come from the environment (see config.py): `PROFILE=full` for the original
ten-epoch run, `DATASET=cmapss:FD001` for real C-MAPSS data. `--summary` only loads
the data and prints units, rows, windows, features and scaler statistics.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from config import get_config
from src.data_loader import DataFileError, create_training_and_testing_sets
from src.experiment import dataset_tag
from src.notebooks import NOTEBOOKS, run_all
from src.sources import load_configured_data
from src.summary import scaler_table, units_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true", help="data summary only")
    parser.add_argument(
        "notebooks",
        nargs="*",
        default=list(NOTEBOOKS),
        type=_notebook_name,
        help=f"names, with or without .ipynb (default: {' '.join(NOTEBOOKS)})",
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    for chatty in ("traitlets", "nbclient", "nbconvert"):  # kernel start, alt text
        logging.getLogger(chatty).setLevel(logging.ERROR)
    with _one_line_on_bad_input():
        config = get_config()
        if arguments.summary:
            data = load_configured_data(config)
            splits = create_training_and_testing_sets(data, config)
        else:
            reports = config.path("reports_dir") / dataset_tag(config)  # finds file
    if arguments.summary:
        print_summary(data, splits, config)
        return
    print(f"profile {config.profile}, dataset {config.dataset}, epochs {config.epochs}")
    started = time.perf_counter()
    try:
        finished = run_all(arguments.notebooks, reports)
    except KeyboardInterrupt:
        sys.exit(130)  # run_all said where; 128 + SIGINT, as shells report Ctrl-C
    if not finished:
        sys.exit(1)
    print(
        f"all notebooks done in {time.perf_counter() - started:.0f} s; "
        f"results in {config.path('results_dir')}, reports in "
        f"{config.path('reports_dir')}"
    )


@contextmanager
def _one_line_on_bad_input() -> Iterator[None]:
    """Stop with one line for bad settings or data, not a traceback.

    Wraps only reading the settings and the data: a ValueError there is a setting
    the data cannot meet (units, features), not a bug.
    """
    try:
        yield
    except DataFileError as error:
        sys.exit(f"data error: {error}")
    except ValueError as error:
        sys.exit(f"configuration error: {error}")


def _notebook_name(argument: str) -> str:
    """A notebook of this repository, named with or without its .ipynb suffix."""
    name = argument.removesuffix(".ipynb")
    if name not in NOTEBOOKS:
        raise argparse.ArgumentTypeError(
            f"unknown notebook {argument!r}; expected some of {', '.join(NOTEBOOKS)}"
        )

    return name


def print_summary(data, splits, config) -> None:
    """Print what the data and their window splits hold."""
    pd.set_option("display.width", 120)
    print(f"Data: {data.source}")
    print(units_table(data, splits).to_string())
    print(
        f"\nWindows (win_len={config.win_len}, stride={config.stride}, downsample="
        f"{config.downsample}): train {len(splits.train):,}, validation "
        f"{len(splits.val) if splits.val else 0:,}, test {len(splits.test):,}"
    )
    print(
        f"\nFeatures ({len(splits.feature_names)}): {', '.join(splits.feature_names)}"
    )
    print("\nScaler statistics (training units only):")
    print(scaler_table(splits).to_string(float_format="{:.4g}".format))


if __name__ == "__main__":
    main()
