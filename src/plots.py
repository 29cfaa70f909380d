"""Figures of the notebooks; each function returns a matplotlib Figure.

`save_figure` writes a figure as PNG under reports/figures/<dataset>/ so the key
plots exist outside the notebooks too.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from src.compare import per_cycle
from src.files import atomic_path
from src.training import History

PROFILE_COLUMNS = ("alt", "Mach", "TRA", "T2")


def save_figure(figure: plt.Figure, name: str, folder: Path) -> Path:
    """Write `figure` as `folder/name.png` (folders created) and return the path.

    Written to a temporary file and renamed, so an interrupted save keeps the old
    PNG.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight")

    return path


def flight_profiles(frame: pd.DataFrame, cycles: list[int]) -> plt.Figure:
    """Altitude, Mach, throttle and inlet temperature over a few flights of one unit."""
    figure, axes = plt.subplots(1, 4, figsize=(15, 3.2), layout="constrained")
    for cycle in cycles:
        flight = frame[frame["cycle"] == cycle]
        seconds = np.arange(len(flight))
        for axis, column in zip(axes, PROFILE_COLUMNS, strict=True):
            axis.plot(seconds, flight[column], label=f"flight {cycle}")
    for axis, column in zip(axes, PROFILE_COLUMNS, strict=True):
        axis.set(title=column, xlabel="row in flight (s)")
    axes[0].legend(fontsize=8)

    return figure


def distributions_by_class(sample: pd.DataFrame, columns: list[str]) -> plt.Figure:
    """Histogram of each column, one colour per flight class."""
    figure, axes = plt.subplots(
        2, int(np.ceil(len(columns) / 2)), figsize=(15, 5.5), layout="constrained"
    )
    classes = sample["flight_class"].fillna("all")
    for axis, column in zip(axes.flat, columns, strict=False):
        for flight_class, group in sample.groupby(classes):
            axis.hist(
                group[column],
                bins=40,
                alpha=0.5,
                density=True,
                label=f"class {flight_class}",
            )
        axis.set_title(column)
    axes.flat[0].legend(fontsize=8)

    return figure


def correlation_heatmap(sample: pd.DataFrame, columns: list[str]) -> plt.Figure:
    """Pearson correlations between the features and the RUL."""
    matrix = sample[[*columns, "RUL"]].corr()
    figure, axis = plt.subplots(figsize=(10, 8.5), layout="constrained")
    image = axis.imshow(matrix, cmap="coolwarm", vmin=-1, vmax=1)
    axis.set_xticks(range(len(matrix)), matrix.columns, rotation=90, fontsize=7)
    axis.set_yticks(range(len(matrix)), matrix.columns, fontsize=7)
    figure.colorbar(image, ax=axis, label="Pearson r")

    return figure


def drift_to_failure(
    flights: dict[int, pd.DataFrame], columns: list[str]
) -> plt.Figure:
    """Per-flight means of `columns` against RUL, one line per unit."""
    figure, axes = plt.subplots(1, len(columns), figsize=(4 * len(columns), 3.2))
    for unit, table in flights.items():
        for axis, column in zip(np.atleast_1d(axes), columns, strict=True):
            axis.plot(table["RUL"], table[column], label=f"unit {unit}")
    for axis, column in zip(np.atleast_1d(axes), columns, strict=True):
        axis.set(title=column, xlabel="RUL [cycles]")
        axis.invert_xaxis()
    np.atleast_1d(axes)[0].legend(fontsize=7)
    figure.tight_layout()

    return figure


def rul_distribution(labels: dict[str, np.ndarray]) -> plt.Figure:
    """Histogram of the RUL labels of each named group of rows."""
    figure, axis = plt.subplots(figsize=(7, 3.2), layout="constrained")
    for name, values in labels.items():
        axis.hist(values, bins=40, alpha=0.5, density=True, label=name)
    axis.set(xlabel="RUL [cycles]", ylabel="density", title="RUL distribution")
    axis.legend()

    return figure


def window_construction(
    feature: np.ndarray, rul: np.ndarray, win_len: int, stride: int, windows: int = 4
) -> plt.Figure:
    """The first windows of one unit: spans over a feature, label at the last row."""
    rows = (windows - 1) * stride + win_len + 2
    figure, (signal, label) = plt.subplots(2, 1, figsize=(10, 4), sharex=True)
    signal.plot(np.arange(rows), feature[:rows], ".-", color="black")
    for number in range(windows):
        end = number * stride + win_len - 1
        signal.axvspan(end - win_len + 0.5, end + 0.5, alpha=0.12, color=f"C{number}")
        label.plot([end], [rul[end]], "o", color=f"C{number}", label=f"window {number}")
    label.step(np.arange(rows), rul[:rows], where="mid", color="grey")
    signal.set(ylabel="feature (z-score)", title=f"windows of {win_len} rows")
    label.set(xlabel="row of the unit", ylabel="label: RUL at last row")
    label.legend(fontsize=7, ncol=windows)
    figure.tight_layout()

    return figure


