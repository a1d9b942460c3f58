from tests.integration.withdrawals.conftest import exchange, w3

__all__ = ["exchange", "w3"]
