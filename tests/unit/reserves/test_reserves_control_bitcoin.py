"""Proof of control of a Bitcoin reserve address (BIP-322): made with the cosigners' keys,
imported, carried by the JSON and binary proofs, and checked by the offline verifier."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from embit import ec
from eth_account import Account
from eth_account.messages import encode_defunct

from kinko.chains.bitcoin import bech32
from kinko.chains.bitcoin.networks import network
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.core.errors import InputError, IntegrityError
from kinko.reserves import bip322, control, ownership, proof
from kinko.reserves.verify import load, verify_document
from tests.unit.chains.btc_fixtures import ORIGIN, descriptor, key_bytes, master
from tests.unit.reserves.sample import held, sample

S = sample()
DIGEST = S.roots.digest()
DESCRIPTOR = descriptor((1, 2, 3))  # wsh(sortedmulti(2, ...)), like the exchange's wallets
WALLET = MultisigWallet.parse(DESCRIPTOR, network("regtest"))
ADDRESS = WALLET.address(0, 0)
ETH_KEY = bytes([0x44]) * 32


def _text(snapshot_id: str = "snap-1", address: str = ADDRESS) -> str:
    return ownership.statement(snapshot_id, S.roots.nonce, DIGEST, "bitcoin", address)


def _made(seeds: tuple[int, ...] = (1, 3)) -> ownership.Control | None:
    return control.sign_bitcoin(
        [key_bytes(s) for s in seeds],
        DESCRIPTOR,
        "regtest",
        snapshot_id="snap-1",
        nonce=S.roots.nonce,
        roots_digest=DIGEST,
        address=ADDRESS,
    )


def _offline(seeds: tuple[int, ...] = (2, 3), text: str | None = None) -> bytes:
    """The cosigners' BIP-322 signature, as made on their own machines and pasted in."""
    made = control.sign_multisig([key_bytes(s) for s in seeds], WALLET, ADDRESS, text or _text())
    assert made is not None
    return made.encode()


def _ethereum() -> ownership.Control:
    address = Account.from_key(ETH_KEY).address
    text = ownership.statement("snap-1", S.roots.nonce, DIGEST, "ethereum", address.lower())
    signature = bytes(Account.sign_message(encode_defunct(text=text), ETH_KEY).signature)
    return control.from_signature(signature, "snap-1", S.roots.nonce, DIGEST, address)


def _document(*controls: ownership.Control) -> dict[str, Any]:
    return S.document("alice", controls)


def test_the_keys_kinko_holds_sign_only_when_they_reach_the_threshold() -> None:
    made = _made((1, 3))
    assert made is not None and made.chain == "bitcoin" and made.public_key == b""
    assert made.to_json()["signature"] == made.signature.decode()
    assert str(made.to_json()["signature"]).startswith("smp")
    assert _made((1,)) is None  # one key of a 2-of-3
    assert _made((7, 8)) is None  # keys that are not the wallet's cosigners


def test_an_imported_signature_is_checked_and_carried_by_json_and_binary_proofs() -> None:
    imported = control.from_signature(_offline(), "snap-1", S.roots.nonce, DIGEST, ADDRESS)
    bare = _offline()[3:]  # BIP-322 "Compatibility": unprefixed means simple
    again = control.from_signature(bare, "snap-1", S.roots.nonce, DIGEST, ADDRESS.upper())
    assert again == imported
    eth = _ethereum()
    doc = _document(eth, imported)
    assert verify_document(doc, S.vkey).controls == (
        ("ethereum", eth.address),
        ("bitcoin", ADDRESS),
    )
    envelope = proof.Envelope.of("snap-1", S.roots, S.audit, [eth, imported])
    encoded = envelope.encode_binary(
        "alice", S.trees.keys["alice"], S.trees.leaves("alice", held("alice"))
    )
    assert load(encoded) == json.loads(json.dumps(doc))
    assert verify_document(load(encoded), S.vkey).controls[1] == ("bitcoin", ADDRESS)


@pytest.mark.parametrize(
    ("signature", "match"),
    [
        (lambda: _offline(text=_text("snap-2")), "none of the remaining keys"),
        (lambda: _one_signature(), "1 signatures"),
        (lambda: b"smp" + base64.b64encode(b"\x00"), "2 items|the witness script"),
        (lambda: b"pof" + base64.b64encode(b"\x00"), "proof-of-funds"),
    ],
    ids=["another snapshot", "m-1 signatures", "empty witness", "proof of funds"],
)
def test_an_imported_signature_that_does_not_prove_the_address_is_refused(
    signature: Any, match: str
) -> None:
    with pytest.raises(InputError, match=match) as caught:
        control.from_signature(signature(), "snap-1", S.roots.nonce, DIGEST, ADDRESS)
    assert caught.value.field == "signature"


def _one_signature() -> bytes:
    stack = _stack(_offline().decode())
    return bip322.encode_simple([stack[0], stack[1], stack[3]]).encode()


def _stack(text: str) -> list[bytes]:
    from kinko.reserves.segwit import Reader

    return Reader(base64.b64decode(text[3:]), "test").stack()


