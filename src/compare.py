"""Evaluate models and baselines the same way and write results files.

Every model is scored on the same test windows with the same metrics, at two
granularities: per window, and per flight cycle (the mean prediction over a cycle's
windows, since RUL is constant within a flight). Results go to
`results/<dataset>/<model>/metrics.json` and `predictions.csv`, written atomically,
each with the resolved config, the feature list and library versions.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.linear_model import Ridge

from src import metrics
from src.files import atomic_write_text
from src.windows import WindowDataset

RIDGE_MAX_WINDOWS = 200_000
RIDGE_ALPHA = 1.0
GRANULARITIES = ("window", "cycle")


def predictions_frame(dataset: WindowDataset, y_pred: np.ndarray) -> pd.DataFrame:
    """One row per window: unit, last row, cycle, true and predicted RUL."""
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if len(y_pred) != len(dataset):
        raise ValueError(
            f"{len(y_pred)} predictions for {len(dataset)} windows; expected one each"
        )

    return pd.DataFrame(
        {
            "unit": dataset.window_unit,
            "row": dataset.window_row,
            "cycle": dataset.window_cycle,
            "y_true": dataset.labels().astype(np.float64),
            "y_pred": y_pred,
        }
    )


def per_cycle(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean truth and prediction over each (unit, cycle), with the window count."""
    grouped = frame.groupby(["unit", "cycle"], sort=False)
    table = grouped.agg(
        y_true=("y_true", "mean"), y_pred=("y_pred", "mean"), windows=("y_pred", "size")
    )

    return table.reset_index()


def evaluate(
    frame: pd.DataFrame, accuracy_bounds=metrics.DEFAULT_ACCURACY_BOUNDS
) -> dict:
    """Metrics at both granularities plus RMSE per test unit (window level)."""
    cycles = per_cycle(frame)
    report = {
        "window": metrics.regression_report(
            frame.y_true, frame.y_pred, accuracy_bounds=accuracy_bounds
        ),
        "cycle": metrics.regression_report(
            cycles.y_true, cycles.y_pred, accuracy_bounds=accuracy_bounds
        ),
    }
    report["rmse_per_unit"] = {
        str(unit): metrics.rmse(group.y_true, group.y_pred)
        for unit, group in frame.groupby("unit", sort=False)
    }

    return report


def mean_baseline(train: WindowDataset, test: WindowDataset) -> np.ndarray:
    """Predict the mean RUL of the training windows for every test window."""
    return np.full(len(test), float(train.labels().mean()))


def ridge_baseline(
    train: WindowDataset, test: WindowDataset, seed: int = 0, batch_size: int = 4096
) -> np.ndarray:
    """Ridge regression on each flattened window (scikit-learn).

    Fitted on at most `RIDGE_MAX_WINDOWS` training windows drawn by `seed` (the
    full 1 Hz training set has millions); predicts every test window.
    """
    count = min(len(train), RIDGE_MAX_WINDOWS)
    chosen = np.sort(
        np.random.default_rng(seed).choice(len(train), count, replace=False)
    )
    x_train, y_train = train[chosen]
    model = Ridge(alpha=RIDGE_ALPHA).fit(x_train.flatten(1).numpy(), y_train.numpy())
    predictions = []
    for start in range(0, len(test), batch_size):
        x_test, _ = test[np.arange(start, min(start + batch_size, len(test)))]
        predictions.append(model.predict(x_test.flatten(1).numpy()))

    return np.concatenate(predictions)


def versions() -> dict[str, str]:
    """Library versions stored with every result."""
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "sklearn": sklearn.__version__,
    }


