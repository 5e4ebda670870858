"""The exception tree of anklume.

Every error anklume raises derives from :class:`AnklumeError`. Each family
belongs to one layer (input files, Incus, planning). Messages are composed
from fields by the class, so call sites pass data, not prose. Only the CLI
turns errors into exit codes: ``exit_code`` says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


class AnklumeError(Exception):
    """Root of every error anklume raises on purpose."""

    exit_code: int = 1


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file.

    >>> str(Problem(Path("infra.yml"), 14, "domains.pro.machines.web.ip", "bad ip"))
    'infra.yml:14: domains.pro.machines.web.ip: bad ip'
    >>> str(Problem(Path("infra.yml"), None, "", "empty file"))
    'infra.yml: empty file'
    """

    file: Path
    line: int | None
    key: str
    message: str
    hint: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        text = printable(text)  # names and values come from untrusted files: no terminal escapes
        return f"{text}\n    hint: {self.hint}" if self.hint else text


def printable(text: str) -> str:
    r"""``text`` with control and other unprintable characters escaped.

    >>> printable("domains.\x1b[2Jx: bad")
    'domains.\\x1b[2Jx: bad'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class InfraError(AnklumeError):
    """The infra description is invalid; carries every problem found at once."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line or 0, p.key))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the infra description"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))


class UsageError(AnklumeError):
    """The command line or the working directory is not usable."""

    exit_code = 2


class CommandFailed(AnklumeError):
    """An external command exited non-zero: incus, nft, an image build step, a developer tool.

    Every subclass sets ``argv`` (the command, a list) and ``rc`` (its exit
    code), and composes its message from them and the command's last words,
    mostly as :meth:`describe` does. Catch this class to handle any of them.
    """

    argv: list[str]
    rc: int

    @staticmethod
    def describe(argv: Sequence[str], rc: int, output: str, lines: int = 3) -> str:
        """Return ``'ARGV' failed (exit RC): LAST / LINES``.

        >>> CommandFailed.describe(["incus", "start", "web"], 1, "a\\nb\\nc\\nd")
        "'incus start web' failed (exit 1): b / c / d"
        """
        tail = output.strip().splitlines()[-lines:]
        return f"'{' '.join(argv)}' failed (exit {rc}): {' / '.join(tail)}"


class IncusError(AnklumeError):
    """Incus could not be reached or refused an operation."""


class IncusNotFound(IncusError):
    """No incus client on PATH (or at ``$ANKLUME_INCUS``)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        super().__init__(
            f"incus client '{binary}' not found; install Incus (Debian: apt-get install incus; from a checkout "
            "of anklume: make incus), or set ANKLUME_INCUS to the incus binary; 'anklume doctor' checks the host"
        )


class IncusCommandFailed(IncusError, CommandFailed):
    """An incus command exited non-zero."""

    def __init__(self, argv: list[str], rc: int, stderr: str) -> None:
        self.argv = argv
        self.rc = rc
        self.stderr = stderr
        super().__init__(self.describe(argv, rc, stderr))


class PlanError(AnklumeError):
    """A reconcile plan cannot be computed from the declared and live state."""


class LockedError(AnklumeError):
    """Another anklume run holds the lock."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        super().__init__(
            f"another anklume apply is running ({holder}); lock file {path}. "
            "Wait for it to finish: the lock frees itself when that run and its task in flight end."
        )


class InfraLockedError(AnklumeError):
    """Another anklume command works on the same infra directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        super().__init__(
            f"another anklume command (sync, network deploy or domain apply) is working on {directory}; "
            "run this one again when it has finished"
        )
