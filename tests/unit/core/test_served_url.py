"""The WebAuthn relying party follows the URL Kinko is served at (issue 13, item 5)."""

from __future__ import annotations

import pytest

from kinko.config import Settings, check_served_url
from kinko.core.errors import ConfigError
from kinko.core.urls import local_url, origin_of, public_url_problem, rp_id_fits


def test_rp_id_and_origin_follow_the_bound_address_or_the_public_url() -> None:
    assert (Settings().webauthn_rp_id, Settings().webauthn_origin) == (
        "localhost",
        "http://localhost:8000",
    )
    served = Settings(host="0.0.0.0", port=8123)
    assert (served.webauthn_rp_id, served.webauthn_origin) == ("localhost", "http://localhost:8123")
    proxied = Settings(public_url="https://Kinko.Example.com:443/", port=9000)
    assert proxied.public_url == "https://kinko.example.com"
    assert (proxied.webauthn_rp_id, proxied.webauthn_origin) == (
        "kinko.example.com",
        "https://kinko.example.com",
    )
    for settings in (Settings(), served, proxied):
        check_served_url(settings)  # derived values always fit


def test_explicit_values_that_fit_are_kept() -> None:
    parent = Settings(public_url="https://kinko.example.com", webauthn_rp_id="example.com")
    check_served_url(parent)
    assert parent.webauthn_rp_id == "example.com"
    same = Settings(port=8123, webauthn_origin="http://localhost:8123/")
    check_served_url(same)


@pytest.mark.parametrize(
    ("values", "field", "fix"),
    [
        (
            {"port": 8123, "webauthn_origin": "http://localhost:8000"},
            "webauthn_origin",
            "or set it to http://localhost:8123; if a TLS proxy serves Kinko at another "
            "address, set public_url to that",
        ),
        (
            {"public_url": "https://kinko.example.com", "webauthn_origin": "https://other.example"},
            "webauthn_origin",
            "or set it to https://kinko.example.com",
        ),
        (
            {"public_url": "https://kinko.example.com", "webauthn_rp_id": "evil.example"},
            "webauthn_rp_id",
            "or set it to 'kinko.example.com'",
        ),
        ({"webauthn_rp_id": "127.0.0.1"}, "webauthn_rp_id", "or set it to 'localhost'"),
    ],
)
def test_explicit_values_that_do_not_fit_are_refused_naming_the_setting(
    values: dict[str, object], field: str, fix: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        check_served_url(Settings(**values))
    assert refused.value.field == field
    assert refused.value.exit_code == 2
    assert f"Remove {field}" in refused.value.message and fix in refused.value.message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://10.0.0.5", "domain name"),
        ("http://kinko.example.com", "must be https://"),
        ("https://kinko.example.com/kinko/", "no path"),
        ("ftp://kinko.example.com", "https://HOST"),
        ("https://user:pw@kinko.example.com", "user name"),
        ("https://kinko.example.com:99999", "not a URL"),
    ],
)
def test_a_public_url_browsers_cannot_use_is_refused(url: str, why: str) -> None:
    problem = public_url_problem(url)
    assert problem is not None and why in problem
    with pytest.raises(ValueError, match="public_url"):
        Settings(public_url=url)
    assert public_url_problem("http://localhost:8000") is None


def test_url_helpers() -> None:
    assert local_url("::1", 9) == "http://localhost:9"
    assert local_url("2001:db8::1", 80) == "http://[2001:db8::1]:80"
    assert origin_of("HTTPS://Example.COM:443/x?y") == "https://example.com"
    assert origin_of("http://localhost:8000/") == "http://localhost:8000"
    assert rp_id_fits("example.com", "kinko.example.com")
    assert not rp_id_fits("com", "example.com")  # a dotless parent: refused
    assert not rp_id_fits("ample.com", "example.com")
    assert not rp_id_fits("0.1", "10.0.0.1")  # no parents of IP addresses
