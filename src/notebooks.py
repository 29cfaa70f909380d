"""Execute the project's notebooks top to bottom, each in a fresh kernel (nbclient).

Executed copies and HTML renderings go to `reports/`. The kernel inherits this
process's environment, so settings such as `PROFILE=smoke` or `DATASET=cmapss:FD001`
reach `config.get_config()` inside the notebooks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from config import ROOT
from src.files import atomic_write_text

NOTEBOOKS = ("data_analysis", "cnn_model", "lstm_model", "overview")
CELL_TIMEOUT_SECONDS = 3600


def execute_notebook(
    name: str, reports_dir: Path, timeout=CELL_TIMEOUT_SECONDS
) -> Path:
    """Run `<name>.ipynb` from the repository root; write the executed copy and HTML.

    Args:
        name: Notebook name without extension.
        reports_dir: Folder for `<name>.ipynb` (executed) and `<name>.html`.
        timeout: Seconds any one cell may take.

    Returns:
        Path of the executed notebook.

    Raises:
        nbclient.exceptions.CellExecutionError: A cell raised; the message shows it.
    """
    notebook = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()
    reports_dir.mkdir(parents=True, exist_ok=True)
    executed = reports_dir / f"{name}.ipynb"
    atomic_write_text(executed, nbformat.writes(notebook))
    html, _ = HTMLExporter().from_notebook_node(notebook)
    atomic_write_text(reports_dir / f"{name}.html", html)

    return executed


def run_all(names: Sequence[str] = NOTEBOOKS, reports_dir: Path | None = None) -> None:
    """Execute `names` in order with one progress line per notebook."""
    reports_dir = reports_dir or ROOT / "reports"
    for number, name in enumerate(names, start=1):
        print(f"[{number}/{len(names)}] {name}.ipynb ...", flush=True)
        started = time.perf_counter()
        executed = execute_notebook(name, reports_dir)
        seconds = time.perf_counter() - started
        print(
            f"[{number}/{len(names)}] {name}.ipynb done in {seconds:.0f} s -> "
            f"{executed} (+ .html)",
            flush=True,
        )
