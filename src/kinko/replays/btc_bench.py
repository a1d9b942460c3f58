"""The Bitcoin wallet a replay robs (DMM Bitcoin 2024), on the replay's exchange, and what
a thief could take from what Kinko released.

The wallet is the one Bitcoin wallet Kinko's model has: an m-of-n P2WSH wallet
(`wsh(sortedmulti(2, …))`, three cosigners' BIP-48 keys) whose keys sign offline with
`kinko cosign`; Kinko has no hot Bitcoin wallet (no node: `BitcoinGateway` neither signs
nor broadcasts). It is registered by four eyes (an operator proposes, a security admin
approves with her key), funded with synthetic outputs imported as an operator imports
them (`kinko withdraw utxo-import`), and the customer's address goes into the address
book for cold wallets by four eyes. Regtest keys and addresses throughout: nothing a
replay signs could be spent on a real network.

Nothing is broadcast (no node), so the loss is read from what a thief needs:
`thief_takings` sums, in satoshis, the outputs paying the thief of every fully signed
transaction among what was released — each one's signatures verified here against the
outputs it spends, independently of the code that made it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from embit import bip32
from embit.ec import PublicKey, Signature
from embit.networks import NETWORKS as EMBIT_NETWORKS
from embit.script import Script
from embit.transaction import SIGHASH, Transaction, TransactionInput, TransactionOutput
from sqlalchemy import select

from kinko.chains.bitcoin import BitcoinAdapter, Payment, Utxo
from kinko.chains.bitcoin import address as btc_address
from kinko.chains.bitcoin import psbt as psbtmod
from kinko.chains.bitcoin.networks import network
from kinko.core.errors import IntegrityError, KinkoError
from kinko.custody.model import Tier
from kinko.custody.proposals import wallet_payload
from kinko.custody.wallets import NewWallet
from kinko.identity.model import ProposalKind
from kinko.policy.model import OwnerKind
from kinko.replays.bench import Bench
from kinko.signer.offline import cosign_in_turn
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.utxos import UtxoRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.bitcoin import FEE_RATE, import_utxo
from kinko.withdrawals.export import checked_export
from kinko.withdrawals.stack import log_vkey_of

SAT = 10**8
NETWORK = network("regtest")
ORIGIN = f"48h/{NETWORK.coin_type}h/0h/2h"  # BIP-48 P2WSH multisig, test coin type
_VERSIONS = EMBIT_NETWORKS[NETWORK.embit]  # tprv / tpub
WALLET_NAME = "BTC cold (P2WSH 2-of-3)"
# The cosigners' seeds: made up for the replay, never used anywhere else.
SEEDS = tuple(
    hashlib.sha256(f"kinko replay: DMM Bitcoin cosigner {n}".encode()).digest() for n in (1, 2, 3)
)
# The wallet's synthetic funding: 4,600 BTC in four outputs (more than the 4,502.9 stolen).
FUNDING = (2_000 * SAT, 1_500 * SAT, 1_000 * SAT, 100 * SAT)
# The legitimate destination (the BIP-173 example witness program, as a regtest address)
# and the thief's (a made-up witness program).
CUSTOMER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
THIEF_SCRIPT = b"\x00\x14" + bytes.fromhex("a77acce2" * 5)
THIEF = str(btc_address.address_of(THIEF_SCRIPT, NETWORK))


def _master(seed: bytes) -> bip32.HDKey:
    return bip32.HDKey.from_seed(seed, version=_VERSIONS["xprv"])


def cosigner_keys() -> tuple[bytes, ...]:
    """Each cosigner's key as `kinko cosign --key` reads it from their key file (a BIP-32
    extended private key, serialised)."""
    return tuple(bytes(_master(seed).serialize()) for seed in SEEDS)


def descriptor() -> str:
    keys = []
    for seed in SEEDS:
        root = _master(seed)
        xpub = root.derive("m/" + ORIGIN).to_public().to_base58(version=_VERSIONS["xpub"])
        keys.append(f"[{root.my_fingerprint.hex()}/{ORIGIN}]{xpub}/0/*")
    return f"wsh(sortedmulti(2,{','.join(keys)}))"


def adapter() -> BitcoinAdapter:
    """Kinko's Bitcoin adapter for the wallet (its descriptor), on regtest."""
    return BitcoinAdapter(NETWORK.name, descriptor=descriptor())


def funding(wallet: BitcoinAdapter) -> list[bytes]:
    """The wallet's synthetic funding: one transaction per amount of `FUNDING`, its
    output 0 paying the wallet's receive address of the same index."""
    multisig = wallet.wallet
    assert multisig is not None
    return [
        bytes(
            Transaction(
                vin=[TransactionInput(hashlib.sha256(b"dmm funding %d" % i).digest(), 0)],
                vout=[TransactionOutput(amount, Script(multisig.script_pubkey(0, i)))],
            ).serialize()
        )
        for i, amount in enumerate(FUNDING)
    ]


