"""The trust colour of a domain on the user's terminal: title and banner.

Escape sequences are written only when stdout is a terminal, so pipes and
logs stay clean. The text comes from infra.yml names, which the engine
validated (letters, digits, '-'), so nothing here can inject a sequence.
"""

from __future__ import annotations

import sys
from typing import TextIO

from anklume.console.colours import colours_for

_ESC = "\x1b"
_BEL = "\x07"


def colour_number(trust: str) -> int:
    """The 256-colour index of a trust level's border colour.

    >>> colour_number("trusted"), colour_number("untrusted")
    (40, 196)
    """
    return int(colours_for(trust).border.removeprefix("colour"))


def title(domain: str, name: str, trust: str) -> str:
    """The terminal title: ``[trust colour] domain/name (trust)``.

    >>> title("pro", "pro-dev", "trusted")
    '[green] pro/pro-dev (trusted)'
    """
    return f"[{colours_for(trust).name}] {domain}/{name} ({trust})"


def set_title(text: str) -> str:
    """The OSC 0 sequence setting the window and icon title."""
    return f"{_ESC}]0;{text}{_BEL}"


def banner(domain: str, name: str, trust: str) -> str:
    """One line in the trust colour announcing where the shell runs."""
    return f"{_ESC}[1;38;5;{colour_number(trust)}m── {title(domain, name, trust)} ──{_ESC}[0m"


def announce(domain: str, name: str, trust: str, stream: TextIO | None = None) -> bool:
    """Set the title and print the banner when ``stream`` is a terminal; return whether it did."""
    out = stream or sys.stdout
    if not out.isatty():
        return False
    out.write(set_title(title(domain, name, trust)) + banner(domain, name, trust) + "\n")
    out.flush()
    return True


def reset(stream: TextIO | None = None) -> None:
    """Clear the title after the shell ends (terminal only)."""
    out = stream or sys.stdout
    if out.isatty():
        out.write(set_title(""))
        out.flush()
