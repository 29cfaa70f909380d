"""Checkpoints that survive a kill, load without pickle, and say why they don't fit.

A checkpoint is a plain dict of tensors, dicts, lists, strings and numbers, so
`torch.load(path, weights_only=True)` reads it and no code runs while loading. It is
written to a temporary file and moved into place, so a kill leaves the old one.
`check_compatible` refuses a checkpoint made for another model or input.
"""

from __future__ import annotations

import os
import platform
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from src.files import atomic_path

FORMAT_VERSION = 1
REQUIRED_KEYS = (
    "format_version",
    "model_name",
    "model_args",
    "model_state",
    "optimizer_state",
    "epoch",
    "batch",
    "partial_epoch",
    "rng_states",
    "history",
    "config",
    "feature_names",
    "windows",
    "scaler",
    "units",
    "versions",
)
REMEDY = "Delete the file or set LOAD_MODEL=0 to train from scratch."
# Window settings besides win_len that change what a model reads or learns.
WINDOW_SETTINGS = {"downsample": "downsample", "rul_cap": "RUL cap"}
# Scaler statistics refitted on the same data agree to rounding; other data do not.
SCALER_RTOL = 1e-6


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, truncated or not one of ours."""


class CheckpointMismatch(ValueError):  # noqa: N818 (public name, used as is)
    """A checkpoint was made for another architecture, feature list or window."""


def build_checkpoint(
    *,
    model_name: str,
    model_args: dict[str, Any],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    progress: dict[str, Any],
    history: dict[str, list],
    config: dict[str, Any],
    splits,
) -> dict[str, Any]:
    """Collect everything needed to resume training or to run inference.

    Args:
        model_name: Registered architecture name, e.g. "cnn" or "lstm".
        model_args: Keyword arguments that rebuild the architecture.
        model: The model; its state_dict is stored.
        optimizer: The optimizer; its state_dict is stored.
        progress: "epoch" (completed epochs), "batch" (batches done within the
            current epoch) and "partial_epoch" (loss_sum, samples, seconds so far).
        history: `History.to_dict()` of the completed epochs.
        config: `Config.to_dict()` of the run.
        splits: The run's `DataSplits` (features, scaler, units, window settings).

    Returns:
        The checkpoint dict, with the RNG states and library versions of now.
    """
    windows = splits.train

    return {
        "format_version": FORMAT_VERSION,
        "model_name": model_name,
        "model_args": dict(model_args),
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict(),
        "epoch": int(progress["epoch"]),
        "batch": int(progress["batch"]),
        "partial_epoch": dict(progress["partial_epoch"]),
        "rng_states": capture_rng_states(),
        "history": history,
        "config": config,
        "feature_names": list(splits.feature_names),
        "windows": {
            "win_len": windows.win_len,
            "downsample": windows.downsample,
            "layout": windows.layout,
            "rul_cap": windows.rul_cap,
        },
        "scaler": splits.scaler.to_dict(),
        "units": {
            "train": [int(unit) for unit in splits.train_units],
            "val": [int(unit) for unit in splits.val_units],
            "test": [int(unit) for unit in splits.test_units],
        },
        "versions": library_versions(),
    }


def save_checkpoint(checkpoint: dict[str, Any], path: str | Path) -> None:
    """Write `checkpoint` atomically: a temporary file in the same folder, renamed.

    Args:
        checkpoint: Dict from `build_checkpoint`.
        path: Target file; its folder is created if needed.

    Raises:
        Whatever `torch.save` raises; the previous file at `path` is then intact
        and the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        torch.save(checkpoint, temporary)
        _flush_to_disk(temporary)