def forge(wallet: BitcoinAdapter, outputs: Sequence[tuple[bytes, int]], amount: int) -> bytes:
    """The attacker's PSBT, built as the wallet software builds one: every output the
    wallet holds (`outputs`: previous transaction, vout) spent, `amount` to the thief,
    the rest back to the wallet as change."""
    spent = [Utxo(prev, vout) for prev, vout in outputs]
    return wallet.build(spent, [Payment(THIEF, amount)], FEE_RATE)


@dataclass(frozen=True, slots=True)
class BtcWallet:
    wallet_id: str
    adapter: BitcoinAdapter  # with the wallet's descriptor


def open_wallet(bench: Bench) -> BtcWallet:
    """Register the cold wallet by four eyes, import its funding, and book the customer's
    address for cold wallets (alice proposes, carol approves)."""
    spec = NewWallet(
        name=WALLET_NAME,
        chain="bitcoin",
        network=NETWORK.name,
        assets=("bitcoin:BTC",),
        tier=Tier.COLD.value,
        owner_class="customer",
        purpose="long_term_cold",
        quorum_m=2,
        quorum_n=3,
        eligible_roles=("approver", "senior_approver"),
        descriptor=descriptor(),
    )
    bench.register(ProposalKind.REGISTER_WALLET, wallet_payload(spec))
    with bench.ctx.db.reading() as session:
        wallet_id = session.execute(
            select(WalletRow.id).where(WalletRow.name == WALLET_NAME)
        ).scalar_one()
    wallet = BtcWallet(wallet_id, adapter())
    for prev in funding(wallet.adapter):
        import_utxo(bench.ctx, wallet_id=wallet_id, prev_tx=prev, vout=0, actor="system:replay")
    bench.book(
        CUSTOMER,
        "customer 2002 (verified)",
        chain="bitcoin",
        owner_kind=OwnerKind.CUSTOMER_VERIFIED,
        tiers=(Tier.COLD,),
    )
    return wallet


def prevouts(bench: Bench, wallet: BtcWallet) -> dict[tuple[str, int], tuple[int, bytes]]:
    """The wallet's imported outputs: (txid, vout) -> (amount, output script)."""
    with bench.ctx.db.reading() as session:
        rows = session.execute(select(UtxoRow).where(UtxoRow.wallet_id == wallet.wallet_id))
        return {(r.txid, r.vout): (r.amount, _script_of(r.prev_tx, r.vout)) for r in rows.scalars()}


def _script_of(prev_tx: bytes, vout: int) -> bytes:
    return bytes(Transaction.parse(prev_tx).vout[vout].script_pubkey.data)


def unspent(bench: Bench, wallet: BtcWallet) -> list[tuple[bytes, int]]:
    """(previous transaction, vout) of every output the wallet holds, as Kinko stores them,
    the largest first."""
    with bench.ctx.db.reading() as session:
        rows = session.execute(
            select(UtxoRow)
            .where(UtxoRow.wallet_id == wallet.wallet_id)
            .order_by(UtxoRow.amount.desc(), UtxoRow.txid, UtxoRow.vout)
        )
        return [(r.prev_tx, r.vout) for r in rows.scalars()]


OPERATOR = "user:operator"  # who exports bundles for the key holders


@dataclass(frozen=True, slots=True)
class Cosigning:
    """What the key holders' `kinko cosign` runs gave: the PSBTs and transactions they
    wrote out, and each refusal as (holder, code, message)."""

    released: tuple[bytes, ...]
    refusals: tuple[tuple[int, str, str], ...]
    not_exported: str | None = None  # why Kinko refused to export the bundle at all


def cosign_offline(bench: Bench, withdrawal_id: str) -> Cosigning:
    """The operator exports the approved withdrawal's bundle (`kinko withdraw bundle
    export`); each key holder runs `kinko cosign` on it with their key file, the second
    with the first one's partially signed PSBT if there is one."""
    ctx = bench.ctx
    try:
        raw = checked_export(ctx, bench.stack.ports, withdrawal_id, actor=OPERATOR).to_bytes()
    except IntegrityError as exc:  # the record was rewritten: nothing to take to the holders
        return Cosigning((), (), not_exported=f"{exc.code}: {exc.message}")
    released: list[bytes] = []
    refusals: list[tuple[int, str, str]] = []
    for holder, done in cosign_in_turn(
        raw,
        cosigner_keys()[:2],
        log_vkey=log_vkey_of(ctx),
        now=ctx.clock.now(),
        rp_id=ctx.settings.webauthn_rp_id,
        origin=ctx.settings.webauthn_origin,
    ):
        if isinstance(done, KinkoError):
            refusals.append((holder, done.code, done.message))
            continue
        released.append(done.signed_tx)
        if done.final_tx is not None:
            released.append(done.final_tx)
    return Cosigning(tuple(released), tuple(refusals))


