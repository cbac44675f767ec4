"""Read YAML keeping where every value came from, so every error can name line and column."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .plain import NotPlain, from_events

try:  # the C loader is an order of magnitude faster on large rosters
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[Any, ...]


class ConfigError(Exception):
    """A problem with the state file, located. Printed as ``file:line:col: path: message``."""

    def __init__(self, problems: list["Problem"]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Problem:
    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Document:
    """A parsed YAML document and the position of each value and key in it.

    Positions are found only when an error needs one: the text is parsed again then, so a valid
    file (the usual case, and a large one at scale) pays nothing for them."""

    file: str
    data: Any
    text: str = ""
    _marks: tuple[dict[Path_, tuple[int, int]], dict[Path_, tuple[int, int]]] | None = field(
        default=None, repr=False, compare=False)
    #: a part of ``data`` was dropped (``forget``): positions come from the text alone
    _partial: bool = field(default=False, repr=False, compare=False)

    @property
    def value_marks(self) -> dict[Path_, tuple[int, int]]:
        return self._located()[0]

    @property
    def key_marks(self) -> dict[Path_, tuple[int, int]]:
        return self._located()[1]

    def _located(self) -> tuple[dict[Path_, tuple[int, int]], dict[Path_, tuple[int, int]]]:
        if self._marks is None:
            values: dict[Path_, tuple[int, int]] = {}
            keys: dict[Path_, tuple[int, int]] = {}
            node = _compose(self.text) if self.text else None
            if node is not None:
                data = self.data if self.data is not None and not self._partial else _construct(node)
                _walk(node, data, (), self.file, values, keys, [])
            self._marks = (values, keys)
        return self._marks

    def release(self) -> None:
        """Forget the parsed data once it is validated (the models hold what is needed: at
        100,000 people the raw mappings are a tenth of a plan's memory); a position asked for
        later reads the text again."""
        if self.text:
            self.data = None

    def forget(self, path: Path_) -> None:
        """Forget one validated part of the data (a service's entries, once its models are built),
        so the raw mappings and the models of a large roster are not all held at once."""
        if not self.text:  # nothing to find positions in again
            return
        parent = self.data
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            parent[path[-1]] = None
            self._partial = True

    def locate(self, path: Path_, *, key: bool = False) -> tuple[int | None, int | None]:
        """The closest known position of ``path`` (walking up to a parent if need be)."""
        path = tuple(path)
        while True:
            marks = (self.key_marks, self.value_marks) if key else (self.value_marks, self.key_marks)
            for table in marks:
                if path in table:
                    return table[path]
            if not path:
                return (None, None)
            path = path[:-1]

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        line, col = self.locate(path, key=key)
        return Problem(self.file, line, col, format_path(path), message)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


#: aliases may repeat a part of the file (``<<: *defaults``), not multiply it: past this many
#: times the file's own nodes, plus a little, the file is refused (a "billion laughs" bomb)
ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s,\[\]{}]")
ALIAS_GROWTH = 4
ALIAS_SLACK = 10_000


def _expanded_size(root: yaml.Node, file: str) -> int:
    """How many nodes the document holds once every alias is expanded; a ConfigError for an alias
    that contains itself or a document that aliases blow up. Iterative: deep files cannot
    exhaust the stack."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    distinct: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            continue
        if key in sizes:
            continue
        if key in on_path:
            line, col = _mark(node)
            raise ConfigError([Problem(file, line, col, "", "an alias refers to a node that contains it")])
        on_path.add(key)
        distinct.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    total = sizes[id(root)]
    if total > ALIAS_GROWTH * len(distinct) + ALIAS_SLACK:
        raise ConfigError([Problem(file, None, None, "", f"aliases expand this file to {total:,} values from "
                                   f"{len(distinct):,}; refusing it (an alias bomb?)")])
    return total


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class _Constructor(_Loader):  # type: ignore[misc, valid-type]
    """Notes whether any mapping repeats a key (YAML keeps the last one silently), so the walk
    that names each duplicate's place runs only for a file that has one."""

    duplicates = False

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) < len(node.value) and not self.duplicates:  # merge keys were flattened away
            self.duplicates = len({k.value for k, _ in node.value}) < len(node.value)
        return mapping


def _compose(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _construct(node: yaml.Node) -> Any:
    """The data of a composed document (read before: its aliases are known to be sane)."""
    loader = _Loader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_text(text: str, file: str = "<string>") -> Document:
    loader = _Constructor(text)
    node: yaml.Node | None = None
    try:
        try:
            if "&" in text and ANCHOR.search(text):  # anchors (and aliases): composed, expansion checked
                raise NotPlain
            data = from_events(loader)
        except NotPlain:
            loader.dispose()
            loader = _Constructor(text)
            node = loader.get_single_node()
            if node is None:
                return Document(file, None, text)
            _expanded_size(node, file)
            data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise ConfigError([Problem(file, line, col, "", f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(file, None, None, "", f"not valid YAML: {exc}")]) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # a tagged value that cannot be built
        raise ConfigError([Problem(file, None, None, "", f"not valid YAML: a value cannot be read ({exc})")]) from None
    finally:
        loader.dispose()
    doc = Document(file, data, text)
    if loader.duplicates:
        node = node if node is not None else _compose(text)
        values: dict[Path_, tuple[int, int]] = {}
        keys: dict[Path_, tuple[int, int]] = {}
        problems: list[Problem] = []
        _walk(node, data, (), file, values, keys, problems)
        doc._marks = (values, keys)
        if problems:
            raise ConfigError(problems)
    return doc


#: a state file for 100,000 people is tens of megabytes; past this it is not a state file
MAX_BYTES = 256 << 20


def load_file(path: str | Path) -> Document:
    p = Path(path)
    try:
        if p.exists() and not p.is_file():
            raise ConfigError([Problem(str(path), None, None, "", "not a regular file")])
        if p.exists() and p.stat().st_size > MAX_BYTES:
            raise ConfigError([Problem(str(path), None, None, "", f"larger than {MAX_BYTES >> 20} MiB: "
                                       "not a state file")])
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), None, None, "", "file not found (use -f FILE to name the state file)")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), None, None, "", f"cannot read: {exc}")]) from None
    return load_text(text, str(path))


