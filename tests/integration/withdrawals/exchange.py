"""A small exchange for the withdrawal tests: users, a hot ETH wallet on an in-process
chain (eth-tester / py-evm), the audit-log key and the real services, built by the
composition root (kinko.services) on that chain as `kinko demo` builds its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from kinko.audit.note import Signer, generate_signer
from kinko.context import Context
from kinko.core.secretfile import write_secret_file
from kinko.demo.exchange import devnet_eth_wallet
from kinko.identity.softauthn import SoftAuthenticator
from kinko.screening.freshness import ScreeningConfig
from kinko.screening.model import ListName
from kinko.screening.service import ScreeningService
from kinko.services import ChainNodes, Services, build_services
from kinko.signer.online import OnlineSigner
from kinko.store.tables.custody import AssetRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.service import WithdrawalService
from kinko.withdrawals.states import State
from tests.support.identity import ensure_secret_key, make_user
from tests.support.services import adopt

# eth-tester's first funded account has secret key 1.
HOT_KEY = (1).to_bytes(32, "big")
RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


SANCTIONED = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"  # Ronin exploiter (OFAC, 2022)
LIST_CSV = (
    "list,entity_name,chain,address,source_ref,listed_on\n"
    f"stolen-funds,Ronin bridge exploiter,ethereum,{SANCTIONED},OFAC 2022-04-14,2022-04-14\n"
)
SCREENING = ScreeningConfig(
    required_address_lists=(ListName("stolen-funds"),), required_name_lists=()
)


def load_lists(service: ScreeningService) -> ScreeningService:
    path = service.ctx.settings.data_dir / "stolen-funds.csv"
    path.write_text(LIST_CSV, encoding="utf-8")
    service.load_file(path, actor="system:test")
    return service


@dataclass
class Exchange:
    ctx: Context
    w3: Any
    vkey: str
    screener: ScreeningService
    withdrawals: WithdrawalService
    approvals: ApprovalService
    signer: OnlineSigner
    executor: Executor
    users: dict[str, tuple[str, SoftAuthenticator | None]]
    services: Services
    wallet_id: str = "wal_eth_hot"

    def user(self, name: str) -> str:
        return self.users[name][0]

    def assertion_for(self, name: str, withdrawal_id: str) -> dict[str, Any]:
        """`name`'s assertion over the approval challenge Kinko issues them for the
        withdrawal (as a browser gets it from POST .../approval-challenge)."""
        issued = self.approvals.challenge(withdrawal_id, approver=self.user(name))
        return self.sign(name, issued.challenge)

    def sign(self, name: str, challenge: bytes) -> dict[str, Any]:
        """`name`'s authenticator signs `challenge`, whatever it is."""
        authenticator = self.users[name][1]
        assert authenticator is not None
        return authenticator.assert_(challenge=challenge, origin=self.ctx.settings.webauthn_origin)

    def assert_digest(self, name: str, digest_hex: str) -> dict[str, Any]:
        """`name`'s approval of the one pending withdrawal whose digest is `digest_hex`
        (over the challenge Kinko issues for it); with none pending, the bare digest
        signed (which no withdrawal accepts)."""
        with self.ctx.db.reading() as session:
            pending = list(
                session.execute(
                    select(WithdrawalRow.id).where(
                        WithdrawalRow.digest == digest_hex,
                        WithdrawalRow.state == State.PENDING_APPROVAL.value,
                    )
                ).scalars()
            )
        assert len(pending) <= 1, "several pending withdrawals share it: use assertion_for"
        if not pending:
            return self.sign(name, bytes.fromhex(digest_hex))
        return self.assertion_for(name, pending[0])


def build_exchange(ctx: Context, w3: Any) -> Exchange:
    ensure_secret_key(ctx)
    key_path = ctx.settings.resolved_audit_key_path
    if not key_path.exists():
        write_secret_file(key_path, generate_signer(ctx.settings.audit_origin)[0].encode())
    vkey = Signer.parse(key_path.read_text()).verifier().text()
    keys = ctx.settings.data_dir / "keys"
    keys.mkdir(exist_ok=True)
    (keys / "wal_eth_hot.key").write_text(HOT_KEY.hex())
    (keys / "wal_eth_hot.key").chmod(0o600)
    now = ctx.clock.now()
    with ctx.db.transaction() as session:
        session.add(AssetRow(chain="ethereum", symbol="ETH", decimals=18, contract=None))
        session.add(
            devnet_eth_wallet(
                "wal_eth_hot",
                name="ETH hot",
                tier="hot",
                purpose="operational",
                address=w3.eth.accounts[0],
                created_at=now,
            )
        )
    users = {
        "alice": make_user(ctx, "alice", ["requester"]),
        "bob": make_user(ctx, "bob", ["approver"]),
        "carol": make_user(ctx, "carol", ["approver"]),
        "dave": make_user(ctx, "dave", ["auditor"]),
    }
    services = adopt(  # the test's services from now on (tests.support.services)
        build_services(ctx, screening_config=SCREENING, nodes=ChainNodes(network="devnet", web3=w3))
    )
    screener = load_lists(services.screening)
    stack = services.withdrawal_stack()
    assert stack.log_vkey == vkey
    return Exchange(
        ctx=ctx,
        w3=w3,
        vkey=vkey,
        screener=screener,
        withdrawals=stack.withdrawals,
        approvals=stack.approvals,
        signer=stack.signer,
        executor=stack.executor,
        users={k: (str(v[0]), v[1]) for k, v in users.items()},
        services=services,
    )
