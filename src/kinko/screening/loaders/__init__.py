"""Reading list files: the format is recognised from the file, never from its name.

XML files are told apart by their root element (and namespace): ``Sanctions`` is OFAC's
advanced XML, ``sanctionsData`` the enhanced XML, ``sdnList`` the legacy sdn.xml,
``CONSOLIDATED_LIST`` the UN list. Text files are Kinko's CSV when the first line is its
header, else OFAC's sdn.csv.
"""

from __future__ import annotations

from pathlib import Path

from kinko.core.errors import InputError
from kinko.core.textfile import refuse_binary
from kinko.screening.loaders import kinko_csv, ofac_advanced, ofac_enhanced, ofac_legacy, un
from kinko.screening.loaders.xmlstream import local, namespace, root_element
from kinko.screening.model import ListName, ParsedList

DEFAULT_NAMES = {"ofac": ListName("ofac-sdn"), "un": ListName("un-consolidated")}
_OFAC_NS = "sanctionslistservice.ofac.treas.gov"


def parse_file(path: Path, *, list_name: str | None = None) -> list[ParsedList]:
    """Parse `path` completely; raise `InputError` if any part of it cannot be read."""
    if not path.is_file():
        raise InputError("file", f"{path} does not exist or is not a file")
    root_info = root_element(path)
    if root_info is None:
        with path.open("rb") as handle:
            refuse_binary(handle.read(8192), field="file", name=path.name)
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            first = handle.readline()
        if kinko_csv.looks_like(first):
            if list_name is not None:
                raise InputError(
                    "list", "a Kinko CSV names its list in the 'list' column; drop --list"
                )
            return kinko_csv.parse(path)
        return [ofac_legacy.parse_csv(path, _name(list_name, "ofac"))]
    tag, attributes = root_info
    root, ns = local(tag), namespace(tag)
    if ns and _OFAC_NS not in ns and "tempuri.org" not in ns and root != "CONSOLIDATED_LIST":
        raise InputError("file", f"{path.name}: root namespace {ns!r} is not OFAC's")
    if root == "Sanctions":
        return [ofac_advanced.parse(path, _name(list_name, "ofac"))]
    if root == "sanctionsData":
        return [ofac_enhanced.parse(path, _name(list_name, "ofac"))]
    if root == "sdnList":
        return [ofac_legacy.parse_xml(path, _name(list_name, "ofac"))]
    if root == "CONSOLIDATED_LIST":
        return [un.parse(path, _name(list_name, "un"), attributes.get("dateGenerated"))]
    raise InputError(
        "file",
        f"{path.name}: root element <{root}> is not a list Kinko reads (OFAC sdn_advanced.xml, "
        "SDN_ENHANCED.XML, sdn.xml, sdn.csv, UN consolidated XML, or Kinko's CSV)",
    )


def _name(given: str | None, family: str) -> ListName:
    if given is None:
        return DEFAULT_NAMES[family]
    if not given or not given.replace("-", "").isalnum() or given != given.lower():
        raise InputError("list", f"{given!r} is not a list name (lower case, digits, hyphens)")
    return ListName(given)
