"""Making and importing proofs of control of reserve addresses (pure; `eth_account`, embit).

A hot wallet whose key Kinko holds signs its statement at build (`sign`, `sign_bitcoin`);
any other address's key signs it offline and the signature is imported (`from_signature`):
Ethereum, EIP-191 ``personal_sign`` of the exact text of `statement` (``cast wallet sign``,
a hardware wallet's "sign message"); Bitcoin, a BIP-322 signature of it (``smp``/``ful`` +
base64; for a wsh(sortedmulti) wallet, m of its cosigners sign the same ``to_sign``, or
sign the BIP-322 PSBT of `kinko.reserves.bip322_psbt` and Kinko finalizes it).
Either way the result is checked as the offline verifier checks it
(`kinko.reserves.ownership.check`) before it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from embit import bip32
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys.datatypes import PrivateKey, Signature

from kinko.chains.bitcoin.networks import network as bitcoin_network
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.core.errors import InputError, IntegrityError
from kinko.reserves import bip322, bip322_psbt, ownership
from kinko.reserves.ownership import Control, statement

__all__ = [
    "Control",
    "from_signature",
    "parse_signature",
    "sign",
    "sign_bitcoin",
    "sign_multisig",
    "statement",
]


def sign(
    key: bytes, snapshot_id: str, nonce: bytes, roots_digest: bytes, address: str
) -> Control | None:
    """The statement signed with ``key``; None if the key is not ``address``'s."""
    private = PrivateKey(key)
    public = private.public_key
    if public.to_checksum_address().lower() != address.lower():
        return None
    text = statement(snapshot_id, nonce, roots_digest, "ethereum", address.lower())
    signed = Account.sign_message(encode_defunct(text=text), private_key=key)
    control = Control("ethereum", address.lower(), public.to_bytes(), bytes(signed.signature))
    ownership.check(control, snapshot_id, nonce, roots_digest)
    return control


def sign_multisig(
    roots: Sequence[bytes], wallet: MultisigWallet, address: str, text: str
) -> str | None:
    """The BIP-322 simple signature of ``text`` by ``wallet``'s receive address 0/0
    (``address``) with the cosigners' master keys ``roots`` (serialised BIP-32 private
    keys); None when they are fewer than the wallet's threshold of its cosigners."""
    script = wallet.witness_script(0, 0)
    if bip322.script_pubkey(address) != wallet.script_pubkey(0, 0):
        return None
    m, keys = bip322.multisig(script)
    digest = bip322.unsigned(wallet.script_pubkey(0, 0), text.encode()).segwit_v0_digest(script)
    made: dict[bytes, bytes] = {}
    for raw in roots:
        root = _master(raw)
        if root is None or not root.is_private:
            continue
        for cosigner in wallet.cosigners:
            if cosigner.fingerprint == root.my_fingerprint:
                child = root.derive([*cosigner.origin_path, 0, 0])
                der = bytes(child.key.sign(digest).serialize())
                made[child.key.get_public_key().sec()] = der + bytes([bip322.SIGHASH_ALL])
    ordered = [made[k] for k in keys if k in made][:m]
    if len(ordered) < m:
        return None
    return bip322.encode_simple([b"", *ordered, script])


def _master(raw: bytes) -> bip32.HDKey | None:
    """A serialised BIP-32 key, or None: a key that is not one signs nothing."""
    try:
        return bip32.HDKey.parse(bytes(raw))
    except Exception:  # embit raises several types for a malformed key
        return None


def sign_bitcoin(
    roots: Sequence[bytes],
    descriptor: str,
    network: str,
    *,
    snapshot_id: str,
    nonce: bytes,
    roots_digest: bytes,
    address: str,
) -> Control | None:
    """A wsh(sortedmulti) wallet's statement signed with the master keys Kinko holds; None
    if they do not reach its threshold or ``address`` is not its receive address 0/0."""
    wallet = MultisigWallet.parse(descriptor, bitcoin_network(network))
    address = address.lower()
    text = statement(snapshot_id, nonce, roots_digest, "bitcoin", address)
    signature = sign_multisig(roots, wallet, address, text)
    if signature is None:
        return None
    control = Control("bitcoin", address, b"", signature.encode())
    ownership.check(control, snapshot_id, nonce, roots_digest)
    return control


