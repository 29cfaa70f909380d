"""Fast checks of the C-MAPSS benchmark's configs, table and verdicts (no training)."""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from bench import bench_cmapss

MEMBER_FIELDS = {"seed", "val_units", "checkpoint_path", "results_dir"}


def _record(rmse: float, score: float) -> dict:
    return {
        "rmse": rmse,
        "nasa_score_sum": score,
        "members": 3,
        "train_minutes": 12.34,
        "validation_rmse": 13.456,
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
    assert config.val_units == ()


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
        "3 | 12.3 | 13.46 |"
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


def _frame(units: list[int], y_true: list[float], y_pred: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": units,
            "row": [29] * len(units),
            "cycle": [30] * len(units),
            "y_true": y_true,
            "y_pred": y_pred,
        }
    )


def _member_record(config: dict) -> dict:
    return {"train_minutes": 12.34, "wall_minutes_this_call": 1.0, "config": config}


def test_ensemble_scores_the_mean_prediction_and_pools_the_folds() -> None:
    tests = [
        _frame([1001, 1002], [10.0, 50.0], [14.0, 40.0]),
        _frame([1001, 1002], [10.0, 50.0], [10.0, 44.0]),
    ]
    folds = [_frame([1], [20.0], [23.0]), _frame([2, 3], [5.0, 9.0], [5.0, 5.0])]
    members = [_member_record({"seed": 0}), _member_record({"seed": 1})]

    record = bench_cmapss.ensemble_record(members, tests, folds)

    # mean predictions 12 and 42 against truths 10 and 50: errors +2 and -8
    assert record["rmse"] == pytest.approx(math.sqrt((4 + 64) / 2))
    assert record["nasa_score_sum"] == pytest.approx(
        math.exp(2 / 10) - 1 + math.exp(8 / 13) - 1
    )
    # pooled folds: errors +3, 0, -4 over three validation units
    assert record["validation_rmse"] == pytest.approx(math.sqrt(25 / 3))
    assert record["validation_units"] == 3
    assert record["train_minutes"] == pytest.approx(2 * 12.34)
    assert record["members"] == 2 and record["config"]["seed"] is None
    assert all("config" not in member for member in record["member_records"])


def test_ensemble_refuses_members_scored_on_other_windows() -> None:
    tests = [_frame([1001, 1002], [1.0, 2.0], [1.0, 2.0])] * 2
    tests[1] = tests[1].assign(row=[29, 31])
    folds = [_frame([1], [1.0], [1.0]), _frame([2], [1.0], [1.0])]

    with pytest.raises(ValueError, match="members 0 and 1 .* different test windows"):
        bench_cmapss.ensemble_record([_member_record({})] * 2, tests, folds)


def test_ensemble_refuses_a_unit_in_two_folds() -> None:
    tests = [_frame([1001], [1.0], [1.0])] * 3
    folds = [_frame([1], [1.0], [1.0]), _frame([2], [1.0], [1.0])]
    folds.append(_frame([4, 2], [1.0, 1.0], [1.0, 1.0]))

    with pytest.raises(ValueError, match="unit 2 .* members 1 and 2; expected disj"):
        bench_cmapss.ensemble_record([_member_record({})] * 3, tests, folds)


