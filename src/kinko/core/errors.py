"""The one exception tree.

Every error carries a stable machine code (used by the API), a message a person can act
on, and the CLI exit status it maps to (0 ok, 1 a check failed, 2 bad input or usage).
"""

from __future__ import annotations

from typing import ClassVar


class KinkoError(Exception):
    """Base of every error Kinko raises on purpose."""

    code: ClassVar[str] = "kinko_error"
    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class InputError(KinkoError):
    """Bad input: names the field and what to do about it."""

    code = "invalid_input"
    exit_code = 2
    http_status = 422

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {message}", code=code)
        self.field = field

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "field": self.field, "message": self.message}


class ConfigError(InputError):
    code = "invalid_config"


class NotFound(KinkoError):
    code = "not_found"
    exit_code = 2
    http_status = 404


class Conflict(KinkoError):
    code = "conflict"
    exit_code = 2
    http_status = 409


class AuthenticationError(KinkoError):
    """Who you are could not be established. Messages stay generic on purpose."""

    code = "unauthenticated"
    exit_code = 1
    http_status = 401


class RateLimited(KinkoError):
    """Too many failures from this source or for this account: wait `retry_after`
    seconds (HTTP 429 with a Retry-After header)."""

    code = "rate_limited"
    exit_code = 1
    http_status = 429

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "retry_after": str(self.retry_after)}


class PermissionDenied(KinkoError):
    code = "forbidden"
    exit_code = 1
    http_status = 403


class PolicyViolation(KinkoError):
    code = "policy_violation"
    exit_code = 1
    http_status = 403


class ApprovalError(KinkoError):
    code = "approval_invalid"
    exit_code = 1
    http_status = 403


class IntegrityError(KinkoError):
    """A verification failed: a proof, a signature, a digest, a tile."""

    code = "integrity_failure"
    exit_code = 1
    http_status = 409


class Unavailable(KinkoError):
    """A dependency needed to decide is missing or stale: fail closed."""

    code = "unavailable"
    exit_code = 1
    http_status = 503
