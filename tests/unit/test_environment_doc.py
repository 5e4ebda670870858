"""docs/environment.md lists every ``ANKLUME_*`` variable the product reads, in English and French."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("src", "roles", "scripts", "action_plugins", "filter_plugins", "lookup_plugins", "callback_plugins")
FILES = ("site.yml", "Makefile", "tests/conftest.py")
SUFFIXES = {".py", ".yml", ".yaml", ".sh", ".j2", ""}
VARIABLE = re.compile(r"(?<![A-Za-z0-9])_?ANKLUME_[A-Z0-9_]*[A-Z0-9]\b")


def _code_variables() -> set[str]:
    paths = [p for d in SOURCES for p in (ROOT / d).rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    paths += [ROOT / f for f in FILES if (ROOT / f).is_file()]
    found: set[str] = set()
    for path in paths:
        if "molecule" in path.parts or "__pycache__" in path.parts:
            continue
        found |= set(VARIABLE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


def _documented(name: str) -> set[str]:
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(_?ANKLUME_[A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_every_variable_is_documented_in_both_languages() -> None:
    code = _code_variables()
    assert "ANKLUME_HOME" in code  # the scan sees the code
    assert code - _documented("environment.md") == set(), "undocumented"
    assert _documented("environment.md") - code == set(), "documented but read nowhere"
    assert _documented("environment.md") == _documented("environment.fr.md")
