"""The Ethereum adapter against a real in-process chain (web3 EthereumTesterProvider, py-evm)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kinko.chains.base import CallKind
from kinko.chains.ethereum import EthereumAdapter, Fees, Transfer
from kinko.core.errors import InputError, Unavailable
from tests.integration.chains import minimal_erc20

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# eth-tester's first funded account has secret key 1.
FUNDED_KEY = (1).to_bytes(32, "big")
FEES = Fees(max_fee_per_gas=2 * 10**9, max_priority_fee_per_gas=10**9, gas_limit=100_000)
RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
SUPPLY = 10**15


@pytest.fixture(scope="module")
def chain() -> Iterator[dict[str, Any]]:
    from web3 import EthereumTesterProvider, Web3

    w3 = Web3(EthereumTesterProvider())
    sender = w3.eth.accounts[0]
    tx_hash = w3.eth.send_transaction(
        {"from": sender, "data": minimal_erc20.deploy_code(SUPPLY), "gas": 500_000}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    token = receipt["contractAddress"]
    adapter = EthereumAdapter("devnet", web3=w3, tokens={token: "TKN"})
    yield {"w3": w3, "sender": sender, "token": token, "adapter": adapter}


def _nonce(chain: dict[str, Any]) -> int:
    return int(chain["w3"].eth.get_transaction_count(chain["sender"]))


def test_native_transfer_is_built_signed_broadcast_and_seen_as_an_outflow(
    chain: dict[str, Any],
) -> None:
    adapter: EthereumAdapter = chain["adapter"]
    w3 = chain["w3"]
    _, cursor = adapter.outflows([chain["sender"]], None)
    before = w3.eth.get_balance(RECIPIENT)
    payload = adapter.build(Transfer(chain["sender"], RECIPIENT, 12345, _nonce(chain), FEES))
    raw = adapter.sign(payload, FUNDED_KEY)
    intent = adapter.decode(raw)
    assert intent.source == chain["sender"]
    assert (intent.destination, intent.amount, intent.asset) == (RECIPIENT, 12345, "ETH")
    txid = adapter.broadcast(adapter.finalize(raw))
    receipt = w3.eth.wait_for_transaction_receipt(txid)
    assert receipt["status"] == 1
    assert w3.eth.get_balance(RECIPIENT) - before == 12345
    flows, new_cursor = adapter.outflows([chain["sender"].lower()], cursor)
    assert [(f.txid, f.destination, f.amount, f.asset) for f in flows] == [
        (txid, RECIPIENT, 12345, "ETH")
    ]
    assert int(new_cursor) > int(cursor)
    assert adapter.outflows([chain["sender"]], new_cursor)[0] == []


def test_erc20_transfer_moves_tokens_and_is_reported_with_its_symbol(
    chain: dict[str, Any],
) -> None:
    adapter: EthereumAdapter = chain["adapter"]
    w3 = chain["w3"]
    token = w3.eth.contract(address=chain["token"], abi=minimal_erc20.ABI)
    assert token.functions.decimals().call() == 6
    _, cursor = adapter.outflows([chain["sender"]], None)
    transfer = Transfer(chain["sender"], RECIPIENT, 777, _nonce(chain), FEES, token=chain["token"])
    payload = adapter.build(transfer)
    intent = adapter.decode(payload)
    assert intent.call_kind is CallKind.TOKEN_TRANSFER
    assert (intent.asset, intent.destination, intent.amount) == ("TKN", RECIPIENT, 777)
    txid = adapter.broadcast(adapter.sign(payload, FUNDED_KEY))
    assert w3.eth.wait_for_transaction_receipt(txid)["status"] == 1
    assert token.functions.balanceOf(RECIPIENT).call() == 777
    assert token.functions.balanceOf(chain["sender"]).call() == SUPPLY - 777
    flows, _ = adapter.outflows([chain["sender"]], cursor)
    assert [(f.asset, f.destination, f.amount, f.txid) for f in flows] == [
        ("TKN", RECIPIENT, 777, txid)
    ]


def test_token_transfer_beyond_balance_reverts_on_chain(chain: dict[str, Any]) -> None:
    adapter: EthereumAdapter = chain["adapter"]
    w3 = chain["w3"]
    transfer = Transfer(
        chain["sender"], RECIPIENT, SUPPLY * 2, _nonce(chain), FEES, token=chain["token"]
    )
    txid = adapter.broadcast(adapter.sign(adapter.build(transfer), FUNDED_KEY))
    assert w3.eth.wait_for_transaction_receipt(txid)["status"] == 0


def test_a_replayed_nonce_is_refused_by_the_node(chain: dict[str, Any]) -> None:
    adapter: EthereumAdapter = chain["adapter"]
    stale = adapter.build(Transfer(chain["sender"], RECIPIENT, 1, 0, FEES))
    with pytest.raises(Unavailable, match="refused"):
        adapter.broadcast(adapter.sign(stale, FUNDED_KEY))


def test_a_mainnet_adapter_refuses_a_devnet_transaction(chain: dict[str, Any]) -> None:
    devnet: EthereumAdapter = chain["adapter"]
    payload = devnet.build(Transfer(chain["sender"], RECIPIENT, 1, 0, FEES))
    with pytest.raises(InputError, match="chain id 131277322940537") as err:
        EthereumAdapter("mainnet").decode(payload)
    assert err.value.code == "wrong_network"


def test_without_a_node_broadcast_is_unavailable() -> None:
    adapter = EthereumAdapter("devnet")
    payload = adapter.sign(adapter.build(Transfer(RECIPIENT, RECIPIENT, 1, 0, FEES)), FUNDED_KEY)
    with pytest.raises(Unavailable, match="no Ethereum node"):
        adapter.broadcast(payload)


def test_balances_are_read_from_the_node(chain: dict[str, Any]) -> None:
    adapter: EthereumAdapter = chain["adapter"]
    w3 = chain["w3"]
    token = w3.eth.contract(address=chain["token"], abi=minimal_erc20.ABI)
    assert adapter.balance(RECIPIENT) == w3.eth.get_balance(RECIPIENT)
    assert (
        adapter.balance(chain["sender"], chain["token"])
        == token.functions.balanceOf(chain["sender"]).call()
    )
    with pytest.raises(InputError, match="EIP-55"):
        adapter.balance(RECIPIENT.replace("a", "A", 1))
