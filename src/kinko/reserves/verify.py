"""The customer's standalone verifier: ``python -m kinko.reserves.verify PROOF --vkey FILE``.

Standard library and `cryptography` only (the audit log's checkpoint and Merkle modules
are), so a customer or auditor runs it without Kinko's database or configuration. Fails
closed: any field missing, of the wrong type or out of range is refused, never defaulted.

For each leaf: its hash is recomputed from the account id, its key, the balance and the
snapshot nonce (the leaf is this account's, of this snapshot); along the path each sibling's sum
must be a decimal in ``[0, 2**128)``, no larger than its parent's (the "max" attack), and
add up with the running sum to the parent's; the node hash covers both children's hashes
and sums; the path must end at the asset's root and total. Then the roots' digest must be
the one the audit-log entry records, and that entry must be included in a checkpoint
signed by the log's key. Checks after Chalkias, Chatzigiannis and Ji, "Broken Proofs of
Solvency" (FC 2022 workshops): sums are checked, not only inclusion.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kinko.audit.checkpoint import verify_checkpoint
from kinko.audit.merkle import leaf_hash as log_leaf_hash
from kinko.audit.merkle import verify_inclusion
from kinko.core.errors import IntegrityError
from kinko.reserves import binary, ownership, sumtree
from kinko.reserves import roots as roots_mod
from kinko.reserves.roots import AssetRoot, decimal, hex_bytes, json_object

FORMAT = "kinko-reserves-proof/1"
AUDIT_ACTION = "reserves.snapshot"
MAX_ACCOUNT = 200


@dataclass(frozen=True, slots=True)
class Verified:
    snapshot: str
    account: str
    values: tuple[tuple[str, int, int], ...]
    """(asset, the account's base units, the asset's total liabilities)."""
    checkpoint_size: int
    controls: tuple[tuple[str, str], ...] = ()
    """(chain, address) of each reserve address whose control the proof shows."""


def verify_path(
    root: AssetRoot, leaf: bytes, value: int, index: object, steps: Sequence[object]
) -> None:
    """Walk one asset's path from the leaf to ``root``; IntegrityError names the step."""
    asset = root.asset
    if value < 1:
        raise IntegrityError(f"{asset}: the leaf's value is 0; an account's leaf holds something")
    if type(index) is not int or not 0 <= index < 1 << root.height:
        raise IntegrityError(f"{asset}: index {index!r} is outside a tree of {root.height} levels")
    if len(steps) != root.height:
        raise IntegrityError(
            f"{asset}: the path has {len(steps)} steps; the tree has {root.height}"
        )
    digest, running = leaf, value
    for level, raw in enumerate(steps):
        where = f"{asset} path[{level}]"
        if not isinstance(raw, dict):
            raise IntegrityError(f"{where} must be a JSON object")
        sibling = hex_bytes(raw.get("hash"), f"{where}.hash", sumtree.HASH_SIZE)
        sibling_sum = decimal(raw.get("sum"), f"{where}.sum")
        parent = decimal(raw.get("parent"), f"{where}.parent")
        if sibling_sum > parent:
            raise IntegrityError(
                f"{where}: the sibling's sum {sibling_sum} is larger than its parent's {parent}"
            )
        if running + sibling_sum > sumtree.MAX_SUM:
            raise IntegrityError(f"{where}: {running} + {sibling_sum} overflows 128 bits")
        if running + sibling_sum != parent:
            raise IntegrityError(
                f"{where}: the sums do not add up: {running} + {sibling_sum} != {parent}"
            )
        if index >> level & 1:
            digest = sumtree.node_hash(sibling, sibling_sum, digest, running)
        else:
            digest = sumtree.node_hash(digest, running, sibling, sibling_sum)
        running = parent
    if running != root.total:
        raise IntegrityError(
            f"{asset}: the path sums to {running}, the root's total is {root.total}"
        )
    if digest != root.root:
        raise IntegrityError(f"{asset}: the path does not lead to the snapshot's root")


def load(data: bytes) -> object:
    """A proof file's document: the compact binary proof (it starts with ``KRP``) or the
    JSON one. IntegrityError if it is neither."""
    if data[:3] == binary.MAGIC[:3]:
        return binary.decode(data)
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        raise IntegrityError("the proof is neither JSON nor a Kinko binary proof") from None


def verify_document(doc: object, vkey_text: str) -> Verified:
    """Check a whole proof document against the audit log's verifier key."""
    top = json_object(doc, "proof")
    if top.get("format") != FORMAT:
        raise IntegrityError(f"format must be {FORMAT!r}")
    snapshot = json_object(top.get("snapshot"), "snapshot")
    snapshot_id = snapshot.get("id")
    if not isinstance(snapshot_id, str) or not snapshot_id:
        raise IntegrityError("snapshot.id must be a non-empty string")
    roots = roots_mod.parse(snapshot.get("roots"))
    account = top.get("account")
    if not isinstance(account, str) or not account or len(account) > MAX_ACCOUNT:
        raise IntegrityError("account must be the account id, 1 to 200 characters")
    key = hex_bytes(top.get("key"), "key", sumtree.KEY_SIZE)
    leaves = top.get("leaves")
    if not isinstance(leaves, list) or not leaves:
        raise IntegrityError("leaves must be a non-empty list")
    values = []
    seen: set[str] = set()
    for i, raw in enumerate(leaves):
        leaf = json_object(raw, f"leaves[{i}]")
        asset = leaf.get("asset")
        if not isinstance(asset, str):
            raise IntegrityError(f"leaves[{i}].asset must be a string")
        root = roots.get(asset)
        value = decimal(leaf.get("value"), f"leaves[{i}].value")
        mine = sumtree.leaf_hash(roots.nonce, key, asset, account, value)
        if asset in seen:
            raise IntegrityError(f"leaves[{i}]: a second leaf of {asset} for the same account")
        seen.add(asset)
        path = leaf.get("path")
        if not isinstance(path, list):
            raise IntegrityError(f"leaves[{i}].path must be a list")
        verify_path(root, mine, value, leaf.get("index"), path)
        values.append((asset, value, root.total))
    size = _audit(json_object(top.get("audit"), "audit"), snapshot_id, roots, vkey_text)
    proven = _controls(top.get("controls"), snapshot_id, roots)
    return Verified(snapshot_id, account, tuple(values), size, proven)