def bitcoin_psbt(descriptor: str, network: str, text: str, address: str) -> str:
    """The BIP-322 PSBT (base64) of ``text`` for a wsh(sortedmulti) wallet's cosigners."""
    wallet = MultisigWallet.parse(descriptor, bitcoin_network(network))
    return bip322_psbt.create(wallet, address, text)


def parse_signature(text: str) -> bytes:
    """A signature file's content: 65 bytes from EIP-191 hex (``0x`` optional), a BIP-322
    signature's text (``smp``/``ful`` + base64) as ASCII bytes, or the cosigners' signed
    BIP-322 PSBTs (base64, one a line; `kinko.reserves.bip322_psbt`)."""
    value = text.strip()
    hex_digits = value[2:] if value[:2].lower() == "0x" else value
    try:
        raw = bytes.fromhex(hex_digits)
    except ValueError:
        raw = b""
    if len(raw) == ownership.SIGNATURE_SIZE:
        return raw
    lines = value.split()
    if lines and all(line.startswith(bip322_psbt.MAGIC_BASE64) for line in lines):
        return "\n".join(lines).encode()  # the cosigners' signed BIP-322 PSBTs, one a line
    one_line = value.isascii() and not any(c.isspace() for c in value)
    if one_line and 0 < len(value) <= ownership.MAX_BIP322 and not value.startswith("0x"):
        return value.encode()
    raise InputError(
        "signature",
        "must be a 65-byte EIP-191 signature as 130 hex digits (0x optional), as "
        "`cast wallet sign` or a wallet's personal_sign writes it, or for a Bitcoin "
        "address a BIP-322 signature (smp or ful, then base64, on one line)",
    )


def from_signature(
    signature: bytes,
    snapshot_id: str,
    nonce: bytes,
    roots_digest: bytes,
    address: str,
    *,
    chain: str | None = None,
) -> Control:
    """The address's proof of control from its signature; InputError if the signature
    recovers another address (the wrong text, snapshot or key was signed). ``chain``
    defaults to the address's form: ``0x`` and hex is Ethereum's, anything else Bitcoin's."""
    if (chain or ("ethereum" if address[:2].lower() == "0x" else "bitcoin")) == "bitcoin":
        return _from_bip322(signature, snapshot_id, nonce, roots_digest, address)
    if len(signature) != ownership.SIGNATURE_SIZE:
        raise InputError("signature", "an Ethereum address's signature is 65 bytes (130 hex)")
    address = ownership.normal_address(address, "address")
    text = statement(snapshot_id, nonce, roots_digest, "ethereum", address)
    message = encode_defunct(text=text)
    try:
        recovered = Account.recover_message(message, signature=signature)
    except Exception:  # eth_account raises several types for a malformed signature
        recovered = ""
    if recovered.lower() != address:
        raise InputError(
            "signature",
            f"does not recover {address} for snapshot {snapshot_id}: sign exactly the "
            "statement `kinko reserves attest --show` prints, with that address's key",
        )
    v = signature[64]
    normal = signature[:64] + bytes([v - 27 if v >= 27 else v])
    digest = ownership.eip191_digest(text)
    public = Signature(normal).recover_public_key_from_msg_hash(digest)
    control = Control("ethereum", address, public.to_bytes(), signature)
    try:
        ownership.check(control, snapshot_id, nonce, roots_digest)
    except IntegrityError as exc:
        raise InputError("signature", exc.message) from None
    return control


def _from_bip322(
    signature: bytes, snapshot_id: str, nonce: bytes, roots_digest: bytes, address: str
) -> Control:
    text = signature.decode("latin-1").strip()
    if text.startswith(bip322_psbt.MAGIC_BASE64):  # PSBTs signed by the cosigners
        message = statement(snapshot_id, nonce, roots_digest, "bitcoin", address.lower())
        text = bip322_psbt.finalize(text.split(), address.lower(), message)
    # BIP-322 "Compatibility": an unprefixed signature is a simple one.
    normal = text if text.startswith(("smp", "ful", "pof")) else "smp" + text
    control = Control("bitcoin", address.lower(), b"", normal.encode("latin-1"))
    try:
        ownership.check(control, snapshot_id, nonce, roots_digest)
    except IntegrityError as exc:
        raise InputError(
            "signature",
            f"{exc.message}; sign exactly the statement `kinko reserves attest --show` "
            "prints (BIP-322, with the address's key or m of its cosigners' keys)",
        ) from None
    return control
