"""The four notebooks: committed without outputs, and executed top to bottom.

Execution uses the smoke profile (tiny generated data, one short epoch) in a fresh
kernel per notebook, writing only into a temporary folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from src.notebooks import NOTEBOOKS, execute_notebook
from src.synthetic import MAX_TIME_COMPRESSION, generate_ncmapss


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_has_no_outputs(name):
    notebook = json.loads((ROOT / f"{name}.ipynb").read_text())

    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]

    assert code_cells, f"{name} has no code"
    assert all(not cell["outputs"] for cell in code_cells), f"{name} carries outputs"
    assert all(cell["execution_count"] is None for cell in code_cells)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_opens_by_saying_what_it_shows_reads_and_writes(name):
    notebook = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)

    first = notebook.cells[0]

    assert first.cell_type == "markdown"
    for word in ("**Shows**", "**Reads**", "**Writes**"):
        assert word in first.source, f"{name}: first cell lacks {word}"


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict:
    """Run all four notebooks in order in the smoke profile; collect the outcome."""
    folder = tmp_path_factory.mktemp("notebooks")
    data_file = generate_ncmapss(
        folder / "N-CMAPSS_smoke.h5", time_compression=MAX_TIME_COMPRESSION
    )
    environment = {
        "PROFILE": "smoke",
        "FILENAME": str(data_file),
        "RESULTS_DIR": str(folder / "results"),
        "REPORTS_DIR": str(folder / "reports"),
        "CHECKPOINT_PATH": str(folder / "models" / "{dataset}" / "{model}.pt"),
        "LOAD_MODEL": "0",
    }
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    outcomes = {"folder": folder}
    try:
        for name in NOTEBOOKS:
            try:
                outcomes[name] = execute_notebook(name, folder / "reports")
            except Exception as error:  # reported by the test of that notebook
                outcomes[name] = error
    finally:
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value

    return outcomes


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom_in_smoke_profile(executed, name):
    outcome = executed[name]

    if isinstance(outcome, Exception):
        pytest.fail(f"{name}.ipynb raised:\n{outcome}")
    notebook = nbformat.read(outcome, as_version=4)
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert not errors
    assert Path(outcome).with_suffix(".html").is_file()


@pytest.mark.notebooks
def test_notebooks_write_results_and_figures(executed):
    folder = executed["folder"]

    results = folder / "results" / "N-CMAPSS_smoke"
    figures = folder / "reports" / "figures" / "N-CMAPSS_smoke"

    for model in ("mean", "ridge", "cnn", "lstm"):
        document = json.loads((results / model / "metrics.json").read_text())
        assert document["config"]["profile"] == "smoke"
        assert (results / model / "predictions.csv").is_file()
    assert (results / "comparison.csv").is_file()
    for name in ("data_windows", "cnn_predictions", "lstm_learning_curves"):
        assert (figures / f"{name}.png").is_file()
    assert (folder / "models" / "N-CMAPSS_smoke" / "cnn.pt").is_file()


def _run_broken_notebook(tmp_path, monkeypatch, name: str, sources: list[str]):
    """Runs a notebook of these cells through run_all; True if it finished."""
    from src import notebooks

    broken = nbformat.v4.new_notebook()
    broken.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(broken, tmp_path / f"{name}.ipynb")
    monkeypatch.setattr(notebooks, "ROOT", tmp_path)

    finished = notebooks.run_all([name], tmp_path / "reports")

    return finished


def test_a_failing_notebook_is_reported_in_one_line(tmp_path, monkeypatch, capsys):
    sources = ["x = 1", "raise ValueError('no data file here')"]

    finished = _run_broken_notebook(tmp_path, monkeypatch, "broken", sources)

    printed = capsys.readouterr().out
    assert finished is False
    assert "[1/1] broken.ipynb   cell 1/2 done" in printed
    assert "[1/1] broken.ipynb FAILED: ValueError: no data file here" in printed
    assert (tmp_path / "reports" / "broken.ipynb").is_file()
    html = (tmp_path / "reports" / "broken.html").read_text()
    assert "no data file here" in html  # the report shows the same failed run


def test_a_dead_kernel_is_reported_in_one_line(tmp_path, monkeypatch, capsys):
    sources = ["import os\nos._exit(1)"]

    finished = _run_broken_notebook(tmp_path, monkeypatch, "dies", sources)

    printed = capsys.readouterr().out
    assert finished is False
    assert "[1/1] dies.ipynb FAILED: the kernel died" in printed
    assert (tmp_path / "reports" / "dies.ipynb").is_file()


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_during_a_cell_stops_the_job_in_one_line(
    tmp_path, monkeypatch, capsys, signal_name
):
    # The kernel signals the process running run_all (its parent), as Ctrl-C or
    # kill would, while its cell runs. It used to end in three chained tracebacks.
    sources = [
        "x = 1",
        f"import os, signal, time\nos.kill(os.getppid(), signal.{signal_name})\n"
        "time.sleep(60)",
        "never = 1",
    ]

    with pytest.raises(KeyboardInterrupt):
        _run_broken_notebook(tmp_path, monkeypatch, "stopped", sources)

    printed = capsys.readouterr().out
    assert f"[1/1] stopped.ipynb INTERRUPTED ({signal_name}); executed copy" in printed
    executed = nbformat.read(tmp_path / "reports" / "stopped.ipynb", as_version=4)
    assert executed.cells[0].execution_count == 1
    assert executed.cells[2].execution_count is None  # the job stopped there


def test_training_epoch_lines_reach_the_job_as_they_come(tmp_path, monkeypatch, capsys):
    sources = [
        "print('a table nobody needs in the log')",
        "import sys\n"
        "print('resuming m/cnn.pt at epoch 1/2, batch 0', file=sys.stderr)\n"
        "print('epoch   1/2  train_loss 3.5  val_rmse 2.0', file=sys.stderr)",
    ]

    finished = _run_broken_notebook(tmp_path, monkeypatch, "trains", sources)

    printed = capsys.readouterr().out
    assert finished is True
    assert "[1/1] trains.ipynb   resuming m/cnn.pt at epoch 1/2, batch 0" in printed
    assert "[1/1] trains.ipynb   epoch   1/2  train_loss 3.5  val_rmse 2.0" in printed
    assert "a table nobody needs" not in printed
