"""withdrawals."""