def learning_curves(history: History, title: str) -> plt.Figure:
    """Training MSE and validation RMSE per epoch, the selected epoch marked."""
    epochs = np.arange(1, history.epochs + 1)
    figure, (loss, val) = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")
    loss.plot(epochs, history.train_loss, "o-")
    loss.set(xlabel="epoch", ylabel="train MSE [cycles²]", yscale="log", title=title)
    val_rmse = [np.nan if value is None else value for value in history.val_rmse]
    val.plot(epochs, val_rmse, "o-", color="tab:orange")
    if history.selected_epoch:
        val.axvline(history.selected_epoch, color="grey", ls="--", label="kept")
        val.legend()
    val.set(xlabel="epoch", ylabel="validation RMSE [cycles]")

    return figure


def predictions_per_unit(frame: pd.DataFrame, title: str, most: int = 6) -> plt.Figure:
    """Predicted and true RUL over each test unit's life (window and cycle means).

    Shows at most `most` units; with one window per unit (the C-MAPSS test
    protocol) it plots each unit's last-window prediction against its true RUL.
    """
    if frame.groupby("unit").size().max() == 1:
        return _last_windows(frame, title)
    units = list(dict.fromkeys(frame["unit"]))[:most]
    figure, axes = plt.subplots(
        1,
        len(units),
        figsize=(5 * len(units), 3.4),
        squeeze=False,
        layout="constrained",
    )
    cycles = per_cycle(frame)
    for axis, unit in zip(axes[0], units, strict=True):
        windows, means = frame[frame.unit == unit], cycles[cycles.unit == unit]
        axis.plot(
            windows["cycle"],
            windows["y_pred"],
            ".",
            ms=2,
            alpha=0.3,
            label="per window",
        )
        axis.plot(
            means["cycle"], means["y_pred"], "-", color="tab:red", label="cycle mean"
        )
        axis.plot(means["cycle"], means["y_true"], "k-", label="true")
        axis.set(title=f"unit {unit}", xlabel="flight cycle", ylabel="RUL [cycles]")
    axes[0][0].legend(fontsize=8)
    figure.suptitle(title)

    return figure


def _last_windows(frame: pd.DataFrame, title: str) -> plt.Figure:
    ordered = frame.sort_values("y_true").reset_index(drop=True)
    figure, axis = plt.subplots(figsize=(10, 3.6), layout="constrained")
    axis.plot(ordered.index, ordered.y_true, "k-", label="true RUL")
    axis.plot(
        ordered.index,
        ordered.y_pred,
        "o",
        ms=3,
        color="tab:red",
        label="predicted (last window)",
    )
    axis.set(xlabel="test unit, sorted by true RUL", ylabel="RUL [cycles]", title=title)
    axis.legend()

    return figure


def error_histogram(frames: dict[str, pd.DataFrame]) -> plt.Figure:
    """Distribution of prediction errors (predicted - true) per model."""
    figure, axis = plt.subplots(figsize=(7, 3.4), layout="constrained")
    for name, frame in frames.items():
        axis.hist(frame.y_pred - frame.y_true, bins=60, alpha=0.5, label=name)
    axis.axvline(0, color="black", lw=0.8)
    axis.set(xlabel="error: predicted - true RUL [cycles]", ylabel="windows")
    axis.legend()

    return figure


def last_window_scatter(frames: dict[str, pd.DataFrame]) -> plt.Figure:
    """Predicted against true RUL, one point per window, per model."""
    figure, axis = plt.subplots(figsize=(5, 5), layout="constrained")
    for name, frame in frames.items():
        axis.plot(frame.y_true, frame.y_pred, ".", ms=3, alpha=0.5, label=name)
    top = max(float(frame.y_true.max()) for frame in frames.values())
    axis.plot([0, top], [0, top], "k--", lw=0.8)
    axis.set(xlabel="true RUL [cycles]", ylabel="predicted RUL [cycles]")
    axis.legend()

    return figure


def metric_bars(table: pd.DataFrame, metrics: list[str]) -> plt.Figure:
    """One bar chart per metric, one bar per model."""
    figure, axes = plt.subplots(
        1, len(metrics), figsize=(4 * len(metrics), 3.2), layout="constrained"
    )
    for axis, metric in zip(np.atleast_1d(axes), metrics, strict=True):
        axis.bar(table.index, table[metric], color=[f"C{i}" for i in range(len(table))])
        axis.set_title(metric)
        axis.tick_params(axis="x", rotation=30)

    return figure