@pytest.mark.realdata
def test_members_validate_on_disjoint_folds_and_differ_in_seed(real_dir) -> None:
    configs = bench_cmapss.member_configs("FD001", "cnn", real_dir)

    folds = [set(config.val_units) for config in configs]
    assert len(configs) == bench_cmapss.MEMBERS["cnn"]
    assert all(len(fold) == 100 // bench_cmapss.FOLDS for fold in folds)
    assert all(a.isdisjoint(b) for i, a in enumerate(folds) for b in folds[i + 1 :])
    assert [c.seed for c in configs] == [
        bench_cmapss.SEED + k for k in range(len(configs))
    ]
    assert len({config.checkpoint_file("cnn") for config in configs}) == len(configs)
    assert len({config.path("results_dir") for config in configs}) == len(configs)
    common = [
        {k: v for k, v in config.to_dict().items() if k not in MEMBER_FIELDS}
        for config in configs
    ]
    assert all(fields == common[0] for fields in common)


@pytest.mark.parametrize(
    ("minutes", "jobs", "wall"),
    [
        ([5.0, 5.0, 5.0, 5.0, 5.0], 1, 25.0),
        ([5.0, 5.0, 5.0, 5.0, 5.0], 2, 15.0),  # rounds of 2, 2 and 1
        ([9.0, 1.0, 1.0, 1.0], 2, 9.0),  # the short ones share the second worker
        ([4.0, 6.0], 8, 6.0),
    ],
)
def test_wall_minutes_schedule_members_like_a_pool(minutes, jobs, wall) -> None:
    assert bench_cmapss.ensemble_wall_minutes(minutes, jobs) == pytest.approx(wall)


def test_ensemble_holds_its_wall_time_against_the_limit() -> None:
    tests = [_frame([1001, 1002], [1.0, 2.0], [1.0, 3.0])] * 3
    folds = [_frame([unit], [1.0], [1.0]) for unit in (1, 2, 3)]
    members = [{**_member_record({}), "train_minutes": 12.0}] * 3

    alone = bench_cmapss.ensemble_record(members, tests, folds, jobs=1)
    paired = bench_cmapss.ensemble_record(members, tests, folds, jobs=2)

    assert (alone["train_minutes"], alone["within_time_limit"]) == (36.0, False)
    assert (paired["train_minutes"], paired["within_time_limit"]) == (24.0, True)
    assert alone["train_minutes_summed"] == paired["train_minutes_summed"] == 36.0
    assert paired["jobs"] == 2


def _one_epoch_members(real_dir: Path, tmp_path: Path, members: int) -> list:
    configs = bench_cmapss.member_configs("FD001", "lstm", real_dir, load_model=False)
    return [
        replace(
            config,
            epochs=1,
            lstm_hidden_size=8,
            checkpoint_path=str(tmp_path / f"member{k}" / "{model}.pt"),
            results_dir=str(tmp_path / f"results{k}"),
            reports_dir=str(tmp_path / "reports"),
        )
        for k, config in enumerate(configs[:members])
    ]


def _reusing(configs: list) -> list:
    """The same members, reusing finished checkpoints and resuming partial ones."""
    return [replace(config, load_model=True) for config in configs]


@pytest.mark.realdata
def test_parallel_members_score_like_members_trained_in_turn(
    real_dir, tmp_path: Path
) -> None:
    configs = _one_epoch_members(real_dir, tmp_path, members=2)

    parallel = bench_cmapss._run_members("lstm", configs, jobs=2, threads=1)
    finished = _reusing(configs)
    in_turn = bench_cmapss._run_members("lstm", finished, jobs=1)

    assert all((tmp_path / f"member{k}" / "lstm.pt").is_file() for k in range(2))
    assert parallel["members"] == 2 and parallel["jobs"] == 2
    assert parallel["rmse"] == pytest.approx(in_turn["rmse"])
    assert parallel["validation_rmse"] == pytest.approx(in_turn["validation_rmse"])
    assert parallel["train_minutes"] == pytest.approx(
        max(m["train_minutes"] for m in parallel["member_records"])
    )


@pytest.mark.realdata
def test_a_failing_member_stops_the_parallel_run_at_once(
    real_dir, tmp_path: Path
) -> None:
    configs = _one_epoch_members(real_dir, tmp_path, members=4)
    configs[1] = replace(configs[1], cmapss_dir=str(tmp_path / "nowhere"))

    with pytest.raises(
        RuntimeError, match="cmapss:FD001 lstm member 1 failed: .*nowhere"
    ):
        bench_cmapss._run_members("lstm", configs, jobs=2, threads=1)

    # members 2 and 3 were waiting for a worker: they never trained
    assert not (tmp_path / "member2" / "lstm.pt").exists()
    assert not (tmp_path / "member3" / "lstm.pt").exists()


@pytest.mark.realdata
def test_a_killed_member_stops_the_parallel_run_naming_the_signal(
    real_dir, tmp_path: Path
) -> None:
    configs = _one_epoch_members(real_dir, tmp_path, members=3)
    raised = []

    def train() -> None:
        try:
            bench_cmapss._train_in_parallel("lstm", configs, jobs=2, threads=1)
        except RuntimeError as error:
            raised.append(error)

    runner = threading.Thread(target=train)
    runner.start()
    deadline = time.monotonic() + 60
    while not multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)
    runner.join(timeout=120)

    assert not runner.is_alive(), "the run waited for a member that had died"
    assert len(raised) == 1
    assert re.fullmatch(
        r"cmapss:FD001 lstm member [01] failed: its process was killed by SIGKILL "
        r"\(out of memory\?\)",
        str(raised[0]),
    )
    assert not multiprocessing.active_children()
    assert not (tmp_path / "member2" / "lstm.pt").exists()


