"""OFAC currency tickers to Kinko chains, and turning a listed address into an index entry.

OFAC writes ``Digital Currency Address - <TICKER>``. A token ticker does not name a chain:
USDT has been listed with Ethereum (0x...), Tron (T...) and Omni-on-Bitcoin (1...)
addresses, so for tokens the chain is picked by which candidate chain validates the
address. Tickers Kinko does not know are kept (chain ``unknown:<TICKER>``, key the trimmed
address) and reported, never dropped: an operator can see what the list holds that Kinko
does not screen.
"""

from __future__ import annotations

from kinko.core.errors import InputError
from kinko.screening.addresses import normalise_address
from kinko.screening.model import ListedAddress

TICKER_CHAINS: dict[str, tuple[str, ...]] = {
    "XBT": ("bitcoin",),
    "BTC": ("bitcoin",),
    "ETH": ("ethereum",),
    "ETC": ("ethereum-classic",),
    "USDT": ("ethereum", "tron", "bitcoin"),
    "USDC": ("ethereum", "tron"),
    "DAI": ("ethereum",),
    "BSC": ("bsc",),
    "ARB": ("arbitrum",),
    "TRX": ("tron",),
    "LTC": ("litecoin",),
    "BCH": ("bitcoin-cash",),
}


def listed_address(ticker: str, raw: str, entity_ref: str) -> ListedAddress:
    """Classify one address as a list published it.

    An address that fails validation for every chain its ticker maps to is kept under
    ``invalid:<TICKER>`` with its trimmed text as key, so it is reported (and still
    matched verbatim) rather than silently lost.
    """
    ticker = ticker.strip().upper()
    text = raw.strip()
    chains = TICKER_CHAINS.get(ticker)
    if chains is None:
        return ListedAddress(
            chain=f"unknown:{ticker}",
            key=f"unknown:{ticker}:{text}",
            raw=text,
            ticker=ticker,
            entity_ref=entity_ref,
        )
    for chain in chains:
        try:
            normalised = normalise_address(chain, text)
        except InputError:
            continue
        return ListedAddress(
            chain=chain, key=normalised.key, raw=text, ticker=ticker, entity_ref=entity_ref
        )
    return ListedAddress(
        chain=f"invalid:{ticker}",
        key=f"invalid:{ticker}:{text}",
        raw=text,
        ticker=ticker,
        entity_ref=entity_ref,
        valid=False,
    )
