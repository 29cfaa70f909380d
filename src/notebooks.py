"""Execute the project's notebooks top to bottom, each in a fresh kernel (nbclient).

Executed copies and HTML renderings go to `reports/`. The kernel inherits this
process's environment, so settings such as `PROFILE=smoke` or `DATASET=cmapss:FD001`
reach `config.get_config()` inside the notebooks.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

from config import ROOT
from src.files import atomic_write_text

NOTEBOOKS = ("data_analysis", "cnn_model", "lstm_model", "overview")
CELL_TIMEOUT_SECONDS = 3600
# What stops a notebook: a cell raising, the kernel process dying, a cell timing out.
NOTEBOOK_FAILURES = (CellExecutionError, DeadKernelError, CellTimeoutError)
# Signals that stop the job (Ctrl-C, kill); see _EchoingClient.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The training loop's per-epoch summary and resume notice (src/training.py),
# echoed as they come.
EPOCH_LINE = re.compile(r"(epoch\s+\d+/\d+|resuming)\b")


class Interrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM stopped a notebook while one of its cells ran."""


class _EchoingClient(NotebookClient):
    """A NotebookClient that hands each per-epoch line to `echo` as it arrives, and
    turns SIGINT or SIGTERM during a cell into `Interrupted`.

    nbclient's own handlers shut the kernel down under the running cell, which then
    fails as a dead kernel, and its cleanup fails again on the manager already gone:
    three chained tracebacks for one Ctrl-C. While a cell runs, ours stand in.
    """

    echo = None

    async def async_execute_cell(self, *args, **kwargs):
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        received = []

        def on_signal(signum: int) -> None:
            received.append(signal.Signals(signum).name)
            task.cancel()

        try:
            for signum in STOP_SIGNALS:
                loop.add_signal_handler(signum, on_signal, signum)
        except RuntimeError:  # not the main thread: no handlers, as in nbclient
            return await super().async_execute_cell(*args, **kwargs)
        try:
            return await super().async_execute_cell(*args, **kwargs)
        except (asyncio.CancelledError, DeadKernelError):
            # nbclient reports our cancellation as a dead kernel.
            if not received:
                raise
            for other in asyncio.all_tasks(loop) - {task}:
                other.cancel()  # the cell's pollers, which would fail on the kernel
            # A graceful shutdown under a running cell makes the kernel print a
            # traceback as its sockets close; stop it outright.
            self.shutdown_kernel = "immediate"
            raise Interrupted(received[0]) from None
        finally:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)

    def output(self, outs, msg, display_id, cell_index):
        if self.echo is not None and msg["msg_type"] == "stream":
            for line in msg["content"].get("text", "").splitlines():
                if EPOCH_LINE.match(line.strip()):
                    self.echo(line.strip())

        return super().output(outs, msg, display_id, cell_index)


def execute_notebook(
    name: str,
    reports_dir: Path,
    timeout=CELL_TIMEOUT_SECONDS,
    on_cell=None,
    on_epoch=None,
) -> Path:
    """Run `<name>.ipynb` from the repository root; write the executed copy and HTML.

    The executed copy and its HTML are written even when a cell fails, to show where
    it stopped.

    Args:
        name: Notebook name without extension.
        reports_dir: Folder for `<name>.ipynb` (executed) and `<name>.html`.
        timeout: Seconds any one cell may take.
        on_cell: Optional callable(cell_index, cell_count) after each code cell.
        on_epoch: Optional callable(line) for each per-epoch line a cell prints.

    Returns:
        Path of the executed notebook.

    Raises:
        nbclient.exceptions.CellExecutionError: A cell raised; the message shows it.
        nbclient.exceptions.DeadKernelError: The kernel process died.
        nbclient.exceptions.CellTimeoutError: A cell ran longer than `timeout`.
    """
    notebook = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    count = len(notebook.cells)

    def hook(cell, cell_index, execute_reply) -> None:
        if on_cell is not None:
            on_cell(cell_index, count)

    client = _EchoingClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
        on_cell_executed=hook,
        # The kernel's startup warning about TCP transport is noise in the job's log.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    client.echo = on_epoch
    reports_dir.mkdir(parents=True, exist_ok=True)
    executed = reports_dir / f"{name}.ipynb"
    try:
        client.execute()
    finally:  # the HTML too, so both show the same run
        atomic_write_text(executed, nbformat.writes(notebook))
        html, _ = HTMLExporter().from_notebook_node(notebook)
        atomic_write_text(reports_dir / f"{name}.html", html)

    return executed


def run_all(names: Sequence[str] = NOTEBOOKS, reports_dir: Path | None = None) -> bool:
    """Execute `names` in order, with progress lines; stop at the first failure.

    Progress lines: one per code cell done, and the training's per-epoch lines.

    Returns:
        True if every notebook ran; False after printing which cell failed and why.

    Raises:
        KeyboardInterrupt: After printing which notebook SIGINT (Ctrl-C) or SIGTERM
            stopped; its kernel is shut down, checkpoints saved so far are kept.
    """
    reports_dir = reports_dir or ROOT / "reports"
    for number, name in enumerate(names, start=1):
        tag = f"[{number}/{len(names)}] {name}.ipynb"
        print(f"{tag} ...", flush=True)
        started = time.perf_counter()

        def progress(index: int, count: int, tag=tag, started=started) -> None:
            elapsed = time.perf_counter() - started
            print(
                f"{tag}   cell {index + 1}/{count} done ({elapsed:.0f} s)", flush=True
            )

        def epoch(line: str, tag=tag) -> None:
            print(f"{tag}   {line}", flush=True)

        try:
            executed = execute_notebook(
                name, reports_dir, on_cell=progress, on_epoch=epoch
            )
        except KeyboardInterrupt as error:  # Interrupted, or Ctrl-C between cells
            print(
                f"{tag} INTERRUPTED ({error or 'SIGINT'}); executed copy up to there: "
                f"{reports_dir / (name + '.ipynb')}",
                flush=True,
            )
            raise KeyboardInterrupt from None
        except NOTEBOOK_FAILURES as error:
            print(f"{tag} FAILED: {_failure_reason(error)}", flush=True)
            print(
                f"{tag} executed copy up to the failing cell: "
                f"{reports_dir / (name + '.ipynb')}",
                flush=True,
            )
            return False
        seconds = time.perf_counter() - started
        print(f"{tag} done in {seconds:.0f} s -> {executed} (+ .html)", flush=True)

    return True


def _failure_reason(error: Exception) -> str:
    """One line: the cell's exception, or what stopped the kernel or the cell."""
    if isinstance(error, CellExecutionError):
        return f"{error.ename}: {error.evalue}"
    if isinstance(error, DeadKernelError):
        return "the kernel died (out of memory, or a crash in native code)"

    return f"a cell ran longer than its timeout ({error})"