def _flush_to_disk(path: str) -> None:
    # Without fsync a power loss right after the rename can leave an empty file.
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint with `weights_only=True` onto the CPU and check its layout.

    Args:
        path: A file written by `save_checkpoint`.

    Returns:
        The checkpoint dict (keys in `REQUIRED_KEYS`).

    Raises:
        FileNotFoundError: If `path` does not exist.
        CheckpointError: If the file is truncated, corrupt, holds objects other
            than tensors and plain containers, or is not a checkpoint of ours; the
            message names the file and how to recover.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(
            f"cannot read checkpoint {path}: it is truncated, corrupt, or holds "
            f"objects other than tensors and plain containers "
            f"({type(error).__name__}: {_reason(error)}). {REMEDY}"
        ) from error
    _check_layout(checkpoint, path)

    return checkpoint


def _reason(error: Exception) -> str:
    """The informative line of a load error (weights_only errors span many lines)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    unpickler = [line for line in lines if "WeightsUnpickler error" in line]
    reason = (unpickler or lines or [""])[0]

    # Drop the advice to allowlist the global: it would defeat weights_only.
    return reason.split(" Please use")[0]


def _check_layout(checkpoint: Any, path: Path) -> None:
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f"{path} holds a {type(checkpoint).__name__}, not a checkpoint dict. "
            f"{REMEDY}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in checkpoint]
    if missing:
        raise CheckpointError(
            f"{path} is not a checkpoint of this project: keys {missing} are "
            f"missing. {REMEDY}"
        )
    version = checkpoint["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {version!r}; this code reads formats up "
            f"to {FORMAT_VERSION}. Update the code, or: {REMEDY}"
        )


def check_compatible(
    checkpoint: dict[str, Any],
    model_name: str,
    model_args: dict[str, Any],
    feature_names: Sequence[str],
    win_len: int,
    *,
    train_units: Sequence[int] | None = None,
    windows: dict[str, Any] | None = None,
    scaler: dict[str, Any] | None = None,
    source: str = "the checkpoint",
) -> None:
    """Refuse a checkpoint that does not fit the requested model and input.

    Args:
        checkpoint: Dict from `load_checkpoint`.
        model_name: Requested architecture.
        model_args: Requested constructor arguments.
        feature_names: Names of the input features, in order.
        win_len: Window length in rows.
        train_units: Training units of the run, when resuming training: the
            checkpoint's scaler was fitted on its own training units.
        windows: Window settings of the run among `WINDOW_SETTINGS` (downsample,
            rul_cap), compared when given.
        scaler: `to_dict()` of the run's scaler statistics, compared when given:
            other data or another scaling give the model inputs it never saw.
        source: How to name the checkpoint in the message (e.g. its path).

    Raises:
        CheckpointMismatch: Listing every difference, one per line.
    """
    differences = _architecture_differences(checkpoint, model_name, model_args)
    differences += _feature_differences(checkpoint["feature_names"], feature_names)
    saved_win_len = checkpoint["windows"]["win_len"]
    if saved_win_len != win_len:
        differences.append(f"window length: checkpoint {saved_win_len}, run {win_len}")
    saved_units = checkpoint["units"]["train"]
    if train_units is not None and list(train_units) != saved_units:
        differences.append(
            f"training units: checkpoint {saved_units}, run {list(train_units)}"
        )
    differences += _window_differences(checkpoint["windows"], windows or {})
    if scaler is not None:
        differences += _scaler_differences(checkpoint["scaler"], scaler)
    if differences:
        listed = "\n".join(f"  - {difference}" for difference in differences)
        raise CheckpointMismatch(
            f"{source} does not match this run:\n{listed}\n"
            f"Restore the settings it was trained with. {REMEDY}"
        )


def _architecture_differences(
    checkpoint: dict[str, Any], model_name: str, model_args: dict[str, Any]
) -> list[str]:
    saved_name, saved_args = checkpoint["model_name"], checkpoint["model_args"]
    if saved_name != model_name:
        return [f"architecture: checkpoint {saved_name!r}, run {model_name!r}"]
    # Arguments only one side has belong to another design (say, the window size
    # of the temporal CNN) when a shared argument, the one that chose the design,
    # differs; only then are they left out.
    shared = sorted(set(saved_args) & set(model_args))
    differing = [name for name in shared if saved_args[name] != model_args[name]]
    names = differing or sorted(set(saved_args) ^ set(model_args))

    return [
        f"{model_name} argument {name}: checkpoint {saved_args.get(name, 'absent')!r}"
        f", run {model_args.get(name, 'absent')!r}"
        for name in names
    ]


def _window_differences(saved: dict[str, Any], run: dict[str, Any]) -> list[str]:
    return [
        f"{label}: checkpoint {saved.get(key)!r}, run {run[key]!r}"
        for key, label in WINDOW_SETTINGS.items()
        if key in run and saved.get(key) != run[key]
    ]


def _scaler_differences(saved: dict[str, Any], run: dict[str, Any]) -> list[str]:
    kinds = saved.get("kind", "global"), run.get("kind", "global")
    if kinds[0] != kinds[1]:
        return [f"input scaling: checkpoint {kinds[0]}, run {kinds[1]}"]
    for key in ("centers", "mean", "scale"):
        if key not in saved or key not in run:
            continue
        saved_values, run_values = np.asarray(saved[key]), np.asarray(run[key])
        if saved_values.shape != run_values.shape:
            continue  # another feature list, reported as such
        close = np.isclose(saved_values, run_values, rtol=SCALER_RTOL, atol=0.0)
        if not close.all():
            index = np.unravel_index(np.argmin(close), close.shape)
            return [
                f"scaler {key}{_scaler_entry(key, index, saved)}: checkpoint "
                f"{saved_values[index]:.6g}, run {run_values[index]:.6g} (the data "
                "differ from the checkpoint's training data)"
            ]

    return []


def _scaler_entry(key: str, index: tuple[int, ...], saved: dict[str, Any]) -> str:
    """' of 'T24'' for a feature's statistic, '[2, 0]' for a condition centre."""
    if key == "centers":
        return str(list(map(int, index)))
    prefix = f" in condition {int(index[0])}" if len(index) == 2 else ""

    return f" of {saved['feature_names'][int(index[-1])]!r}{prefix}"


