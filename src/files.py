"""Atomic writes: a temporary file in the target's folder, then one rename."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def temporary_beside(path: Path, suffix: str = ".tmp") -> Path:
    """Create an empty file with a unique hidden name in `path`'s folder.

    Unlike `tempfile.mkstemp` (always 0600), the file gets the permissions of any
    new file (0666 less the umask), which the final rename carries over to `path`.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}{suffix}")
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))

    return temporary


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader sees the old file or the new one, whole."""
    temporary = temporary_beside(path)
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
