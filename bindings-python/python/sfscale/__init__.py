"""sfscale: a Salesforce API client that keeps integrations alive under high traffic.

One Rust core makes every decision — the daily-limit guard and its reserve, the scheduler,
retry budgets, token sharing, caching, Bulk API 2.0 planning — and this package gives it a
Python face:

    import sfscale

    with sfscale.Client.from_env() as sf:
        for account in sf.query("SELECT Id, Name FROM Account"):
            ...
        result = sf.bulk.ingest("Contact", "upsert", rows, external_id="Ext_Id__c")
        with sf.queue("writes.sqlite") as queue:       # durable write-behind
            queue.enqueue("Account", "upsert", record, external_id="Ext_Id__c")

    async with sfscale.AsyncClient(instance_url=..., client_id=..., client_secret=...) as sf:
        async for account in sf.query("SELECT Id FROM Account"):
            ...

Errors are :class:`SfscaleError` subclasses, one per family (see :mod:`sfscale.errors`). The
core's ``tracing`` events reach the standard :mod:`logging` module under the ``sfscale``
logger (level set with :func:`set_log_level`).
"""

from sfscale._sfscale import (
    AsyncBulk,
    AsyncClient,
    AsyncQueryIterator,
    AsyncQueue,
    Bulk,
    Client,
    QueryIterator,
    Queue,
    Soql,
    error_kinds,
    set_log_level,
    soql,
)
from sfscale.errors import (
    AuthError,
    BackpressureError,
    ConfigError,
    InvalidInputError,
    LimitError,
    LockError,
    NetworkError,
    NotFoundError,
    SalesforceError,
    ServerError,
    SfscaleError,
    TimeoutError,
    error_class,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncBulk",
    "AsyncClient",
    "AsyncQueryIterator",
    "AsyncQueue",
    "AuthError",
    "BackpressureError",
    "Bulk",
    "Client",
    "ConfigError",
    "InvalidInputError",
    "LimitError",
    "LockError",
    "NetworkError",
    "NotFoundError",
    "QueryIterator",
    "Queue",
    "SalesforceError",
    "ServerError",
    "SfscaleError",
    "Soql",
    "TimeoutError",
    "error_class",
    "error_kinds",
    "set_log_level",
    "soql",
]
