"""C-MAPSS benchmark: our CNN and LSTM on FD001 and FD003 beside published figures.

Run from the repo root (nice it on a shared machine):
    .venv/bin/python -m bench.bench_cmapss --data-dir ../shared/data/cmapss \
        [--subsets FD001 FD003] [--models cnn lstm] [--retrain] \
        [--jobs 2 --threads 1]
Each model is an ensemble of MEMBERS members: member k validates on fold k of the
training units (FOLDS folds, by unit) and trains on the rest with seed SEED + k and
the settings in `SETTINGS` (chosen on FD001 validation units, never on a test
file). The members' mean prediction on the last window of each test unit is scored
against the RUL file; figures go to bench/results/cmapss.json, checkpoints and
per-member results to bench/results/cmapss/, reused or resumed unless --retrain.
Cost per member on one core: 8-11 minutes for a CNN (60 epochs; 10-18 before its
9x1 convolutions took the band-matrix path), 2-4 for an LSTM, by machine;
--jobs 2 --threads 1 trains two members at once on a 2-core machine.
Separate processes (say, one per subset) each rewrite cmapss.json: run the full
command once afterwards, which loads the finished checkpoints, to collect all rows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/bench_cmapss.py`
    sys.path.insert(0, str(ROOT))

from config import Config, get_config  # noqa: E402
from src import compare  # noqa: E402
from src.data_loader import unit_folds  # noqa: E402
from src.experiment import ModelRun, run_model  # noqa: E402
from src.metrics import rmse  # noqa: E402
from src.sources import load_configured_data  # noqa: E402
from src.training import predict  # noqa: E402

RESULTS_PATH = ROOT / "bench" / "results" / "cmapss.json"
RUNS_DIR = ROOT / "bench" / "results" / "cmapss"
SUBSETS = ("FD001", "FD003")
MODELS = ("cnn", "lstm")
SEED = 0
TIME_LIMIT_MINUTES = 30.0
# Chosen on the validation units of FD001 (20 % of training units, by unit, seed 0)
# with the test files never read; see SELECTION_NOTE and *_VALIDATION_EVIDENCE.
# select_best keeps the epoch with the lowest validation RMSE, so `epochs` is an
# upper bound.
SETTINGS: dict[str, dict[str, Any]] = {
    "cnn": {
        "cnn_arch": "temporal",
        "cnn_activation": "tanh",
        "epochs": 60,
        "batch_size": 512,
        "learning_rate": 1e-3,
    },
    "lstm": {
        "epochs": 25,
        "batch_size": 256,
        "learning_rate": 1e-3,
        "lstm_hidden_size": 64,
        "lstm_layers": 2,
        "lstm_dropout": 0.3,
    },
}
# Cross-validation: the training units are split into FOLDS folds (drawn with SEED);
# member k of an ensemble validates on fold k, trains on the others with seed
# SEED + k, and keeps its epoch of lowest RMSE on its own fold. The ensemble answers
# with the mean of its members' predictions. Its training minutes, held against the
# time limit, are the wall time of training the members --jobs at a time.
# Why an ensemble: on FD001's 20 validation units, averaging three seeds' CNNs gave
# 12.59 against 12.87 for the members' mean (ENSEMBLE_VALIDATION_NOTE). Why four CNN
# members, not five: an FD003 CNN member trains for about 11 minutes on one core, so
# five two at a time (--jobs 2) take three rounds, 33 minutes, over the limit; four
# take two. Both counts were fixed before any ensemble's test figures were read.
# On 2026-12-04's slower machine its members took 14.5-17.6 minutes each, and the
# four 32.2 minutes: over the limit there. Since the band-matrix convolution they take
# 8.6-11.0 minutes there, the four 21.3; five would take three rounds, about 30. The
# count stays at four: changing it now would be a choice made after the test figures.
FOLDS = 5
# A failing worker's message is cut to this length (the whole one is in its log).
MAX_ERROR_CHARS = 4000
MEMBERS = {"cnn": 4, "lstm": 5}
COMMON_SETTINGS: dict[str, Any] = {
    "select_best": True,
    "seed": SEED,
    "autosave_every": 50,
}
SELECTION_NOTE = (
    "Settings chosen by validation RMSE (every window of the 20 held-out FD001 "
    "training units, labels capped at 125) in exploratory runs; the test and RUL "
    "files were not read for any choice. FD003 reuses the FD001 settings. The "
    "original CNN design's test figures (RMSE 24.2 / 20.2, a previous benchmark) "
    "were known when the temporal design was tried; it was adopted for its "
    "validation RMSE (CNN_VALIDATION_EVIDENCE), its test figures read once after. "
    "Batch 256 reached 12.91 against 13.06, inside the +-0.5 swing between "
    "neighbouring epochs, and was tried after those test figures: not adopted."
)
# Exploratory FD001 runs (CNN): design, batch size, learning rate, epochs, epoch of
# the rate drop (0 = none), best validation RMSE and its epoch.
CNN_EVIDENCE_COLUMNS = (
    "design",
    "activation",
    "batch_size",
    "learning_rate",
    "epochs",
    "lr_drop_epoch",
    "best_val_rmse",
    "best_epoch",
)
CNN_VALIDATION_EVIDENCE = (
    ("original", "leaky_relu", 128, 1e-3, 14, 0, 20.34, 7),  # previous benchmark
    ("temporal", "leaky_relu", 128, 1e-3, 15, 0, 13.96, 6),  # stopped at epoch 15
    ("temporal", "leaky_relu", 512, 1e-3, 60, 0, 13.46, 44),
    # Stopped at epoch 110 of 150: after the drop at 100, 14.58 at best.
    ("temporal", "leaky_relu", 512, 1e-3, 110, 100, 13.46, 44),
    ("temporal", "tanh", 512, 1e-3, 60, 0, 13.06, 55),  # chosen
    # The same run resumed to epoch 91 (of 100): 14.6-14.7 by then, overfitting.
    ("temporal", "tanh", 512, 1e-3, 91, 0, 13.06, 55),
    # Tried after the benchmark's test figures were known; neither adopted.
    ("temporal", "tanh", 256, 1e-3, 60, 0, 12.91, 24),  # within epoch-to-epoch noise
    ("temporal", "tanh", 512, 5e-4, 64, 0, 13.31, 58),  # stopped at epoch 64 of 80
    # The chosen settings with seeds 1 and 2 (same validation units as seed 0).
    ("temporal", "tanh", 512, 1e-3, 60, 0, 12.97, 45),
    ("temporal", "tanh", 512, 1e-3, 60, 0, 12.59, 46),
)
# Averaging the predictions of the seed 0, 1 and 2 models above: FD001 validation
# RMSE 12.59 against 12.87 for the members' mean. Passed over at first (three times
# the training for about 0.3); adopted once the faster convolution backward made
# members cheap enough, as cross-validated members (MEMBERS) that between them train
# on every training unit. The single seed-0 CNN's test figures were known by then.
ENSEMBLE_VALIDATION_NOTE = "3 seeds: 12.59 vs members' mean 12.87 (FD001 val)"
# Exploratory FD001 runs (LSTM, 2 layers): best validation RMSE and its epoch.
LSTM_EVIDENCE_COLUMNS = (
    "hidden_size",
    "dropout",
    "learning_rate",
    "batch_size",
    "epochs",
    "lr_drop_epoch",
    "best_val_rmse",
    "best_epoch",
)
LSTM_VALIDATION_EVIDENCE = (
    (64, 0.1, 1e-3, 256, 60, 0, 14.04, 12),
    (64, 0.3, 1e-3, 256, 25, 0, 13.90, 7),  # chosen
    (32, 0.3, 5e-4, 256, 25, 0, 13.97, 12),
    (64, 0.3, 3e-4, 128, 30, 0, 14.16, 12),
    (64, 0.3, 1e-3, 256, 25, 8, 13.90, 7),  # the drop came after the best epoch
)
# Published last-window test figures (RMSE in cycles, summed NASA score).
PUBLISHED: dict[str, dict[str, Any]] = {
    "cnn": {
        "source": "Li et al. 2018 (CNN)",
        "FD001": {"rmse": 12.61, "nasa_score_sum": 273.7},
        "FD003": {"rmse": 12.64, "nasa_score_sum": 284.1},
    },
    "lstm": {
        "source": "Zheng et al. 2017 (LSTM)",
        "FD001": {"rmse": 16.14, "nasa_score_sum": 338.0},
        "FD003": {"rmse": 16.18, "nasa_score_sum": 852.0},
    },
}
BEST_ATTENTION_RMSE = "about 10.9-11.0 (best reported attention models)"
AIM_RMSE = {"cnn": 11.5, "lstm": 13.0}


def main() -> None:
    """Parse arguments, run every (subset, model), write and print the figures."""
    arguments = _parse_arguments()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(arguments.threads)
    figures = _load_previous(arguments.threads)

    for subset in arguments.subsets:
        for model_name in arguments.models:
            configs = member_configs(
                subset, model_name, arguments.data_dir, not arguments.retrain
            )
            rows = figures["runs"].setdefault(subset, {})
            rows[model_name] = _run_members(
                model_name,
                configs,
                arguments.jobs,
                arguments.threads,
                previous=rows.get(model_name),
            )
            _write(figures)

    print(markdown_table(figures["runs"]))
    print(f"\nwritten to {RESULTS_PATH}")


def _parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=os.environ.get("CMAPSS_DIR") or None,
        help="folder of the C-MAPSS text files (default: $CMAPSS_DIR, else "
        "config.py's cmapss_dir)",
    )
    parser.add_argument("--subsets", nargs="+", choices=SUBSETS, default=SUBSETS)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=MODELS)
    parser.add_argument(
        "--retrain", action="store_true", help="ignore finished checkpoints"
    )
    parser.add_argument(
        "--threads", type=_positive_int, default=2, help="torch threads per process"
    )
    parser.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        help="members trained at once, each in its own process (try --jobs 2 "
        "--threads 1 on two cores)",
    )

    return parser.parse_args(argv)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")

    return value


def member_configs(
    subset: str, model_name: str, data_dir: Path | None, load_model: bool = True
) -> list[Config]:
    """The configs of an ensemble's members: member k validates on fold k.

    Args:
        subset: "FD001" or "FD003".
        model_name: "cnn" or "lstm".
        data_dir: Folder of the C-MAPSS files, or None for `Config.cmapss_dir`.
        load_model: Reuse finished checkpoints and resume partial ones.

    Returns:
        MEMBERS[model_name] configs, in member order.
    """
    first = benchmark_config(subset, model_name, data_dir, load_model)
    units = load_configured_data(first).unit_ids("dev")
    folds = unit_folds(units, FOLDS, SEED)

    return [
        benchmark_config(
            subset, model_name, data_dir, load_model, member, folds[member]
        )
        for member in range(MEMBERS[model_name])
    ]


def benchmark_config(
    subset: str,
    model_name: str,
    data_dir: Path | None,
    load_model: bool = True,
    member: int = 0,
    val_units: Sequence[int] = (),
) -> Config:
    """The resolved config of one ensemble member; the environment is not read.

    Args:
        subset: "FD001" or "FD003".
        model_name: "cnn" or "lstm".
        data_dir: Folder of the C-MAPSS files (relative to the working directory),
            or None for `Config.cmapss_dir`.
        load_model: Reuse a finished checkpoint and resume a partial one.
        member: Index of the member; its seed is SEED + member.
        val_units: The member's validation fold (see `member_configs`).

    Returns:
        The config, with this member's checkpoint and results under
        bench/results/cmapss/.
    """
    paths = {
        "checkpoint_path": str(
            RUNS_DIR / "models" / "{dataset}" / f"{{model}}_member{member}.pt"
        ),
        "results_dir": str(RUNS_DIR / "results" / f"member{member}"),
        "reports_dir": str(RUNS_DIR / "reports"),
    }
    if data_dir is not None:
        paths["cmapss_dir"] = str(data_dir.resolve())
    member_settings = {"seed": SEED + member, "val_units": tuple(val_units)}

    return get_config(
        environ={},
        dataset=f"cmapss:{subset}",
        load_model=load_model,
        **{**COMMON_SETTINGS, **SETTINGS[model_name], **member_settings},
        **paths,
    )


def _run_members(
    model_name: str,
    configs: list[Config],
    jobs: int = 1,
    threads: int = 1,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train (or resume, or load) each member; score their mean prediction.

    With jobs > 1, members train that many at a time in spawned processes of
    `threads` torch threads each; the finished checkpoints are then loaded here.

    Args:
        model_name: "cnn" or "lstm".
        configs: One config per member (`member_configs`).
        jobs: Members trained at once.
        threads: Torch threads of each parallel member.
        previous: This model's record from an earlier call, if any. When this call
            trains nothing (every checkpoint was finished before), the wall time is
            computed with the `jobs` recorded there, the arrangement the members
            were trained in, not this call's.

    Returns:
        The `ensemble_record`, with the torch threads per member and the wall time
        of this call. Members trained partly in this call and partly before (some
        finished before it, or resumed in it) have no known arrangement: `jobs`
        and `threads` are None and `train_minutes` is the members' sum.
    """
    call_started, clock = time.time(), time.perf_counter()
    started_before = [
        config.load_model and config.checkpoint_file(model_name).exists()
        for config in configs
    ]
    if jobs > 1:
        _train_in_parallel(model_name, configs, jobs, threads)
        configs = [replace(config, load_model=True) for config in configs]
    members, test_frames, val_frames, trained_here = [], [], [], []
    for member, config in enumerate(configs):
        print(f"== {config.dataset} {model_name} member {member}", flush=True)
        started = time.perf_counter()
        run = run_model(model_name, config, progress=sys.stderr.isatty())
        members.append(run_record(run, (time.perf_counter() - started) / 60))
        test_frames.append(run.frame)
        val_predictions = predict(run.model, run.splits.val, config.batch_size)
        val_frames.append(compare.predictions_frame(run.splits.val, val_predictions))
        written = Path(run.report["checkpoint"]).stat().st_mtime
        trained_here.append(written >= call_started)
    if not any(trained_here):
        earlier = previous or {}
        jobs = earlier.get("jobs", 1)  # unknown: one at a time, the sum
        threads = earlier.get("threads")
    elif not all(trained_here) or any(started_before):  # trained across calls
        jobs = threads = None
    record = ensemble_record(members, test_frames, val_frames, jobs)

    return {
        **record,
        "threads": threads,
        "wall_minutes_this_call": (time.perf_counter() - clock) / 60,
    }


