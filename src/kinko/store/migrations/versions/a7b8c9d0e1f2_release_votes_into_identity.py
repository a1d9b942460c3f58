"""monitor release votes into identity's proposals

Releasing a monitor response is identity's one four-eyes mechanism (kind
``release_response``, kinko.monitor.release): the first vote of each response in
``monitor_release_votes`` becomes a proposal (pending while the response is in force,
approved by the second vote when it was released) and the table goes.

Revision ID: a7b8c9d0e1f2
Revises: f1c2d3e4a5b6
Create Date: 2026-12-07 00:40:00
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "a7b8c9d0e1f2"
down_revision = "f1c2d3e4a5b6"
branch_labels = None
depends_on = None


def _time() -> kinko.store.base.UTCDateTime:
    return kinko.store.base.UTCDateTime(timezone=True)


def _person(ref: str) -> str:
    return ref.removeprefix("user:")


def upgrade() -> None:
    bind = op.get_bind()
    votes = sa.table(
        "monitor_release_votes",
        sa.column("response_id", sa.String),
        sa.column("actor", sa.String),
        sa.column("reason", sa.Text),
        sa.column("created_at", _time()),
    )
    responses = sa.table(
        "monitor_responses",
        sa.column("id", sa.String),
        sa.column("alert_id", sa.String),
        sa.column("action", sa.String),
        sa.column("scope", sa.String),
        sa.column("target", sa.String),
        sa.column("status", sa.String),
        sa.column("released_at", _time()),
    )
    proposals = sa.table(
        "identity_proposals",
        sa.column("id", sa.String),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("proposer_id", sa.String),
        sa.column("state", sa.String),
        sa.column("reason", sa.String),
        sa.column("created_at", _time()),
        sa.column("decided_by", sa.String),
        sa.column("decided_at", _time()),
        sa.column("expires_at", _time()),
    )
    by_response: dict[str, list[Any]] = defaultdict(list)
    for vote in bind.execute(sa.select(votes).order_by(votes.c.created_at, votes.c.actor)):
        by_response[vote.response_id].append(vote)
    rows = []
    for response in bind.execute(sa.select(responses)):
        cast = by_response.get(response.id)
        if not cast:
            continue
        first, second = cast[0], (cast[1] if len(cast) > 1 else None)
        released = response.status == "released" and second is not None
        rows.append(
            {
                "id": f"prp_{secrets.token_hex(13)}",
                "kind": "release_response",
                "payload": {
                    "response_id": response.id,
                    "alert": response.alert_id,
                    "action": response.action,
                    "scope": response.scope,
                    "target": response.target,
                },
                "proposer_id": _person(first.actor),
                "state": "approved" if released else "pending",
                "reason": first.reason[:500],
                "created_at": first.created_at,
                "decided_by": _person(second.actor) if released and second else None,
                "decided_at": response.released_at if released else None,
                # kinko.identity.four_eyes.PROPOSAL_LIFETIME, as made then
                "expires_at": first.created_at + timedelta(days=7),
            }
        )
    if rows:
        op.bulk_insert(proposals, rows)
    op.drop_table("monitor_release_votes")


def downgrade() -> None:
    op.create_table(
        "monitor_release_votes",
        sa.Column("response_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["monitor_responses.id"],
            name=op.f("fk_monitor_release_votes_response_id_monitor_responses"),
        ),
        sa.PrimaryKeyConstraint("response_id", "actor", name=op.f("pk_monitor_release_votes")),
    )
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM identity_proposals WHERE kind = 'release_response'"))
