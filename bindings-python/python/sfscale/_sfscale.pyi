"""Type stubs and user docs for the native module (re-exported by ``sfscale``)."""

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, final, overload

from typing_extensions import Self

__all__ = [
    "AsyncBulk",
    "AsyncClient",
    "AsyncQueryIterator",
    "Bulk",
    "Client",
    "AsyncQueue",
    "QueryIterator",
    "Queue",
    "Soql",
    "error_kinds",
    "make_error",
    "set_log_level",
    "soql",
]

_Record = dict[str, Any]
_Priority = Literal["critical", "normal", "background"]
_Operation = Literal["insert", "update", "upsert", "delete", "hardDelete", "hard_delete"]
_RowsInput = str | os.PathLike[str] | bytes | Iterable[Mapping[str, Any]] | Any

@final
class QueryIterator(Iterator[_Record]):
    """Records of a query, fetched a page at a time as the loop asks for them."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> _Record: ...

@final
class AsyncQueryIterator(AsyncIterator[_Record]):
    """Records of a query for ``async for``, fetched a page at a time."""

    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[_Record]: ...

@final
class Soql:
    """A SOQL ``SELECT`` being built; every method returns a new builder."""

    def where_eq(self, field: str, value: Any) -> Soql: ...
    def where_cmp(self, field: str, operator: str, value: Any) -> Soql: ...
    def where_in(self, field: str, values: Iterable[Any]) -> Soql: ...
    def where_not_in(self, field: str, values: Iterable[Any]) -> Soql: ...
    def where_null(self, field: str) -> Soql: ...
    def where_any(self, conditions: Iterable[tuple[str, str, Any]]) -> Soql: ...
    def order_by(self, field: str, descending: bool = False) -> Soql: ...
    def limit(self, n: int) -> Soql: ...
    def offset(self, n: int) -> Soql: ...
    def build(self) -> str:
        """The query text; raises ``InvalidInputError`` naming a bad identifier or value."""

def soql(object: str, fields: Sequence[str] | None = None) -> Soql:
    """``SELECT fields FROM object`` (``SELECT COUNT()`` without fields); values are escaped."""

@final
class Bulk:
    """Bulk API 2.0 (``client.bulk``): ingest, resume, query, write."""

    @property
    def work_dir(self) -> str: ...
    def with_work_dir(self, path: str | os.PathLike[str]) -> Bulk: ...
    def ingest(self, object: str, operation: _Operation, records: _RowsInput, **kwargs: Any) -> dict[str, Any]:
        """Runs an ingest: ``records`` is a CSV path, CSV ``bytes``, a pandas DataFrame or any
        iterable of dicts (read lazily). Keywords: ``external_id``, ``group_by`` (column, or
        ``False`` for none), ``run_id``, ``max_parallel_jobs``, ``max_rows_per_job``,
        ``max_upload_bytes``, ``lock_retry_rounds``, ``poll_interval`` (first, max seconds),
        ``deadline`` (seconds), ``progress`` (called with a dict of counters as they move),
        ``on_row`` (called with each row's outcome dict). Returns the run's result dict."""
    def resume(
        self,
        run_id: str,
        *,
        progress: Callable[[dict[str, Any]], Any] | None = None,
        on_row: Callable[[dict[str, Any]], Any] | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]: ...
    def write(
        self,
        object: str,
        operation: _Operation,
        records: Iterable[Mapping[str, Any]],
        *,
        external_id: str | None = None,
    ) -> dict[str, Any]: ...
    @overload
    def query(
        self, soql: str, *, to: None = None, include_deleted: bool = False, page_size: int | None = None
    ) -> QueryIterator:
        """Bulk API 2.0 query: the records, one result page in memory at a time."""
    @overload
    def query(
        self, soql: str, *, to: str | os.PathLike[str], include_deleted: bool = False, page_size: int | None = None
    ) -> dict[str, Any]:
        """Bulk API 2.0 query written to a CSV file; returns ``job_id``, ``rows``, ``pages``, ``api_calls``."""

@final
class AsyncBulk:
    """Bulk API 2.0 for ``AsyncClient``; the same methods, awaitable."""

    @property
    def work_dir(self) -> str: ...
    def with_work_dir(self, path: str | os.PathLike[str]) -> AsyncBulk: ...
    def ingest(
        self, object: str, operation: _Operation, records: _RowsInput, **kwargs: Any
    ) -> Awaitable[dict[str, Any]]: ...
    def resume(
        self,
        run_id: str,
        *,
        progress: Callable[[dict[str, Any]], Any] | None = None,
        on_row: Callable[[dict[str, Any]], Any] | None = None,
        deadline: float | None = None,
    ) -> Awaitable[dict[str, Any]]: ...
    def write(
        self,
        object: str,
        operation: _Operation,
        records: Iterable[Mapping[str, Any]],
        *,
        external_id: str | None = None,
    ) -> Awaitable[dict[str, Any]]: ...
    @overload
    def query(
        self, soql: str, *, to: None = None, include_deleted: bool = False, page_size: int | None = None
    ) -> AsyncQueryIterator: ...
    @overload
    def query(
        self, soql: str, *, to: str | os.PathLike[str], include_deleted: bool = False, page_size: int | None = None
    ) -> Awaitable[dict[str, Any]]: ...

@final
class Queue:
    """A durable write-behind queue (``client.queue(path, ...)``); a context manager that closes.

    ``enqueue`` returns a ticket once the write is journaled; the core coalesces writes into
    Collections calls or Bulk jobs. ``flush`` waits until every accepted write settled.
    """

    def enqueue(
        self,
        object: str,
        operation: Literal["insert", "update", "upsert", "delete"],
        record: Mapping[str, Any],
        *,
        external_id: str | None = None,
        key: str | None = None,
    ) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def dead_letters(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]: ...
    def replay(self, ticket: int, fixed: Mapping[str, Any] | None = None) -> int: ...
    def discard(self, ticket: int) -> bool: ...
    def on_outcome(self, callback: Callable[[dict[str, Any]], Any]) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> Literal[False]: ...

@final
class AsyncQueue:
    """The write-behind queue for ``AsyncClient`` (``await client.queue(path)``); awaitable methods."""

    def enqueue(
        self,
        object: str,
        operation: Literal["insert", "update", "upsert", "delete"],
        record: Mapping[str, Any],
        *,
        external_id: str | None = None,
        key: str | None = None,
    ) -> Awaitable[int]: ...
    def flush(self) -> Awaitable[None]: ...
    def close(self) -> Awaitable[None]: ...
    def dead_letters(self, after: int = 0, limit: int = 100) -> Awaitable[list[dict[str, Any]]]: ...
    def replay(self, ticket: int, fixed: Mapping[str, Any] | None = None) -> Awaitable[int]: ...
    def discard(self, ticket: int) -> Awaitable[bool]: ...
    def on_outcome(self, callback: Callable[[dict[str, Any]], Any]) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def __aenter__(self) -> Awaitable[Self]: ...
    def __aexit__(self, *_exc: object) -> Awaitable[None]: ...

@final
class Client:
    """A blocking Salesforce client; the GIL is released while Rust works.

    Keywords: ``instance_url``, ``login_url``, ``client_id``, ``client_secret``, ``username``,
    ``password``, ``private_key_file``, ``refresh_token``, ``api_version``, ``reserve``,
    ``session_lifetime_secs``, ``ca_file``, ``max_rps``, ``long_running_cap`` (as the
    ``SFSCALE_*`` variables), and ``pace_band``, ``retry_max_attempts``, ``retry_backoff``
    (base, cap seconds), ``concurrency`` (initial, min, max), ``query_batch_size``,
    ``request_timeout``, ``connect_timeout``, ``reserve_wait``, ``developer_edition``.
    """

    def __new__(cls, **options: Any) -> Self: ...
    @classmethod
    def from_env(cls, **options: Any) -> Self:
        """Reads the ``SFSCALE_*`` variables; keywords override them."""
    def with_priority(self, priority: _Priority) -> Client:
        """A handle sharing this client whose calls run at ``priority``: ``"critical"`` goes on
        past the limits reserve, ``"background"`` stops there (``LimitError``)."""
    def long_running(self) -> Client:
        """A handle whose calls take the scheduler's long-running lane (calls past 20 s)."""
    def query(self, soql: str, *, include_deleted: bool = False) -> QueryIterator:
        """The records of a SOQL query as dicts, fetched page by page as the loop asks for
        them (``queryAll`` with ``include_deleted``). Dates stay Salesforce's strings."""
    def query_cached(self, soql: str, ttl: float) -> list[_Record]:
        """All records of a small reference query, kept ``ttl`` seconds; concurrent callers
        share one load."""
    def create(self, object: str, record: Mapping[str, Any]) -> str:
        """Creates a record; returns its id. Never retried once it may have reached Salesforce."""
    def get(self, object: str, id: str, fields: Sequence[str] | None = None) -> _Record:
        """Reads a record (every field unless ``fields``); ``NotFoundError`` if absent."""
    def update(self, object: str, id: str, fields: Mapping[str, Any]) -> None:
        """Updates the given fields (``None`` clears a field)."""
    def delete(self, object: str, id: str) -> None:
        """Deletes a record."""
    def upsert(self, object: str, external_id_field: str, value: Any, record: Mapping[str, Any]) -> dict[str, Any]:
        """Inserts or updates the record whose ``external_id_field`` is ``value``; returns
        ``{"id", "created"}``. Several matches raise ``InvalidInputError`` (``MULTIPLE_CHOICES``)."""
    def create_many(
        self, object: str, records: Iterable[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """sObject Collections, 200 records per call: one result per input record, in order,
        ``{"index", "id", "success", "created", "errors", "error"}`` where ``error`` is the
        ``SfscaleError`` (with ``.row``) of a failed record. ``update_many``, ``upsert_many`` and
        ``delete_many`` answer the same way."""
    def update_many(
        self, object: str, records: Iterable[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]: ...
    def upsert_many(
        self, object: str, external_id_field: str, records: Iterable[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]: ...
    def delete_many(self, ids: Sequence[str], *, all_or_none: bool = False) -> list[dict[str, Any]]: ...
    def composite(
        self, subrequests: Iterable[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]: ...
    def describe(self, object: str | None = None) -> dict[str, Any]:
        """An object's describe, or the global describe without ``object``; cached."""
    def limits(self) -> dict[str, dict[str, int]]:
        """The org's allocations: ``{"DailyApiRequests": {"max": ..., "remaining": ...}, ...}``."""
    @property
    def bulk(self) -> Bulk: ...
    def write(
        self,
        object: str,
        operation: _Operation,
        records: Iterable[Mapping[str, Any]],
        *,
        external_id: str | None = None,
    ) -> dict[str, Any]:
        """One call for writes of any size: the core picks single calls, Collections or Bulk."""
    def queue(self, path: str | os.PathLike[str], **options: Any) -> Queue:
        """Opens (or resumes) the write-behind queue journaled at ``path``. Options: ``sync``
        (``"full"``/``"normal"``), ``batch_size``, ``linger`` (s), ``collapse_same_key``,
        ``bulk_threshold`` (``None``: never bulk), ``bulk_max_rows``, ``bulk_dir``,
        ``max_pending``, ``when_full`` (``"wait"``/``"fail"``), ``workers``,
        ``retry_backoff`` (base, cap s), ``priority``."""
    def metrics(self) -> dict[str, Any]:
        """A snapshot of the client's counters: requests by route and status, latency,
        retries, budget denials, token refreshes, cache, limits usage, gauges."""
    def prometheus(self) -> str:
        """The metrics in Prometheus text exposition format."""
    def on_event(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Calls ``callback(event)`` for each event (``kind``: ``limit_threshold``,
        ``reserve_reached``, ``throttled``, ``retry_budget_exhausted``, ``token_refreshed``,
        ``lock_contention``, ``backpressure``), from a thread of its own."""
    @property
    def token_grants(self) -> int:
        """OAuth grants performed so far."""
    def close(self) -> None:
        """Releases the client; later calls raise ``InvalidInputError``."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> Literal[False]: ...

@final
class AsyncClient:
    """An asyncio Salesforce client: every call returns an awaitable; ``query`` is ``async for``."""

    def __new__(cls, **options: Any) -> Self: ...
    @classmethod
    def from_env(cls, **options: Any) -> Self: ...
    def with_priority(self, priority: _Priority) -> AsyncClient: ...
    def long_running(self) -> AsyncClient: ...
    def query(self, soql: str, *, include_deleted: bool = False) -> AsyncQueryIterator: ...
    def query_cached(self, soql: str, ttl: float) -> Awaitable[list[_Record]]: ...
    def create(self, object: str, record: Mapping[str, Any]) -> Awaitable[str]: ...
    def get(self, object: str, id: str, fields: Sequence[str] | None = None) -> Awaitable[_Record]: ...
    def update(self, object: str, id: str, fields: Mapping[str, Any]) -> Awaitable[None]: ...
    def delete(self, object: str, id: str) -> Awaitable[None]: ...
    def upsert(
        self, object: str, external_id_field: str, value: Any, record: Mapping[str, Any]
    ) -> Awaitable[dict[str, Any]]: ...
    def create_many(
        self, object: str, records: Iterable[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> Awaitable[list[dict[str, Any]]]: ...
    def update_many(
        self, object: str, records: Iterable[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> Awaitable[list[dict[str, Any]]]: ...
    def upsert_many(
        self, object: str, external_id_field: str, records: Iterable[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> Awaitable[list[dict[str, Any]]]: ...
    def delete_many(self, ids: Sequence[str], *, all_or_none: bool = False) -> Awaitable[list[dict[str, Any]]]: ...
    def composite(
        self, subrequests: Iterable[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> Awaitable[list[dict[str, Any]]]: ...
    def describe(self, object: str | None = None) -> Awaitable[dict[str, Any]]: ...
    def limits(self) -> Awaitable[dict[str, dict[str, int]]]: ...
    @property
    def bulk(self) -> AsyncBulk: ...
    def write(
        self,
        object: str,
        operation: _Operation,
        records: Iterable[Mapping[str, Any]],
        *,
        external_id: str | None = None,
    ) -> Awaitable[dict[str, Any]]: ...
    def queue(self, path: str | os.PathLike[str], **options: Any) -> Awaitable[AsyncQueue]:
        """An awaitable of the opened :class:`AsyncQueue` (options as ``Client.queue``)."""
    def metrics(self) -> dict[str, Any]: ...
    def prometheus(self) -> str: ...
    def on_event(self, callback: Callable[[dict[str, Any]], Any]) -> None: ...
    @property
    def token_grants(self) -> int: ...
    def close(self) -> Awaitable[None]: ...
    def __aenter__(self) -> Awaitable[Self]: ...
    def __aexit__(self, *_exc: object) -> Awaitable[Literal[False]]: ...

def error_kinds() -> list[str]:
    """The core's error kind names (each maps to one ``SfscaleError`` subclass)."""

def make_error(kind: str, code: str, message: str) -> Any:
    """The exception the core would raise for ``kind`` and ``code``."""

def set_log_level(level: int) -> None:
    """Forwards core log events at ``level`` (a :mod:`logging` level) and above. Default: INFO."""
