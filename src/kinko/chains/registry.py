"""The adapter registry: a chain family is one module plus one line here.

`get_adapter("ethereum", "sepolia")` returns a ready adapter; options such as a web3
client (`web3=`) or known tokens (`tokens=`) are passed to the adapter's constructor.
"""

from __future__ import annotations

import importlib
from typing import Any

from kinko.chains.base import ChainAdapter
from kinko.core.errors import InputError

# chain family -> "module:class"; modules import lazily so a missing optional library
# for one chain never breaks the others.
ADAPTERS: dict[str, str] = {
    "ethereum": "kinko.chains.ethereum.adapter:EthereumAdapter",
    "bitcoin": "kinko.chains.bitcoin.adapter:BitcoinAdapter",
}


def families() -> list[str]:
    return sorted(ADAPTERS)


def get_adapter(chain: str, network: str = "mainnet", **options: Any) -> ChainAdapter:
    """The adapter for `chain` on `network`, or an InputError naming the known chains."""
    target = ADAPTERS.get(chain)
    if target is None:
        raise InputError("chain", f"unknown chain {chain!r}; known: {', '.join(families())}")
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    adapter: ChainAdapter = cls(network, **options)
    return adapter
