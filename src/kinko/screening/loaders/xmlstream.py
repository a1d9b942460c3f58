"""Streaming, hardened XML reading shared by the XML loaders.

`defusedxml` refuses DTDs (and with them entity expansion, the billion-laughs bomb, and
external entities) before any of the document is used. Elements are yielded as they end
and detached from their parent afterwards, so memory follows one record, not the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from kinko.core.errors import InputError


def local(tag: str) -> str:
    """The element name without its ``{namespace}``."""
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def root_element(path: Path) -> tuple[str, dict[str, str]] | None:
    """The root element's tag (``{ns}name``) and attributes, or None when not XML."""
    with path.open("rb") as handle:
        head = handle.read(2048).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    for _event, elem in _events(path, ("start",)):
        return str(elem.tag), dict(elem.attrib)
    return None


def stream(path: Path, items: frozenset[str]) -> Iterator[Element]:
    """Yield each element whose local name is in `items` once it is complete.

    After the consumer has handled it, the element is removed from its parent. Any
    malformation anywhere in the file raises `InputError`, so a caller that only commits
    after the generator is exhausted never uses a half-read file.
    """
    stack: list[Element] = []
    for event, elem in _events(path, ("start", "end")):
        if event == "start":
            stack.append(elem)
            continue
        stack.pop()
        if local(str(elem.tag)) in items:
            yield elem
            if stack:
                stack[-1].remove(elem)


def text(elem: Element | None) -> str:
    if elem is None or elem.text is None:
        return ""
    return elem.text.strip()


def child(elem: Element, name: str) -> Element | None:
    for sub in elem:
        if local(str(sub.tag)) == name:
            return sub
    return None


def children(elem: Element, name: str) -> Iterator[Element]:
    for sub in elem:
        if local(str(sub.tag)) == name:
            yield sub


def descendants(elem: Element, name: str) -> Iterator[Element]:
    for sub in elem.iter():
        if local(str(sub.tag)) == name:
            yield sub


def _events(path: Path, events: tuple[str, ...]) -> Iterator[tuple[str, Element]]:
    try:
        yield from iterparse(str(path), events=events, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InputError(
            "file",
            f"{path.name} declares a DTD or entities ({type(exc).__name__}); refused because "
            "entity expansion (billion laughs) and external entities are attacks, and the "
            "published lists never use them. Nothing was loaded.",
            code="list_unsafe_xml",
        ) from exc
    except ParseError as exc:
        raise InputError(
            "file",
            f"{path.name} is not well-formed XML ({exc}); the file is truncated or corrupt. "
            "Download it again. Nothing was loaded and the previous version stays active.",
            code="list_unparseable",
        ) from exc
