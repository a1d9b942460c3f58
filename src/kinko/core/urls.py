"""The URL Kinko is served at, and the WebAuthn relying party that goes with it.

A browser lets a page use a security key only for a relying party id equal to the page's
host or a registrable suffix of it (WebAuthn L2 §5.1.3, "This is an invalid domain"
otherwise), and only in a secure context (https, or http on localhost). So the rp id and
the allowed origin follow from the served URL: `kinko serve`'s address, or `public_url`
when a TLS proxy serves Kinko elsewhere. Pure: no I/O, light imports.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Loopback (and every-address) binds are opened as ``localhost``: a browser treats
# http://localhost as a secure context and accepts "localhost" as an rp id.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"})  # noqa: S104
DEFAULT_PORTS = {"http": 80, "https": 443}


def local_url(host: str, port: int) -> str:
    """The URL to open for a server bound to `host`:`port` (no trailing slash)."""
    shown = "localhost" if host in LOOPBACK_NAMES else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of `url`, lower-cased, without a default port (RFC 6454)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or DEFAULT_PORTS.get(scheme) == port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def host_of(url: str) -> str:
    return (urlsplit(url.strip()).hostname or "").lower()


def rp_id_fits(rp_id: str, host: str) -> bool:
    """`rp_id` may be used on pages of `host`: the host itself or a parent domain of it."""
    rp, host = rp_id.lower().rstrip("."), host.lower().rstrip(".")
    if rp == host:
        return bool(rp)
    if is_ip(rp) or is_ip(host):
        return False
    # A parent domain with a dot in it (a public suffix such as "com" is refused by the
    # browser itself; Kinko does not carry the public-suffix list).
    return "." in rp and host.endswith("." + rp)


def public_url_problem(url: str) -> str | None:
    """Why `url` cannot be the URL people open Kinko at (None: it can)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as exc:
        return f"is not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be https://HOST[:PORT], the address people open Kinko at"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "must have no path, query or fragment: Kinko is served at the root of its host"
    if parts.username or parts.password:
        return "must not carry a user name or password"
    if is_ip(parts.hostname):
        return "must name the host by a domain name: security keys do not work on IP addresses"
    if parts.scheme == "http" and parts.hostname != "localhost":
        return (
            "must be https:// (browsers offer security keys only on https pages, or on "
            "http://localhost)"
        )
    return None
