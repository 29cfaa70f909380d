"""Atomic writes: a temporary file in the target's folder, then one rename."""

from __future__ import annotations

import glob
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_beside(path: Path, suffix: str = ".tmp") -> Path:
    """Create an empty file with a unique hidden name in `path`'s folder.

    The name, `.<name>.<pid>-<random>.tmp`, carries the writer's process id: a
    writer killed mid-write (SIGKILL, out of memory) leaves its file behind, and the
    next write to `path` removes it (`_remove_orphans`).

    Unlike `tempfile.mkstemp` (always 0600), the file gets the permissions of any
    new file (0666 less the umask), which the final rename carries over to `path`.
    """
    _remove_orphans(path, suffix)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex}{suffix}")
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))

    return temporary


def _remove_orphans(path: Path, suffix: str) -> None:
    """Delete temporary files of `path` whose writing process no longer runs.

    Files of live processes (another writer of the same target) are left alone.
    Process ids are those of this machine: on a folder shared between machines, a
    writer elsewhere could lose its temporary file, and its save fail.
    """
    prefix = f".{path.name}."
    for candidate in path.parent.glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        writer = candidate.name[len(prefix) : -len(suffix)].split("-", 1)[0]
        if writer.isdigit() and not _process_exists(int(writer)):
            candidate.unlink(missing_ok=True)


def _process_exists(pid: int) -> bool:
    """True if a process with this id runs on this machine (any user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OverflowError:  # beyond any process id
        return False

    return True


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed over it when the block succeeds.

    On any exception, Ctrl-C included, the temporary file is removed and the
    previous file at `path` stays as it was.
    """
    temporary = temporary_beside(path)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader sees the old file or the new one, whole."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