def _time_locked(lock_time: int = 2016, sequence: int = 0) -> str:
    """A valid BIP-322 full signature, but valid only from a block (or an age) on."""
    script = WALLET.witness_script(0, 0)
    tx = bip322.unsigned(WALLET.script_pubkey(0, 0), _text().encode())
    locked = bip322.ToSign(tx.prevout, [], version=2, sequence=sequence, lock_time=lock_time)
    digest = locked.segwit_v0_digest(script)
    made = {}
    for seed in (1, 2):
        child = master(seed).derive(f"m/{ORIGIN}/0/0")
        made[child.key.get_public_key().sec()] = bytes(child.key.sign(digest).serialize()) + b"\1"
    _, keys = bip322.multisig(script)
    witness = [b"", *[made[k] for k in keys if k in made], script]
    signed = bip322.ToSign(tx.prevout, witness, 2, sequence, lock_time)
    return "ful" + base64.b64encode(signed.serialize()).decode()


def _tampered(change: Any) -> dict[str, Any]:
    made = _made()
    assert made is not None
    doc = _document(made)
    change(doc["controls"][0])
    return doc


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda c: c.update(address=WALLET.address(0, 1)), "not the address's"),
        (lambda c: c.update(address="1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"), "native segwit"),
        (lambda c: c.update(signature="smp" + c["signature"][4:]), "base64|truncated|stack"),
        (lambda c: c.update(signature=c["signature"][:-8]), "truncated|base64"),
        (lambda c: c.update(public_key="02" + "11" * 32), "no separate public key"),
        (lambda c: c.update(scheme="eip191"), "on bitcoin with 'bip322'"),
        (lambda c: c.update(signature=_time_locked()), "valid only from time 2016"),
        (lambda c: c.update(signature=_time_locked(0, 144)), "time 0 and age 144"),
        (lambda c: c.update(signature=None), "must be a BIP-322 signature"),
    ],
    ids=[
        "another address",
        "legacy address",
        "signature altered",
        "truncated",
        "a public key",
        "scheme",
        "time lock",
        "relative time lock",
        "missing signature",
    ],
)
def test_the_verifier_refuses_a_forged_bitcoin_control(change: Any, match: str) -> None:
    with pytest.raises(IntegrityError, match=match):
        verify_document(_tampered(change), S.vkey)


def test_a_bitcoin_control_of_another_snapshot_is_refused_by_the_verifier() -> None:
    other = control.from_signature(
        _offline(text=_text("snap-2")), "snap-2", S.roots.nonce, DIGEST, ADDRESS
    )
    with pytest.raises(IntegrityError, match="none of the remaining keys"):
        verify_document(_document(other), S.vkey)


def _p2wpkh_control() -> ownership.Control:
    """A single-key P2WPKH address's BIP-322 proof (HASH160: RIPEMD-160 in the verifier)."""
    key = ec.PrivateKey(bytes([0x61]) * 32)
    public = key.get_public_key().sec()
    program = hashlib.new("ripemd160", hashlib.sha256(public).digest()).digest()
    address = bech32.encode_segwit("bcrt", 0, program)
    text = ownership.statement("snap-1", S.roots.nonce, DIGEST, "bitcoin", address)
    code = b"\x76\xa9\x14" + program + b"\x88\xac"
    digest = bip322.unsigned(b"\x00\x14" + program, text.encode()).segwit_v0_digest(code)
    witness = [bytes(key.sign(digest).serialize()) + b"\x01", public]
    signature = bip322.encode_simple(witness).encode()
    return control.from_signature(signature, "snap-1", S.roots.nonce, DIGEST, address)


# The verifier as a customer runs it: only the standard library and `cryptography` can be
# imported, and OpenSSL has no RIPEMD-160 (as OpenSSL 3 without its legacy provider).
OFFLINE = """
import hashlib, importlib.abc, sys
real_new = hashlib.new
def new(name, *a, **k):
    if name.lower() == "ripemd160":
        raise ValueError("unsupported hash type " + name)
    return real_new(name, *a, **k)
hashlib.new = new
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in ("kinko", "cryptography", "_cffi_backend"):
            return None
        raise ImportError("not importable offline: " + name)
sys.meta_path.insert(0, Block())
from kinko.reserves.verify import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_offline_program_verifies_bitcoin_controls_without_hashlibs_ripemd160(
    tmp_path: Path,
) -> None:
    made = _made()
    assert made is not None
    proof_file, key_file = tmp_path / "proof.json", tmp_path / "log.vkey"
    key_file.write_text(S.vkey)
    wpkh = _p2wpkh_control()
    proof_file.write_text(json.dumps(_document(made, wpkh)))
    command = [sys.executable, "-c", OFFLINE, str(proof_file), "--vkey", str(key_file)]
    ok = subprocess.run(command, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert f"reserve address {wpkh.address} (bitcoin): control proven" in ok.stdout
    assert f"reserve address {ADDRESS} (bitcoin): control proven" in ok.stdout
    forged = _document(made, wpkh)
    forged["controls"][1]["address"] = _p2wpkh_other_address()
    proof_file.write_text(json.dumps(forged))
    bad = subprocess.run(command, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "the witness's public key is not the address's" in bad.stderr


def _p2wpkh_other_address() -> str:
    return bech32.encode_segwit("bcrt", 0, bytes(range(20)))
