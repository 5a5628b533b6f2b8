"""Python values to Salesforce formats and back, and clear errors for the rest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import sfscale


def test_typed_values_are_written_in_salesforce_formats(client: sfscale.Client) -> None:
    when = dt.datetime(2024, 5, 1, 14, 30, 5, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    opp_id = client.create(
        "Opportunity",
        {
            "Name": "Deal",
            "StageName": "Prospecting",
            "CloseDate": dt.date(2024, 6, 30),
            "Amount": Decimal("1234.50"),
            "Probability": 12.5,
        },
    )
    opp = client.get("Opportunity", opp_id, ["CloseDate", "Amount", "Probability"])
    assert opp["CloseDate"] == "2024-06-30"
    assert opp["Amount"] == 1234.5
    account_id = client.create("Account", {"Name": "Dated", "Description": None})
    client.update("Account", account_id, {"Description": when.isoformat()})
    record = client.get("Account", account_id, ["Description"])
    assert record["Description"] == when.isoformat()


def test_datetime_binds_in_utc_in_soql() -> None:
    when = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    text = sfscale.soql("Account", ["Id"]).where_cmp("CreatedDate", ">", when).build()
    assert text.endswith("CreatedDate > 2024-05-01T12:30:00Z")
    assert (
        sfscale.soql("Opportunity", ["Id"])
        .where_eq("CloseDate", dt.date(2024, 6, 30))
        .build()
        .endswith("CloseDate = 2024-06-30")
    )


def test_naive_datetime_is_refused_naming_the_field(client: sfscale.Client) -> None:
    with pytest.raises(TypeError, match="field 'CloseDate'.*naive datetime"):
        client.create("Opportunity", {"Name": "x", "CloseDate": dt.datetime(2024, 1, 1)})


def test_unsupported_type_names_field_and_row(client: sfscale.Client) -> None:
    rows = [{"Name": "ok"}, {"Name": "ok"}, {"Name": {1, 2}}]
    with pytest.raises(TypeError, match="field 'Name' of row 2: unsupported type set"):
        client.create_many("Account", rows)


def test_decimal_that_cannot_be_exact_is_refused(client: sfscale.Client) -> None:
    with pytest.raises(ValueError, match="Decimal 1.2345678901234567 cannot be sent exactly"):
        client.create("Opportunity", {"Name": "x", "Amount": Decimal("1.2345678901234567")})


def test_nan_is_missing_and_infinity_is_refused(client: sfscale.Client) -> None:
    account_id = client.create("Account", {"Name": "nan", "AnnualRevenue": float("nan")})
    assert client.get("Account", account_id, ["AnnualRevenue"])["AnnualRevenue"] is None
    with pytest.raises(ValueError, match="not a finite number"):
        client.create("Account", {"Name": "inf", "AnnualRevenue": float("inf")})


def test_records_come_back_as_plain_python(client: sfscale.Client) -> None:
    client.create("Account", {"Name": "plain", "NumberOfEmployees": 7, "AnnualRevenue": 1.5})
    (record,) = client.query("SELECT Name, NumberOfEmployees, AnnualRevenue FROM Account")
    assert record["Name"] == "plain" and record["NumberOfEmployees"] == 7 and record["AnnualRevenue"] == 1.5
    assert record["attributes"]["type"] == "Account"
