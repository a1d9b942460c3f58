"""The composition root: every service of one process, built once from its `Context`.

`build_services(ctx)` is the one place where Kinko's services are constructed and wired to
each other: identity receives the four-eyes kinds other domains own (a screening list's
replacement, a policy's activation, custody's registrations) as handler factories;
screening receives identity's proposal mechanism and what other domains want re-screened
(pending withdrawals, the address book); the monitor receives typed collaborators to
freeze, lock and hold with; withdrawals' re-screen holds are subscribed to the bus here.
Nothing below the interfaces imports this module (tests/unit/test_architecture.py checks
it): a service is handed its collaborators, it never looks them up.

Who builds it: the API app (`kinko.server.create_app`: ``app.state.services``, routes take
`kinko.api.deps.AppServices`), the CLI (`kinko.cli.common.services`), the demo
(`kinko.demo.walk`) and the tests (`tests/support/services.py`). The withdrawal services
need chain nodes, so they are built on first use (`Services.withdrawal_stack`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.custody.keys import NonceReport, nonce_check
from kinko.custody.proposals import registration_handlers
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.device import DeviceLoginService
from kinko.identity.model import ProposalKind, UserId
from kinko.identity.proposals import ProposalHandler, ProposalHandlers
from kinko.identity.service import IdentityService
from kinko.identity.step_ups import ApprovalStepUps
from kinko.identity.token_requests import TokenRequestService
from kinko.inspection.governance import GovernanceRegister
from kinko.inspection.register_proposals import register_handlers
from kinko.inspection.snapshots import SnapshotService
from kinko.monitor.actions import KinkoActions, ResponseActions
from kinko.monitor.engine import Engine
from kinko.monitor.notify import Notifier
from kinko.monitor.release import ResponseReleaseHandler
from kinko.monitor.service import Hands, MonitorService
from kinko.monitor.triage import TriageService
from kinko.policy.addressbook import AddressBookService, AddressEntryHandler
from kinko.policy.freeze import FreezeService
from kinko.policy.freeze_release import FreezeReleaseHandler
from kinko.policy.model import FreezeScope
from kinko.policy.proposals import PolicyActivationHandler
from kinko.policy.rules import Policy
from kinko.policy.service import PolicyService
from kinko.reserves.service import ReservesService
from kinko.screening.alerts import Alert
from kinko.screening.freshness import ScreeningConfig
from kinko.screening.proposals import ListReplacementHandler
from kinko.screening.providers import address_book_targets
from kinko.screening.service import ScreeningService
from kinko.withdrawals.holds import WithdrawalHolds
from kinko.withdrawals.ports import ChainGateway, Ports
from kinko.withdrawals.rescreen import arm_rescreen_holds, pending_destinations
from kinko.withdrawals.stack import WithdrawalStack, build_stack, chain_router
from kinko.withdrawals.wiring import withdrawal_ports

__all__ = ["ChainNodes", "Services", "build_services"]


@dataclass(frozen=True, slots=True)
class ChainNodes:
    """The Ethereum node the withdrawal services use. ``None`` (the default): the one of
    the settings (``ethereum_node_url``), or none; the demo gives its in-process chain."""

    network: str | None = None
    web3: Any = None


class _Once:
    """A value built on first use, once, whichever thread asks first."""

    def __init__(self, build: Callable[[], WithdrawalStack]) -> None:
        self._build = build
        self._value: WithdrawalStack | None = None
        self._lock = threading.Lock()

    def get(self) -> WithdrawalStack:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value

    @property
    def built(self) -> bool:
        return self._value is not None


@dataclass(frozen=True, eq=False)
class Services:
    """The services of one process. Build it with `build_services`."""

    ctx: Context
    identity: IdentityService
    policy: PolicyService
    screening: ScreeningService
    freezes: FreezeService
    address_book: AddressBookService
    token_requests: TokenRequestService
    device_logins: DeviceLoginService
    holds: WithdrawalHolds
    monitor_hands: Hands
    """What the monitor's responses act through and who counts as privileged."""
    triage: TriageService
    step_ups: ApprovalStepUps
    """The bound step-ups of four-eyes votes (`kinko.identity.step_ups`)."""
    _stack: _Once = field(repr=False)
    ports_on: Callable[[ChainGateway], Ports] = field(repr=False)
    """The withdrawal services' neighbours (this process's screening, policy, identity and
    freezes) on a chain gateway: a test's crashing gateway, a benchmark's node."""
    snapshots: SnapshotService
    """The daily evidence snapshots of self-inspection (issue #16)."""
    register: GovernanceRegister
    """The governance register of self-inspection (issue #16): changes by four eyes."""
    reserves: ReservesService
    """Proof of reserves (issue #19): snapshots' trees, customer proofs, coverage."""

    def approval_content(
        self, session: Session, kind: ApprovalKind, subject: str, voter: UserId
    ) -> Any:
        """What `voter`'s four-eyes vote of `kind` on `subject` approves, as its owner
        says, once the owner's rules say they may vote (else the rule's refusal)."""
        owners: dict[ApprovalKind, Callable[[Session, str, UserId], Any]] = {
            ApprovalKind.PROPOSAL: self.identity.roles.approval_content,
            ApprovalKind.RESPONSE_RELEASE: self.triage.approval_content,
        }
        return owners[kind](session, subject, voter)

    def withdrawal_stack(self) -> WithdrawalStack:
        """The withdrawal services (request, approval, signing, execution), built on first
        use: they read the policy file, the keys and the node's settings."""
        return self._stack.get()

    def stack_on(self, *, network: str | None = None, web3: Any = None) -> WithdrawalStack:
        """Another withdrawal stack of this process's services, on the Ethereum node
        `web3` (`network`), or on the settings' node when neither is given (tests and
        benchmarks that need a node of their own; the process's own is
        `withdrawal_stack`)."""
        return build_stack(self.ctx, self.ports_on(chain_router(self.ctx, network, web3)))

    @property
    def withdrawal_stack_built(self) -> bool:
        return self._stack.built

    def monitor(self, engine: Engine, *, notifiers: Sequence[Notifier] = ()) -> MonitorService:
        """A monitor evaluating with `engine`, acting through this process's services."""
        return self.monitor_hands.monitor(self.ctx, engine, notifiers=notifiers)

    def start_monitor(
        self,
        rule_paths: Sequence[Path] = (),
        *,
        geo: Path | None = None,
        notifiers: Sequence[Notifier] = (),
    ) -> MonitorService:
        """A monitor subscribed to the process's bus (``kinko serve``, tests)."""
        from kinko.monitor.factory import start_monitor

        return start_monitor(
            self.ctx, rule_paths, geo=geo, notifiers=notifiers, hands=self.monitor_hands
        )

    def nonce_check(self, actor: str) -> NonceReport:
        """The ECDSA nonce self-test (custody); a failed test freezes the keys' wallets at
        once through this process's freezes, whether or not a monitor runs (#18)."""

        def freeze(session: Session, scope: str, target: str, *, reason: str, actor: str) -> str:
            record = self.freezes.freeze(
                session, scope=FreezeScope(scope), target=target, reason=reason, actor=actor
            )
            return str(record.id)

        return nonce_check(self.ctx, actor=actor, freeze=freeze)


