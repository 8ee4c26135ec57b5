"""YAML that remembers line numbers: the loader's view of a flow file.

PyYAML's composer keeps a mark on every node; ``located`` turns the node tree into ``Located`` values
(plain data plus the 1-based line), so every later check can say ``file:line``. Duplicate mapping
keys, which PyYAML would silently overwrite, are kept in ``Located.duplicates`` for the loader to
report in context (a menu's repeated digit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

__all__ = ["MAX_EXPANDED_VALUES", "Located", "YamlProblem", "parse_yaml"]

MAX_EXPANDED_VALUES = 50_000  # values a flow file may hold once its aliases are expanded


@dataclass(frozen=True)
class Located:
    """A YAML value with its line: ``value`` is a scalar, a list of Located, or a dict of Located."""

    value: object
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)
    duplicates: tuple[tuple[str, int], ...] = ()  # (key, line) of repeated mapping keys

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)


@dataclass(frozen=True)
class YamlProblem:
    line: int
    message: str


class _Composer:
    """Turns composed YAML nodes into ``Located`` values.

    A node reached again through an alias is converted once and shared, so alias chains that would
    expand exponentially ("billion laughs") stay as small as the text; an alias inside its own anchor
    is reported instead of recursing forever. Scalars the safe constructor cannot build (``2026-13-45``
    read as a date) become problems at their line.
    """

    def __init__(self, loader: yaml.SafeLoader, problems: list[YamlProblem]) -> None:
        self.loader = loader
        self.problems = problems
        self.done: dict[int, Located] = {}
        self.open: set[int] = set()

    def scalar(self, node: yaml.Node) -> object:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            self.problems.append(YamlProblem(node.start_mark.line + 1, f"bad value {node.value!r}: {exc}"))
            return node.value

    def convert(self, node: yaml.Node) -> Located:
        line = node.start_mark.line + 1
        if id(node) in self.open:
            self.problems.append(YamlProblem(line, "an alias refers to its own anchor (a recursive value)"))
            return Located(None, line)
        if id(node) in self.done:
            return self.done[id(node)]
        self.open.add(id(node))
        try:
            located = self._convert(node, line)
        finally:
            self.open.discard(id(node))
        self.done[id(node)] = located
        return located

    def _convert(self, node: yaml.Node, line: int) -> Located:
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            values: dict[str, Located] = {}
            key_lines: dict[str, int] = {}
            duplicates: list[tuple[str, int]] = []
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(YamlProblem(key_line, "mapping keys must be plain values"))
                    continue
                key = str(self.scalar(key_node))
                if key in values:
                    duplicates.append((key, key_line))
                    continue
                values[key] = self.convert(value_node)
                key_lines[key] = key_line
            return Located(values, line, key_lines, tuple(duplicates))
        if isinstance(node, yaml.SequenceNode):
            return Located([self.convert(item) for item in node.value], line)
        return Located(self.scalar(node), line)


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values ``root`` holds with every alias expanded, counted up to ``limit + 1``.

    Iterative and memoised by node, so a chain of aliases doubling at each step ("billion laughs",
    also through ``<<`` merge keys) is counted in time linear in the text, never expanded.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes and not children_done:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if not children_done:
            sizes[id(node)] = 1  # an alias inside its own anchor counts once
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        sizes[id(node)] = min(limit + 1, 1 + sum(sizes.get(id(child), 1) for child in children))
    return sizes[id(root)]


def parse_yaml(text: str) -> tuple[Located | None, list[YamlProblem]]:
    """Parse one YAML document; syntax errors come back as problems, never raised."""
    problems: list[YamlProblem] = []
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses control characters here already
        node = loader.get_single_node()
        if node is None:
            return None, [YamlProblem(1, "the file is empty")]
        if _expanded_size(node, MAX_EXPANDED_VALUES) > MAX_EXPANDED_VALUES:
            message = (
                f"YAML aliases (*name) expand this file to more than {MAX_EXPANDED_VALUES} values:"
                " too large for a flow"
            )
            return None, [YamlProblem(1, message)]
        return _Composer(loader, problems).convert(node), problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, [YamlProblem(line, f"not valid YAML: {exc.problem or exc.context}")]
    except yaml.YAMLError as exc:
        return None, [YamlProblem(1, f"not valid YAML: {exc}")]
    except RecursionError:
        return None, [YamlProblem(1, "not valid YAML for a flow: nested too deeply")]
    finally:
        if loader is not None:
            loader.dispose()