def _train_in_parallel(
    model_name: str, configs: list[Config], jobs: int, threads: int
) -> None:
    """Trains the members `jobs` at a time, each in a fresh spawned process.

    The first member to fail, or to die (killed, say by the out-of-memory killer),
    or an interrupt or SIGTERM, terminates every running worker at once (their
    autosaved checkpoints resume on the next call) and is raised here, naming the
    member; members not yet started never start.

    Raises:
        RuntimeError: Naming the member, with its error or its exit code.
    """
    context = multiprocessing.get_context("spawn")  # no torch state forked
    errors = context.SimpleQueue()  # (member, message) from failing workers
    reported: dict[int, str] = {}
    waiting = list(enumerate(configs))
    running: dict[int, Any] = {}
    try:
        with _sigterm_as_exit():
            while waiting or running:
                while waiting and len(running) < jobs:
                    member, config = waiting.pop(0)
                    process = context.Process(
                        target=_train_member,
                        args=(model_name, config, member, threads, errors),
                    )
                    process.start()
                    running[member] = process
                _read_reports(errors, reported)  # as they come: a full pipe blocks
                for member, process in list(running.items()):
                    if process.exitcode is None:
                        continue
                    del running[member]
                    if process.exitcode != 0:
                        reason = _failure_reason(errors, reported, member, process)
                        raise RuntimeError(
                            f"{configs[member].dataset} {model_name} member "
                            f"{member} failed: {reason}"
                        )
                time.sleep(0.2)
    finally:
        for process in running.values():
            process.terminate()
        for process in running.values():
            process.join()


