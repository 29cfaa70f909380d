"""Data pipeline benchmark on a full-scale (DS02-sized) generated N-CMAPSS file.

Run: `make bench` or `.venv/bin/python -m bench.bench_data`. Generates the file once
(in a subprocess, 6.5 M rows) unless `--file` names one, then in this process: load +
scale + build train and test window datasets (WIN_LEN 10, stride 1, 1 Hz, default
features) and one pass over all training batches of 256 with no model. The reference,
in the same run, is per-window indexing with default collation over the same windows.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import get_config  # noqa: E402
from src.data_loader import create_training_and_testing_sets, load_data  # noqa: E402

FULL_SCALE_FILE = ROOT / "datasets" / "N-CMAPSS_DS02-006_synthetic_full.h5"
RESULTS = ROOT / "bench" / "results" / "data.json"
TARGET_PEAK_RSS_GB = 2.0
TARGET_WINDOWS_PER_SECOND = 200_000
REFERENCE_BATCHES = 200


class PerWindow(torch.utils.data.Dataset):
    """The reference: one Python call per window, batches made by default collation."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        return self.dataset[index]


def main() -> None:
    arguments = _parse_arguments()
    path = arguments.file or _ensure_full_scale_file()
    torch.set_num_threads(2)
    config = get_config(environ={}, win_len=10, stride=1, downsample=1)

    started = time.perf_counter()
    data = load_data(path)
    splits = create_training_and_testing_sets(data, config)
    prepare_seconds = time.perf_counter() - started
    rss_after_prepare = _peak_rss_gb()

    ours_seconds, windows = _one_pass(splits.train.loader(256, shuffle=True))
    reference_seconds, reference_windows = _reference_pass(splits.train)

    figures = _figures(
        path,
        data,
        splits,
        prepare_seconds,
        rss_after_prepare,
        windows / ours_seconds,
        reference_windows / reference_seconds,
    )
    _report(figures)


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="an existing N-CMAPSS file")

    return parser.parse_args()


def _ensure_full_scale_file() -> Path:
    if not FULL_SCALE_FILE.is_file():
        print(f"generating {FULL_SCALE_FILE} (full scale, once)", flush=True)
        command = [
            sys.executable,
            "-m",
            "src.synthetic",
            "--full-scale",
            "--out",
            str(FULL_SCALE_FILE),
        ]
        subprocess.run(command, cwd=ROOT, check=True)

    return FULL_SCALE_FILE


def _one_pass(loader) -> tuple[float, int]:
    windows = 0
    started = time.perf_counter()
    for _, y in loader:
        windows += len(y)
    seconds = time.perf_counter() - started

    return seconds, windows


def _reference_pass(dataset) -> tuple[float, int]:
    loader = DataLoader(PerWindow(dataset), batch_size=256, shuffle=True)
    windows = 0
    started = time.perf_counter()
    for batch_number, (_, y) in enumerate(loader):
        windows += len(y)
        if batch_number + 1 == REFERENCE_BATCHES:
            break

    return time.perf_counter() - started, windows


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _figures(path, data, splits, prepare_seconds, rss_prepare, ours, reference):
    rows = sum(record.rows for record in data.units)
    features = len(splits.feature_names)
    every_window = len(splits.train) + len(splits.test) + len(splits.val or [])
    materialised = every_window * 10 * features * 4 / 1e9

    return {
        "file": str(path),
        "rows": rows,
        "train_windows": len(splits.train),
        "test_windows": len(splits.test),
        "features": features,
        "prepare_seconds": round(prepare_seconds, 1),
        "peak_rss_gb_after_prepare": round(rss_prepare, 3),
        "peak_rss_gb": round(_peak_rss_gb(), 3),
        "target_peak_rss_gb": TARGET_PEAK_RSS_GB,
        "materialised_windows_gb": round(materialised, 2),
        "windows_per_second": round(ours),
        "reference_per_window_windows_per_second": round(reference),
        "speedup_vs_reference": round(ours / reference, 1),
        "target_windows_per_second": TARGET_WINDOWS_PER_SECOND,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }


def _report(figures: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    rss_ok = figures["peak_rss_gb"] <= TARGET_PEAK_RSS_GB
    speed_ok = figures["windows_per_second"] >= TARGET_WINDOWS_PER_SECOND
    print(json.dumps(figures, indent=2))
    print(
        f"peak RSS {figures['peak_rss_gb']:.2f} GB (target <= {TARGET_PEAK_RSS_GB}): "
        f"{'met' if rss_ok else 'MISSED'}"
    )
    print(
        f"data pass {figures['windows_per_second']:,} windows/s (target >= "
        f"{TARGET_WINDOWS_PER_SECOND:,}; {figures['speedup_vs_reference']}x the "
        f"per-window reference): {'met' if speed_ok else 'MISSED'}"
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