def stored_signed(bench: Bench, wallet: BtcWallet) -> list[bytes]:
    """The signed transactions Kinko stored for the wallet's withdrawals (`kinko withdraw
    submit`): what an operator would broadcast."""
    with bench.ctx.db.reading() as session:
        rows = session.execute(
            select(WithdrawalRow.signed_tx).where(
                WithdrawalRow.wallet_id == wallet.wallet_id, WithdrawalRow.signed_tx.is_not(None)
            )
        ).scalars()
        return [bytes(raw) for raw in rows if raw is not None]


def thief_takings(
    wallet: BitcoinAdapter,
    released: Iterable[bytes],
    spent: dict[tuple[str, int], tuple[int, bytes]],
    thief_script: bytes = THIEF_SCRIPT,
) -> tuple[int, list[str]]:
    """Satoshis paid to `thief_script` by the fully signed transactions a thief could
    broadcast from `released` (PSBTs, partial signatures of one transaction combined, and
    network transactions), each counted once; and those transactions' ids. A transaction
    counts only if every input spends one of `spent` with the wallet's threshold of valid
    signatures."""
    transactions: dict[str, Transaction] = {}
    psbts: dict[str, list[bytes]] = {}
    for raw in released:
        if raw.startswith(b"psbt\xff"):
            psbts.setdefault(psbtmod.parse(raw).tx.txid().hex(), []).append(raw)
        else:
            tx = Transaction.parse(raw)
            transactions[tx.txid().hex()] = tx
    for copies in psbts.values():
        try:
            final = wallet.finalize(wallet.combine(copies))
        except KinkoError:
            continue  # short of the threshold: nothing a thief can send
        tx = Transaction.parse(final)
        transactions[tx.txid().hex()] = tx
    paying = {
        txid: sum(o.value for o in tx.vout if o.script_pubkey.data == thief_script)
        for txid, tx in transactions.items()
        if fully_signed(tx, spent)
    }
    paying = {txid: amount for txid, amount in paying.items() if amount}
    return sum(paying.values()), sorted(paying)


def fully_signed(tx: Transaction, spent: dict[tuple[str, int], tuple[int, bytes]]) -> bool:
    """Every input spends a known P2WSH multisig output and carries, in its witness, at
    least m signatures (SIGHASH_ALL) that verify, in key order, as OP_CHECKMULTISIG
    checks them."""
    for i, vin in enumerate(tx.vin):
        known = spent.get((vin.txid.hex(), vin.vout))
        items = list(vin.witness.items)
        if known is None or len(items) < 3 or items[0]:  # CHECKMULTISIG's dummy: empty
            return False
        amount, script = known
        witness_script = bytes(items[-1])
        if script != b"\x00\x20" + hashlib.sha256(witness_script).digest():
            return False
        needed, keys = _multisig(witness_script)
        digest = tx.sighash_segwit(i, Script(witness_script), amount, SIGHASH.ALL)
        if needed == 0 or _valid_in_order([bytes(s) for s in items[1:-1]], keys, digest) < needed:
            return False
    return True


def _multisig(script: bytes) -> tuple[int, list[bytes]]:
    """(m, the compressed keys) of `OP_m <key>… OP_n OP_CHECKMULTISIG`; (0, []) otherwise."""
    op_1, op_16, checkmultisig = 0x51, 0x60, 0xAE
    if len(script) < 37 or script[-1] != checkmultisig:
        return 0, []
    m, n = script[0] - op_1 + 1, script[-2] - op_1 + 1
    if not (op_1 <= script[0] <= op_16 and 1 <= m <= n and len(script) == 3 + 34 * n):
        return 0, []
    return m, [script[2 + 34 * k : 35 + 34 * k] for k in range(n)]


def _valid_in_order(signatures: Sequence[bytes], keys: Sequence[bytes], digest: bytes) -> int:
    """How many of `signatures` verify against `keys` walked in order (CHECKMULTISIG)."""
    valid, k = 0, 0
    for sig in signatures:
        if not sig or sig[-1] != SIGHASH.ALL:
            continue
        while k < len(keys):
            key = keys[k]
            k += 1
            try:
                if PublicKey.parse(key).verify(Signature.parse(sig[:-1]), digest):
                    valid += 1
                    break
            except Exception:  # noqa: S112 - an unparsable key or signature does not count
                continue
    return valid
