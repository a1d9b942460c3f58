"""The sample exchange `kinko demo` builds, idempotently, in its data directory.

Users with software authenticators (their keys kept in ``<data dir>/demo-authenticators``
so a re-run can approve again), an in-process Ethereum chain (eth-tester / py-evm) with
hot and warm wallets, a cold Bitcoin wallet in the registry, a screening list, and an
address-book entry. Demo only: never use these keys or authenticators for real funds.
"""

from __future__ import annotations

import fcntl
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.core.amount import Asset
from kinko.core.errors import NotFound
from kinko.core.secretfile import make_private_dir, write_private, write_secret_file
from kinko.custody.model import Tier
from kinko.custody.wallets import NewWallet, unsafe_register_asset, unsafe_register_wallet
from kinko.demo.data import demo_policy_text
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.binding import StepUp
from kinko.identity.model import RoleGrant, UserId
from kinko.identity.permissions import Role
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.identity.step_ups import SecondVote
from kinko.policy.loader import load_policy
from kinko.policy.model import OwnerKind
from kinko.policy.rules import Policy
from kinko.policy.service import configured_policy
from kinko.screening.freshness import ScreeningConfig
from kinko.screening.model import ListName
from kinko.screening.service import ScreeningService
from kinko.services import ChainNodes, Services, build_services
from kinko.store.tables.custody import AssetPriceRow, WalletRow

# eth-tester's funded accounts have secret keys 1, 2, ...
HOT_KEY = (1).to_bytes(32, "big")
CUSTOMER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ATTACKER = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
DEMO_LIST = "demo-stolen-funds"
AUTH_DIR = "demo-authenticators"  # in the data directory: one JSON file per person
DEMO_WALLETS = ("wal_eth_hot", "wal_eth_warm", "wal_btc_cold", "wal_btc_regtest")
# The demo's screening.toml says the same (kinko.demo.data), so the CLI screens alike.
SCREENING = ScreeningConfig(
    required_address_lists=(ListName(DEMO_LIST),), required_name_lists=(ListName(DEMO_LIST),)
)
USERS: dict[str, tuple[Role, ...]] = {
    "alice": (Role.REQUESTER,),
    "bob": (Role.APPROVER,),
    # carol also approves address-book entries (a senior approver's addressbook:approve).
    "carol": (Role.APPROVER, Role.SENIOR_APPROVER),
    "sec1": (Role.SECURITY_ADMIN,),
    "sec2": (Role.SECURITY_ADMIN,),
}


@dataclass
class DemoExchange:
    ctx: Context
    w3: Any
    users: dict[str, str]
    authenticators: dict[str, SoftAuthenticator]
    screener: ScreeningService
    created: bool
    services: Services
    """The demo's services (kinko.services), on its in-process Ethereum chain."""


def assert_as(
    data_dir: Path, name: str, *, challenge: bytes, rp_id: str, origin: str
) -> dict[str, Any]:
    """A WebAuthn assertion over `challenge` by demo person `name`'s saved software
    authenticator, its signature counter saved again. Under a lock on the folder, so two
    sign-ins at once never present the same counter (which would read as a clone)."""
    directory = data_dir / AUTH_DIR
    if not (directory / f"{name}.json").is_file():
        raise NotFound(
            f"no demo authenticator for {name!r} in {directory}: run 'kinko demo' on this "
            "data directory first"
        )
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        auth, _ = _authenticator(directory, name, rp_id)
        assertion = auth.assert_(challenge=challenge, origin=origin)
        save_authenticator(directory, name, auth)
    return assertion


def _authenticator(directory: Path, name: str, rp_id: str) -> tuple[SoftAuthenticator, bool]:
    path = directory / f"{name}.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        key = serialization.load_pem_private_key(data["key"].encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        auth = SoftAuthenticator(rp_id, key, bytes.fromhex(data["credential_id"]))
        auth.sign_count = int(data["sign_count"])
        return auth, False
    auth = SoftAuthenticator.generate(rp_id)
    return auth, True


def vote_with_key(
    services: Services,
    auth: SoftAuthenticator,
    person: str,
    kind: ApprovalKind,
    subject: str,
    *,
    name: str,
) -> SecondVote:
    """`person`'s vote on a four-eyes step, as a real approver casts it: a step-up bound to
    the step, answered by their (software) authenticator, whose counter is saved."""
    ctx = services.ctx
    with ctx.db.transaction() as session:
        content = services.approval_content(session, kind, subject, UserId(person))
        challenge_id, options, _ = services.step_ups.begin(
            session, kind, subject, UserId(person), content
        )
    answer = auth.assert_(
        challenge=base64url_to_bytes(str(options["challenge"])),
        origin=ctx.settings.webauthn_origin,
    )
    save_authenticator(ctx.settings.data_dir / AUTH_DIR, name, auth)
    return services.step_ups.presented(StepUp(challenge_id, answer))


