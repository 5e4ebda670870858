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

#: Most nodes a document may expand to, aliases and merge keys counted each time they are used.
MAX_NODES = 500_000
#: Deepest nesting of mappings and sequences.
MAX_DEPTH = 64
_MERGE = "tag:yaml.org,2002:merge"


class _TooBig(Exception):
    """The node graph is cyclic, too deep or expands too far (``line`` is 1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _expanded_size(root: yaml.Node) -> int:
    """Count the nodes ``root`` expands to, each node's size computed once (linear in the graph).

    An alias bomb (``&a [*b, *b, ...]`` nested) is measured without being
    expanded; a node that contains itself (a recursive anchor) is refused.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        line = node.start_mark.line + 1
        if key in open_:
            raise _TooBig(line, "an anchor refers to itself (recursive alias); anklume reads only finite documents")
        if depth > MAX_DEPTH:
            raise _TooBig(line, f"nested deeper than {MAX_DEPTH} levels")
        total = 1
        if isinstance(node, yaml.CollectionNode):
            open_.add(key)
            items = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
            for child in items:
                total += 1 if isinstance(child, yaml.ScalarNode) else size(child, depth + 1)
                if total > MAX_NODES:
                    raise _TooBig(line, f"expands to more than {MAX_NODES} values (too many aliases or merge keys?)")
            open_.discard(key)
        sizes[key] = total
        return total

    return size(root, 0)


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
        _expanded_size(node)
        value = builder.build(node, prefix)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(file, line, "", f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, None, "", f"YAML error: {exc}")]
    except _TooBig as exc:
        return None, [Problem(file, exc.line, "", exc.message)]
    finally:
        loader.dispose()
    return value, builder.problems


class _BlockLoader(_Loader):
    """Reads generated blocks: ``!unsafe`` (text Ansible must not template) is a plain string."""


_BlockLoader.add_constructor("!unsafe", _BlockLoader.construct_yaml_str)  # type: ignore[type-var]  # stub too narrow


def load_bounded(text: str) -> Any:
    """Plain data of one YAML document, refusing what :func:`parse_yaml` refuses.

    Raises :class:`yaml.YAMLError` for invalid YAML and :class:`ValueError`
    for a recursive, too deep or too large document.

    >>> load_bounded("{a: [1, 2], b: !unsafe '{{ x }}'}")
    {'a': [1, 2], 'b': '{{ x }}'}
    """
    loader = _BlockLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            _expanded_size(node)
        except _TooBig as exc:
            msg = f"line {exc.line}: {exc.message}"
            raise ValueError(msg) from None
        return loader.construct_document(node)
    finally:
        loader.dispose()
