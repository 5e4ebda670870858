"""A thin, checked door to one tmux server (through libtmux).

Every tmux call goes through :meth:`Tmux.run` as an argv list; targets are
tmux ids (``@3``, ``%7``) or exact session names (``=anklume``), never
names that tmux would parse as patterns.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass

import libtmux
from libtmux import exc as tmux_exc

from anklume.errors import AnklumeError

log = logging.getLogger(__name__)

SESSION = "anklume"
"""Default session name."""


class ConsoleError(AnklumeError):
    """tmux is missing or refused a command."""


class TmuxNotFound(ConsoleError):
    """No tmux binary on PATH."""

    def __init__(self) -> None:
        super().__init__("tmux not found on PATH; install it (Debian: apt-get install tmux)")


class TmuxCommandFailed(ConsoleError):
    """A tmux command exited non-zero."""

    def __init__(self, argv: list[str], stderr: list[str]) -> None:
        self.argv = argv
        self.stderr = stderr
        super().__init__(f"'tmux {' '.join(argv)}' failed: {' / '.join(stderr[-3:]) or 'no output'}")


@dataclass(frozen=True)
class PaneState:
    """One existing pane of the console session, as tmux reports it."""

    window_id: str
    domain: str
    pane_id: str
    machine: str
    idle: bool


class Tmux:
    """One tmux server, default or on a private socket (``tmux -L NAME``)."""

    def __init__(self, socket_name: str | None = None, *, config_file: str | None = None) -> None:
        if shutil.which("tmux") is None:
            raise TmuxNotFound
        self.socket_name = socket_name
        self.server = libtmux.Server(socket_name=socket_name, config_file=config_file)

    def run(self, *argv: str) -> list[str]:
        """Run one tmux command and return its stdout lines; raise on failure."""
        try:
            result = self.server.cmd(*argv)
        except tmux_exc.TmuxCommandNotFound as exc:
            raise TmuxNotFound from exc
        log.debug("tmux command", extra={"tmux_argv": list(argv), "tmux_rc": result.returncode})
        if result.returncode != 0:
            raise TmuxCommandFailed(list(argv), list(result.stderr))
        return list(result.stdout)

    def has_session(self, session: str) -> bool:
        """Tell whether a session with exactly this name exists."""
        result = self.server.cmd("has-session", "-t", f"={session}")
        return result.returncode == 0

    def panes(self, session: str) -> list[PaneState]:
        """List the panes of a session with the anklume options tmux holds for them."""
        fmt = "#{window_id}\t#{@anklume_domain}\t#{pane_id}\t#{@anklume_machine}\t#{@anklume_idle}"
        lines = self.run("list-panes", "-s", "-t", f"={session}:", "-F", fmt)
        states = []
        for line in lines:
            window_id, domain, pane_id, machine, idle = (line.split("\t") + [""] * 5)[:5]
            states.append(PaneState(window_id, domain, pane_id, machine, idle == "1"))
        return states

    def kill_session(self, session: str) -> bool:
        """Kill a session; return False when there was none."""
        if not self.has_session(session):
            return False
        self.run("kill-session", "-t", f"={session}")
        return True


def attach_argv(socket_name: str | None, session: str, *, inside_tmux: bool = False) -> list[str]:
    """Return the command that attaches a terminal to the console.

    >>> attach_argv(None, "anklume")
    ['tmux', 'attach-session', '-t', '=anklume']
    >>> attach_argv("lab", "anklume", inside_tmux=True)
    ['tmux', '-L', 'lab', 'switch-client', '-t', '=anklume']
    """
    server = ["-L", socket_name] if socket_name else []
    verb = "switch-client" if inside_tmux else "attach-session"
    return ["tmux", *server, verb, "-t", f"={session}"]
