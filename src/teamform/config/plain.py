"""A plain YAML document (no anchors, aliases, merge keys or tagged collections) built straight
from the C parser's events, with the values PyYAML's own loader gives.

``loader.load_text`` reads a state file this way and falls back to PyYAML's composer for
anything else (``NotPlain``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

_STR, _MAP, _SEQ, _MERGE = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
                            "tag:yaml.org,2002:merge")
_NO_KEY = object()


class NotPlain(Exception):
    """The document uses what only PyYAML's composer and constructor handle (an anchor or alias,
    a key that is not a scalar, a merge key, a tagged collection)."""


def from_events(loader: Any) -> Any:
    """A plain document built straight from the parser's events. PyYAML's own way first builds a
    tree of nodes, each with two marks, several times the size of the data (for a roster of
    100,000 people, most of the memory and time of a plan); a plain document needs none of it.
    Scalars are resolved and built as PyYAML does, each distinct plain one once: a roster repeats
    each email in every service, and every key and role thousands of times.

    ``loader`` is the C loader reading the text; ``loader.duplicates`` is set when a mapping
    repeats a key (the caller then says where)."""
    events = yaml.events
    scalar, mapping, sequence = events.ScalarEvent, events.MappingStartEvent, events.SequenceStartEvent
    ends, document_end = (events.MappingEndEvent, events.SequenceEndEvent), events.DocumentEndEvent
    plain = _PlainScalars(loader)
    share, get_event, known = plain.share, loader.get_event, plain.values.get
    get_event()  # the stream's start
    if loader.check_event(events.StreamEndEvent):
        return None
    get_event()  # the document's start
    stack: list[tuple[Any, Any]] = []  # the enclosing containers, each with the key its value goes to
    container: Any = None  # the mapping or list being read; None before the root
    key: Any = _NO_KEY  # in a mapping: the key read for the next value
    root: Any = None
    while True:
        event = get_event()
        kind = type(event)
        if kind is scalar:
            if event.anchor:
                raise NotPlain
            if event.tag is not None:
                value = _tagged(loader, event, share)
            elif event.implicit[0]:  # plain: a string unless a resolver says otherwise
                value = known(event.value, _NO_KEY)
                if value is _NO_KEY:
                    value = plain.read(event)
            else:  # quoted: a string
                value = share(event.value)
        elif kind is mapping or kind is sequence:
            if event.anchor or event.tag not in (None, "!", _MAP if kind is mapping else _SEQ):
                raise NotPlain
            if type(container) is dict and key is _NO_KEY:
                raise NotPlain  # a mapping or a list as a key
            stack.append((container, key))
            container, key = ({} if kind is mapping else []), _NO_KEY
            continue
        elif kind in ends:
            value = container
            container, key = stack.pop()
        elif kind is document_end:
            break
        else:  # an alias
            raise NotPlain
        if type(container) is list:
            container.append(value)
        elif container is None:
            root = value
        elif key is _NO_KEY:
            key = value
        else:
            if key in container:
                loader.duplicates = True
            container[key] = value
            key = _NO_KEY
    if not loader.check_event(events.StreamEndEvent):
        following = get_event()
        raise yaml.composer.ComposerError("expected a single document in the stream", None,
                                          "but found another document", following.start_mark)
    loader.constructed_objects, loader.recursive_objects = {}, {}
    return root


_IMMUTABLE = (bool, int, float, type(None), bytes, str, dt.date, dt.datetime)


class _PlainScalars:
    """The values of the plain (unquoted) scalars of one document, by their text: a plain scalar's
    value depends on its text alone (PyYAML's implicit resolvers), so each text is read once."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.values: dict[str, Any] = {}  # those that cannot be changed, so can be shared
        #: each distinct string once, quoted or not (this document's, not sys.intern's table, which
        #: would keep its size, tens of MiB at 100,000 people, for the whole run)
        self.strings: dict[str, str] = {}
        resolvers = loader.yaml_implicit_resolvers
        #: the first characters ("" for an empty scalar) a resolver may match (``true``, ``12``,
        #: ``~``, ``2025-06-30``, ``<<``...): any other plain scalar is a string
        self.firsts = None if None in resolvers or loader.yaml_path_resolvers else frozenset(resolvers)

    def share(self, text: str) -> str:
        return self.strings.setdefault(text, text)

    def read(self, event: yaml.ScalarEvent) -> Any:
        text = event.value
        if self.firsts is not None and text[:1] not in self.firsts:
            value: Any = self.share(text)
        else:
            tag = self.loader.resolve(yaml.ScalarNode, text, event.implicit)
            if tag == _MERGE:
                raise NotPlain
            value = self.share(text) if tag == _STR else _construct_scalar(self.loader, event, tag)
        if type(value) in _IMMUTABLE:
            self.values[text] = value
        return value


def _tagged(loader: Any, event: yaml.ScalarEvent, share: Any) -> Any:
    """A scalar with a tag (``!!str 5``, ``! x``), built as PyYAML does."""
    tag = event.tag
    if tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _MERGE:
        raise NotPlain
    return share(event.value) if tag == _STR else _construct_scalar(loader, event, tag)


def _construct_scalar(loader: Any, event: yaml.ScalarEvent, tag: str) -> Any:
    return loader.construct_object(yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style))
