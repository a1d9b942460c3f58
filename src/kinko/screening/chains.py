"""The chains whose addresses screening understands.

Kept apart from `kinko.screening.addresses` (which loads the address libraries) so that
the CLI can name them in its help without loading those.
"""

from __future__ import annotations

EVM_CHAINS = frozenset(
    {"ethereum", "arbitrum", "optimism", "base", "polygon", "bsc", "avalanche", "ethereum-classic"}
)
SUPPORTED_CHAINS = EVM_CHAINS | {"bitcoin", "litecoin", "tron", "bitcoin-cash"}