@pytest.mark.realdata
def test_a_member_failing_with_a_huge_message_is_reported_cut(
    real_dir, tmp_path: Path
) -> None:
    configs = _one_epoch_members(real_dir, tmp_path, members=1)
    configs[0] = replace(configs[0], val_units=tuple(range(1000, 21000)))

    with pytest.raises(RuntimeError) as failed:
        bench_cmapss._train_in_parallel("lstm", configs, jobs=2, threads=1)

    message = str(failed.value)
    assert message.startswith("cmapss:FD001 lstm member 0 failed: ValueError: ")
    assert re.search(r" \.\.\. \(\d+ more characters\)$", message)
    assert len(message) < bench_cmapss.MAX_ERROR_CHARS + 100


SIGTERM_SCRIPT = """
import sys
from dataclasses import replace
from pathlib import Path
from bench import bench_cmapss

data_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
configs = [
    replace(
        config,
        epochs=50,
        checkpoint_path=str(out / f"member{k}" / "{model}.pt"),
        results_dir=str(out / f"results{k}"),
    )
    for k, config in enumerate(
        bench_cmapss.member_configs("FD001", "lstm", data_dir, load_model=False)[:2]
    )
]
bench_cmapss._train_in_parallel("lstm", configs, jobs=2, threads=1)
"""


def _workers(pid: int) -> list[int]:
    """The spawned worker processes of `pid` (not its resource tracker)."""
    listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in listed
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


