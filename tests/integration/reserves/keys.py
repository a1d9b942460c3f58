"""Test keys for the custody exchange's Ethereum wallets, for proofs of control."""

from __future__ import annotations

import os

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from sqlalchemy import update

from kinko.context import Context
from kinko.store.tables.custody import WalletRow
from tests.integration.custody.exchange import Wallets

HOT: LocalAccount = Account.from_key(bytes([0x11]) * 32)
COLD: LocalAccount = Account.from_key(bytes([0x22]) * 32)
OTHER: LocalAccount = Account.from_key(bytes([0x33]) * 32)


def point_at(ctx: Context, ids: Wallets) -> None:
    """The Ethereum hot and cold wallets' addresses become HOT's and COLD's."""
    with ctx.db.transaction() as s:
        for wallet_id, account in ((ids.eth_hot, HOT), (ids.eth_cold, COLD)):
            s.execute(
                update(WalletRow).where(WalletRow.id == wallet_id).values(address=account.address)
            )


def hot_keystore(ctx: Context, ids: Wallets) -> None:
    """HOT's key in the online signer's keystore (``<data dir>/keys/<wallet>.key``, 0600)."""
    folder = ctx.settings.data_dir / "keys"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{ids.eth_hot}.key"
    path.write_text(bytes(HOT.key).hex())
    os.chmod(path, 0o600)


def offline_signature(text: str, account: LocalAccount = COLD) -> bytes:
    """``account``'s EIP-191 personal_sign of ``text``, as made on an offline machine."""
    return bytes(Account.sign_message(encode_defunct(text=text), account.key).signature)
