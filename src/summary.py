"""Tables that describe a loaded dataset and its window splits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.data_loader import DataSplits, RULData


def units_table(data: RULData, splits: DataSplits | None = None) -> pd.DataFrame:
    """One row per engine unit: file split, role, rows, flights, windows.

    Args:
        data: Loaded data.
        splits: When given, adds each unit's role (train/val/test) and windows.

    Returns:
        DataFrame indexed by unit id, in file order.
    """
    rows = []
    for record in data.units:
        rows.append(
            {
                "unit": record.unit,
                "split": record.split,
                "flight_class": record.flight_class,
                "rows": record.rows,
                "flights": int(record.cycle.max() - record.cycle.min() + 1),
                "max_rul": float(record.rul.max()),
            }
        )
    table = pd.DataFrame(rows).set_index("unit")
    if splits is not None:
        table["role"] = [_role(splits, unit) for unit in table.index]
        table["windows"] = [_windows_of(splits, unit) for unit in table.index]

    return table


def scaler_table(splits: DataSplits) -> pd.DataFrame:
    """Mean and standard deviation of each feature over the training units.

    With per-condition scaling (SCALE_PER_CONDITION), one column pair per
    operating condition: "mean 1", "std 1", "mean 2", ...
    """
    mean, scale = np.asarray(splits.scaler.mean), np.asarray(splits.scaler.scale)
    index = pd.Index(splits.feature_names, name="feature")
    if mean.ndim == 1:
        return pd.DataFrame({"mean": mean, "std": scale}, index=index)
    columns = {}
    for condition, (means, scales) in enumerate(zip(mean, scale, strict=True), 1):
        columns[f"mean {condition}"] = means
        columns[f"std {condition}"] = scales

    return pd.DataFrame(columns, index=index)


def _role(splits: DataSplits, unit: int) -> str:
    for role in ("train", "val", "test"):
        if unit in getattr(splits, f"{role}_units"):
            return role
    return "unused"


def _windows_of(splits: DataSplits, unit: int) -> int:
    for dataset in (splits.train, splits.val, splits.test):
        if dataset is not None and unit in dataset.unit_ids:
            return int((dataset.window_unit == unit).sum())
    return 0
