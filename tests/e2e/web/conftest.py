"""The withdrawal tests' small exchange, for the console's pages in a real browser."""

from tests.integration.withdrawals.conftest import exchange, w3

__all__ = ["exchange", "w3"]