def _feature_differences(saved: Sequence[str], requested: Sequence[str]) -> list[str]:
    if list(saved) == list(requested):
        return []
    added = [name for name in requested if name not in saved]
    removed = [name for name in saved if name not in requested]
    if not added and not removed:
        return [f"feature order: checkpoint {list(saved)}, run {list(requested)}"]
    parts = [f"added {added}" if added else "", f"removed {removed}" if removed else ""]

    return [
        f"feature list ({len(saved)} -> {len(requested)}): "
        + ", ".join(part for part in parts if part)
    ]


def capture_rng_states() -> dict[str, Any]:
    """Torch (CPU and CUDA), numpy and python RNG states as tensors and lists."""
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []

    return {
        "torch": torch.get_rng_state(),
        "torch_cuda": list(cuda),
        "numpy": {
            "algorithm": str(numpy_state[0]),
            "keys": [int(key) for key in numpy_state[1]],
            "position": int(numpy_state[2]),
            "has_gauss": int(numpy_state[3]),
            "cached_gaussian": float(numpy_state[4]),
        },
        "python": {
            "version": python_state[0],
            "internal": list(python_state[1]),
            "gauss_next": python_state[2],
        },
    }


def restore_rng_states(states: dict[str, Any]) -> None:
    """Set every RNG back to the states from `capture_rng_states`."""
    torch.set_rng_state(states["torch"])
    if states["torch_cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["torch_cuda"])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            numpy_state["algorithm"],
            np.asarray(numpy_state["keys"], dtype=np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python_state = states["python"]
    random.setstate(
        (
            python_state["version"],
            tuple(python_state["internal"]),
            python_state["gauss_next"],
        )
    )


def library_versions() -> dict[str, str]:
    """Versions a checkpoint or results file was written with."""
    return {
        # str(): torch's version is a str subclass that weights_only refuses.
        "torch": str(torch.__version__),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "checkpoint_format": str(FORMAT_VERSION),
    }