def write_results(
    directory: Path, report: dict, frame: pd.DataFrame, context: dict
) -> Path:
    """Write `metrics.json` and `predictions.csv` atomically into `directory`.

    Args:
        directory: results/<dataset>/<model>.
        report: Output of `evaluate`, plus any model figures.
        frame: Window-level predictions (`predictions_frame`).
        context: Resolved config, feature names and anything else to record.

    Returns:
        The directory written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    predictions = directory / "predictions.csv"
    atomic_write_text(predictions, frame.to_csv(index=False))

    # metrics.json goes last and names its predictions, so a run stopped between
    # the two files cannot pass off new predictions as the old metrics' own.
    document = {
        **report,
        **context,
        "predictions_sha256": _sha256(predictions),
        "versions": versions(),
    }
    atomic_write_text(directory / "metrics.json", json.dumps(document, indent=2))

    return directory


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_results(results_dir: Path) -> dict[str, dict]:
    """metrics.json of every model under results/<dataset>/, keyed by model name.

    Raises:
        FileNotFoundError: If there are no results.
        ValueError: If a predictions.csv is not the one its metrics.json was
            written with (missing, or from a run stopped between the two files).
    """
    documents = {}
    for path in sorted(Path(results_dir).glob("*/metrics.json")):
        documents[path.parent.name] = json.loads(path.read_text())
        _check_predictions(path, documents[path.parent.name])
    if not documents:
        raise FileNotFoundError(
            f"no results under {results_dir}; run the model notebooks first (make run)"
        )

    return documents


def _check_predictions(metrics_path: Path, document: dict) -> None:
    expected = document.get("predictions_sha256")
    if expected is None:  # written before the digest was recorded
        return
    predictions = metrics_path.with_name("predictions.csv")
    if not predictions.is_file() or _sha256(predictions) != expected:
        raise ValueError(
            f"{predictions} does not belong to {metrics_path}: it is missing or was "
            "written by another run (one stopped between the two files?); run "
            f"the {metrics_path.parent.name} model again"
        )


def comparison_table(
    documents: dict[str, dict], granularity: str = "window"
) -> pd.DataFrame:
    """One row per model: metrics at `granularity` plus model figures."""
    if granularity not in GRANULARITIES:
        raise ValueError(
            f"granularity {granularity!r}; expected one of {GRANULARITIES}"
        )
    rows = {}
    for name, document in documents.items():
        row = dict(document[granularity])
        for key in (
            "parameters",
            "train_seconds_per_epoch",
            "inference_windows_per_second",
        ):
            row[key] = document.get(key)
        rows[name] = row

    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def conclusions(table: pd.DataFrame, reference: str = "mean") -> str:
    """Markdown sentences read off a comparison table (no figure is typed in).

    Args:
        table: `comparison_table` output, with at least the `reference` row.
        reference: Baseline the gains are measured against.

    Returns:
        A markdown bullet list.
    """
    if reference not in table.index:
        raise ValueError(f"no {reference!r} row in the table; have {list(table.index)}")
    base = table.loc[reference, "rmse"]
    best = table["rmse"].idxmin()
    lines = [
        f"- Lowest RMSE: **{best}**, {table.loc[best, 'rmse']:.2f} cycles, "
        f"{1 - table.loc[best, 'rmse'] / base:.0%} below the {reference} baseline "
        f"({base:.2f})."
    ]
    for name in table.index.drop(reference):
        change = 1 - table.loc[name, "rmse"] / base
        direction = "below" if change > 0 else "above"
        ridge = _versus(table, name, "ridge")
        lines.append(
            f"- {name}: RMSE {table.loc[name, 'rmse']:.2f} ({abs(change):.0%} "
            f"{direction} {reference}){ridge}; mean NASA score "
            f"{table.loc[name, 'nasa_score_mean']:.2f}; "
            f"{table.loc[name, 'accuracy']:.0%} of predictions within the band."
        )

    return "\n".join(lines)


def _versus(table: pd.DataFrame, name: str, other: str) -> str:
    if other not in table.index or name == other:
        return ""
    relation = (
        "below" if table.loc[name, "rmse"] < table.loc[other, "rmse"] else "not below"
    )
    return f", {relation} {other} ({table.loc[other, 'rmse']:.2f})"
