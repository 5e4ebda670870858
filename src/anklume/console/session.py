"""Create or update the console session from a layout.

``sync`` is idempotent: a second run finds the windows and panes it made
(tagged with ``@anklume_domain`` / ``@anklume_machine`` options), adds only
what is missing and re-applies every style, so a re-run never duplicates
the session. Styles and labels are tmux options set by the server; nothing
running inside a pane can change them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from anklume.console.colours import border_format, border_style, colours_for, pane_style
from anklume.console.layout import DomainPanes, Layout, MachinePane, label
from anklume.console.running import incus_command
from anklume.console.tmux import PaneState, Tmux

log = logging.getLogger(__name__)

CommandBuilder = Callable[[MachinePane], list[str]]
IdleBuilder = Callable[[str], list[str]]

_SIZE = ("-x", "220", "-y", "60")  # size of a detached session; attaching resizes it
_IDS = "#{window_id}\t#{pane_id}"
STATUS_RIGHT = " #{@anklume_label} "
"""The status line's right side: the active pane's server-set label, never its title."""


def incus_exec(machine: MachinePane) -> list[str]:
    """Return the argv of a pane: a login shell of root in the instance.

    >>> incus_exec(MachinePane("web", "001-web", "pro"))
    ['incus', 'exec', '--project', 'pro', '001-web', '--', 'su', '-l']
    """
    return [incus_command(), "exec", "--project", machine.project, machine.incus_name, "--", "su", "-l"]


def idle_pane(domain: str) -> list[str]:
    """Return the argv of the placeholder pane of a domain with no running machine.

    The domain is passed as an argument, never spliced into the script.

    >>> idle_pane("lab")[-1]
    'lab'
    """
    script = 'printf "%s: no running machine (re-run anklume console once one runs)\\n" "$1"; exec cat'
    return ["sh", "-c", script, "anklume-idle", domain]


@dataclass
class SyncReport:
    """What one ``sync`` did."""

    session: str
    existed: bool = False
    created: bool = False
    windows_added: list[str] = field(default_factory=list)
    panes_added: list[str] = field(default_factory=list)


def _style_window(tmux: Tmux, window_id: str, domain: DomainPanes) -> None:
    options = {
        "@anklume_domain": domain.name,
        "pane-border-status": "top",
        "pane-border-lines": "heavy",
        "pane-border-format": border_format(domain.trust_level),
        "pane-border-style": border_style(domain.trust_level),
        "pane-active-border-style": border_style(domain.trust_level, active=True),
        "window-status-style": f"fg={colours_for(domain.trust_level).border}",
        "window-status-current-style": f"fg=colour16,bg={colours_for(domain.trust_level).border},bold",
        "automatic-rename": "off",
        "allow-rename": "off",
    }
    for key, value in options.items():
        tmux.run("set-option", "-w", "-t", window_id, key, value)
    tmux.run("rename-window", "-t", window_id, domain.name)


def _style_pane(tmux: Tmux, pane_id: str, domain: DomainPanes, machine: str | None) -> None:
    text = label(domain.name, machine) if machine else f"{domain.name}/-"
    tmux.run("set-option", "-p", "-t", pane_id, "@anklume_machine", machine or "")
    tmux.run("set-option", "-p", "-t", pane_id, "@anklume_idle", "0" if machine else "1")
    tmux.run("set-option", "-p", "-t", pane_id, "@anklume_label", text)
    tmux.run("select-pane", "-t", pane_id, "-T", text)
    tmux.run("select-pane", "-t", pane_id, "-P", pane_style(domain.trust_level))


def _ids(lines: list[str]) -> tuple[str, str]:
    window_id, pane_id = lines[0].split("\t")
    return window_id, pane_id


def _open_window(tmux: Tmux, report: SyncReport, domain: DomainPanes, first: list[str]) -> PaneState:
    """Create the domain's window (the session itself for the first one) and return its pane."""
    if report.created or report.existed:
        head = ["new-window", "-d", "-t", f"={report.session}:", "-n", domain.name]
    else:
        head = ["new-session", "-d", "-s", report.session, "-n", domain.name, *_SIZE]
        report.created = True
    window_id, pane_id = _ids(tmux.run(*head, "-P", "-F", _IDS, "--", *first))
    report.windows_added.append(domain.name)
    if not domain.machines:
        return PaneState(window_id, domain.name, pane_id, "", idle=True)
    report.panes_added.append(label(domain.name, domain.machines[0].name))
    return PaneState(window_id, domain.name, pane_id, domain.machines[0].name, idle=False)


def _sync_domain(
    tmux: Tmux,
    report: SyncReport,
    domain: DomainPanes,
    existing: list[PaneState],
    command: CommandBuilder,
    idle: IdleBuilder,
) -> None:
    mine = [p for p in existing if p.domain == domain.name]
    if not mine:
        first = command(domain.machines[0]) if domain.machines else idle(domain.name)
        mine = [_open_window(tmux, report, domain, first)]
    window_id = mine[0].window_id
    _style_window(tmux, window_id, domain)
    for pane in mine:
        _style_pane(tmux, pane.pane_id, domain, pane.machine or None)
    present = {p.machine for p in mine if not p.idle}
    for machine in domain.machines:
        if machine.name in present:
            continue
        split = ["split-window", "-d", "-t", window_id, "-P", "-F", "#{pane_id}"]
        pane_id = tmux.run(*split, "--", *command(machine))[0]
        tmux.run("select-layout", "-t", window_id, "tiled")
        _style_pane(tmux, pane_id, domain, machine.name)
        report.panes_added.append(label(domain.name, machine.name))
    if domain.machines:
        for pane in mine:
            if pane.idle:
                tmux.run("kill-pane", "-t", pane.pane_id)
    tmux.run("select-layout", "-t", window_id, "tiled")


def sync(
    tmux: Tmux,
    layout: Layout,
    *,
    session: str = "anklume",
    command: CommandBuilder = incus_exec,
    idle: IdleBuilder = idle_pane,
) -> SyncReport:
    """Create the session, or add what is missing to it; return what changed."""
    report = SyncReport(session, existed=tmux.has_session(session))
    existing = tmux.panes(session) if report.existed else []
    for domain in layout.domains:
        _sync_domain(tmux, report, domain, existing, command, idle)
    if report.existed or report.created:
        # the default status-right shows the pane title, which a program in the pane can set
        tmux.run("set-option", "-t", f"={session}:", "status-right", STATUS_RIGHT)
        tmux.run("set-option", "-t", f"={session}:", "set-titles", "off")
    log.info(
        "console synced",
        extra={"windows_added": report.windows_added, "panes_added": report.panes_added},
    )
    return report
