"""The withdrawal tests' small exchange (hot ETH wallet on an in-process chain), for the
console's withdrawal pages."""

from tests.integration.withdrawals.conftest import exchange, w3

__all__ = ["exchange", "w3"]
