"""One call per notebook step: train or load a model, evaluate it, write its results.

`run_model("cnn")` loads the configured dataset, builds the splits in the model's
layout, trains or loads the model (LOAD_MODEL), scores it on the test windows and
writes `results/<dataset>/<model>/`. `run_baselines()` does the same for the
training-mean and ridge baselines, so every row of the comparison is made alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from torch import nn

from config import Config
from src import compare
from src.data_loader import DataSplits, RULData, create_training_and_testing_sets
from src.sources import data_file, load_configured_data
from src.training import (
    MODEL_LAYOUTS,
    History,
    LoadedModel,
    fit_or_load,
    load_for_inference,
    predict,
)

BASELINES = ("mean", "ridge")
# C-MAPSS protocol facts recorded in every results file.
PROTOCOL_KEYS = ("subset", "sensors", "protocol", "padded_test_units", "n_conditions")


@dataclass
class ModelRun:
    """What one model run produced; notebooks plot from it."""

    config: Config
    data: RULData
    splits: DataSplits
    model: nn.Module
    history: History
    frame: pd.DataFrame  # test predictions per window
    report: dict
    results_dir: Path


def dataset_tag(config: Config, data: RULData | None = None) -> str:
    """Folder name of the dataset: `cmapss_FD001`, or the stem of the file read.

    Without `data`, the file is resolved as loading would (the generated stand-in
    has its own name), without reading it.
    """
    if config.dataset.startswith("cmapss:"):
        return config.dataset_tag()
    source = Path(data.source) if data is not None else data_file(config)

    return source.stem


def figures_dir(config: Config, tag: str) -> Path:
    """reports/figures/<dataset>/ (absolute)."""
    return config.path("reports_dir") / "figures" / tag


def results_dir(config: Config, tag: str) -> Path:
    """results/<dataset>/ (absolute)."""
    return config.path("results_dir") / tag


def prepare(config: Config, layout: str) -> tuple[RULData, DataSplits]:
    """Load the configured data and split it into window datasets of `layout`."""
    data = load_configured_data(config)

    return data, create_training_and_testing_sets(data, config, layout=layout)


def run_model(model_name: str, config: Config, progress: bool = True) -> ModelRun:
    """Train or load `model_name`, score it on the test windows, write its results.

    Args:
        model_name: "cnn" or "lstm".
        config: Resolved configuration.
        progress: Show tqdm bars and per-epoch lines.

    Returns:
        The run, with test predictions per window and the metrics report.
    """
    data, splits = prepare(config, MODEL_LAYOUTS[model_name])
    tag = dataset_tag(config, data)
    checkpoint = config.checkpoint_file(model_name, tag)
    model, history = fit_or_load(
        model_name, splits, config, checkpoint, progress=progress
    )
    started = time.perf_counter()
    y_pred = predict(model, splits.test, config.batch_size, progress=progress)
    seconds = time.perf_counter() - started
    frame = compare.predictions_frame(splits.test, y_pred)
    figures = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds_per_epoch": _mean_epoch_seconds(history),
        "inference_windows_per_second": len(splits.test) / max(seconds, 1e-9),
        "history": history.to_dict(),
        "checkpoint": str(checkpoint),
    }
    report = {**compare.evaluate(frame), **figures}
    directory = results_dir(config, tag) / model_name
    compare.write_results(directory, report, frame, _context(config, data, splits, tag))

    return ModelRun(config, data, splits, model, history, frame, report, directory)


def run_baselines(config: Config) -> dict[str, dict]:
    """Score the training-mean and ridge baselines; write their results.

    Returns:
        Baseline name -> metrics report.
    """
    data, splits = prepare(config, "lstm")
    tag = dataset_tag(config, data)
    predictors = {
        "mean": lambda: compare.mean_baseline(splits.train, splits.test),
        "ridge": lambda: compare.ridge_baseline(splits.train, splits.test, config.seed),
    }
    reports = {}
    for name, predictor in predictors.items():
        started = time.perf_counter()
        frame = compare.predictions_frame(splits.test, predictor())
        figures = {
            "parameters": _baseline_parameters(name, splits),
            "train_seconds_per_epoch": None,
            "fit_and_predict_seconds": time.perf_counter() - started,
        }
        reports[name] = {**compare.evaluate(frame), **figures}
        directory = results_dir(config, tag) / name
        compare.write_results(
            directory, reports[name], frame, _context(config, data, splits, tag)
        )

    return reports


def _baseline_parameters(name: str, splits: DataSplits) -> int:
    if name == "mean":
        return 1
    return splits.train.win_len * splits.train.n_features + 1


def _mean_epoch_seconds(history: History) -> float | None:
    seconds = history.epoch_seconds

    return float(np.mean(seconds)) if seconds else None


def _context(config: Config, data: RULData, splits: DataSplits, tag: str) -> dict:
    protocol = {key: data.extra[key] for key in PROTOCOL_KEYS if key in data.extra}

    return {
        "dataset": tag,
        "source": data.source,
        "protocol": protocol,
        "config": config.to_dict(),
        "feature_names": list(splits.feature_names),
        "units": {
            "train": splits.train_units,
            "val": splits.val_units,
            "test": splits.test_units,
        },
        "scaler": splits.scaler.to_dict(),
    }


def trained_models(config: Config, data: RULData, tag: str) -> dict[str, LoadedModel]:
    """Every model with a finished checkpoint for this dataset, for the demo.

    Raises:
        ValueError: If a checkpoint's scaler or features differ from `data`'s, or
            its window length or downsampling from `config`'s (the demo cuts one
            set of windows for every model).
    """
    models = {}
    for name in MODEL_LAYOUTS:
        path = config.checkpoint_file(name, tag)
        if not path.is_file():
            continue
        loaded = load_for_inference(path, config.device)
        _check_fits_run(path, loaded, config, data)
        models[name] = loaded

    return models


def _check_fits_run(path: Path, loaded: LoadedModel, config: Config, data) -> None:
    if loaded.scaler.to_dict() != data.scaler.to_dict():
        raise ValueError(
            f"{path} was trained with other scaler statistics or features than "
            "the current data; retrain it (LOAD_MODEL=0)"
        )
    saved = {"win_len": loaded.win_len, "downsample": loaded.config["downsample"]}
    for name, value in saved.items():
        if value != getattr(config, name):
            raise ValueError(
                f"{path} was trained with {name.upper()}={value}, the current run "
                f"uses {getattr(config, name)}; set {name.upper()}={value} or "
                "retrain it (LOAD_MODEL=0)"
            )
