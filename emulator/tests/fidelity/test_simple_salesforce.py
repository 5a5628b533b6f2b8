"""simple-salesforce (PyPI, unmodified) against the emulator: what a real org would return.

Each test drives the library's public API and checks both what the library hands back and
what the emulator counted, so a response shape the library cannot parse fails here.
"""

from __future__ import annotations

import csv
import io

import pytest
from conftest import API_VERSION, CLIENT_ID, CLIENT_SECRET, JWT_KEY, USERNAME
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)


def test_password_grant_then_instance_url_from_token_response(fresh, sf):
    assert sf.sf_instance == fresh.netloc
    assert sf.session_id.startswith("00D")
    assert fresh.stats()["token_grants"]["password"] == 1


def test_jwt_bearer_grant_signed_by_pyjwt(fresh, session):
    sf = Salesforce(
        username=USERNAME,
        consumer_key=CLIENT_ID,
        privatekey_file=str(JWT_KEY),
        session=session,
        version=API_VERSION,
    )
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert fresh.stats()["token_grants"]["jwt_bearer"] == 1


def test_client_credentials_grant_on_my_domain(fresh, session):
    sf = Salesforce(
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        domain="sfscale-emulator.my",
        session=session,
        version=API_VERSION,
    )
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert fresh.stats()["token_grants"]["client_credentials"] == 1


def test_bad_password_is_an_authentication_failure(fresh, session):
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username=USERNAME,
            password="wrong",
            consumer_key=CLIENT_ID,
            consumer_secret=CLIENT_SECRET,
            session=session,
        )
    assert "invalid_grant" in str(failure.value)


def test_crud_and_upsert_by_external_id(fresh, sf):
    accounts = (
        sf.Account
    )  # each attribute access builds a new SFType; keep one for api_usage
    created = accounts.create({"Name": "Acme", "External_Id__c": "ACME-1"})
    assert (
        created["success"] is True
        and created["id"].startswith("001")
        and len(created["id"]) == 18
    )
    account_id = created["id"]
    assert accounts.get(account_id)["Name"] == "Acme"
    assert accounts.update(account_id, {"Industry": "Energy"}) == 204
    assert accounts.get_by_custom_id("External_Id__c", "ACME-1")["Industry"] == "Energy"
    assert accounts.upsert("External_Id__c/ACME-1", {"Name": "Acme Corp"}) == 200
    assert accounts.upsert("External_Id__c/ACME-2", {"Name": "Globex"}) == 201
    assert accounts.delete(account_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        accounts.get(account_id)
    assert fresh.stats()["records"]["Account"] == 1
    usage = accounts.api_usage["api-usage"]
    assert usage.used == fresh.stats()["api_requests"] - 1 and usage.total == 100_000


def test_query_pages_with_next_records_url(fresh, sf):
    fresh.control(
        "POST",
        "load",
        {
            "object": "Account",
            "records": [{"Name": f"Account {i:04d}"} for i in range(4500)],
        },
    )
    first = sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    assert first["totalSize"] == 4500 and first["done"] is False
    assert first["nextRecordsUrl"].startswith(f"/services/data/v{API_VERSION}/query/")
    everything = sf.query_all("SELECT Id, Name FROM Account ORDER BY Name")
    names = [r["Name"] for r in everything["records"]]
    assert (
        len(names) == 4500
        and names[0] == "Account 0000"
        and names[-1] == "Account 4499"
    )
    assert everything["records"][0]["attributes"]["type"] == "Account"
    assert fresh.stats()["requests_by_route"]["query"] >= 1 + 3


def test_parent_fields_and_malformed_soql(fresh, sf):
    parent = sf.Account.create({"Name": "Parent"})["id"]
    sf.Contact.create({"LastName": "Child", "AccountId": parent})
    record = sf.query("SELECT LastName, Account.Name FROM Contact")["records"][0]
    assert record["Account"]["Name"] == "Parent"
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.query("SELECT Id FORM Account")
    assert bad.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_bulk2_insert_then_bulk2_query(fresh, sf):
    rows = [{"Name": f"Bulk {i}", "External_Id__c": f"B-{i}"} for i in range(2500)]
    results = sf.bulk2.Account.insert(records=rows, wait=0.1)
    assert sum(r["numberRecordsProcessed"] for r in results) == 2500
    assert sum(r["numberRecordsFailed"] for r in results) == 0
    pages = list(
        sf.bulk2.Account.query(
            "SELECT Id, Name, External_Id__c FROM Account", max_records=1000, wait=0.1
        )
    )
    assert len(pages) == 3
    parsed = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(parsed) == 2500 and {r["External_Id__c"] for r in parsed} == {
        f"B-{i}" for i in range(2500)
    }
    assert fresh.stats()["records"]["Account"] == 2500


def test_bulk2_failed_rows_come_back_with_salesforce_errors(fresh, sf):
    rows = [
        {"Name": "Good", "NumberOfEmployees": "5"},
        {"Name": "", "NumberOfEmployees": "7"},
        {"Name": "Bad type", "NumberOfEmployees": "many"},
    ]
    result = sf.bulk2.Account.insert(records=rows, wait=0.1)[0]
    assert result["numberRecordsFailed"] == 2
    failed = sf.bulk2.Account.get_failed_records(result["job_id"])
    errors = sorted(row["sf__Error"] for row in csv.DictReader(io.StringIO(failed)))
    assert errors[0].startswith("INVALID_TYPE_ON_FIELD_IN_RECORD:")
    assert errors[1].startswith("REQUIRED_FIELD_MISSING:")
    assert fresh.stats()["records"]["Account"] == 1
