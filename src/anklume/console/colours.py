"""Trust level → tmux colours, and the styles anklume sets on panes.

Everything here is pure: it builds the option values that
:mod:`anklume.console.session` hands to tmux. The colours are set by the
tmux server on the pane and window, never by a program inside the pane, so
a compromised container cannot repaint its own border or label.
"""

from __future__ import annotations

from typing import NamedTuple

TRUST_LEVELS = ("admin", "trusted", "semi-trusted", "untrusted", "disposable")


class TrustColours(NamedTuple):
    """The colours of one trust level, as tmux colour names."""

    name: str
    """Human name of the colour (docs, dry-run output)."""
    border: str
    """Bright colour of the border lines and the border label."""
    background: str
    """Dark tint of the pane background, readable under white text."""


_COLOURS: dict[str, TrustColours] = {
    "admin": TrustColours("blue", "colour33", "colour17"),
    "trusted": TrustColours("green", "colour40", "colour22"),
    "semi-trusted": TrustColours("yellow", "colour226", "colour58"),
    "untrusted": TrustColours("red", "colour196", "colour52"),
    "disposable": TrustColours("magenta", "colour201", "colour53"),
}


def colours_for(trust_level: str) -> TrustColours:
    """Return the colours of a trust level.

    >>> colours_for("admin").name
    'blue'
    >>> colours_for("untrusted").border
    'colour196'
    >>> colours_for("root")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown trust level 'root' (expected one of: admin, trusted, ...)
    """
    try:
        return _COLOURS[trust_level]
    except KeyError:
        msg = f"unknown trust level {trust_level!r} (expected one of: {', '.join(TRUST_LEVELS)})"
        raise ValueError(msg) from None


def pane_style(trust_level: str) -> str:
    """Return the ``select-pane -P`` style of a pane (its background).

    >>> pane_style("trusted")
    'bg=colour22'
    """
    return f"bg={colours_for(trust_level).background}"


def border_style(trust_level: str, *, active: bool = False) -> str:
    """Return the ``pane-border-style`` (or active variant) of a domain's window.

    >>> border_style("disposable")
    'fg=colour201'
    >>> border_style("disposable", active=True)
    'fg=colour201,bold'
    """
    style = f"fg={colours_for(trust_level).border}"
    return f"{style},bold" if active else style


def border_format(trust_level: str) -> str:
    """Return the ``pane-border-format``: the ``domain/machine`` label in the trust colour.

    The label comes from the pane's ``@anklume_label`` user option, which
    only the tmux server can set; the pane title (which a program inside the
    pane can change with an escape sequence) is deliberately not shown.

    >>> border_format("semi-trusted")
    '#[fg=colour16,bg=colour226,bold] #{@anklume_label} #[default] semi-trusted '
    """
    colours = colours_for(trust_level)
    return f"#[fg=colour16,bg={colours.border},bold] #{{@anklume_label}} #[default] {trust_level} "