def build_services(
    ctx: Context,
    *,
    screening_config: ScreeningConfig | None = None,
    policy: Policy | None = None,
    nodes: ChainNodes | None = None,
) -> Services:
    """Every service of a process on `ctx`, wired to each other.

    `screening_config` and `policy` replace what the data directory configures (the demo
    uses its own); `nodes` gives the withdrawal services their Ethereum node."""
    screening_ref: list[ScreeningService] = []
    hands_ref: list[Hands] = []  # the monitor's hands are built after identity

    def rescreen(session: Session, actor: str) -> list[Alert]:
        return screening_ref[0].rescreen(session, actor=actor)

    def response_actions() -> ResponseActions:
        return hands_ref[0].actions

    handlers: dict[ProposalKind, Callable[[], ProposalHandler]] = {
        ProposalKind.REPLACE_LIST: lambda: ListReplacementHandler(ctx, rescreen),
        ProposalKind.ACTIVATE_POLICY: lambda: PolicyActivationHandler(ctx),
        ProposalKind.RELEASE_FREEZE: lambda: FreezeReleaseHandler(ctx),
        ProposalKind.RELEASE_RESPONSE: lambda: ResponseReleaseHandler(ctx, response_actions),
        ProposalKind.ADDRESS_BOOK_ENTRY: lambda: AddressEntryHandler(address_book),
        **registration_handlers(ctx),  # an asset, a wallet, a key share (custody)
        **register_handlers(register := GovernanceRegister(ctx)),  # the governance register
    }
    proposal_handlers: ProposalHandlers = handlers
    identity = IdentityService(ctx, proposal_handlers=proposal_handlers)

    def roles_of(session: Session, user: str) -> frozenset[str]:
        """Role names `user` (``usr_…`` or ``user:usr_…``, as events name staff) holds."""
        grants = identity.roles_of(session, user.removeprefix("user:"))
        return frozenset(grant.role.value for grant in grants)

    freezes = FreezeService(ctx, proposals=identity.roles)
    address_book = AddressBookService(
        ctx, proposals=identity.roles, cooling_off=lambda: policy_service.policy.cooling_off
    )
    policy_service = PolicyService(ctx, policy, freezes=freezes, addresses=address_book)
    screening = ScreeningService(
        ctx,
        screening_config,
        propose=identity.roles.propose,
        rescreen_from=(pending_destinations, address_book_targets),
    )
    screening_ref.append(screening)
    holds = WithdrawalHolds(ctx, policy_service)
    arm_rescreen_holds(ctx, holds)  # a pending withdrawal a new list finds is held
    hands = Hands(
        actions=KinkoActions(freezes=freezes, accounts=identity, holds=holds), roles_of=roles_of
    )
    hands_ref.append(hands)
    chosen = nodes or ChainNodes()

    def stack() -> WithdrawalStack:
        return build_stack(ctx, ports_on(chain_router(ctx, chosen.network, chosen.web3)))

    def ports_on(chains: ChainGateway) -> Ports:
        return withdrawal_ports(
            chains, screener=screening, policy=policy_service, identity=identity, freezes=freezes
        )

    return Services(
        ctx=ctx,
        identity=identity,
        policy=policy_service,
        screening=screening,
        freezes=freezes,
        address_book=address_book,
        token_requests=TokenRequestService(ctx, issuer=identity.tokens),
        device_logins=DeviceLoginService(ctx, mfa=identity.mfa, sessions=identity.sessions),
        holds=holds,
        monitor_hands=hands,
        triage=TriageService(
            ctx, actions=hands.actions, roles_of=roles_of, proposals=identity.roles
        ),
        step_ups=ApprovalStepUps(ctx, mfa=identity.mfa),
        _stack=_Once(stack),
        ports_on=ports_on,
        snapshots=SnapshotService(ctx),
        register=register,
        reserves=ReservesService(ctx),
    )
