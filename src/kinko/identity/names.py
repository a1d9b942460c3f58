"""People by the name others know them by, for messages: ``ann``, not ``usr_01m9…``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kinko.store.tables.identity import UserRow


def person(session: Session, ref: str) -> str:
    """The username of ``usr_…`` or of an actor ``user:usr_…``; any other ref unchanged.

    Messages a person reads (refusals, four-eyes conflicts) use it; audit entries, events
    and JSON keep the ids.
    """
    user_id = ref.removeprefix("user:")
    if not user_id.startswith("usr_"):
        return ref
    row = session.get(UserRow, user_id)
    return ref if row is None else row.username
