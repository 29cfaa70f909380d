"""Evaluation metrics for Remaining Useful Life (RUL) predictions, in cycles.

Every metric is computed once over all samples passed in, never averaged over
batches: the mean of per-batch RMSEs is not the RMSE of the whole set, so concatenate
the predictions of every batch first. Inputs may be numpy arrays, lists or tensors.
"""

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

EARLY_TIME_CONSTANT_CYCLES = 13.0
LATE_TIME_CONSTANT_CYCLES = 10.0
DEFAULT_ACCURACY_BOUNDS = (-EARLY_TIME_CONSTANT_CYCLES, LATE_TIME_CONSTANT_CYCLES)
REPORT_KEYS = (
    "rmse",
    "mae",
    "r2",
    "nasa_score_sum",
    "nasa_score_mean",
    "phm21_score",
    "accuracy",
    "n_samples",
)


def rmse(y_true, y_pred) -> float:
    """Root mean squared error over all samples.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1).
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.

    Returns:
        sqrt(mean((y_pred - y_true) ** 2)) in cycles.
    """
    y_true, y_pred = _validate_pair(y_true, y_pred)

    return float(np.sqrt(mean_squared_error(y_true, y_pred)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error over all samples.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1).
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.

    Returns:
        mean(|y_pred - y_true|) in cycles.
    """
    y_true, y_pred = _validate_pair(y_true, y_pred)

    return float(mean_absolute_error(y_true, y_pred))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination over all samples.

    Follows scikit-learn: when `y_true` is constant the score is 1.0 for a perfect
    prediction and 0.0 otherwise, rather than undefined.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1), with n >= 2.
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.

    Returns:
        1 - SS_res / SS_tot (dimensionless, at most 1).

    Raises:
        ValueError: If there are fewer than two samples, where R^2 is undefined.
    """
    y_true, y_pred = _validate_pair(y_true, y_pred)
    if y_true.size < 2:
        raise ValueError(f"r2 needs at least 2 samples, got {y_true.size}")

    return float(r2_score(y_true, y_pred))


def nasa_score_per_sample(y_true, y_pred) -> np.ndarray:
    """Asymmetric NASA scoring function for each sample (Saxena et al., 2008).

    With d = y_pred - y_true, the penalty is exp(-d / 13) - 1 for early predictions
    (d < 0) and exp(d / 10) - 1 for late ones (d >= 0): predicting failure too late
    costs more than too early. Errors of several thousand cycles overflow to inf.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1).
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.

    Returns:
        Non-negative penalties, float64, shape (n,).
    """
    y_true, y_pred = _validate_pair(y_true, y_pred)

    error_cycles = y_pred - y_true
    time_constant_cycles = np.where(
        error_cycles < 0, -EARLY_TIME_CONSTANT_CYCLES, LATE_TIME_CONSTANT_CYCLES
    )

    return np.expm1(error_cycles / time_constant_cycles)


def nasa_score_sum(y_true, y_pred) -> float:
    """NASA score summed over samples, as published for C-MAPSS.

    The published C-MAPSS figures sum one prediction per test unit (its last
    cycle), so pass exactly those to compare; the sum grows with the sample count.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1).
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.

    Returns:
        Sum of `nasa_score_per_sample` (lower is better).
    """
    return float(np.sum(nasa_score_per_sample(y_true, y_pred)))


def nasa_score_mean(y_true, y_pred) -> float:
    """NASA score averaged over samples, as in the PHM 2021 N-CMAPSS challenge.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1).
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.

    Returns:
        Mean of `nasa_score_per_sample` (lower is better).
    """
    return float(np.mean(nasa_score_per_sample(y_true, y_pred)))


def phm21_score(y_true, y_pred) -> float:
    """Combined score of the PHM Society 2021 data challenge on N-CMAPSS.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1).
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.

    Returns:
        0.5 * RMSE + 0.5 * mean NASA score (lower is better).
    """
    return 0.5 * rmse(y_true, y_pred) + 0.5 * nasa_score_mean(y_true, y_pred)


def accuracy_within(
    y_true,
    y_pred,
    lower: float = DEFAULT_ACCURACY_BOUNDS[0],
    upper: float = DEFAULT_ACCURACY_BOUNDS[1],
) -> float:
    """Share of predictions whose error lies in an inclusive band of cycles.

    The default band [-13, +10] reuses the NASA score's time constants: up to 13
    cycles early or 10 cycles late counts as accurate. Bounds may be +-inf.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1).
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.
        lower: Most negative (early) error d = y_pred - y_true still accepted.
        upper: Most positive (late) error still accepted.

    Returns:
        Fraction in [0, 1] of samples with lower <= d <= upper.

    Raises:
        ValueError: If `lower` > `upper` or either bound is NaN.
    """
    if not lower <= upper:
        raise ValueError(f"need lower <= upper, got lower={lower}, upper={upper}")
    y_true, y_pred = _validate_pair(y_true, y_pred)

    error_cycles = y_pred - y_true
    within_band = (error_cycles >= lower) & (error_cycles <= upper)

    return float(np.mean(within_band))


def regression_report(
    y_true, y_pred, *, accuracy_bounds: tuple[float, float] = DEFAULT_ACCURACY_BOUNDS
) -> dict[str, float]:
    """All metrics of this module in one JSON-serialisable dict.

    Args:
        y_true: True RUL in cycles, shape (n,) or (n, 1), with n >= 2 (for r2).
        y_pred: Predicted RUL in cycles, same number of samples as `y_true`.
        accuracy_bounds: (lower, upper) error band in cycles for `accuracy`.

    Returns:
        Plain Python numbers under the keys of `REPORT_KEYS`: rmse, mae, r2,
        nasa_score_sum, nasa_score_mean, phm21_score, accuracy and n_samples (int).
    """
    lower, upper = accuracy_bounds
    y_true, y_pred = _validate_pair(y_true, y_pred)

    return {
        "rmse": rmse(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "r2": r2(y_true, y_pred),
        "nasa_score_sum": nasa_score_sum(y_true, y_pred),
        "nasa_score_mean": nasa_score_mean(y_true, y_pred),
        "phm21_score": phm21_score(y_true, y_pred),
        "accuracy": accuracy_within(y_true, y_pred, lower, upper),
        "n_samples": int(y_true.size),
    }


def _validate_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Convert both arrays and check that they hold the same number of samples.

    Args:
        y_true: True values, shape (n,) or (n, 1).
        y_pred: Predicted values, shape (n,) or (n, 1).

    Returns:
        Both as float64 arrays of shape (n,).

    Raises:
        ValueError: If the sample counts differ.
    """
    true_flat = _as_flat_finite(y_true, "y_true")
    pred_flat = _as_flat_finite(y_pred, "y_pred")
    if true_flat.size != pred_flat.size:
        raise ValueError(
            f"y_true and y_pred need the same number of samples, got y_true shape "
            f"{np.shape(y_true)} and y_pred shape {np.shape(y_pred)}"
        )

    return true_flat, pred_flat


def _as_flat_finite(values, name: str) -> np.ndarray:
    """Convert one input to a finite, non-empty float64 vector.

    Args:
        values: Array-like or tensor of shape (n,) or (n, 1).
        name: Argument name used in error messages.

    Returns:
        Float64 array of shape (n,).

    Raises:
        ValueError: If the shape is not (n,) or (n, 1), the input is empty, or it
            contains NaN or inf.
    """
    if hasattr(values, "detach"):  # torch tensor: drop autograd, move to CPU
        values = values.detach().cpu()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim not in (1, 2) or (array.ndim == 2 and array.shape[1] != 1):
        raise ValueError(f"{name} must have shape (n,) or (n, 1), got {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty, need at least one sample")
    n_non_finite = int(np.sum(~np.isfinite(array)))
    if n_non_finite:
        raise ValueError(f"{name} contains {n_non_finite} NaN or inf value(s)")

    return array.reshape(-1)  # (n, 1) -> (n,)
