"""``anklume dev graph``: call graph, module graph, dead code, unused Ansible variables.

Each analysis writes its files into the output directory and returns an
:class:`Outcome`; a missing tool gives an outcome that says how to install
it instead of an exception, so one absent tool never hides the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from anklume.devtools.tools import ToolFailed, ToolMissing, find, run

log = logging.getLogger(__name__)

KINDS = ("code", "deps", "dead", "vars")
_SKIP_DIRS = {".venv", "build", "dist", "node_modules", "__pycache__"}


@dataclass(frozen=True)
class Outcome:
    """What one analysis produced."""

    name: str
    ok: bool
    message: str
    outputs: tuple[Path, ...] = field(default=())
    findings: int | None = None


def python_files(root: Path) -> list[Path]:
    """Return the package's Python files, sorted."""
    return sorted((root / "src" / "anklume").rglob("*.py"))


def shell_scripts(root: Path) -> list[Path]:
    """Return the project's shell scripts (``*.sh`` outside virtualenvs and build dirs, and ``.ci/run``)."""
    found = [
        p
        for p in root.rglob("*.sh")
        if not any(part in _SKIP_DIRS or part.startswith(".") for part in p.relative_to(root).parts[:-1])
    ]
    ci = root / ".ci" / "run"
    return sorted([*found, *([ci] if ci.is_file() else [])])


def code_graph(root: Path, out: Path) -> list[Outcome]:
    """Call graph of the package: pyan3 → ``code.dot`` → GraphViz → ``code.svg``."""
    pyan, dot = find("pyan3"), find("dot")
    files = [str(p.relative_to(root)) for p in python_files(root)]
    argv = [pyan, *files, "--root", "src", "--dot", "--no-defines", "--uses", "--colored"]
    dot_file, svg = out / "code.dot", out / "code.svg"
    dot_file.write_text(run(argv, cwd=root).stdout, encoding="utf-8")
    run([dot, "-Tsvg", "-o", str(svg), str(dot_file)], cwd=root)
    return [Outcome("code", True, f"call graph of {len(files)} modules", (svg, dot_file))]


def deps_graph(root: Path, out: Path) -> list[Outcome]:
    """Module dependency graph of the package: pydeps → ``deps.svg``."""
    pydeps = find("pydeps")
    find("dot")  # pydeps calls GraphViz itself; fail with the install hint, not its traceback
    svg = out / "deps.svg"
    argv = [pydeps, "anklume", "--noshow", "--no-config", "-T", "svg", "-o", str(svg)]
    run([*argv, "--max-bacon", "0", "--only", "anklume", "--cluster"], cwd=root / "src")
    return [Outcome("deps", True, "module dependency graph", (svg,))]


def dead_code(root: Path, out: Path) -> list[Outcome]:
    """Dead Python code (vulture, confidence ≥ 80 %) and shell issues (shellcheck)."""
    return [_guard("dead", lambda: _vulture(root, out)), _guard("shell", lambda: _shellcheck(root, out))]


def _vulture(root: Path, out: Path) -> Outcome:
    # exit 3 means "dead code found": a finding, not a failure
    proc = run([find("vulture"), "src/anklume", "--min-confidence", "80"], cwd=root, ok=(0, 3))
    report = out / "dead-code.txt"
    report.write_text(proc.stdout, encoding="utf-8")
    count = len(proc.stdout.splitlines())
    return Outcome("dead", True, f"{count} unused Python items (vulture)", (report,), count)


def _shellcheck(root: Path, out: Path) -> Outcome:
    scripts = shell_scripts(root)
    report = out / "shellcheck.txt"
    if not scripts:
        report.write_text("", encoding="utf-8")
        return Outcome("shell", True, "no shell script", (report,), 0)
    argv = [find("shellcheck"), "-f", "gcc", *(str(p.relative_to(root)) for p in scripts)]
    proc = run(argv, cwd=root, ok=(0, 1))  # exit 1 means "issues found"
    report.write_text(proc.stdout, encoding="utf-8")
    count = len(proc.stdout.splitlines())
    return Outcome("shell", True, f"{count} issues in {len(scripts)} scripts (shellcheck)", (report,), count)


def unused_vars(root: Path, out: Path) -> list[Outcome]:
    """Unused Ansible variables (little-timmy) → ``unused-vars.json``."""
    proc = run([find("little-timmy"), "--json-output", str(root)], cwd=root, ok=(0, 1))
    found = json.loads(proc.stdout or "[]")
    unused = [
        {"name": v.get("name"), "locations": [_relative(root, loc) for loc in v.get("locations", [])]}
        for v in found
        if isinstance(v, dict) and v.get("type") == "UNUSED"
    ]
    report = out / "unused-vars.json"
    report.write_text(json.dumps(unused, indent=2) + "\n", encoding="utf-8")
    return [Outcome("vars", True, f"{len(unused)} unused Ansible variables", (report,), len(unused))]


def _relative(root: Path, location: str) -> str:
    """Show a path relative to the source tree when it is inside it.

    >>> _relative(Path("/src"), "/src/roles/x/defaults/main.yml")
    'roles/x/defaults/main.yml'
    >>> _relative(Path("/src"), "/etc/ansible/hosts")
    '/etc/ansible/hosts'
    """
    path = Path(location)
    return str(path.relative_to(root)) if path.is_relative_to(root) else location


_ANALYSES: dict[str, Callable[[Path, Path], list[Outcome]]] = {
    "code": code_graph,
    "deps": deps_graph,
    "dead": dead_code,
    "vars": unused_vars,
}


def _guard(name: str, action: Callable[[], Outcome]) -> Outcome:
    try:
        return action()
    except (ToolMissing, ToolFailed) as exc:
        log.debug("analysis %s not run: %s", name, exc)
        return Outcome(name, False, str(exc))


def analyse(root: Path, out: Path, kinds: Iterable[str] = KINDS) -> list[Outcome]:
    """Run the requested analyses of the source tree at ``root``, writing into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    for kind in kinds:
        try:
            outcomes.extend(_ANALYSES[kind](root, out))
        except (ToolMissing, ToolFailed) as exc:
            outcomes.append(Outcome(kind, False, str(exc)))
    return outcomes