@contextlib.contextmanager
def _sigterm_as_exit():
    """SIGTERM (kill, timeout) raises SystemExit, so `finally` stops the workers.

    Only the main thread can set handlers; elsewhere the default stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum, frame):
        raise SystemExit(f"stopped by {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _failure_reason(errors, reported: dict[int, str], member: int, process) -> str:
    """The error a worker reported, or how it died when it could not report."""
    process.join()  # its last message is in the pipe once it has exited
    _read_reports(errors, reported)
    if member in reported:
        return reported[member]
    if process.exitcode < 0:
        name = signal.Signals(-process.exitcode).name
        return f"its process was killed by {name} (out of memory?)"

    return f"its process exited with code {process.exitcode}"


def _read_reports(errors, reported: dict[int, str]) -> None:
    """Moves every (member, message) waiting on `errors` into `reported`."""
    while not errors.empty():
        sender, message = errors.get()
        reported[sender] = message


def _train_member(
    model_name: str, config: Config, member: int, threads: int, errors=None
) -> None:
    """Worker: train one member to its checkpoint; its lines carry its name.

    An exception is reported on `errors` as (member, message), the message cut to
    `MAX_ERROR_CHARS`, then raised.
    """
    prefix = f"[{config.dataset} {model_name} member {member}] "
    logging.basicConfig(level=logging.INFO, format=prefix + "%(message)s", force=True)
    torch.set_num_threads(threads)
    print(f"== {prefix}training", flush=True)
    try:
        run_model(model_name, config, progress=False)
    except BaseException as error:
        if errors is not None:
            message = f"{type(error).__name__}: {error}"
            if len(message) > MAX_ERROR_CHARS:
                cut = len(message) - MAX_ERROR_CHARS
                message = f"{message[:MAX_ERROR_CHARS]} ... ({cut} more characters)"
            errors.put((member, message))
        raise


def ensemble_wall_minutes(member_minutes: Sequence[float], jobs: int) -> float:
    """Wall time of training the members `jobs` at a time, in member order.

    Each member starts on the first free worker, as in a process pool; with one
    job this is the sum.
    """
    workers = [0.0] * max(1, min(jobs, len(member_minutes)))
    for minutes in member_minutes:
        first_free = workers.index(min(workers))
        workers[first_free] += minutes

    return max(workers, default=0.0)


def ensemble_record(
    members: list[dict[str, Any]],
    test_frames: list[pd.DataFrame],
    val_frames: list[pd.DataFrame],
    jobs: int | None = 1,
) -> dict[str, Any]:
    """Test figures of the members' mean prediction, and their validation figure.

    Args:
        members: `run_record` of each member.
        test_frames: Each member's test predictions (`predictions_frame`), all on
            the same test windows.
        val_frames: Each member's predictions on its own validation fold.
        jobs: Members trained at once (see `ensemble_wall_minutes`); None when
            unknown, which counts them one at a time (their sum).

    Returns:
        Test RMSE and summed NASA score of the mean prediction; `validation_rmse`
        over every member's fold pooled (each window predicted by the member that
        did not train on it); `train_minutes`, the wall time of training the
        members `jobs` at a time, and their sum; the common config; and the
        members' records.

    Raises:
        ValueError: If the members were scored on different test windows, two
            members validated on the same unit, a member has no validation
            windows, or the three lists differ in length or are empty.
    """
    _check_one_per_member(members, test_frames, val_frames)
    _check_same_windows(test_frames)
    pooled_val = pd.concat(val_frames, ignore_index=True)
    _check_disjoint_folds(val_frames)
    mean_frame = test_frames[0].copy()
    mean_frame["y_pred"] = np.mean([frame.y_pred for frame in test_frames], axis=0)
    window = compare.evaluate(mean_frame)["window"]
    member_minutes = [member["train_minutes"] for member in members]
    wall_minutes = ensemble_wall_minutes(member_minutes, jobs or 1)

    return {
        "rmse": window["rmse"],
        "nasa_score_sum": window["nasa_score_sum"],
        "test_units": len(mean_frame),
        "members": len(members),
        "validation_rmse": rmse(pooled_val.y_true, pooled_val.y_pred),
        "validation_units": int(pooled_val.unit.nunique()),
        "train_minutes": wall_minutes,
        "train_minutes_summed": sum(member_minutes),
        "jobs": None if jobs is None else min(jobs, len(members)),
        "within_time_limit": wall_minutes <= TIME_LIMIT_MINUTES,
        "config": {**members[0]["config"], "seed": None, "val_units": None},
        "member_records": [
            {key: value for key, value in member.items() if key != "config"}
            for member in members
        ],
    }


def _check_one_per_member(
    members: list[dict[str, Any]],
    test_frames: list[pd.DataFrame],
    val_frames: list[pd.DataFrame],
) -> None:
    counts = (len(members), len(test_frames), len(val_frames))
    if not counts[0] or len(set(counts)) != 1:
        raise ValueError(
            f"expected one record, test frame and validation frame per member, and "
            f"at least one member; got {counts[0]} records, {counts[1]} test frames "
            f"and {counts[2]} validation frames"
        )
    empty = [member for member, frame in enumerate(val_frames) if frame.empty]
    if empty:
        raise ValueError(f"members {empty} have no validation windows")


def _check_same_windows(frames: list[pd.DataFrame]) -> None:
    windows = frames[0][["unit", "row"]]
    for member, frame in enumerate(frames[1:], start=1):
        if not frame[["unit", "row"]].equals(windows):
            raise ValueError(
                f"members 0 and {member} were scored on different test windows; "
                "expected the same last window of every test unit"
            )


def _check_disjoint_folds(frames: list[pd.DataFrame]) -> None:
    seen: dict[int, int] = {}
    for member, frame in enumerate(frames):
        for unit in frame.unit.unique().tolist():
            if unit in seen:
                raise ValueError(
                    f"unit {unit} is in the validation folds of members {seen[unit]} "
                    f"and {member}; expected disjoint folds"
                )
            seen[unit] = member


def run_record(run: ModelRun, wall_minutes: float) -> dict[str, Any]:
    """Test figures, selection evidence and cost of one member's finished run.

    Args:
        run: What `run_model` returned.
        wall_minutes: Wall time of this call (near zero when a checkpoint was reused).

    Returns:
        JSON-serialisable record; `train_minutes` sums every epoch, resumed ones
        included.
    """
    history = run.history
    selected = history.selected_epoch
    train_minutes = sum(history.epoch_seconds) / 60
    window = run.report["window"]

    return {
        "rmse": window["rmse"],
        "nasa_score_sum": window["nasa_score_sum"],
        "test_units": len(run.frame),
        "seed": run.config.seed,
        "selected_epoch": selected,
        "epochs_run": history.epochs,
        "selection_val_rmse": history.val_rmse[selected - 1] if selected else None,
        "val_rmse_per_epoch": history.val_rmse,
        "train_minutes": train_minutes,
        "wall_minutes_this_call": wall_minutes,
        "parameters": run.report["parameters"],
        "val_units": run.splits.val_units,
        "config": run.config.to_dict(),
    }


def _load_previous(threads: int) -> dict[str, Any]:
    """Earlier figures (so a run of one subset keeps the others), plus the context."""
    previous = {}
    if RESULTS_PATH.is_file():
        previous = _read_results(RESULTS_PATH)

    return {
        "runs": previous.get("runs", {}),
        "settings": {"common": COMMON_SETTINGS, **SETTINGS},
        "selection": SELECTION_NOTE,
        "cnn_validation_evidence": [
            dict(zip(CNN_EVIDENCE_COLUMNS, row, strict=True))
            for row in CNN_VALIDATION_EVIDENCE
        ],
        "cnn_ensemble_validation": ENSEMBLE_VALIDATION_NOTE,
        "lstm_validation_evidence": [
            dict(zip(LSTM_EVIDENCE_COLUMNS, row, strict=True))
            for row in LSTM_VALIDATION_EVIDENCE
        ],
        "published": PUBLISHED,
        "best_attention_rmse": BEST_ATTENTION_RMSE,
        "time_limit_minutes": TIME_LIMIT_MINUTES,
        "threads_this_call": threads,
        "load_average_at_start_of_this_call": os.getloadavg()[0],
        "versions": compare.versions(),
    }


def _read_results(path: Path) -> dict[str, Any]:
    """An earlier results file: a JSON object whose "runs" maps subsets to models."""
    remedy = "move it away and rerun (finished checkpoints are reused)"
    try:
        previous = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); {remedy}") from error
    runs = previous.get("runs", {}) if isinstance(previous, dict) else None
    if not isinstance(runs, dict) or not all(
        isinstance(models, dict) for models in runs.values()
    ):
        raise ValueError(
            f'{path} holds no benchmark results (expected an object whose "runs" '
            f"maps subsets to models); {remedy}"
        )

    return previous


def _write(figures: dict[str, Any]) -> None:
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS_PATH.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(figures, indent=2))
    temporary.replace(RESULTS_PATH)


def markdown_table(runs: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Our figures beside the published ones, one row per (subset, model).

    Args:
        runs: subset -> model -> record from `ensemble_record`.

    Returns:
        A markdown table, then one verdict line per row.
    """
    header = (
        "| subset | model | RMSE | NASA score | published | published RMSE | "
        "published score | members | train min | validation RMSE |\n"
        "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
    )
    rows, verdicts = [], []
    for subset, models in sorted(runs.items()):
        for model_name, record in sorted(models.items()):
            rows.append(_table_row(subset, model_name, record))
            verdicts.append(verdict(subset, model_name, record))
    footer = f"Attention models: RMSE {BEST_ATTENTION_RMSE} on FD001 and FD003."

    return "\n".join([header, *rows, "", *verdicts, footer])


