"""Tests for src.metrics: golden values, hand-computed metrics and input checks."""

import json
import math

import numpy as np
import pytest
import torch

from src import metrics

Y_TRUE = [10.0, 20.0, 30.0, 40.0]
Y_PRED = [12.0, 18.0, 33.0, 40.0]  # errors +2, -2, +3, 0


def test_nasa_score_golden_values():
    y_true = [50.0, 50.0, 50.0]
    y_pred = [60.0, 40.0, 50.0]  # d = +10, -10, 0

    scores = metrics.nasa_score_per_sample(y_true, y_pred)

    assert scores.shape == (3,)
    # exp(10 / 13) - 1 = 1.158106; the 1.15836 in the original spec was a typo
    np.testing.assert_allclose(scores, [1.71828, 1.15811, 0.0], atol=1e-5)
    np.testing.assert_allclose(scores[:2], [math.e - 1, math.exp(10 / 13) - 1])


def test_nasa_score_penalises_late_more_than_early():
    late, early = metrics.nasa_score_per_sample([50.0, 50.0], [55.0, 45.0])

    assert late > early > 0


def test_nasa_score_sum_and_mean():
    y_true = [50.0, 50.0, 50.0]
    y_pred = [60.0, 40.0, 50.0]
    expected_sum = (math.e - 1) + (math.exp(10 / 13) - 1)

    total = metrics.nasa_score_sum(y_true, y_pred)
    mean = metrics.nasa_score_mean(y_true, y_pred)

    assert total == pytest.approx(expected_sum)
    assert mean == pytest.approx(expected_sum / 3)


def test_rmse_mae_r2_by_hand():
    squared_errors = [4.0, 4.0, 9.0, 0.0]
    ss_tot = 15.0**2 + 5.0**2 + 5.0**2 + 15.0**2  # mean of Y_TRUE is 25

    assert metrics.rmse(Y_TRUE, Y_PRED) == pytest.approx(math.sqrt(17.0 / 4))
    assert metrics.mae(Y_TRUE, Y_PRED) == pytest.approx(7.0 / 4)
    assert metrics.r2(Y_TRUE, Y_PRED) == pytest.approx(1 - sum(squared_errors) / ss_tot)


def test_r2_needs_two_samples():
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.r2([1.0], [2.0])


def test_phm21_score_by_hand():
    rmse = math.sqrt(17.0 / 4)
    nasa_terms = [math.exp(2 / 10), math.exp(2 / 13), math.exp(3 / 10), 1.0]
    nasa_mean = sum(term - 1 for term in nasa_terms) / 4

    score = metrics.phm21_score(Y_TRUE, Y_PRED)

    assert score == pytest.approx(0.5 * rmse + 0.5 * nasa_mean)


def test_accuracy_default_band_edges_inclusive():
    y_true = [100.0, 100.0, 100.0, 100.0]
    y_pred = [87.0, 110.0, 86.99, 110.01]  # d = -13, +10, -13.01, +10.01

    accuracy = metrics.accuracy_within(y_true, y_pred)

    assert accuracy == pytest.approx(0.5)


def test_accuracy_custom_bounds():
    y_true = [0.0, 0.0, 0.0, 0.0]
    y_pred = [-5.0, -1.0, 1.0, 5.0]

    assert metrics.accuracy_within(y_true, y_pred, lower=-1.0, upper=1.0) == 0.5
    assert metrics.accuracy_within(y_true, y_pred, lower=0.0, upper=5.0) == 0.5
    assert metrics.accuracy_within(y_true, y_pred, lower=-np.inf, upper=np.inf) == 1


@pytest.mark.parametrize("lower, upper", [(1.0, -1.0), (float("nan"), 1.0)])
def test_accuracy_rejects_bad_bounds(lower, upper):
    with pytest.raises(ValueError, match="lower <= upper"):
        metrics.accuracy_within(Y_TRUE, Y_PRED, lower=lower, upper=upper)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"y_true shape \(3,\).*y_pred shape \(2,\)"):
        metrics.rmse([1.0, 2.0, 3.0], [1.0, 2.0])


def test_wrong_rank_raises():
    with pytest.raises(ValueError, match=r"y_pred must have shape"):
        metrics.mae([1.0, 2.0], np.zeros((2, 2)))


@pytest.mark.parametrize("empty", [[], np.zeros((0, 1))])
def test_empty_input_raises(empty):
    with pytest.raises(ValueError, match="y_true is empty"):
        metrics.rmse(empty, empty)


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("argument", ["y_true", "y_pred"])
def test_non_finite_input_names_argument(bad_value, argument):
    clean = [1.0, 2.0, 3.0]
    dirty = [1.0, bad_value, 3.0]
    inputs = {"y_true": clean, "y_pred": clean, argument: dirty}

    with pytest.raises(ValueError, match=f"{argument} contains 1 NaN or inf"):
        metrics.nasa_score_sum(**inputs)


def test_column_and_flat_shapes_agree():
    true_column = np.array(Y_TRUE).reshape(-1, 1)  # (4,) -> (4, 1)

    mixed = metrics.regression_report(true_column, Y_PRED)
    flat = metrics.regression_report(Y_TRUE, Y_PRED)

    assert mixed == flat
    assert metrics.nasa_score_per_sample(true_column, Y_PRED).shape == (4,)


def test_torch_tensor_input():
    y_true = torch.tensor(Y_TRUE).reshape(-1, 1)  # (4,) -> (4, 1)
    y_pred = torch.tensor(Y_PRED, requires_grad=True)

    from_torch = metrics.regression_report(y_true, y_pred)

    assert from_torch == pytest.approx(metrics.regression_report(Y_TRUE, Y_PRED))


def test_regression_report_keys_and_types():
    report = metrics.regression_report(Y_TRUE, Y_PRED, accuracy_bounds=(-2.0, 2.0))

    assert tuple(report) == metrics.REPORT_KEYS
    assert report["n_samples"] == 4 and type(report["n_samples"]) is int
    assert all(type(report[key]) is float for key in metrics.REPORT_KEYS[:-1])
    assert report["accuracy"] == pytest.approx(0.75)
    assert json.loads(json.dumps(report)) == report
