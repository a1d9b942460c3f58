"""Reserves fixtures: the audit log's signing key where `kinko init` writes it."""

from tests.integration.audit.conftest import vkey  # noqa: F401 - a fixture, shared
