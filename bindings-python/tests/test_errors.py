"""Every core error kind maps to one exception class; real failures arrive as the right family."""

from __future__ import annotations

import pickle

import pytest

import sfscale
from conftest import Emulator
from sfscale import _sfscale, errors


def test_every_core_kind_maps_to_its_own_class() -> None:
    kinds = _sfscale.error_kinds()
    assert len(kinds) >= 11
    classes = {kind: errors.error_class(kind) for kind in kinds}
    assert len(set(classes.values())) == len(kinds), "two kinds share a class"
    for kind, cls in classes.items():
        assert cls is not sfscale.SfscaleError and issubclass(cls, sfscale.SfscaleError)
        assert getattr(sfscale, cls.__name__) is cls, f"{cls.__name__} is not exported"
        raised = _sfscale.make_error(kind, "SOME_CODE", "something failed")
        assert type(raised) is cls, kind
        assert (raised.code, raised.message) == ("SOME_CODE", "something failed")


def test_errors_pickle_with_their_fields() -> None:
    error = _sfscale.make_error("Lock", "UNABLE_TO_LOCK_ROW", "locked")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is sfscale.LockError and copy.code == "UNABLE_TO_LOCK_ROW"


def test_families_are_also_the_matching_builtins() -> None:
    assert issubclass(sfscale.TimeoutError, TimeoutError)
    assert issubclass(sfscale.NetworkError, ConnectionError)
    assert issubclass(sfscale.InvalidInputError, ValueError)
    assert issubclass(sfscale.NotFoundError, LookupError)


def test_bad_configuration_names_the_setting(fresh: Emulator) -> None:
    with pytest.raises(sfscale.ConfigError, match="query_batch_size"):
        sfscale.Client(**fresh.options(query_batch_size=10))
    with pytest.raises(sfscale.ConfigError, match="instance_url"):
        sfscale.Client(**fresh.options(instance_url="http://example.com"))
    with pytest.raises(TypeError, match="no_such_setting"):
        sfscale.Client(**fresh.options(no_such_setting=1))


def test_wrong_secret_is_an_auth_error(fresh: Emulator) -> None:
    with sfscale.Client(**fresh.options(client_secret="wrong")) as client:
        with pytest.raises(sfscale.AuthError) as caught:
            client.limits()
    assert "wrong" not in str(caught.value)


def test_bad_soql_is_invalid_input_with_status(fresh: Emulator) -> None:
    with sfscale.Client(**fresh.options()) as client:
        with pytest.raises(sfscale.InvalidInputError) as caught:
            list(client.query("SELECT NoSuchField__c FROM Account"))
    assert caught.value.status == 400 and caught.value.code


def test_missing_required_field_carries_fields(fresh: Emulator) -> None:
    with sfscale.Client(**fresh.options()) as client:
        with pytest.raises(sfscale.InvalidInputError) as caught:
            client.create("Account", {"Description": "no name"})
    assert caught.value.code == "REQUIRED_FIELD_MISSING"
    assert "Name" in caught.value.fields
    assert caught.value.operation == "create" and caught.value.object == "Account"


def test_daily_limit_reserve_is_a_limit_error(fresh: Emulator) -> None:
    fresh.limits({"daily_api_requests": 10})
    with sfscale.Client(**fresh.options(reserve=0.5, pace_band=0.0)) as client:
        background = client.with_priority("background")
        with pytest.raises(sfscale.LimitError) as caught:
            for i in range(10):
                background.create("Account", {"Name": f"bg-{i}"})
    assert caught.value.code == "LIMIT_RESERVE_REACHED"
    assert fresh.stats()["errors_by_code"].get("REQUEST_LIMIT_EXCEEDED", 0) == 0


def test_refused_connection_is_a_network_error() -> None:
    with sfscale.Client(
        instance_url="http://127.0.0.1:9",
        client_id="id",
        client_secret="secret",
        retry_max_attempts=1,
    ) as client:
        with pytest.raises(sfscale.NetworkError):
            client.limits()


def test_server_errors_after_retries_are_server_errors(fresh: Emulator) -> None:
    with sfscale.Client(**fresh.options(retry_max_attempts=2)) as client:
        client.limits()
        fresh.faults({"seed": 1, "rules": [{"route": "limits", "share": 1.0, "effect": "500"}]})
        with pytest.raises(sfscale.ServerError) as caught:
            client.limits()
    assert caught.value.status == 500


@pytest.mark.parametrize(
    ("effect", "route", "family", "code"),
    [
        ("lock", "sobjects", sfscale.LockError, "UNABLE_TO_LOCK_ROW"),
        ("concurrent-limit", "sobjects", sfscale.LimitError, "REQUEST_LIMIT_EXCEEDED"),
        ("query-timeout", "query", sfscale.TimeoutError, "QUERY_TIMEOUT"),
    ],
)
def test_salesforce_failures_arrive_as_their_family(
    fresh: Emulator, effect: str, route: str, family: type[sfscale.SfscaleError], code: str
) -> None:
    with sfscale.Client(**fresh.options(retry_max_attempts=1)) as client:
        client.limits()
        fresh.faults({"seed": 1, "rules": [{"route": route, "share": 1.0, "effect": effect}]})
        with pytest.raises(family) as caught:
            if route == "query":
                list(client.query("SELECT Id FROM Account"))
            else:
                client.create("Account", {"Name": "x"})
    assert caught.value.code == code
