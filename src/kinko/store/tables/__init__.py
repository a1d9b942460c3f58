"""All tables, one module per domain. Importing this package registers them on `Base`."""

from kinko.store.tables import audit, custody, identity, monitor, policy, screening, withdrawals  # noqa: F401
