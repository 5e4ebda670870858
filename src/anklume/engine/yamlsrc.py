"""YAML with a source map: every key and item remembers its file and line.

Duplicate keys are reported (the first one is kept) instead of silently
merged, keys are taken as written (YAML 1.1 would read ``off:`` as a
boolean), and syntax errors become problems naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from anklume.errors import Problem

try:  # the C parser is ~10x faster; the pure-Python one is a safe fallback
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]  # same API

KeyPath = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Where each key path of the loaded document was written."""

    places: dict[KeyPath, tuple[Path, int]] = field(default_factory=dict)
    default_file: Path = Path("infra.yml")

    def locate(self, path: KeyPath) -> tuple[Path, int | None]:
        """Return the file and line of ``path``, or of its closest parent.

        >>> sm = SourceMap({("domains",): (Path("a.yml"), 3)})
        >>> sm.locate(("domains", "pro", "machines"))
        (PosixPath('a.yml'), 3)
        >>> sm.locate(("global",))
        (PosixPath('infra.yml'), None)
        """
        for end in range(len(path), 0, -1):
            place = self.places.get(path[:end])
            if place is not None:
                return place
        return self.default_file, None

    def problem(self, path: KeyPath, message: str, hint: str = "") -> Problem:
        """Build a :class:`Problem` located at ``path``."""
        file, line = self.locate(path)
        return Problem(file, line, dotted(path), message, hint)


def dotted(path: KeyPath) -> str:
    """Render a key path the way users write it.

    >>> dotted(("domains", "pro", "machines", "web", "ip"))
    'domains.pro.machines.web.ip'
    >>> dotted(("network_policies", 2, "ports"))
    'network_policies[2].ports'
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class _Builder:
    """Turn a composed YAML node tree into plain data, recording places."""

    file: Path
    loader: Any
    sm: SourceMap
    problems: list[Problem] = field(default_factory=list)

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.sm.places[child] = (self.file, item.start_mark.line + 1)
                items.append(self.build(item, child))
            return items
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        self.loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "":
                msg = "unsupported key (keys are plain names)"
                self.problems.append(Problem(self.file, line, dotted(path), msg))
                continue
            # the key as written: YAML 1.1 would read `off:` or `no:` as booleans
            name = key_node.value
            child = (*path, name)
            if name in result:
                first = self.sm.places.get(child, (self.file, 0))[1]
                msg = f"duplicate key (first defined at line {first})"
                self.problems.append(Problem(self.file, line, dotted(child), msg))
                continue
            self.sm.places[child] = (self.file, line)
            result[name] = self.build(value_node, child)
        return result


def parse_yaml(text: str, file: Path, sm: SourceMap, prefix: KeyPath = ()) -> tuple[Any, list[Problem]]:
    """Parse one YAML document, recording key places under ``prefix``."""
    loader = _Loader(text)
    builder = _Builder(file, loader, sm)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        value = builder.build(node, prefix)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(file, line, "", f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, None, "", f"YAML error: {exc}")]
    finally:
        loader.dispose()
    return value, builder.problems