def _table_row(subset: str, model_name: str, record: dict[str, Any]) -> str:
    published = PUBLISHED[model_name]
    theirs = published[subset]
    cells = [
        subset,
        model_name,
        f"{record['rmse']:.2f}",
        f"{record['nasa_score_sum']:.1f}",
        published["source"],
        f"{theirs['rmse']:.2f}",
        f"{theirs['nasa_score_sum']:.1f}",
        str(record["members"]),
        f"{record['train_minutes']:.1f}",
        f"{record['validation_rmse']:.2f}",
    ]

    return "| " + " | ".join(cells) + " |"


def verdict(subset: str, model_name: str, record: dict[str, Any]) -> str:
    """One line: our RMSE and score against the published ones, and against our aim."""
    published = PUBLISHED[model_name]
    theirs = published[subset]
    margin = theirs["rmse"] - record["rmse"]
    rmse_text = f"better by {margin:.2f}" if margin > 0 else f"worse by {-margin:.2f}"
    score_better = record["nasa_score_sum"] < theirs["nasa_score_sum"]
    aim = AIM_RMSE[model_name]
    aim_gap = record["rmse"] - aim
    aim_text = "reached" if aim_gap <= 0 else f"missed by {aim_gap:.2f}"

    return (
        f"- {subset} {model_name} vs {published['source']}: RMSE "
        f"{record['rmse']:.2f} vs {theirs['rmse']:.2f} ({rmse_text}); score "
        f"{record['nasa_score_sum']:.1f} vs {theirs['nasa_score_sum']:.1f} "
        f"({'better' if score_better else 'worse'}); aim RMSE {aim:.1f} {aim_text}."
    )


if __name__ == "__main__":
    main()
