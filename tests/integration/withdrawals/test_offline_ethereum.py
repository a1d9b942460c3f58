"""An Ethereum withdrawal signed offline (`kinko cosign`) comes back into Kinko: signed
only if it is the approved transaction signed by the wallet's key, then broadcast and
confirmed under its own hash."""

from __future__ import annotations

import pytest

from kinko.chains.ethereum import tx as ethtx
from kinko.core.errors import IntegrityError
from kinko.signer.offline import cosign
from kinko.withdrawals.offline import OfflineSettlement
from tests.integration.signer.test_signer import approved_bundle
from tests.integration.withdrawals.exchange import HOT_KEY, Exchange

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_offline_signed_ethereum_withdrawal_is_signed_broadcast_confirmed(
    exchange: Exchange,
) -> None:
    ex = exchange
    bundle = approved_bundle(ex)
    signed = cosign(
        bundle.to_bytes(),
        key=HOT_KEY,
        log_vkey=ex.vkey,
        now=ex.ctx.clock.now(),
        rp_id=ex.ctx.settings.webauthn_rp_id,
        origin=ex.ctx.settings.webauthn_origin,
    ).signed_tx
    settle = OfflineSettlement(ex.ctx, ex.withdrawals.ports)
    # The approved transaction signed by another key is not the wallet's.
    forged = ethtx.sign(ethtx.parse(bundle.unsigned_tx), (7).to_bytes(32, "big")).raw()
    with pytest.raises(IntegrityError, match="not by the wallet"):
        settle.record_signed(bundle.withdrawal_id, forged, actor="user:ops")
    view = settle.record_signed(bundle.withdrawal_id, signed, actor="user:ops")
    assert view.state.value == "signed"
    view = settle.record_sent(bundle.withdrawal_id, actor="user:ops")
    assert (view.state.value, view.txid) == (
        "broadcast",
        "0x" + ethtx.parse(signed).tx_hash().hex(),
    )
    assert view.txid is not None
    view = settle.record_confirmed(bundle.withdrawal_id, txid=view.txid, actor="user:ops")
    assert view.state.value == "confirmed"
