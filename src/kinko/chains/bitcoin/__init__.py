"""Bitcoin: m-of-n P2WSH multisig wallets, PSBTs (BIP-174), BIP-173/350 addresses."""

from kinko.chains.bitcoin.adapter import BitcoinAdapter
from kinko.chains.bitcoin.build import Payment, Utxo

__all__ = ["BitcoinAdapter", "Payment", "Utxo"]