@pytest.mark.realdata
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_sigterm_to_the_parallel_run_stops_its_workers(
    real_dir, tmp_path: Path
) -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_SCRIPT, str(real_dir), str(tmp_path)],
        cwd=bench_cmapss.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(_workers(run.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _workers(run.pid)
    time.sleep(1)  # past the workers' start

    run.send_signal(signal.SIGTERM)
    _, errors = run.communicate(timeout=60)

    assert run.returncode != 0
    assert b"stopped by SIGTERM" in errors
    assert len(workers) == 2
    for worker in workers:
        assert not Path(f"/proc/{worker}").exists(), "a worker outlived the run"


@pytest.mark.realdata
def test_each_parallel_member_logs_under_its_own_name(
    real_dir, tmp_path: Path, capfd
) -> None:
    configs = _one_epoch_members(real_dir, tmp_path, members=3)

    bench_cmapss._train_in_parallel("lstm", configs, jobs=2, threads=1)

    logged = capfd.readouterr().err
    for member in range(3):
        assert f"[cmapss:FD001 lstm member {member}] epoch   1/1" in logged


@pytest.mark.realdata
def test_loading_finished_members_keeps_the_jobs_they_trained_with(
    real_dir, tmp_path: Path
) -> None:
    configs = _one_epoch_members(real_dir, tmp_path, members=2)
    trained = bench_cmapss._run_members("lstm", configs, jobs=2, threads=1)
    finished = _reusing(configs)

    unknown = bench_cmapss._run_members("lstm", finished, jobs=1)
    collected = bench_cmapss._run_members("lstm", finished, jobs=1, previous=trained)

    minutes = [member["train_minutes"] for member in trained["member_records"]]
    assert (trained["jobs"], trained["train_minutes"]) == (
        2,
        pytest.approx(max(minutes)),
    )
    assert (unknown["jobs"], unknown["train_minutes"]) == (
        1,
        pytest.approx(sum(minutes)),
    )
    assert collected["jobs"] == 2
    assert collected["train_minutes"] == pytest.approx(trained["train_minutes"])
    assert (trained["threads"], unknown["threads"], collected["threads"]) == (
        1,
        None,
        1,
    )


@pytest.mark.realdata
def test_members_trained_across_calls_count_one_at_a_time(
    real_dir, tmp_path: Path
) -> None:
    configs = _one_epoch_members(real_dir, tmp_path, members=2)
    trained = bench_cmapss._run_members("lstm", configs, jobs=2, threads=1)
    (tmp_path / "member0" / "lstm.pt").unlink()
    mixed = bench_cmapss._run_members(
        "lstm", _reusing(configs), jobs=2, threads=1, previous=trained
    )
    two_epochs = [replace(config, epochs=2) for config in _reusing(configs)]
    resumed = bench_cmapss._run_members("lstm", two_epochs, jobs=2, threads=1)
    assert (resumed["jobs"], resumed["threads"]) == (None, None)

    minutes = [member["train_minutes"] for member in mixed["member_records"]]
    assert (mixed["jobs"], mixed["threads"]) == (None, None)
    assert mixed["train_minutes"] == pytest.approx(sum(minutes))


def test_ensemble_needs_one_record_and_frame_of_each_kind_per_member() -> None:
    tests = [_frame([1001, 1002], [1.0, 2.0], [1.0, 3.0])] * 3
    folds = [_frame([unit], [1.0], [1.0]) for unit in (1, 2, 3)]
    members = [_member_record({})] * 3

    with pytest.raises(ValueError, match="3 records, 2 test frames and 3 validation"):
        bench_cmapss.ensemble_record(members, tests[:2], folds)
    with pytest.raises(ValueError, match="3 records, 3 test frames and 2 validation"):
        bench_cmapss.ensemble_record(members, tests, folds[:2])
    with pytest.raises(ValueError, match="at least one member; got 0 records"):
        bench_cmapss.ensemble_record([], [], [])
    folds[2] = folds[2].iloc[:0]
    with pytest.raises(ValueError, match=r"members \[2\] have no validation windows"):
        bench_cmapss.ensemble_record(members, tests, folds)


@pytest.mark.parametrize("flag", ["--jobs", "--threads"])
@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_jobs_and_threads_must_be_positive(flag, value, capsys) -> None:
    with pytest.raises(SystemExit):
        bench_cmapss._parse_arguments([flag, value])

    assert f"expected an integer >= 1, got '{value}'" in capsys.readouterr().err


def test_jobs_and_threads_parse() -> None:
    arguments = bench_cmapss._parse_arguments(["--jobs", "2", "--threads", "1"])

    assert (arguments.jobs, arguments.threads) == (2, 1)


def test_data_dir_defaults_to_cmapss_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CMAPSS_DIR", str(tmp_path))

    assert bench_cmapss._parse_arguments([]).data_dir == tmp_path
    given = bench_cmapss._parse_arguments(["--data-dir", "elsewhere"])
    assert given.data_dir == Path("elsewhere")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"runs": {', "is not valid JSON"),
        (b"\xff\xfe", "is not valid JSON"),
        (b"[]", "holds no benchmark results"),
        (b"null", "holds no benchmark results"),
        (b'{"runs": []}', "holds no benchmark results"),
        (b'{"runs": {"FD001": 3}}', "holds no benchmark results"),
    ],
)
def test_corrupt_results_file_is_named(
    monkeypatch, tmp_path: Path, content: bytes, message: str
) -> None:
    results = tmp_path / "cmapss.json"
    results.write_bytes(content)
    monkeypatch.setattr(bench_cmapss, "RESULTS_PATH", results)

    with pytest.raises(ValueError, match=rf"{results} {message}.*rerun"):
        bench_cmapss._load_previous(threads=1)
