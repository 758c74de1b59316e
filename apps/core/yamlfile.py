"""YAML read with the line of every key, for files people write by hand (centre files, scenarios).

A mistake in such a file is worth reporting only with its line. ``yaml.safe_load`` forgets where each
value came from, so this composes the node tree and keeps, beside the plain data, the 1-based line of
every key path (a key's own line, not its value's, which for a block starts below it). A key given twice
is refused rather than silently overwritten.
"""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlSyntaxError(ValueError):
    """Not YAML, or a mapping with a key given twice or a key that is not a plain word."""

    def __init__(self, line: int, problem: str, *, syntax: bool = False):
        # ``syntax``: the text is not YAML at all (each reader words that for its own people).
        self.line, self.problem, self.syntax = line, problem, syntax
        super().__init__(f"line {line}: {problem}")


def key_path(loc: Path) -> str:
    """``("ports", 0, "mode")`` → ``ports[0].mode``; the top is ``""``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """The document as plain Python data, and the line of every key path and list item."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlSyntaxError(
            mark.line + 1 if mark else 1, str(getattr(exc, "problem", exc)), syntax=True
        ) from None
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    return _plain(node, (), lines, yaml.SafeLoader("")), lines


def _plain(node: yaml.Node, loc: Path, lines: dict[Path, int], loader: yaml.SafeLoader) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError(line, f"{key_path(loc) or '(top)'}: a key must be a plain word")
            key = str(key_node.value)
            if key in out:
                raise YamlSyntaxError(line, f"{key_path((*loc, key))}: given twice")
            out[key] = _plain(value_node, (*loc, key), lines, loader)
            lines[(*loc, key)] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*loc, i), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)  # a scalar, resolved as safe_load would (int, date, …)
