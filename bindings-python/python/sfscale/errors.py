"""The sfscale exception hierarchy: one class per core error kind, all under SfscaleError.

The native module raises these through :func:`_from_core`, picking the class by the core's
stable kind name (``"Limit"``, ``"InvalidInput"``, ...). Catch the family you can handle::

    try:
        client.create("Account", {"Name": "Acme"})
    except sfscale.LimitError:
        ...  # daily allocation or reserve reached: try again tomorrow
    except sfscale.SfscaleError as e:
        log.error("%s (code %s, HTTP %s, row %s)", e, e.code, e.status, e.row)

``code`` is the stable code string (``REQUEST_LIMIT_EXCEEDED``, ``LIMIT_RESERVE_REACHED``,
``UNABLE_TO_LOCK_ROW``, or Salesforce's own ``errorCode`` such as ``DUPLICATE_VALUE``).
"""

from __future__ import annotations

import builtins
from typing import Any


class SfscaleError(Exception):
    """Any failure reported by sfscale.

    Attributes:
        code: stable code string (``REQUEST_LIMIT_EXCEEDED``, ``DUPLICATE_VALUE``, ...).
        status: HTTP status of the response, when the error came from one.
        fields: field names Salesforce blamed.
        row: input row (0-based) the error concerns, for collection and bulk work.
        retryable: whether the core judged the failure transient.
        operation: the operation that failed (``create``, ``query``, ...), when known.
        object: the sObject concerned, when known.
        message: Salesforce's (redacted) message.
    """

    kind = "Salesforce"

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        fields: list[str] | None = None,
        row: int | None = None,
        retryable: bool = False,
        operation: str | None = None,
        object: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.fields = list(fields or [])
        self.row = row
        self.retryable = retryable
        self.operation = operation
        self.object = object

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.args[0], self.__dict__))


def _rebuild(cls: type[SfscaleError], text: str, state: dict[str, Any]) -> SfscaleError:
    error = cls.__new__(cls)
    Exception.__init__(error, text)
    error.__dict__.update(state)
    return error


class AuthError(SfscaleError):
    """Authentication or authorization failed (OAuth errors, unusable session, permissions)."""

    kind = "Auth"


class LimitError(SfscaleError):
    """An allocation or concurrency limit: daily requests, the configured reserve, long-running calls."""

    kind = "Limit"


class LockError(SfscaleError):
    """Row lock contention (``UNABLE_TO_LOCK_ROW``)."""

    kind = "Lock"


class InvalidInputError(SfscaleError, ValueError):
    """Bad input: refused before sending, or a Salesforce field, validation or query error."""

    kind = "InvalidInput"


class NotFoundError(SfscaleError, LookupError):
    """The record or resource does not exist."""

    kind = "NotFound"


class ServerError(SfscaleError):
    """Salesforce failed on its side (5xx)."""

    kind = "Server"


class NetworkError(SfscaleError, builtins.ConnectionError):
    """Transport failure: connection refused or reset, body read failure."""

    kind = "Network"


class TimeoutError(SfscaleError, builtins.TimeoutError):
    """A connect or request timeout, or Salesforce's ``QUERY_TIMEOUT``."""

    kind = "Timeout"


class BackpressureError(SfscaleError):
    """The client's own wait queue is full and it is configured to fail fast."""

    kind = "Backpressure"


class ConfigError(SfscaleError):
    """Invalid configuration; the message names the setting."""

    kind = "Config"


class SalesforceError(SfscaleError):
    """Any other error Salesforce reported."""

    kind = "Salesforce"


_CLASSES: dict[str, type[SfscaleError]] = {
    cls.kind: cls
    for cls in (
        AuthError,
        LimitError,
        LockError,
        InvalidInputError,
        NotFoundError,
        ServerError,
        NetworkError,
        TimeoutError,
        BackpressureError,
        ConfigError,
        SalesforceError,
    )
}


def error_class(kind: str) -> type[SfscaleError]:
    """The exception class for a core error kind name (``SfscaleError`` for an unknown one)."""
    return _CLASSES.get(kind, SfscaleError)


def _from_core(
    *,
    kind: str,
    code: str,
    message: str,
    status: int | None,
    fields: list[str],
    row: int | None,
    retryable: bool,
    operation: str | None,
    object: str | None,
    text: str,
) -> SfscaleError:
    """Called by the native module to build the exception for a core error."""
    error = error_class(kind)(
        text,
        code=code,
        status=status,
        fields=fields,
        row=row,
        retryable=retryable,
        operation=operation,
        object=object,
    )
    error.message = message
    return error
