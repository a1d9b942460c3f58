"""initial schema

Revision ID: 5ed2a2258c22
Revises:
Create Date: 2026-11-21 21:58:05.130545
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kinko.store.base

revision = "5ed2a2258c22"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_book_entries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("owner_kind", sa.String(length=32), nullable=False),
        sa.Column("tiers_allowed", sa.JSON(), nullable=False),
        sa.Column("proposal_id", sa.String(length=64), nullable=False),
        sa.Column("proposed_by", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("effective_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_book_entries")),
    )
    with op.batch_alter_table("address_book_entries", schema=None) as batch_op:
        batch_op.create_index("ix_address_book_lookup", ["chain", "address"], unique=False)

    op.create_table(
        "address_book_proposals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("owner_kind", sa.String(length=32), nullable=False),
        sa.Column("tiers_allowed", sa.JSON(), nullable=False),
        sa.Column("proposer", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approver", sa.String(length=200), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_book_proposals")),
    )
    with op.batch_alter_table("address_book_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_address_book_proposals_status"), ["status"], unique=False
        )

    op.create_table(
        "asset_prices",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("day", "asset", "currency", name=op.f("pk_asset_prices")),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("chain", "symbol", name=op.f("uq_assets_chain")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("issued_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_subject"), ["subject"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("edge", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_nodes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_nodes")),
    )
    op.create_table(
        "auth_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_throttle")),
    )
    op.create_table(
        "chain_watcher_cursors",
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=False),
        sa.Column("updated_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain", "network", name=op.f("pk_chain_watcher_cursors")),
    )
    op.create_table(
        "custody_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("base_units", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("owner_class", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_snapshots")),
        sa.UniqueConstraint("day", "wallet_id", "asset", name=op.f("uq_custody_snapshots_day")),
    )
    with op.batch_alter_table("custody_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custody_snapshots_day"), ["day"], unique=False)

    op.create_table(
        "customer_liabilities",
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("base_units", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("as_of", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asset", name=op.f("pk_customer_liabilities")),
    )
    op.create_table(
        "freezes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freezes")),
    )
    with op.batch_alter_table("freezes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_freezes_released_at"), ["released_at"], unique=False)

    op.create_table(
        "identity_config",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_identity_config")),
    )
    op.create_table(
        "identity_proposals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("proposer_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_proposals")),
    )
    with op.batch_alter_table("identity_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_proposals_state"), ["state"], unique=False)

    op.create_table(
        "monitor_alerts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("event_time", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("group", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closed_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alerts")),
    )
    with op.batch_alter_table("monitor_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_alerts_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(
            "ix_monitor_alerts_status_created", ["status", "created_at"], unique=False
        )

    op.create_table(
        "policy_versions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("loaded_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activation", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_policy_versions_version")),
    )
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_versions_activation"), ["activation"], unique=False
        )

    op.create_table(
        "screening_alerts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=64), nullable=False),
        sa.Column("target_ref", sa.String(length=200), nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("entity_ref", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_alerts")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_screening_alerts_dedup_key")),
    )
    with op.batch_alter_table("screening_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_alerts_target_ref"), ["target_ref"], unique=False
        )

    op.create_table(
        "screening_list_versions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("published", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entity_count", sa.Integer(), nullable=False),
        sa.Column("address_count", sa.Integer(), nullable=False),
        sa.Column("counts_by_chain", sa.JSON(), nullable=False),
        sa.Column("unknown_tickers", sa.JSON(), nullable=False),
        sa.Column("invalid_addresses", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("publisher", sa.String(length=100), nullable=False),
        sa.Column("loaded_by", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("proposal_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_list_versions")),
    )
    with op.batch_alter_table("screening_list_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_list_versions_active"), ["active"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_screening_list_versions_list_name"), ["list_name"], unique=False
        )
        batch_op.create_index(
            "uq_screening_list_versions_active",
            ["list_name"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    op.create_table(
        "signature_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("txid", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.String(length=66), nullable=False),
        sa.Column("r", sa.String(length=64), nullable=False),
        sa.Column("s", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_log")),
        sa.UniqueConstraint("public_key", "digest", name=op.f("uq_signature_log_public_key")),
    )
    with op.batch_alter_table("signature_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signature_log_r"), ["r"], unique=False)

    op.create_table(
        "unfreeze_proposals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("freeze_id", sa.String(length=64), nullable=False),
        sa.Column("proposer", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approver", sa.String(length=200), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unfreeze_proposals")),
    )
    with op.batch_alter_table("unfreeze_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unfreeze_proposals_freeze_id"), ["freeze_id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enrolment_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("enrolment_expires", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "velocity_counters",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_key", sa.String(length=200), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("scope", "scope_key", "asset", name=op.f("pk_velocity_counters")),
    )
    op.create_table(
        "velocity_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("withdrawal_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_key", sa.String(length=200), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("amount", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.Column("at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_velocity_ledger")),
    )
    with op.batch_alter_table("velocity_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_velocity_ledger_window", ["scope", "scope_key", "asset", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_velocity_ledger_withdrawal_id"), ["withdrawal_id"], unique=False
        )

    op.create_table(
        "velocity_windows",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_key", sa.String(length=200), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("total", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.Column("horizon", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope", "scope_key", "asset", "seconds", name=op.f("pk_velocity_windows")
        ),
    )
    op.create_table(
        "wallets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("assets", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("owner_class", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("quorum_m", sa.Integer(), nullable=False),
        sa.Column("quorum_n", sa.Integer(), nullable=False),
        sa.Column("eligible_roles", sa.JSON(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("descriptor", sa.String(length=2000), nullable=True),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("cap_base_units", kinko.store.base.BaseUnits(length=78), nullable=True),
        sa.Column("floor_base_units", kinko.store.base.BaseUnits(length=78), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("name", name=op.f("uq_wallets_name")),
    )
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallets_chain"), ["chain"], unique=False)

    op.create_table(
        "webauthn_challenges",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("challenge", sa.LargeBinary(length=64), nullable=False),
        sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webauthn_challenges")),
    )
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("amount", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.Column("destination", sa.String(length=200), nullable=False),
        sa.Column("customer_ref", sa.String(length=200), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("eligible_roles", sa.JSON(), nullable=False),
        sa.Column("unsigned_tx", sa.LargeBinary(), nullable=True),
        sa.Column("intent", sa.JSON(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("account_nonce", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("request_seq", sa.BigInteger(), nullable=True),
        sa.Column("decision_seq", sa.BigInteger(), nullable=True),
        sa.Column("signed_tx", sa.LargeBinary(), nullable=True),
        sa.Column("txid", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_withdrawals_idempotency_key")),
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_withdrawals_destination", ["chain", "destination", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_withdrawals_requester"), ["requester"], unique=False)
        batch_op.create_index(batch_op.f("ix_withdrawals_state"), ["state"], unique=False)
        batch_op.create_index(
            "ix_withdrawals_wallet_nonce", ["wallet_id", "state", "account_nonce"], unique=False
        )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("assets", sa.JSON(), nullable=False),
        sa.Column("ip_allowlist", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_api_tokens_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_console_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "device_authorizations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_code", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("decided_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_ip", sa.String(length=64), nullable=True),
        sa.Column("challenge_id", sa.String(length=64), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_device_authorizations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_authorizations")),
    )
    with op.batch_alter_table("device_authorizations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_authorizations_source_ip"), ["source_ip"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_device_authorizations_user_code"), ["user_code"], unique=False
        )

    op.create_table(
        "token_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_code", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("assets", sa.JSON(), nullable=False),
        sa.Column("ip_allowlist", sa.JSON(), nullable=False),
        sa.Column("ttl_seconds", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_ip", sa.String(length=64), nullable=True),
        sa.Column("challenge_id", sa.String(length=64), nullable=True),
        sa.Column("token_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_token_requests_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_requests")),
    )
    with op.batch_alter_table("token_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_token_requests_user_code"), ["user_code"], unique=False
        )

    op.create_table(
        "key_shares",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("legal_entity", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.String(length=200), nullable=False),
        sa.Column("ceremony", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_key_shares_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_shares")),
    )
    with op.batch_alter_table("key_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_shares_wallet_id"), ["wallet_id"], unique=False)

    op.create_table(
        "monitor_responses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["monitor_alerts.id"],
            name=op.f("fk_monitor_responses_alert_id_monitor_alerts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_responses")),
    )
    with op.batch_alter_table("monitor_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_responses_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index(
            "ix_monitor_responses_rule_created", ["rule_id", "created_at"], unique=False
        )

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("assets", sa.JSON(), nullable=False),
        sa.Column("wallets", sa.JSON(), nullable=False),
        sa.Column("granted_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("proposal_id", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_role_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grants")),
    )
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "screening_addresses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("raw", sa.String(length=300), nullable=False),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("entity_ref", sa.String(length=200), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["screening_list_versions.id"],
            name=op.f("fk_screening_addresses_version_id_screening_list_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_addresses")),
    )
    with op.batch_alter_table("screening_addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screening_addresses_key"), ["key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_screening_addresses_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "screening_entities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("programs", sa.JSON(), nullable=False),
        sa.Column("birth_dates", sa.JSON(), nullable=False),
        sa.Column("nationalities", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["screening_list_versions.id"],
            name=op.f("fk_screening_entities_version_id_screening_list_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_entities")),
    )
    with op.batch_alter_table("screening_entities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_entities_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "totp_factors",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_totp_factors_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_factors")),
    )
    with op.batch_alter_table("totp_factors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_totp_factors_user_id"), ["user_id"], unique=False)

    op.create_table(
        "wallet_balances",
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=80), nullable=False),
        sa.Column("base_units", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("as_of", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_wallet_balances_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("wallet_id", "asset", name=op.f("pk_wallet_balances")),
    )
    op.create_table(
        "wallet_utxos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("txid", sa.String(length=64), nullable=False),
        sa.Column("vout", sa.Integer(), nullable=False),
        sa.Column("amount", kinko.store.base.BaseUnits(length=78), nullable=False),
        sa.Column("prev_tx", sa.LargeBinary(), nullable=False),
        sa.Column("reserved_for_txid", sa.String(length=64), nullable=True),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.Column("imported_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_wallet_utxos_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_utxos")),
        sa.UniqueConstraint("txid", "vout", name=op.f("uq_wallet_utxos_txid")),
    )
    with op.batch_alter_table("wallet_utxos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_utxos_reserved_for_txid"), ["reserved_for_txid"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_wallet_utxos_wallet_id"), ["wallet_id"], unique=False)

    op.create_table(
        "webauthn_credentials",
        sa.Column("id", sa.String(length=1400), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", kinko.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flagged_clone", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_webauthn_credentials_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webauthn_credentials")),
    )
    with op.batch_alter_table("webauthn_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webauthn_credentials_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "withdrawal_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("withdrawal_id", sa.String(length=64), nullable=False),
        sa.Column("approver", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("binding", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=True),
        sa.Column("assertion", sa.JSON(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["withdrawal_id"],
            ["withdrawals.id"],
            name=op.f("fk_withdrawal_approvals_withdrawal_id_withdrawals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal_approvals")),
        sa.UniqueConstraint(
            "withdrawal_id", "approver", name=op.f("uq_withdrawal_approvals_withdrawal_id")
        ),
    )
    with op.batch_alter_table("withdrawal_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_withdrawal_approvals_withdrawal_id"), ["withdrawal_id"], unique=False
        )

    op.create_table(
        "monitor_release_votes",
        sa.Column("response_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", kinko.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["monitor_responses.id"],
            name=op.f("fk_monitor_release_votes_response_id_monitor_responses"),
        ),
        sa.PrimaryKeyConstraint("response_id", "actor", name=op.f("pk_monitor_release_votes")),
    )


def downgrade() -> None:
    op.drop_table("monitor_release_votes")
    with op.batch_alter_table("withdrawal_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_withdrawal_approvals_withdrawal_id"))

    op.drop_table("withdrawal_approvals")
    with op.batch_alter_table("webauthn_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webauthn_credentials_user_id"))

    op.drop_table("webauthn_credentials")
    with op.batch_alter_table("wallet_utxos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_utxos_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_utxos_reserved_for_txid"))

    op.drop_table("wallet_utxos")
    op.drop_table("wallet_balances")
    with op.batch_alter_table("totp_factors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_totp_factors_user_id"))

    op.drop_table("totp_factors")
    with op.batch_alter_table("screening_entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_entities_version_id"))

    op.drop_table("screening_entities")
    with op.batch_alter_table("screening_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_addresses_version_id"))
        batch_op.drop_index(batch_op.f("ix_screening_addresses_key"))

    op.drop_table("screening_addresses")
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_grants_user_id"))

    op.drop_table("role_grants")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))

    op.drop_table("recovery_codes")
    with op.batch_alter_table("monitor_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_monitor_responses_rule_created")
        batch_op.drop_index(batch_op.f("ix_monitor_responses_alert_id"))

    op.drop_table("monitor_responses")
    with op.batch_alter_table("key_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_shares_wallet_id"))

    op.drop_table("key_shares")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))

    op.drop_table("console_sessions")
    with op.batch_alter_table("device_authorizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_authorizations_user_code"))
        batch_op.drop_index(batch_op.f("ix_device_authorizations_source_ip"))

    op.drop_table("device_authorizations")
    with op.batch_alter_table("token_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_requests_user_code"))

    op.drop_table("token_requests")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_owner_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index("ix_withdrawals_wallet_nonce")
        batch_op.drop_index(batch_op.f("ix_withdrawals_state"))
        batch_op.drop_index(batch_op.f("ix_withdrawals_requester"))
        batch_op.drop_index("ix_withdrawals_destination")

    op.drop_table("withdrawals")
    op.drop_table("webauthn_challenges")
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallets_chain"))

    op.drop_table("wallets")
    op.drop_table("velocity_windows")
    with op.batch_alter_table("velocity_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_velocity_ledger_withdrawal_id"))
        batch_op.drop_index("ix_velocity_ledger_window")

    op.drop_table("velocity_ledger")
    op.drop_table("velocity_counters")
    op.drop_table("users")
    with op.batch_alter_table("unfreeze_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unfreeze_proposals_freeze_id"))

    op.drop_table("unfreeze_proposals")
    with op.batch_alter_table("signature_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signature_log_r"))

    op.drop_table("signature_log")
    with op.batch_alter_table("screening_list_versions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_screening_list_versions_active",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
        batch_op.drop_index(batch_op.f("ix_screening_list_versions_list_name"))
        batch_op.drop_index(batch_op.f("ix_screening_list_versions_active"))

    op.drop_table("screening_list_versions")
    with op.batch_alter_table("screening_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_alerts_target_ref"))

    op.drop_table("screening_alerts")
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_versions_activation"))

    op.drop_table("policy_versions")
    with op.batch_alter_table("monitor_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_monitor_alerts_status_created")
        batch_op.drop_index(batch_op.f("ix_monitor_alerts_rule_id"))

    op.drop_table("monitor_alerts")
    with op.batch_alter_table("identity_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_proposals_state"))

    op.drop_table("identity_proposals")
    op.drop_table("identity_config")
    with op.batch_alter_table("freezes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_freezes_released_at"))

    op.drop_table("freezes")
    op.drop_table("customer_liabilities")
    with op.batch_alter_table("custody_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_snapshots_day"))

    op.drop_table("custody_snapshots")
    op.drop_table("chain_watcher_cursors")
    op.drop_table("auth_throttle")
    op.drop_table("audit_nodes")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_subject"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_action"))

    op.drop_table("audit_entries")
    op.drop_table("audit_checkpoints")
    op.drop_table("assets")
    op.drop_table("asset_prices")
    with op.batch_alter_table("address_book_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_address_book_proposals_status"))

    op.drop_table("address_book_proposals")
    with op.batch_alter_table("address_book_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_address_book_lookup")

    op.drop_table("address_book_entries")