def _walk(node: yaml.Node, data: Any, path: Path_, file: str, values: dict[Path_, tuple[int, int]],
          keys: dict[Path_, tuple[int, int]], problems: list[Problem]) -> None:
    """Record where each value and key is, and each duplicate key as a problem. Iterative:
    deep files cannot exhaust the stack."""
    stack = [(node, data, path)]
    while stack:
        node, data, path = stack.pop()
        values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
            seen: dict[str, tuple[int, int]] = {}
            children = []
            for knode, vnode in node.value:
                key = knode.value
                if key in seen:
                    line, col = _mark(knode)
                    problems.append(Problem(file, line, col, format_path(path + (key,)),
                                            f"duplicate key '{key}' (first at line {seen[key][0]})"))
                    continue
                seen[key] = _mark(knode)
                real_key = _match_key(data, key)
                keys[path + (real_key,)] = _mark(knode)
                if real_key in data:
                    children.append((vnode, data[real_key], path + (real_key,)))
            stack.extend(reversed(children))  # popped in the file's order: problems in the file's order
        elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
            stack.extend(reversed([(child, value, path + (i,)) for i, (child, value) in enumerate(zip(node.value, data))]))


def _match_key(data: dict, raw: str) -> Any:
    """YAML keys are constructed (``1`` becomes an int); find the constructed key for ``raw``."""
    if raw in data:
        return raw
    for k in data:
        if str(k) == raw or (isinstance(k, bool) and str(k).lower() == raw.lower()):
            return k
    return raw
