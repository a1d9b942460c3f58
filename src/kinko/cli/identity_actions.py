"""The identity commands that act: each is a request to the API as the signed-in person.

`kinko user add|suspend|reinstate|remove`, `kinko role propose|approve|refuse|revoke`,
`kinko mfa enroll-totp|reset`, `kinko token create|revoke`. The server checks the
person's roles and the four-eyes rules (kinko.identity.rules); nobody names anyone else
as the actor. People are named by username on the command line; the API takes ids, so
they are looked up (``GET /v1/users``, or ``/v1/auth/me`` for oneself).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko import __version__
from kinko.cli.approval import AssertionOption, step_up_body
from kinko.cli.common import console, echo_json
from kinko.cli.output import JsonOption, guarded_json
from kinko.core.errors import InputError, NotFound

if TYPE_CHECKING:
    from kinko.cli.api import Api

ReasonOption = Annotated[str, typer.Option(help="Why (recorded in the audit log).")]
APPROVE_HINT = "another security admin, signed in as themselves, runs 'kinko role approve {id}'"


def user_id_of(api: Api, username: str) -> str:
    """The id of `username`: yourself from ``/v1/auth/me``, anyone else from the user list
    (``users:read``)."""
    me = api.get("/v1/auth/me")
    if me.get("username") == username:
        return str(me["user_id"])
    for user in api.get("/v1/users"):
        if user.get("username") == username:
            return str(user["id"])
    raise NotFound(f"no user named {username!r}; list them with 'kinko user list'")


def _print_proposal(proposal: dict[str, Any], as_json: bool, *, done: str | None = None) -> None:
    if as_json:
        echo_json(proposal)
        return
    state = proposal["state"]
    if state == "approved" and done:
        console.print(done, highlight=False)
        return
    hint = f" (four eyes: {APPROVE_HINT.format(id=proposal['id'])})" if state == "pending" else ""
    console.print(f"Proposal [bold]{proposal['id']}[/]: {state}{hint}", highlight=False)


def register_actions(
    user_app: typer.Typer, role_app: typer.Typer, mfa_app: typer.Typer, token_app: typer.Typer
) -> None:
    """Add the commands that act to the identity groups."""
    from kinko.cli import api as kapi

    @user_app.command("add")
    def user_add(
        username: str,
        display_name: Annotated[str, typer.Option(help="Full name.")] = "",
        as_json: JsonOption = False,
    ) -> None:
        """Invite a user (as you); prints a one-time enrolment secret."""
        with guarded_json(as_json), kapi.connect() as api:
            added = api.post("/v1/users", {"username": username, "display_name": display_name})
        if as_json:
            echo_json(added)
            return
        console.print(f"Invited [bold]{username}[/] ({added['id']})", highlight=False)
        console.print(f"One-time enrolment secret (shown once): {added['enrolment_secret']}")

    def change_state(username: str, action: str, reason: str, as_json: bool) -> None:
        """Propose USERNAME's new state; it applies at once only for someone unprivileged
        being suspended or removed (kinko.identity.rules)."""
        with guarded_json(as_json), kapi.connect() as api:
            user_id = user_id_of(api, username)
            _, answer = api.request(
                "POST", f"/v1/users/{user_id}/{action}", body={"reason": reason}
            )
        _print_proposal(
            answer["proposal"], as_json, done=f"[bold]{username}[/] is now {answer['state']}"
        )

    @user_app.command("suspend")
    def user_suspend(username: str, reason: ReasonOption, as_json: JsonOption = False) -> None:
        """Suspend a user (sessions and tokens revoked); a privileged one is a proposal."""
        change_state(username, "suspend", reason, as_json)

    @user_app.command("reinstate")
    def user_reinstate(username: str, reason: ReasonOption, as_json: JsonOption = False) -> None:
        """Propose reinstating a suspended user (four eyes)."""
        change_state(username, "reinstate", reason, as_json)

    @user_app.command("remove")
    def user_remove(username: str, reason: ReasonOption, as_json: JsonOption = False) -> None:
        """Remove a user for good; a privileged one is a proposal."""
        change_state(username, "remove", reason, as_json)

    def propose_for(
        username: str, kind: str, payload: dict[str, Any], reason: str, as_json: bool
    ) -> None:
        with guarded_json(as_json), kapi.connect() as api:
            body = {"kind": kind, "reason": reason, "user_id": user_id_of(api, username)}
            proposal = api.post("/v1/roles/proposals", {**body, **payload})
        _print_proposal(proposal, as_json)

    @role_app.command("propose")
    def role_propose(
        username: str,
        role: str,
        *,
        reason: ReasonOption,
        asset: Annotated[list[str] | None, typer.Option(help="Limit to an asset.")] = None,
        wallet: Annotated[list[str] | None, typer.Option(help="Limit to a wallet.")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Propose granting ROLE to USERNAME; a second security admin approves it."""
        payload = {"role": role, "assets": asset or [], "wallets": wallet or []}
        propose_for(username, "grant_role", payload, reason, as_json)

    @role_app.command("approve")
    def role_approve(
        proposal_id: str, assertion: AssertionOption = None, as_json: JsonOption = False
    ) -> None:
        """Approve a pending proposal (as you: a security admin other than the proposer),
        with your security key's answer to 'kinko approval challenge proposal ID'."""
        with guarded_json(as_json):
            vote = step_up_body(assertion, "proposal", proposal_id)
            with kapi.connect() as api:
                proposal = api.post(f"/v1/roles/proposals/{proposal_id}/approve", vote)
        _print_proposal(proposal, as_json)

    @role_app.command("refuse")
    def role_refuse(proposal_id: str, reason: ReasonOption, as_json: JsonOption = False) -> None:
        """Refuse a pending proposal (as you)."""
        with guarded_json(as_json), kapi.connect() as api:
            proposal = api.post(f"/v1/roles/proposals/{proposal_id}/refuse", {"reason": reason})
        _print_proposal(proposal, as_json)

    @role_app.command("revoke")
    def role_revoke(
        username: str, role: str, reason: ReasonOption, as_json: JsonOption = False
    ) -> None:
        """Propose taking ROLE from USERNAME (giving up your own applies at once)."""
        with guarded_json(as_json), kapi.connect() as api:
            body = {"user_id": user_id_of(api, username), "role": role, "reason": reason}
            _, answer = api.request("POST", "/v1/roles/revoke", body=body)
        _print_proposal(answer["proposal"], as_json, done=f"{username} no longer holds {role}")

    @mfa_app.command("enroll-totp")
    def mfa_enroll_totp(username: str, enrolment_secret: str) -> None:
        """Enrol TOTP with the enrolment secret (not for privileged roles)."""
        with guarded_json(False), kapi.anonymous(kapi.default_addr()) as api:
            body = {"username": username, "enrolment_secret": enrolment_secret}
            enrolled = api.post("/v1/auth/enrol/totp", body)
        console.print(
            f"TOTP secret (shown once): {enrolled['totp_secret']}\n{enrolled['otpauth_uri']}",
            highlight=False,
        )
        console.print("Recovery codes (each works once):\n" + "\n".join(enrolled["recovery_codes"]))

    @mfa_app.command("reset")
    def mfa_reset(
        username: str,
        reason: ReasonOption,
        factor: Annotated[str, typer.Option(help="'all', 'webauthn:<id>' or 'totp:<id>'.")] = "all",
        as_json: JsonOption = False,
    ) -> None:
        """Propose removing a user's factor(s); a second security admin approves."""
        propose_for(username, "remove_mfa", {"factor": factor}, reason, as_json)

    @token_app.command("create")
    def token_create(
        owner: str,
        name: str,
        *,
        permission: Annotated[list[str], typer.Option(help="A permission (repeat).")],
        asset: Annotated[list[str] | None, typer.Option(help="Limit to an asset (repeat).")] = None,
        allow_ip: Annotated[
            list[str] | None, typer.Option(help="Allowed IP/CIDR (repeat).")
        ] = None,
        days: Annotated[int, typer.Option(min=1, max=365, help="Lifetime in days.")] = 90,
        reason: Annotated[str, typer.Option(help="Why (a service account's token).")] = (
            "service account token"
        ),
        browser: Annotated[
            bool,
            typer.Option(
                "--browser",
                help="Confirm your own token in the browser with your security key (needed "
                "for privileged permissions): prints a page and a code, waits, prints the token.",
            ),
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Create an API token; printed once. OWNER is you (your own token; one with
        privileged permissions you confirm in the browser with your security key:
        --browser) or a service account (a proposal: the token works once another security
        admin approves it)."""
        body: dict[str, Any] = {
            "name": name,
            "permissions": permission,
            "assets": asset or [],
            "ip_allowlist": allow_ip or [],
            "ttl_days": days,
            "reason": reason,
        }
        with guarded_json(as_json), kapi.connect() as api:
            body["owner_id"] = user_id_of(api, owner)
            if browser:
                from kinko.cli.token_request import confirmed_in_browser

                if body["owner_id"] != api.get("/v1/auth/me").get("user_id"):
                    raise InputError(
                        "--browser",
                        "confirms your own token: OWNER must be you (a service account's "
                        "token is a four-eyes proposal, without --browser)",
                    )
                terms = {k: body[k] for k in ("name", "permissions", "assets", "ip_allowlist")}
                client = f"kinko-cli {__version__} on {socket.gethostname()}"
                made = confirmed_in_browser(api, {**terms, "ttl_days": days}, client)
            else:
                _, made = api.request("POST", "/v1/tokens", body=body)
        if as_json:
            echo_json(made)
            return
        console.print(
            f"Token {made['id']} (shown once, store it now):\n{made['token']}", highlight=False
        )
        proposal = made.get("proposal")
        if proposal is not None:
            console.print(
                f"Proposal [bold]{proposal['id']}[/]: pending. The token works once "
                f"{APPROVE_HINT.format(id=proposal['id'])}",
                highlight=False,
            )

    @token_app.command("revoke")
    def token_revoke(token_id: str, reason: ReasonOption) -> None:
        """Revoke an API token (as you)."""
        with guarded_json(False), kapi.connect() as api:
            api.post(f"/v1/tokens/{token_id}/revoke", {"reason": reason})
        console.print(f"Revoked {token_id}")
