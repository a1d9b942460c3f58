"""Custody: assets, wallets, key inventory, balances, liabilities, cold share."""
