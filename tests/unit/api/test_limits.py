"""Which X-Forwarded-For hops are believed, and the trusted_proxies setting."""

from __future__ import annotations

import pytest

from kinko.api.limits import client_address, parse_networks
from kinko.config import load_settings
from kinko.core.errors import ConfigError

PROXIES = parse_networks(["10.0.0.2", "192.0.2.0/24", "::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # No proxy is trusted by default: the header is ignored, whoever sends it.
        ("127.0.0.1", ["203.0.113.9"], "127.0.0.1"),
        # From an untrusted peer the header is ignored.
        ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),
        # From a trusted proxy: the address that proxy saw (right-most hop).
        ("10.0.0.2", ["203.0.113.9"], "203.0.113.9"),
        # A client's own forged hops left of the real one are not believed.
        ("10.0.0.2", ["1.2.3.4, 203.0.113.9"], "203.0.113.9"),
        ("10.0.0.2", ["1.2.3.4", "203.0.113.9"], "203.0.113.9"),
        # Through two trusted proxies: skip them, stop at the first untrusted hop.
        ("10.0.0.2", ["1.2.3.4, 203.0.113.9, 192.0.2.44"], "203.0.113.9"),
        ("::1", ["2001:db8::5"], "2001:db8::5"),
        ("10.0.0.2", ["203.0.113.9:4711"], "203.0.113.9"),
        ("10.0.0.2", ["[2001:db8::5]:4711"], "2001:db8::5"),
        # A malformed hop ends the walk at the last believed address.
        ("10.0.0.2", ["203.0.113.9, not-an-ip"], "10.0.0.2"),
        ("10.0.0.2", [], "10.0.0.2"),
    ],
)
def test_client_address(peer: str, forwarded: list[str], client: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_nothing_is_trusted_by_default() -> None:
    assert client_address("127.0.0.1", ["203.0.113.9"], ()) == "127.0.0.1"
    assert load_settings(environ={}).trusted_proxies == ()


def test_trusted_proxies_from_the_environment() -> None:
    settings = load_settings(environ={"KINKO_TRUSTED_PROXIES": "10.0.0.2, 192.0.2.0/24 ::1"})
    assert settings.trusted_proxies == ("10.0.0.2", "192.0.2.0/24", "::1")


def test_a_bad_proxy_entry_is_named() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"KINKO_TRUSTED_PROXIES": "10.0.0.2, proxy.example"})
    assert info.value.field == "trusted_proxies"
    assert "'proxy.example' is not an IP address or network" in info.value.message
