"""Find the Debian mirror the host's apt is configured with."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MIRROR = "http://deb.debian.org/debian"


def from_deb822(text: str) -> str | None:
    """Return the URI of the first deb822 stanza serving the main archive.

    The main archive is a stanza whose suites include a plain release name
    (not ``-security``). Comment lines are ignored.

    >>> from_deb822('''Types: deb
    ... URIs: http://mirror.example/debian
    ... Suites: bookworm bookworm-updates
    ... Components: main
    ...
    ... Types: deb
    ... URIs: http://mirror.example/debian-security
    ... Suites: bookworm-security
    ... ''')
    'http://mirror.example/debian'
    >>> from_deb822("Types: deb\\nURIs: http://x/s\\nSuites: bookworm-security\\n") is None
    True
    """
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        uris = fields.get("uris", "").split()
        suites = fields.get("suites", "").split()
        if "deb" in fields.get("types", "").split() and uris and any("-" not in s for s in suites):
            return uris[0]
    return None


def from_sources_list(text: str) -> str | None:
    """Return the URI of the first one-line ``deb`` entry for a plain release.

    >>> from_sources_list("deb [arch=amd64] http://m/debian bookworm main\\n")
    'http://m/debian'
    >>> from_sources_list("# deb http://a/ bookworm main\\ndeb http://s/ bookworm-security main")
    """
    for raw in text.splitlines():
        words = raw.split()
        if not words or words[0] != "deb":
            continue
        rest = words[1:]
        if rest and rest[0].startswith("["):
            while rest and not rest[0].endswith("]"):
                rest = rest[1:]
            rest = rest[1:]
        if len(rest) >= 2 and "-" not in rest[1]:
            return rest[0]
    return None


def configured_mirror(etc: Path = Path("/etc/apt")) -> str:
    """Return the host's Debian mirror, or the public default when none is found."""
    deb822 = etc / "sources.list.d" / "debian.sources"
    if deb822.is_file():
        found = from_deb822(deb822.read_text(encoding="utf-8"))
        if found:
            return found
    legacy = etc / "sources.list"
    if legacy.is_file():
        found = from_sources_list(legacy.read_text(encoding="utf-8"))
        if found:
            return found
    return DEFAULT_MIRROR
