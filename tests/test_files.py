"""Atomic writes, and the temporary files a killed writer leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys

from config import ROOT
from src import files


def test_a_writer_killed_mid_write_leaves_a_file_the_next_write_removes(tmp_path):
    target = tmp_path / "cnn.pt"
    target.write_text("old")
    killed_mid_write = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from src.files import atomic_path\n"
        "with atomic_path(Path(sys.argv[1])) as temporary:\n"
        "    temporary.write_text('half')\n"
        "    os._exit(9)  # as SIGKILL: no cleanup runs\n"
    )
    subprocess.run(
        [sys.executable, "-c", killed_mid_write, str(target)], cwd=ROOT, check=False
    )
    (orphan,) = tmp_path.glob(".cnn.pt.*.tmp")
    assert target.read_text() == "old"

    files.atomic_write_text(target, "new")

    assert not orphan.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.pt"]
    assert target.read_text() == "new"


def test_temporary_files_of_running_writers_and_other_targets_are_kept(tmp_path):
    live = tmp_path / f".metrics.json.{os.getpid()}-abc.tmp"  # a writer still at it
    other_target = tmp_path / ".predictions.csv.999999999-abc.tmp"
    unknown = tmp_path / ".metrics.json.not-a-pid.tmp"  # not ours to judge
    for path in (live, other_target, unknown):
        path.write_text("")

    files.atomic_write_text(tmp_path / "metrics.json", "{}")

    assert live.exists() and other_target.exists() and unknown.exists()


def test_a_dead_writers_file_of_the_same_target_is_removed(tmp_path):
    dead = tmp_path / ".metrics.json.999999999-abc.tmp"  # above any Linux pid
    dead.write_text("half")

    files.atomic_write_text(tmp_path / "metrics.json", "{}")

    assert not dead.exists()
