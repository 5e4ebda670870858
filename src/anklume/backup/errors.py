"""Errors of the backup commands (exit 1: the backup or the run failed)."""

from __future__ import annotations

from pathlib import Path

from anklume.errors import AnklumeError, CommandFailed, printable


class BackupError(AnklumeError):
    """A backup could not be made, checked or restored."""


class VerifyFailed(BackupError):
    """A backup file does not pass a check: its sha256, its decryption or its tar."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        self.why = why
        super().__init__(f"{printable(str(path))}: verification failed: {why}")


class GpgFailed(BackupError, CommandFailed):
    """gpg exited non-zero; ``why`` says it in the user's words when the status lines tell."""

    def __init__(self, argv: list[str], rc: int, why: str) -> None:
        self.argv = argv
        self.rc = rc
        self.why = why
        super().__init__(f"gpg failed (exit {rc}): {why}")
