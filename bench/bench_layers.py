"""Training-step time, inference throughput and peak memory: our layers vs torch's.

Builds the CNN twice (our layers and torch's native ones, same weights) and times both
in one interleaved run at batch 256 on 1x10x32 windows. Run from the repo root:
    .venv/bin/python -m bench.bench_layers [--arch temporal]   (about a minute)
`--arch` picks the CNN design (original by default; temporal is the quick profile's).
Figures go to stdout and to bench/results/layers.json (layers_temporal.json).
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # also runnable as `python bench/bench_layers.py`
    sys.path.insert(0, str(REPO_ROOT))

from src.cnn_net import build_cnn  # noqa: E402

RESULTS_DIR = REPO_ROOT / "bench" / "results"
ARCHITECTURES = ("original", "temporal")
VARIANTS = ("custom", "native")
MEMORY_COLUMNS = {
    "peak_rss": "peak RSS MB",
    "rss_growth": "RSS growth MB",
    "tensor_peak": "tensor peak MB",
}
BATCH_SIZE = 256
WINDOW_LENGTH = 10
N_FEATURES = 32
WARMUP_STEPS = 5
MEMORY_PROBE_STEPS = 5
# Above this share of the CPUs used by other processes, the timings are skewed.
BUSY_OTHER_CPU_SHARE = 0.05
MEMORY_PROBES = 3  # fresh processes per variant; RSS peaks vary by tens of MB


def main() -> None:
    """Parses arguments, then runs either the full benchmark or one memory probe."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed steps each")
    parser.add_argument("--arch", choices=ARCHITECTURES, default="original")
    parser.add_argument("--memory-probe", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_probe:
        print(json.dumps(_memory_probe(args.memory_probe, args.arch)))
    else:
        _run_benchmark(args.repeats, args.arch)


def _run_benchmark(repeats: int, arch: str) -> None:
    """Times both variants, probes their memory, prints and saves the figures."""
    models, batch = _make_models(arch), _make_batch()
    cpu_before = _cpu_seconds()

    step_ms = _time_training(models, batch, repeats)
    windows_per_s = _time_inference(models, batch[0], repeats)
    memory_mb = _measure_memory(arch)

    other_share = _other_processes_cpu_share(cpu_before, _cpu_seconds())
    results = {
        "config": {"arch": arch, **_config(repeats, other_share)},
        "train_step_ms_median": step_ms,
        "inference_windows_per_s": windows_per_s,
        "train_peak_memory_mb": memory_mb,
        "ratio_custom_over_native": _ratios(step_ms, windows_per_s, memory_mb),
    }
    print(_format_table(results))
    if other_share > BUSY_OTHER_CPU_SHARE:
        print(
            f"\nnote: other processes used {other_share:.0%} of the CPUs during the "
            "run, so the times and the ratio are unreliable; rerun on a quiet machine"
        )
    path = results_path(arch)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(REPO_ROOT)}")


def results_path(arch: str) -> Path:
    """bench/results/layers.json for the original design, layers_<arch>.json else."""
    suffix = "" if arch == "original" else f"_{arch}"

    return RESULTS_DIR / f"layers{suffix}.json"


def _cpu_seconds() -> dict[str, float]:
    """Wall clock, busy CPU seconds of the machine, and our own CPU seconds.

    Our own time covers this process and its finished children; the machine's
    comes from /proc/stat (Linux).
    """
    ticks = [int(v) for v in Path("/proc/stat").read_text().split()[1:9]]
    idle_ticks = ticks[3] + ticks[4]  # idle and iowait
    own = [
        resource.getrusage(who)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    ]

    return {
        "wall": time.perf_counter(),
        "machine_busy": (sum(ticks) - idle_ticks) / os.sysconf("SC_CLK_TCK"),
        "own": sum(usage.ru_utime + usage.ru_stime for usage in own),
    }


def _other_processes_cpu_share(before: dict, after: dict) -> float:
    """Fraction of all CPU time between before and after used by other processes."""
    delta = {key: after[key] - before[key] for key in before}
    other_busy = max(0.0, delta["machine_busy"] - delta["own"])

    return other_busy / (delta["wall"] * os.cpu_count())


def _make_models(arch: str) -> dict[str, nn.Sequential]:
    """Both variants of the design with identical initial weights."""
    torch.manual_seed(0)
    sizes = {"window_length": WINDOW_LENGTH, "n_features": N_FEATURES}
    custom = build_cnn(arch=arch, **sizes)
    native = build_cnn(native=True, arch=arch, **sizes)
    native.load_state_dict(custom.state_dict())

    return {"custom": custom, "native": native}


