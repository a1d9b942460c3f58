"""All tables, one module per domain. Importing this package registers them on `Base`."""

from kinko.store.tables import (  # noqa: F401
    audit,
    custody,
    device,
    identity,
    inspection,
    liabilities,
    monitor,
    outbox,
    policy,
    reserves,
    screening,
    utxos,
    watcher,
    withdrawals,
)