def save_authenticator(directory: Path, name: str, auth: SoftAuthenticator) -> None:
    key = auth._key
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = directory / f"{name}.json"
    text = json.dumps(
        {"key": pem, "credential_id": auth.credential_id.hex(), "sign_count": auth.sign_count}
    )
    if path.exists():
        write_private(path, text.encode())
    else:
        write_secret_file(path, text.encode())


def _ensure_user(
    ids: IdentityService, name: str, roles: tuple[Role, ...], auth: SoftAuthenticator
) -> str:
    ctx = ids.ctx
    with ctx.db.transaction() as session:
        existing = ids.users.user_by_name(session, name)
        if existing is not None:
            return str(existing.id)
        user_id, secret = ids.users.add_user(session, name, actor="system:demo")
        for role in roles:
            ids.roles.unsafe_direct_grant(session, user_id, RoleGrant(role), reason="demo setup")
    with ctx.db.transaction() as session:
        challenge_id, options = ids.enrol_webauthn_begin(session, name, secret)
    response = auth.register(
        challenge=base64url_to_bytes(str(options["challenge"])), origin=ctx.settings.webauthn_origin
    )
    with ctx.db.transaction() as session:
        ids.enrol_webauthn_finish(
            session, name, secret, challenge_id, response, source_ip="127.0.0.1"
        )
    return str(user_id)


def devnet_eth_wallet(
    wallet_id: str, *, name: str, tier: str, purpose: str, address: str, created_at: datetime
) -> WalletRow:
    """An ETH customer wallet on the in-process devnet chain; 2 of 3 approvers decide."""
    return WalletRow(
        id=wallet_id,
        name=name,
        chain="ethereum",
        network="devnet",
        assets=["ethereum:ETH"],
        tier=tier,
        owner_class="customer",
        purpose=purpose,
        quorum_m=2,
        quorum_n=3,
        eligible_roles=["approver", "senior_approver"],
        address=address,
        limits={},
        active=True,
        created_at=created_at,
    )


def _demo_eth_wallet(name: str, tier: str, purpose: str, address: str) -> NewWallet:
    """As `devnet_eth_wallet`, as a registration."""
    return NewWallet(
        name=name,
        chain="ethereum",
        network="devnet",
        assets=("ethereum:ETH",),
        tier=tier,
        owner_class="customer",
        purpose=purpose,
        quorum_m=2,
        quorum_n=3,
        eligible_roles=("approver", "senior_approver"),
        address=address,
    )


def _ensure_registry(ctx: Context, w3: Any) -> bool:
    """The demo's assets and wallets, registered once. This is the first setup: nobody is
    there to be the second pair of eyes, so it takes the unsafe direct path (logged as a
    warning, audited); on a real exchange each is a four-eyes proposal (docs/custody.md)."""
    actor = "system:demo"
    with ctx.db.transaction() as session:
        if session.get(WalletRow, "wal_eth_hot") is not None:
            _asset_keys(session)
            return False
        unsafe_register_asset(ctx, session, Asset("ETH", "ethereum", 18), actor=actor)
        unsafe_register_asset(ctx, session, Asset("BTC", "bitcoin", 8), actor=actor)
        accounts = w3.eth.accounts
        hot = _demo_eth_wallet("ETH hot", "hot", "operational", accounts[0])
        warm = _demo_eth_wallet("ETH warm", "warm", "short_term_cold", accounts[1])
        cold = NewWallet(
            name="BTC cold (regtest P2WSH 2-of-3)",
            chain="bitcoin",
            network="regtest",
            assets=("bitcoin:BTC",),
            tier="cold",
            owner_class="customer",
            purpose="long_term_cold",
            quorum_m=2,
            quorum_n=3,
            eligible_roles=("senior_approver",),
        )
        for wallet_id, spec in (
            ("wal_eth_hot", hot),
            ("wal_eth_warm", warm),
            ("wal_btc_cold", cold),
        ):
            unsafe_register_wallet(ctx, session, spec, actor=actor, wallet_id=wallet_id)
    return True


