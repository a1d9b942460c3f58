"""Pure custody values shared by custody, withdrawals, policy and the signer."""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

WalletId = NewType("WalletId", str)


class Tier(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class OwnerClass(StrEnum):
    CUSTOMER = "customer"
    PROPRIETARY = "proprietary"
    GUARANTEE = "guarantee"


class Purpose(StrEnum):
    OPERATIONAL = "operational"
    SHORT_TERM_COLD = "short_term_cold"
    LONG_TERM_COLD = "long_term_cold"
