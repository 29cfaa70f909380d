"""Execute the project's notebooks top to bottom, each in a fresh kernel (nbclient).

Executed copies and HTML renderings go to `reports/`. The kernel inherits this
process's environment, so settings such as `PROFILE=smoke` or `DATASET=cmapss:FD001`
reach `config.get_config()` inside the notebooks.
"""

from __future__ import annotations

import re
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
# The training loop's per-epoch summary (src/training.py), echoed as it comes.
EPOCH_LINE = re.compile(r"epoch\s+\d+/\d+\b")


class _EchoingClient(NotebookClient):
    """A NotebookClient that hands each per-epoch line to `echo` as it arrives."""

    echo = None

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
