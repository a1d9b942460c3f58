"""The Bitcoin chain adapter: m-of-n P2WSH multisig through PSBTs.

Build with BDK (`build.py`), read, digest and co-sign with embit (`psbt.py`, here),
finalise and extract with BDK's miniscript finaliser. Node access is in `node.py`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import bdkpython as bdk
from embit import bip32
from embit.ec import PublicKey
from embit.ec import Signature as EmbitSignature

from kinko.chains.base import CallKind, EcdsaSignature, Intent, Outflow, Output
from kinko.chains.bitcoin import address as addr
from kinko.chains.bitcoin import node
from kinko.chains.bitcoin import psbt as psbtmod
from kinko.chains.bitcoin.build import Payment, Utxo, build_psbt
from kinko.chains.bitcoin.networks import network as network_named
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.core.errors import InputError, Unavailable

ASSET = "BTC"


class BitcoinAdapter:
    family = "bitcoin"

    def __init__(
        self, network: str = "mainnet", *, descriptor: str | None = None, rpc: Any = None
    ) -> None:
        self.network = network
        self.net = network_named(network)
        self.wallet = MultisigWallet.parse(descriptor, self.net) if descriptor else None
        self.rpc = rpc

    def normalize_address(self, address: str) -> str:
        return addr.normalize(address, self.net)

    def _wallet(self) -> MultisigWallet:
        if self.wallet is None:
            raise InputError("descriptor", "this Bitcoin adapter has no wallet descriptor")
        return self.wallet

    def build(self, utxos: Sequence[Utxo], payments: Sequence[Payment], fee_rate: int) -> bytes:
        return build_psbt(self._wallet(), utxos, payments, fee_rate)

    def decode(self, payload: bytes) -> Intent:
        wallet = self._wallet()
        seen = psbtmod.inspect(payload, wallet)
        paid = [o for o in seen.outputs if not o.is_change]
        first = seen.inputs[0]
        source = addr.address_of(wallet.script_pubkey(first.chain, first.index), self.net)
        warnings = [f"output {i}: {o.warning}" for i, o in enumerate(seen.outputs) if o.warning]
        details = {
            "inputs": [
                {"txid": i.txid, "vout": i.vout, "amount": str(i.amount)} for i in seen.inputs
            ],
            "txid": seen.psbt.tx.txid().hex(),
            "locktime": seen.psbt.tx.locktime,
            "warnings": warnings,
            "signatures": [len(inp.partial_sigs) for inp in seen.psbt.inputs],
            "threshold": wallet.threshold,
        }
        return Intent(
            chain=self.family,
            network=self.network,
            asset=ASSET,
            source=source or "",
            destination=paid[0].address if paid else "",
            amount=sum(o.amount for o in paid),
            fee=seen.fee,
            call_kind=CallKind.NATIVE_TRANSFER,
            outputs=tuple(Output(o.address, o.amount, o.is_change) for o in seen.outputs),
            details=MappingProxyType(details),
        )

    def signing_digest(self, payload: bytes) -> bytes:
        return psbtmod.signing_digest(psbtmod.inspect(payload, self._wallet()))

    def sign(self, payload: bytes, key: bytes) -> bytes:
        """Co-sign with embit using the cosigner's master extended private key."""
        wallet = self._wallet()
        seen = psbtmod.inspect(payload, wallet)
        try:
            root = bip32.HDKey.parse(bytes(key))
        except Exception:
            raise InputError("key", "not a serialised BIP-32 extended private key") from None
        if not root.is_private:
            raise InputError("key", "an extended public key cannot sign")
        if root.my_fingerprint not in {c.fingerprint for c in wallet.cosigners}:
            raise InputError("key", "this key is not one of the wallet's cosigners")
        count = seen.psbt.sign_with(root)
        if count != len(seen.inputs):
            raise InputError("key", f"signed {count} of {len(seen.inputs)} inputs")
        return bytes(seen.psbt.serialize())

    def combine(self, payloads: Sequence[bytes]) -> bytes:
        """BIP-174 combiner: merge partial signatures of copies of one unsigned tx."""
        if not payloads:
            raise InputError("payloads", "nothing to combine")
        wallet = self._wallet()
        copies = [psbtmod.inspect(p, wallet).psbt for p in payloads]
        base = copies[0]
        for n, other in enumerate(copies[1:], start=1):
            if other.tx.serialize() != base.tx.serialize():
                raise InputError(f"payloads[{n}]", "is a different transaction")
            for mine, theirs in zip(base.inputs, other.inputs, strict=True):
                mine.partial_sigs.update(theirs.partial_sigs)
        return bytes(base.serialize())

    def finalize(self, payload: bytes) -> bytes:
        """Check signature counts, finalise with BDK, return the network transaction."""
        wallet = self._wallet()
        seen = psbtmod.inspect(payload, wallet)
        valid = _valid_signers(seen)
        for i, signers in enumerate(valid):
            if len(signers) < wallet.threshold:
                raise InputError(
                    f"psbt.inputs[{i}]",
                    f"signed by {len(signers)}/{wallet.threshold} required cosigners",
                )
        psbt = bdk.Psbt(base64.b64encode(payload).decode("ascii"))
        result = psbt.finalize()
        if not result.could_finalize:
            raise InputError("psbt", f"BDK could not finalise: {result.errors}")
        return bytes(result.psbt.extract_tx().serialize())

    def signatures(self, payload: bytes) -> list[EcdsaSignature]:
        seen = psbtmod.inspect(payload, self._wallet())
        out = []
        for info, inp in zip(seen.inputs, seen.psbt.inputs, strict=True):
            for pub, sig in inp.partial_sigs.items():
                parsed = EmbitSignature.parse(sig[:-1])
                r, s = _rs(parsed)
                out.append(EcdsaSignature(pub.sec(), r, s, info.sighash))
        return out

    def broadcast(self, raw: bytes) -> str:
        return node.broadcast(self._rpc(), raw)

    def outflows(self, addresses: Sequence[str], cursor: str | None) -> tuple[list[Outflow], str]:
        watched = {self.normalize_address(a) for a in addresses}
        return node.outflows(self._rpc(), watched, cursor, self.net)

    def _rpc(self) -> Any:
        if self.rpc is None:
            raise Unavailable(f"no Bitcoin node configured for {self.network}")
        return self.rpc


def _rs(sig: Any) -> tuple[int, int]:
    der = sig.serialize()
    r_len = der[3]
    r = int.from_bytes(der[4 : 4 + r_len], "big")
    s = int.from_bytes(der[6 + r_len :], "big")
    return r, s


def _valid_signers(seen: psbtmod.Inspected) -> list[set[bytes]]:
    """Per input, the public keys of the wallet whose partial signature verifies."""
    out = []
    for info, inp in zip(seen.inputs, seen.psbt.inputs, strict=True):
        signers = set()
        for pub, sig in inp.partial_sigs.items():
            if pub.sec() not in info.witness_script or sig[-1:] != b"\x01":
                continue
            try:
                if PublicKey.parse(pub.sec()).verify(EmbitSignature.parse(sig[:-1]), info.sighash):
                    signers.add(pub.sec())
            except Exception:  # noqa: S112 - an unparsable signature simply does not count
                continue
        out.append(signers)
    return out
