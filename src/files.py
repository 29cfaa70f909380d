"""Atomic writes: a temporary file in the target's folder, then one rename."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_beside(path: Path, suffix: str = ".tmp") -> Path:
    """Create an empty file with a unique hidden name in `path`'s folder.

    Unlike `tempfile.mkstemp` (always 0600), the file gets the permissions of any
    new file (0666 less the umask), which the final rename carries over to `path`.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}{suffix}")
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))

    return temporary


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
