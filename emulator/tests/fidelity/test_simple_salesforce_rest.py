"""simple-salesforce (unmodified) against the emulator's wider REST surface: describe,
replication (updated/deleted), sObject Collections and Composite through `restful`."""

from __future__ import annotations

import datetime

from conftest import API_VERSION


def test_global_describe_object_describe_and_metadata(fresh, sf):
    assert any(
        o["name"] == "Account" and o["keyPrefix"] == "001"
        for o in sf.describe()["sobjects"]
    )
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["External_Id__c"]["externalId"] is True
    assert sf.Account.metadata()["objectDescribe"]["name"] == "Account"


def test_updated_and_deleted_windows(fresh, sf):
    kept = sf.Account.create({"Name": "Kept"})["id"]
    gone = sf.Account.create({"Name": "Gone"})["id"]
    assert sf.Account.delete(gone) == 204
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1)
    assert sf.Account.updated(start, end)["ids"] == [kept]
    assert [r["id"] for r in sf.Account.deleted(start, end)["deletedRecords"]] == [gone]


def test_collections_and_composite_through_restful(fresh, sf):
    records = [
        {"attributes": {"type": "Account"}, "Name": "A"},
        {"attributes": {"type": "Account"}},
    ]
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"allOrNone": False, "records": records},
    )
    assert results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    composite = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"/services/data/v{API_VERSION}/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "B"},
            },
            {
                "method": "POST",
                "url": f"/services/data/v{API_VERSION}/sobjects/Contact",
                "referenceId": "ct",
                "body": {"LastName": "C", "AccountId": "@{acct.id}"},
            },
        ],
    }
    answer = sf.restful("composite", method="POST", json=composite)
    assert [r["httpStatusCode"] for r in answer["compositeResponse"]] == [201, 201]
    assert (
        sf.query("SELECT COUNT() FROM Contact WHERE Account.Name = 'B'")["totalSize"]
        == 1
    )
    assert fresh.stats()["records"]["Account"] == 2
