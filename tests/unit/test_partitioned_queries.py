"""moto's Query handed one partition answers exactly as moto walking the whole table does.

Random tables with a sparse index, random queries (key conditions, both orders, limits, pages through
ExclusiveStartKey, filter expressions, projections) and writes between them (puts, updates moving an
item between index partitions, deletes): every page and count agrees with moto unpatched.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.stack import partitioned_queries

Query = dict[str, Any]


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": kind}
                for name, kind in (("pk", "S"), ("sk", "S"), ("day", "S"), ("value", "N"))
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_value",
                    "KeySchema": [
                        {"AttributeName": "day", "KeyType": "HASH"},
                        {"AttributeName": "value", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["tag"]},
                }
            ],
        )
        yield client


def random_item(rng: random.Random, number: int) -> dict[str, Any]:
    item = {
        "pk": {"S": f"p{rng.randrange(3)}"},
        "sk": {"S": f"{number:05d}"},
        "tag": {"S": rng.choice("abc")},
        "other": {"S": "x" * rng.randrange(50)},
    }
    if rng.random() < 0.8:  # the index is sparse: some items carry no day
        item["day"] = {"S": f"d{rng.randrange(4)}"}
        item["value"] = {"N": str(rng.randrange(10))}  # ties on purpose
    return item


def random_query(rng: random.Random) -> Query:
    if rng.random() < 0.5:
        query: Query = {
            "IndexName": "by_value",
            "KeyConditionExpression": "#h = :h",
            "ExpressionAttributeNames": {"#h": "day"},
            "ExpressionAttributeValues": {":h": {"S": f"d{rng.randrange(5)}"}},
        }
        if rng.random() < 0.5:
            query["KeyConditionExpression"] += " AND #r BETWEEN :lo AND :hi"
            query["ExpressionAttributeNames"]["#r"] = "value"
            low = rng.randrange(10)
            query["ExpressionAttributeValues"] |= {":lo": {"N": str(low)}, ":hi": {"N": str(low + rng.randrange(5))}}
    else:
        query = {
            "KeyConditionExpression": "#h = :h",
            "ExpressionAttributeNames": {"#h": "pk"},
            "ExpressionAttributeValues": {":h": {"S": f"p{rng.randrange(4)}"}},
        }
        if rng.random() < 0.5:
            query["KeyConditionExpression"] += " AND #r > :after"
            query["ExpressionAttributeNames"]["#r"] = "sk"
            query["ExpressionAttributeValues"][":after"] = {"S": f"{rng.randrange(200):05d}"}
    if rng.random() < 0.3:
        query["FilterExpression"] = "#t = :t"
        query["ExpressionAttributeNames"]["#t"] = "tag"
        query["ExpressionAttributeValues"][":t"] = {"S": rng.choice("ab")}
    return query | {"ScanIndexForward": rng.random() < 0.5, "Limit": rng.choice([1, 3, 7, 50])}


def pages(client: Any, query: Query) -> list[dict[str, Any]]:
    answers = []
    request = dict(query)
    while True:
        answer = client.query(TableName="t", **request)
        answer.pop("ResponseMetadata")
        answers.append(answer)
        if "LastEvaluatedKey" not in answer:
            return answers
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def both_ways(action: Callable[[], Any]) -> tuple[Any, Any]:
    partitioned_queries.install()
    try:
        fast = action()
    finally:
        partitioned_queries.uninstall()
    walked = action()
    return fast, walked


@pytest.mark.parametrize("seed", range(3))
def test_every_page_and_count_is_what_moto_walking_the_table_answers(table: Any, seed: int) -> None:
    installed_before = bool(partitioned_queries._originals)
    partitioned_queries.uninstall()
    rng = random.Random(seed)
    try:
        for number in range(200):
            table.put_item(TableName="t", Item=random_item(rng, number))
        for step in range(60):
            query = random_query(rng)
            fast, walked = both_ways(lambda query=query: pages(table, query))
            assert fast == walked, query
            # A write between queries: the partition maps must not answer from before it.
            partitioned_queries.install()
            try:
                item = random_item(rng, rng.randrange(220))
                if step % 3 == 0:
                    table.delete_item(TableName="t", Key={"pk": item["pk"], "sk": item["sk"]})
                elif step % 3 == 1:
                    table.put_item(TableName="t", Item=item)
                else:  # moves an existing item to another index partition, in place
                    table.update_item(
                        TableName="t",
                        Key={"pk": item["pk"], "sk": item["sk"]},
                        UpdateExpression="SET #d = :d, #v = :v",
                        ExpressionAttributeNames={"#d": "day", "#v": "value"},
                        ExpressionAttributeValues={":d": {"S": f"d{rng.randrange(4)}"}, ":v": {"N": "5"}},
                    )
            finally:
                partitioned_queries.uninstall()
    finally:
        if installed_before:
            partitioned_queries.install()
