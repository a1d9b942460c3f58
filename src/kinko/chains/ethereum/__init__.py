"""Ethereum: EIP-1559 native and ERC-20 transfers, calldata classification, EIP-55."""

from kinko.chains.ethereum.adapter import EthereumAdapter, Fees, Transfer

__all__ = ["EthereumAdapter", "Fees", "Transfer"]
