"""Fast checks of the C-MAPSS benchmark's configs, table and verdicts (no training)."""

from __future__ import annotations

from pathlib import Path

from bench import bench_cmapss


def _record(rmse: float, score: float) -> dict:
    return {
        "rmse": rmse,
        "nasa_score_sum": score,
        "train_minutes": 12.34,
        "selected_epoch": 7,
        "selection_val_rmse": 13.456,
    }


def test_config_keeps_checkpoints_and_results_under_bench(tmp_path: Path) -> None:
    config = bench_cmapss.benchmark_config("FD003", "lstm", tmp_path)

    checkpoint = config.checkpoint_file("lstm")
    results = config.path("results_dir")

    assert checkpoint.is_relative_to(bench_cmapss.RUNS_DIR)
    assert checkpoint.parent.name == "cmapss_FD003"
    assert results.is_relative_to(bench_cmapss.RUNS_DIR)
    assert config.cmapss_dir == str(tmp_path.resolve())
    assert (config.win_len, config.rul_cap) == (30, 125.0)
    assert config.load_model and config.select_best and config.seed == 0


def test_config_ignores_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EPOCHS", "1")
    monkeypatch.setenv("LOAD_MODEL", "1")

    config = bench_cmapss.benchmark_config("FD001", "cnn", tmp_path, load_model=False)

    assert config.epochs == bench_cmapss.SETTINGS["cnn"]["epochs"]
    assert not config.load_model


def test_table_puts_ours_beside_published() -> None:
    runs = {"FD001": {"cnn": _record(11.9, 250.0), "lstm": _record(16.5, 400.0)}}

    table = bench_cmapss.markdown_table(runs)

    lines = table.splitlines()
    assert lines[2] == (
        "| FD001 | cnn | 11.90 | 250.0 | Li et al. 2018 (CNN) | 12.61 | 273.7 | "
        "12.3 | 7 (13.46) |"
    )
    assert "Zheng et al. 2017 (LSTM) | 16.14 | 338.0" in lines[3]
    assert "10.9-11.0" in lines[-1]


def test_verdict_states_the_margins_both_ways() -> None:
    better = bench_cmapss.verdict("FD003", "cnn", _record(11.4, 250.0))
    worse = bench_cmapss.verdict("FD001", "lstm", _record(16.5, 400.0))

    assert "RMSE 11.40 vs 12.64 (better by 1.24)" in better
    assert "score 250.0 vs 284.1 (better); aim RMSE 11.5 reached" in better
    assert "RMSE 16.50 vs 16.14 (worse by 0.36)" in worse
    assert "(worse); aim RMSE 13.0 missed by 3.50" in worse