def _make_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch shaped like the real windows and RUL targets."""
    generator = torch.Generator().manual_seed(1)
    windows = torch.randn(BATCH_SIZE, 1, WINDOW_LENGTH, N_FEATURES, generator=generator)
    targets = torch.rand(BATCH_SIZE, 1, generator=generator)

    return windows, targets


def _train_step(model: nn.Module, optimizer, batch) -> None:
    """One forward, MSE loss, backward and Adam step."""
    windows, targets = batch
    optimizer.zero_grad(set_to_none=True)

    loss = nn.functional.mse_loss(model(windows), targets)

    loss.backward()

    optimizer.step()


def _time_training(models: dict, batch, repeats: int) -> dict[str, float]:
    """Median training-step time in ms, the variants taking turns every step."""
    optimizers = {name: torch.optim.Adam(m.parameters()) for name, m in models.items()}
    for model in models.values():
        model.train()

    def step(name: str) -> None:
        _train_step(models[name], optimizers[name], batch)

    return _interleaved_medians(step, WARMUP_STEPS, repeats)


def _time_inference(models: dict, windows: torch.Tensor, repeats: int) -> dict:
    """Windows per second in eval mode without autograd, variants taking turns."""
    for model in models.values():
        model.eval()

    def predict(name: str) -> None:
        with torch.no_grad():
            models[name](windows)

    medians_ms = _interleaved_medians(predict, WARMUP_STEPS, repeats)

    return {name: BATCH_SIZE / (ms / 1000) for name, ms in medians_ms.items()}


def _interleaved_medians(run, warmup: int, repeats: int) -> dict[str, float]:
    """Median ms of run(name) per variant, the variants taking turns.

    The order flips every round, so neither variant always runs right after the
    other (warm caches, CPU frequency).
    """
    times = {name: [] for name in VARIANTS}
    for round_index in range(warmup + repeats):
        order = VARIANTS if round_index % 2 == 0 else VARIANTS[::-1]
        for name in order:
            start = time.perf_counter()
            run(name)
            elapsed_ms = (time.perf_counter() - start) * 1000
            if round_index >= warmup:
                times[name].append(elapsed_ms)

    return {name: statistics.median(ms) for name, ms in times.items()}


def _measure_memory(arch: str) -> dict[str, dict[str, float]]:
    """Median over MEMORY_PROBES fresh processes per variant, variants alternating."""
    probes = {name: [] for name in VARIANTS}
    for _ in range(MEMORY_PROBES):
        for name in VARIANTS:
            probes[name].append(_run_memory_probe(name, arch))

    return {
        name: {key: statistics.median(p[key] for p in runs) for key in runs[0]}
        for name, runs in probes.items()
    }


def _run_memory_probe(variant: str, arch: str) -> dict[str, float]:
    """Runs _memory_probe in a fresh interpreter so each variant has its own peak."""
    script = str(Path(__file__).resolve())
    command = [sys.executable, script, "--memory-probe", variant, "--arch", arch]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    return json.loads(completed.stdout.strip().splitlines()[-1])


def _memory_probe(variant: str, arch: str) -> dict[str, float]:
    """Peak memory of training steps of one variant, in MB.

    tracemalloc does not see torch's allocations, so we read the kernel's peak
    resident set (VmHWM), reset just before training. Not ru_maxrss: a child process
    inherits its parent's maxrss. Also the peak of live tensor bytes in one step.
    """
    models, batch = _make_models(arch), _make_batch()
    model = models[variant]
    optimizer = torch.optim.Adam(model.parameters())
    rss_before_mb = _proc_status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS

    for _ in range(MEMORY_PROBE_STEPS):
        _train_step(model, optimizer, batch)

    peak_mb = _proc_status_mb("VmHWM")
    tensor_peak_mb = _profiled_tensor_peak_mb(model, optimizer, batch)

    return {
        "peak_rss": peak_mb,
        "rss_growth": peak_mb - rss_before_mb,
        "tensor_peak": tensor_peak_mb,
    }


def _proc_status_mb(field: str) -> float:
    """A memory field of /proc/self/status (Linux reports kB) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024

    raise RuntimeError(f"{field} not found in /proc/self/status")


def _profiled_tensor_peak_mb(model: nn.Module, optimizer, batch) -> float:
    """Largest total of tensor bytes allocated and still alive during one step.

    Replays torch.profiler's allocation events (a private but stable helper does
    the bookkeeping); parameters and data existing before the step do not count.
    """
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import Action, MemoryProfile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        _train_step(model, optimizer, batch)

    live_bytes = peak_bytes = 0
    for _, action, _, size in MemoryProfile(prof.profiler.kineto_results).timeline:
        if action == Action.CREATE:
            live_bytes += size
        elif action == Action.DESTROY:
            live_bytes -= size
        peak_bytes = max(peak_bytes, live_bytes)

    return peak_bytes / 2**20


def _config(repeats: int, other_cpu_share: float) -> dict:
    """Everything needed to interpret or repeat the run."""
    return {
        "batch_size": BATCH_SIZE,
        "input_shape": [1, WINDOW_LENGTH, N_FEATURES],
        "warmup_steps": WARMUP_STEPS,
        "repeats": repeats,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "other_processes_cpu_share": other_cpu_share,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
    }


def _ratios(step_ms: dict, windows_per_s: dict, memory_mb: dict) -> dict[str, float]:
    """custom / native for each figure (time: lower is better; throughput: higher)."""
    custom, native = memory_mb["custom"], memory_mb["native"]

    return {
        "train_step_time": step_ms["custom"] / step_ms["native"],
        "inference_throughput": windows_per_s["custom"] / windows_per_s["native"],
        **{f"train_{key}": custom[key] / native[key] for key in custom},
    }


def _format_table(results: dict) -> str:
    """Fixed-width table of the figures, one row per variant plus the ratio."""
    step, infer = results["train_step_ms_median"], results["inference_windows_per_s"]
    memory, ratio = results["train_peak_memory_mb"], results["ratio_custom_over_native"]
    columns = ("train step ms", "infer windows/s", *MEMORY_COLUMNS.values())
    header = f"{'':<14}" + "".join(f"{name:>17}" for name in columns)
    lines = [header, "-" * len(header)]
    for name in VARIANTS:
        figures = [step[name], infer[name], *(memory[name][k] for k in MEMORY_COLUMNS)]
        lines.append(f"{name:<14}" + "".join(f"{f:>17.1f}" for f in figures))
    ratios = [ratio["train_step_time"], ratio["inference_throughput"]]
    ratios += [ratio[f"train_{key}"] for key in MEMORY_COLUMNS]
    lines.append(f"{'custom/native':<14}" + "".join(f"{r:>17.2f}" for r in ratios))

    return "\n".join(lines)


if __name__ == "__main__":
    main()
