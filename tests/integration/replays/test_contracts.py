"""The replays' hand-assembled contracts on eth-tester (py-evm), each behaviour shown by
what the chain does: the Safe proxy forwards to its singleton, the singleton refuses a
non-owner and an outside `changeMasterCopy`, the delegatecall path rewrites the Safe's
slot 0, the sweeper drains ETH and tokens, the pool obeys its owner only."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import EthereumTesterProvider, Web3

from kinko.chains.ethereum.address import to_checksum
from kinko.chains.ethereum.calldata import EXEC_TRANSACTION
from kinko.replays.contracts.asm import Item, assemble
from kinko.replays.contracts.attacker import sweeper_code, trojan_code
from kinko.replays.contracts.lending import pool_code
from kinko.replays.heists import (
    DEPLOY_GAS,
    THIEF_KEY,
    account_key,
    address_of,
    deploy,
    deploy_safe,
    send,
)
from kinko.replays.moves import encode_call, safe_exec
from kinko.replays.reading import ATTACKER
from tests.integration.chains import minimal_erc20

ETH = 10**18
OWNER, OUTSIDER, PAYEE = 0, 1, 7  # eth-tester accounts


@pytest.fixture
def w3() -> Any:
    chain = Web3(EthereumTesterProvider())
    send(chain, account_key(5), address_of(THIEF_KEY), b"", value=ETH, gas=21_000)
    return chain


def addr(w3: Any, index: int) -> str:
    return str(w3.eth.accounts[index])


def call(w3: Any, to: str, signature: str, types: list[str], values: list[Any]) -> bytes:
    return bytes(w3.eth.call({"to": to, "data": encode_call(signature, types, values)}))


def slot0(w3: Any, contract: str) -> str:
    return to_checksum(bytes(w3.eth.get_storage_at(contract, 0))[12:])


def exec_as(w3: Any, who: int | bytes, safe: str, to: str, data: bytes, op: int = 0) -> int:
    key = account_key(who) if isinstance(who, int) else who
    return send(w3, key, safe, safe_exec(to, data, operation=op)).status


def test_the_assembler_resolves_labels_and_pushes_the_fewest_bytes() -> None:
    code = assemble([("LABEL", "end"), "JUMP", 0, 0x1234, ("DEF", "end"), "JUMPDEST"])
    assert code == bytes([0x61, 0, 9, 0x56, 0x60, 0, 0x61, 0x12, 0x34, 0x5B])
    with pytest.raises(ValueError, match="defined twice"):
        assemble([("DEF", "x"), ("DEF", "x")])
    listing: list[Item] = [("LABEL", "nowhere")]
    with pytest.raises(KeyError):
        assemble(listing)


def test_the_proxy_forwards_every_call_to_its_singleton(w3: Any) -> None:
    safe = deploy_safe(w3, addr(w3, OWNER), 10 * ETH)
    singleton = slot0(w3, safe)
    assert w3.eth.get_code(singleton) and len(w3.eth.get_code(safe)) < 100
    assert call(w3, safe, "masterCopy()", [], [])[12:] == bytes.fromhex(singleton[2:])
    assert int.from_bytes(call(w3, safe, "getThreshold()", [], []), "big") == 1
    assert call(w3, safe, "isOwner(address)", ["address"], [addr(w3, OWNER)])[-1] == 1
    assert call(w3, safe, "isOwner(address)", ["address"], [addr(w3, OUTSIDER)])[-1] == 0
    # The state is the proxy's: the singleton itself was never set up.
    assert int.from_bytes(call(w3, singleton, "getThreshold()", [], []), "big") == 0
    assert w3.eth.get_balance(safe) == 10 * ETH  # received through the singleton's receive
    # setup runs once
    again = encode_call(
        "setup(address[],uint256,address,bytes,address,address,uint256,address)",
        ["address[]", "uint256", "address", "bytes", "address", "address", "uint256", "address"],
        [[addr(w3, OUTSIDER)], 1, ATTACKER, b"", ATTACKER, ATTACKER, 0, ATTACKER],
    )
    assert send(w3, account_key(OUTSIDER), safe, again).status == 0


def test_exec_transaction_calls_for_an_owner_and_refuses_anyone_else(w3: Any) -> None:
    safe = deploy_safe(w3, addr(w3, OWNER), 10 * ETH)
    payee = addr(w3, PAYEE)
    before = w3.eth.get_balance(payee)
    types = EXEC_TRANSACTION[EXEC_TRANSACTION.index("(") + 1 : -1].split(",")
    values = [payee, 3 * ETH, b"", 0, 0, 0, 0, ATTACKER, ATTACKER, b""]
    pay = encode_call(EXEC_TRANSACTION, types, values)
    assert send(w3, account_key(OUTSIDER), safe, pay).status == 0
    assert send(w3, THIEF_KEY, safe, pay).status == 0
    assert w3.eth.get_balance(payee) == before
    assert send(w3, account_key(OWNER), safe, pay).status == 1
    assert w3.eth.get_balance(payee) == before + 3 * ETH
    assert int.from_bytes(call(w3, safe, "nonce()", [], []), "big") == 1
    # an operation other than CALL (0) or DELEGATECALL (1) is refused
    assert exec_as(w3, OWNER, safe, payee, b"", op=2) == 0


def test_change_master_copy_refuses_an_outside_caller_and_obeys_the_safe(w3: Any) -> None:
    safe = deploy_safe(w3, addr(w3, OWNER), 0)
    singleton = slot0(w3, safe)
    sweeper = deploy(w3, THIEF_KEY, sweeper_code(address_of(THIEF_KEY)))
    upgrade = encode_call("changeMasterCopy(address)", ["address"], [sweeper])
    assert send(w3, account_key(OWNER), safe, upgrade).status == 0  # even the owner
    assert send(w3, THIEF_KEY, safe, upgrade).status == 0
    assert slot0(w3, safe) == singleton
    assert exec_as(w3, OWNER, safe, safe, upgrade) == 1  # the Safe calling itself
    assert slot0(w3, safe) == sweeper


def test_the_delegatecall_path_rewrites_the_safes_slot_0(w3: Any) -> None:
    safe = deploy_safe(w3, addr(w3, OWNER), 5 * ETH)
    singleton = slot0(w3, safe)
    trojan = deploy(w3, THIEF_KEY, trojan_code())
    sweeper = deploy(w3, THIEF_KEY, sweeper_code(address_of(THIEF_KEY)))
    poison = encode_call("transfer(address,uint256)", ["address", "uint256"], [sweeper, 0])
    # Called (operation 0), the trojan writes its own storage: the Safe is untouched.
    assert exec_as(w3, OWNER, safe, trojan, poison, op=0) == 1
    assert slot0(w3, safe) == singleton and slot0(w3, trojan) == sweeper
    # Delegatecalled (operation 1), it writes the Safe's: the wallet's logic is replaced.
    assert exec_as(w3, OWNER, safe, trojan, poison, op=1) == 1
    assert slot0(w3, safe) == sweeper
    assert call(w3, safe, "masterCopy()", [], [])[12:] == bytes.fromhex(sweeper[2:])


def test_the_sweeper_drains_eth_and_tokens_for_its_operator_only(w3: Any) -> None:
    safe = deploy_safe(w3, addr(w3, OWNER), 7 * ETH)
    token = deploy(w3, account_key(OWNER), minimal_erc20.deploy_code(1_000))
    pay_safe = encode_call("transfer(address,uint256)", ["address", "uint256"], [safe, 600])
    assert send(w3, account_key(OWNER), token, pay_safe).status == 1
    sweeper = deploy(w3, THIEF_KEY, sweeper_code(address_of(THIEF_KEY)))
    upgrade = encode_call("changeMasterCopy(address)", ["address"], [sweeper])
    assert exec_as(w3, OWNER, safe, safe, upgrade) == 1
    sweep_eth = encode_call("sweepETH(address)", ["address"], [ATTACKER])
    sweep_token = encode_call(
        "sweepERC20(address,address)", ["address", "address"], [token, ATTACKER]
    )
    assert send(w3, account_key(OUTSIDER), safe, sweep_eth).status == 0
    assert send(w3, THIEF_KEY, safe, sweep_eth).status == 1
    assert send(w3, THIEF_KEY, safe, sweep_token).status == 1
    assert w3.eth.get_balance(safe) == 0 and w3.eth.get_balance(ATTACKER) == 7 * ETH
    held = call(w3, token, "balanceOf(address)", ["address"], [ATTACKER])
    assert int.from_bytes(held, "big") == 600
    assert int.from_bytes(call(w3, token, "balanceOf(address)", ["address"], [safe]), "big") == 0


def test_the_pool_obeys_its_owner_only(w3: Any) -> None:
    safe = deploy_safe(w3, addr(w3, OWNER), 0)
    pool = deploy(w3, account_key(4), pool_code(safe))
    assert send(w3, account_key(4), pool, b"", value=9 * ETH).status == 1
    assert call(w3, pool, "owner()", [], [])[12:] == bytes.fromhex(safe[2:])
    thief = address_of(THIEF_KEY)
    handover = encode_call("transferOwnership(address)", ["address"], [thief])
    take = encode_call("withdraw(address,uint256)", ["address", "uint256"], [ATTACKER, 9 * ETH])
    assert send(w3, account_key(OWNER), pool, handover).status == 0  # the Safe's owner is not
    assert send(w3, THIEF_KEY, pool, take).status == 0
    assert exec_as(w3, OWNER, safe, pool, handover) == 1  # through the Safe: the owner
    assert call(w3, pool, "owner()", [], [])[12:] == bytes.fromhex(thief[2:])
    assert send(w3, THIEF_KEY, pool, take).status == 1
    assert w3.eth.get_balance(pool) == 0 and w3.eth.get_balance(ATTACKER) == 9 * ETH


def test_deployments_fit_the_gas_they_are_given(w3: Any) -> None:
    receipt_gas = []
    for code in (trojan_code(), sweeper_code(ATTACKER), pool_code(ATTACKER)):
        sent = send(w3, account_key(OWNER), None, code, gas=DEPLOY_GAS)
        assert sent.status == 1 and sent.contract is not None
        receipt_gas.append(w3.eth.get_transaction_receipt(sent.txid)["gasUsed"])
    assert max(receipt_gas) < DEPLOY_GAS // 2