def _asset_keys(session: Session) -> None:
    """Wallets of an older demo named their assets by bare symbol ("ETH"); custody needs
    the keys (``ethereum:ETH``). Rewrite those rows once."""
    for row in session.execute(select(WalletRow)).scalars():
        if row.id in DEMO_WALLETS and any(":" not in a for a in row.assets):
            row.assets = [a if ":" in a else f"{row.chain}:{a}" for a in row.assets]


# Made-up prices of one whole unit, so that `kinko custody status` has something to value
# with on the demo's data. Demo only.
DEMO_PRICES = {
    "JPY": {"ethereum:ETH": "500000", "bitcoin:BTC": "15000000"},
    "KRW": {"ethereum:ETH": "4700000", "bitcoin:BTC": "140000000"},
}


def _ensure_prices(ctx: Context) -> None:
    """Today's demo prices, unless prices were imported already (the user's stay)."""
    from kinko.custody.holdings import set_prices

    with ctx.db.transaction() as session:
        if session.execute(select(AssetPriceRow.day).limit(1)).first() is not None:
            return
        for currency, prices in DEMO_PRICES.items():
            set_prices(ctx, session, ctx.clock.now().date(), currency, prices, actor="system:demo")


def demo_policy(ctx: Context) -> Policy | None:
    """The data directory's policy relaxed as `kinko.demo.data` relaxes the sample (one
    second of cooling-off, no business hours); None when it already is (``kinko demo``
    configured it): every service of the demo, the address book's cooling-off included,
    decides with the one policy. Without a configured policy the packaged sample is the
    base, on purpose (no warning: the demo says which policy it decides with)."""
    base = configured_policy(ctx, warn=False)
    text = demo_policy_text(base.text)
    return None if text == base.text else load_policy(text, source="demo")


def build_demo_exchange(ctx: Context) -> DemoExchange:
    from web3 import EthereumTesterProvider, Web3

    w3 = Web3(EthereumTesterProvider())
    services = build_services(
        ctx,
        screening_config=SCREENING,
        policy=demo_policy(ctx),
        nodes=ChainNodes(network="devnet", web3=w3),
    )
    created = _ensure_registry(ctx, w3)
    _ensure_prices(ctx)
    keys = ctx.settings.data_dir / "keys"
    make_private_dir(keys)
    if not (keys / "wal_eth_hot.key").exists():
        write_secret_file(keys / "wal_eth_hot.key", HOT_KEY.hex().encode())
    auth_dir = ctx.settings.data_dir / AUTH_DIR
    make_private_dir(auth_dir)
    users: dict[str, str] = {}
    authenticators: dict[str, SoftAuthenticator] = {}
    for name, roles in USERS.items():
        auth, fresh = _authenticator(auth_dir, name, ctx.settings.webauthn_rp_id)
        users[name] = _ensure_user(services.identity, name, roles, auth)
        if fresh:
            save_authenticator(auth_dir, name, auth)
        authenticators[name] = auth
    screener = services.screening
    csv_path = ctx.settings.data_dir / "demo-stolen-funds.csv"
    write_private(
        csv_path,
        (
            "list,entity_name,chain,address,source_ref,listed_on\n"
            f"{DEMO_LIST},Ronin bridge exploiter,ethereum,{ATTACKER},OFAC 2022-04-14,2022-04-14\n"
        ).encode(),
    )
    screener.load_file(csv_path, actor="system:demo")
    policy = services.policy
    with ctx.db.transaction() as session:
        entry = policy.addresses.lookup(session, "ethereum", CUSTOMER)
    # A data directory of an older demo holds the entry under the sample policy's 24-48 h
    # cooling-off: approved again under the demo's policy, it is in force in a second.
    if created or (entry is not None and not entry.is_effective(ctx.clock.now())):
        with ctx.db.transaction() as session:
            proposal = policy.addresses.propose(
                session,
                chain="ethereum",
                address=CUSTOMER,
                label="customer 1001 (verified)",
                owner_kind=OwnerKind.CUSTOMER_VERIFIED,
                tiers_allowed=[Tier.HOT, Tier.WARM],
                actor=f"user:{users['alice']}",
            )
        vote = vote_with_key(
            services,
            authenticators["carol"],
            users["carol"],
            ApprovalKind.PROPOSAL,
            proposal.id,
            name="carol",
        )
        with ctx.db.transaction() as session:
            policy.addresses.approve(
                session, proposal_id=proposal.id, actor=f"user:{users['carol']}", vote=vote
            )
    with ctx.db.transaction() as session:
        assert session.execute(select(WalletRow.id)).first() is not None
    return DemoExchange(ctx, w3, users, authenticators, screener, created, services)