def _controls(
    value: object, snapshot_id: str, roots: roots_mod.Roots
) -> tuple[tuple[str, str], ...]:
    """Each reserve address's signed statement for this snapshot (docs/reserves.md)."""
    if not isinstance(value, list):
        raise IntegrityError("controls must be a list (empty when no address is proven)")
    out = []
    for i, raw in enumerate(value):
        where = f"controls[{i}]"
        item = json_object(raw, where)
        chain = item.get("chain")
        if not isinstance(chain, str) or item.get("scheme") != ownership.SCHEMES.get(chain):
            raise IntegrityError(
                f"{where} must be on ethereum with the scheme 'eip191' or on bitcoin with 'bip322'"
            )
        if chain == "bitcoin":
            address = ownership.bitcoin_address(item.get("address"), f"{where}.address")
            if "public_key" in item:
                raise IntegrityError(f"{where}: a BIP-322 proof carries no separate public key")
            public_key = b""
            signature = ownership.bip322_text(item.get("signature"), f"{where}.signature")
        else:
            address = ownership.normal_address(item.get("address"), f"{where}.address")
            public_key = hex_bytes(
                item.get("public_key"), f"{where}.public_key", ownership.PUBLIC_KEY_SIZE
            )
            signature = hex_bytes(
                item.get("signature"), f"{where}.signature", ownership.SIGNATURE_SIZE
            )
        if (chain, address) in out:
            raise IntegrityError(f"{where}: {address} is listed twice")
        control = ownership.Control(chain, address, public_key, signature)
        ownership.check(control, snapshot_id, roots.nonce, roots.digest())
        out.append((chain, address))
    return tuple(out)


def _audit(audit: Mapping[str, object], snapshot_id: str, roots: roots_mod.Roots, vkey: str) -> int:
    note = audit.get("checkpoint")
    if not isinstance(note, str):
        raise IntegrityError("audit.checkpoint must be the signed checkpoint's text")
    checkpoint = verify_checkpoint(note, vkey)
    try:
        entry = base64.b64decode(str(audit.get("entry")), validate=True)
    except binascii.Error:
        raise IntegrityError("audit.entry must be base64") from None
    index, hashes = audit.get("index"), audit.get("hashes")
    if type(index) is not int or not isinstance(hashes, list):
        raise IntegrityError("audit.index must be an integer and audit.hashes a list")
    path = [hex_bytes(h, f"audit.hashes[{i}]", 32) for i, h in enumerate(hashes)]
    verify_inclusion(log_leaf_hash(entry), index, checkpoint.size, path, checkpoint.root_hash)
    try:
        logged = json.loads(entry.decode("utf-8"))
    except ValueError:
        raise IntegrityError("the audit entry is not JSON") from None
    details = logged.get("details") if isinstance(logged, dict) else None
    if (
        not isinstance(details, dict)
        or logged.get("action") != AUDIT_ACTION
        or logged.get("subject") != snapshot_id
    ):
        raise IntegrityError(f"the audit entry is not the {AUDIT_ACTION} entry of {snapshot_id}")
    if details.get("roots") != roots.digest().hex() or details.get("nonce") != roots.nonce.hex():
        raise IntegrityError("these roots are not the ones the audit log records for the snapshot")
    return checkpoint.size


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 the proof holds, 1 it does not, 2 unusable input (same as ``kinko``)."""
    import argparse
    import sys
    from pathlib import Path

    from kinko.core.errors import KinkoError

    parser = argparse.ArgumentParser(prog="python -m kinko.reserves.verify")
    parser.add_argument("proof", type=Path, help="the proof file the exchange gave you")
    parser.add_argument("--vkey", required=True, type=Path, help="the audit log's verifier key")
    args = parser.parse_args(argv)
    try:
        vkey = args.vkey.read_text(encoding="utf-8").strip()
        data = args.proof.read_bytes()
    except (OSError, ValueError) as exc:
        print(f"error: cannot read the proof or the key: {exc}", file=sys.stderr)
        return 2
    try:
        result = verify_document(load(data), vkey)
    except KinkoError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(f"OK: account {result.account} in snapshot {result.snapshot}")
    for asset, value, total in result.values:
        print(f"  {asset}: {value} of {total} base units")
    for chain, address in result.controls:
        print(f"  reserve address {address} ({chain}): control proven for this snapshot")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
