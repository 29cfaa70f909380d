"""Demo latency: one slider or dropdown change with cached predictions (target 100 ms).

Run: `.venv/bin/python -m bench.bench_demo` (part of `make bench`). Uses the generated
default file and freshly initialised CNN and LSTM (weights do not change the cost).
Measures random changes of cycle and position, unit switches, model switches, and as
the reference in the same run, an update that recomputes the unit's predictions.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import get_config  # noqa: E402
from src.demo import demo_for_models  # noqa: E402
from src.experiment import prepare  # noqa: E402
from src.training import build_model, default_model_args  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "demo.json"
TARGET_MS = 100.0
CHANGES = 200


def main() -> None:
    torch.manual_seed(0)
    config = get_config(environ={})
    data, splits = prepare(config, "cnn")
    models = {
        name.upper(): build_model(name, default_model_args(name, splits, config))
        for name in ("cnn", "lstm")
    }
    demo = demo_for_models(data, models, {"CNN": "cnn", "LSTM": "lstm"}, config)
    for model in models:  # warm every cache once, as a user's first clicks do
        for unit in data.unit_ids():
            demo.select(unit=unit, model=model)

    figures = {
        "slider_ms": _timed(demo, _slider_moves(demo, data)),
        "unit_switch_ms": _timed(demo, [{"unit": u} for u in data.unit_ids() * 5]),
        "model_switch_ms": _timed(demo, [{"model": m} for m in list(models) * 20]),
        "reference_recompute_ms": _reference(demo, data),
    }
    _report(figures, config)


def _slider_moves(demo, data) -> list[dict]:
    rng = np.random.default_rng(0)
    moves = []
    for _ in range(CHANGES):
        record = data.units[rng.integers(len(data.units))]
        cycle = int(rng.integers(record.cycle.min() + 1, record.cycle.max() + 1))
        moves.append({"unit": record.unit, "cycle": cycle, "position": 0})
        moves.append({"position": int(rng.integers(0, 10))})

    return moves


def _timed(demo, changes: list[dict]) -> dict:
    seconds = []
    for change in changes:
        started = time.perf_counter()
        demo.select(**change)
        seconds.append(time.perf_counter() - started)

    return _summary(seconds)


def _reference(demo, data) -> dict:
    """Each update recomputes the unit's predictions (no cache)."""
    seconds = []
    for unit in data.unit_ids():
        demo._predictions.clear()
        started = time.perf_counter()
        demo.select(unit=unit, cycle=int(data.unit(unit).cycle.max()) // 2)
        seconds.append(time.perf_counter() - started)

    return _summary(seconds)


def _summary(seconds: list[float]) -> dict:
    milliseconds = np.array(seconds) * 1000

    return {
        "median": round(float(np.median(milliseconds)), 1),
        "p95": round(float(np.percentile(milliseconds, 95)), 1),
        "max": round(float(milliseconds.max()), 1),
        "changes": len(seconds),
    }


def _report(figures: dict, config) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **figures,
        "target_ms": TARGET_MS,
        "win_len": config.win_len,
        "torch": torch.__version__,
    }
    RESULTS.write_text(json.dumps(document, indent=2))
    print(json.dumps(document, indent=2))
    for key in ("slider_ms", "unit_switch_ms", "model_switch_ms"):
        verdict = "met" if figures[key]["p95"] <= TARGET_MS else "MISSED"
        print(
            f"{key}: median {figures[key]['median']} ms, p95 {figures[key]['p95']} "
            f"ms (target <= {TARGET_MS:.0f} ms): {verdict}"
        )
    ratio = figures["reference_recompute_ms"]["median"] / figures["slider_ms"]["median"]
    print(
        f"recomputing predictions per update would take "
        f"{figures['reference_recompute_ms']['median']} ms ({ratio:.0f}x)"
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
