"""Resolve the configured dataset to loaded data: a real file, or the generated one.

N-CMAPSS: `FILENAME` when that file exists; when the default real file is absent, a
generated file with the same layout (created once, then reused). C-MAPSS:
`DATASET=cmapss:FD001` reads the text files from `CMAPSS_DIR`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from config import ROOT, Config
from src.data_loader import OBTAIN_HINT, DataFileError, RULData, load_data

logger = logging.getLogger(__name__)

DEFAULT_FILENAME = "datasets/N-CMAPSS_DS02-006.h5"
GENERATED_FILENAME = "datasets/N-CMAPSS_DS02-006_synthetic.h5"


def data_file(config: Config) -> Path:
    """The N-CMAPSS file to read, generating the default stand-in when needed.

    Raises:
        DataFileError: If `filename` is a folder, or a non-default one does not
            exist.
    """
    path = config.path("filename")
    if path.is_file():
        return path
    if path.exists():
        raise DataFileError(f"data file {path} is not a file; expected an .h5 file")
    if config.filename != DEFAULT_FILENAME:
        raise DataFileError(f"data file {path} does not exist. {OBTAIN_HINT}")
    generated = ROOT / GENERATED_FILENAME
    if not generated.is_file():
        from src.synthetic import generate_ncmapss

        logger.warning("%s is absent: generating %s", path, generated)
        generate_ncmapss(generated, progress=True)
    logger.warning("using the generated N-CMAPSS-format file %s", generated)

    return generated


def load_configured_data(config: Config) -> RULData:
    """Load the dataset named by `config.dataset` with the configured features."""
    if config.dataset == "ncmapss":
        return load_data(data_file(config), features=config.features)
    if config.dataset.startswith("cmapss:"):
        from src.cmapss import load_cmapss

        subset = config.dataset.split(":", 1)[1]
        return load_cmapss(
            config.path("cmapss_dir"),
            subset=subset,
            official_sizes=config.cmapss_official_sizes,
        )
    raise ValueError(
        f"unknown dataset {config.dataset!r}; expected 'ncmapss' or "
        "'cmapss:FD001' ... 'cmapss:FD004'"
    )
