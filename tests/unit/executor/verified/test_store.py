"""The stores of entries verified from chat: DynamoDB (moto) and the local YAML file. Both
keep an id once taken, retire without deleting, and record retirements of static entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from executor.config import VerifiedConfig
from executor.verified.fingerprint import Fingerprint
from executor.verified.store import (
    RETIRED,
    DynamoVerifiedStore,
    EntryExists,
    StoredEntry,
    VerifiedStore,
    YamlVerifiedStore,
    open_verified_store,
)

TABLE = "databot-verified"
FINGERPRINT = Fingerprint(("purchases",), ("number",), 1, "abc", totals=(42.0,))


def entry(entry_id: str = "purchases_in_country", question: str = "How many purchases in France?"
          ) -> StoredEntry:
    return StoredEntry(
        id=entry_id, question=question, paraphrases=("Purchases made in France",),
        intent={"metric": ["purchase"], "statistic": [""], "grouping": [], "shape": "number"},
        params={"country": {"type": "enum", "values": "country", "label": "in {value}"}},
        sql="SELECT COUNT(*) AS purchases FROM interactions", explanation="Purchases.",
        verified_by="U0REVIEW", verified_at="2026-11-21", source_job_id="Ev1",
        fingerprint=FINGERPRINT,
    )


@pytest.fixture
def dynamo_store() -> Iterator[DynamoVerifiedStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "entry_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "entry_id", "KeyType": "HASH"}],
        )
        yield DynamoVerifiedStore(TABLE, client=client)


@pytest.fixture(params=["dynamodb", "yaml"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VerifiedStore:
    if request.param == "dynamodb":
        return request.getfixturevalue("dynamo_store")
    return YamlVerifiedStore(tmp_path / "results" / "verified_entries.yaml")


def test_an_entry_put_is_read_back_whole(store: VerifiedStore) -> None:
    store.put(entry())
    assert store.get("purchases_in_country") == entry()
    assert store.entries() == [entry()]
    assert store.get("unknown") is None


def test_a_taken_id_is_refused_and_the_first_entry_stands(store: VerifiedStore) -> None:
    # GIVEN one reviewer's entry
    store.put(entry())
    # WHEN another reviewer stores another entry under the same id
    with pytest.raises(EntryExists):
        store.put(entry(question="How many purchases in Spain?"))
    # THEN the first is kept
    assert store.entries() == [entry()]


def test_retiring_keeps_the_entry_marked_with_the_reviewer(store: VerifiedStore) -> None:
    store.put(entry())
    retired = store.retire("purchases_in_country", "U0OTHER")
    assert retired.status == RETIRED and retired.retired_by == "U0OTHER" and retired.retired_at
    assert store.get("purchases_in_country") == retired
    # AND the id stays taken
    with pytest.raises(EntryExists):
        store.put(entry())


def test_retiring_a_static_entry_records_a_retirement(store: VerifiedStore) -> None:
    retired = store.retire("signups_count", "U0REVIEW")
    assert retired.id == "signups_count" and not retired.active and not retired.question
    assert store.entries() == [retired]


def test_the_library_form_is_what_the_file_holds(tmp_path: Path) -> None:
    # GIVEN an entry stored in the YAML file
    store = YamlVerifiedStore(tmp_path / "verified_entries.yaml")
    store.put(entry())
    # THEN the file is YAML with the entry, and no temporary file is left beside it
    data = yaml.safe_load((tmp_path / "verified_entries.yaml").read_text())
    assert data["entries"][0]["id"] == "purchases_in_country"
    assert [p.name for p in tmp_path.iterdir()] == ["verified_entries.yaml"]
    library = entry().to_library()
    assert library["verified_at"].isoformat() == "2026-11-21"
    assert set(library) == {"id", "intent", "question", "paraphrases", "params", "sql",
                            "explanation", "verified_by", "verified_at"}


def test_the_table_is_chosen_when_set_else_the_file(tmp_path: Path) -> None:
    path = tmp_path / "verified_entries.yaml"
    assert isinstance(open_verified_store(VerifiedConfig(path=path)), YamlVerifiedStore)
    with mock_aws():
        chosen = open_verified_store(VerifiedConfig(table=TABLE, region="us-east-1"))
        assert isinstance(chosen, DynamoVerifiedStore) and chosen.table == TABLE
