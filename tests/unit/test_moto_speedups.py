"""moto with ``moto_speedups`` answers byte for byte what moto without them answers.

Random tables (every attribute type, odd number spellings, items near the 1 MB page, sparse indexes of
each projection type) read by random queries, scans, gets and batch gets, with writes of every kind in
between (puts, updates in place that change an item's size, legacy AttributeUpdates, deletes, batch
writes, PartiQL, transactions that commit and that roll back): each response body is compared as the
bytes moto sent. Then the cases built to catch a stale cache, the routing of every service the template
uses through moto's server, and what the patches leave in moto's instance list.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import responses as core_responses
from moto.core.responses import BaseResponse
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.parsing.executors import SetExecutor, UpdateExpressionExecutor
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer

from local.emulator.stream_reader import StreamReader
from local.stack import moto_speedups
from local.stack.provision import provision

Call = Callable[[], Any]

KB = 1024
REQUEST_ID = re.compile(rb"(?<=<RequestId>).*(?=</RequestId>)")
NUMBERS = ["0", "7", "-3", "0.50", "1e2", "+5", "-0", "00012", "3.14159", "1.0E+3", "123456789012345678901234567890"]


@pytest.fixture
def speedups_off() -> Iterator[None]:
    """Each test decides when the patches are on; they are back as they were afterwards."""
    installed_before = bool(moto_speedups._originals)
    moto_speedups.uninstall()
    try:
        yield
    finally:
        moto_speedups.uninstall()
        if installed_before:
            moto_speedups.install()


def both_ways(action: Call) -> tuple[Any, Any]:
    """``action`` with the patches, then without (each in a fresh moto)."""
    moto_speedups.install()
    try:
        with mock_aws():
            fast = action()
    finally:
        moto_speedups.uninstall()
    with mock_aws():
        plain = action()
    return fast, plain


class Recorder:
    """A DynamoDB client that keeps every response body, as moto wrote it, and every error."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb", region_name="us-east-1")
        self.bodies: list[Any] = []
        self.client.meta.events.register("after-call.dynamodb.*", self._keep)

    def _keep(self, http_response: Any, model: Any, **_: Any) -> None:
        # moto writes a new random request id between <RequestId> and </RequestId> wherever they appear in a
        # body, JSON ones too (a string value of ours says so): with the patches or without, as moto does.
        body = REQUEST_ID.sub(b"<RequestId>...</RequestId>", http_response.content)
        self.bodies.append((model.name, http_response.status_code, body))

    def call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.client, operation)(**params)
        except ClientError as error:
            self.bodies.append((operation, "error", error.response["Error"].get("Code")))
            return None
        except Exception as error:
            self.bodies.append((operation, "failed", type(error).__name__))
            return None


# ---------------------------------------------------------------- random tables


def create_table(client: Any) -> None:
    client.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in (("pk", "S"), ("sk", "S"), ("day", "S"), ("value", "N"), ("tag", "S"))
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_value",
                "KeySchema": [
                    {"AttributeName": "day", "KeyType": "HASH"},
                    {"AttributeName": "value", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["tag", "flag", "big", "n"]},
            },
            {
                "IndexName": "keys_by_day",
                "KeySchema": [{"AttributeName": "day", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "by_tag",
                "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "local_tag",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "tag", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["n", "m"]},
            }
        ],
    )


def random_value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kinds = ["S", "N", "BOOL", "NULL", "B", "SS", "NS"] + (["L", "M"] if depth < 2 else [])
    # moto fails to project an item holding a binary set (boto3 refuses the base64 text it hands over):
    # rare, so that most projections answer.
    kind = "BS" if rng.random() < 0.02 else rng.choice(kinds)
    if kind == "S":
        return {"S": rng.choice(["", "x", "é€😀", "a<RequestId>b</RequestId>", "q" * rng.randrange(40)])}
    if kind == "N":
        return {"N": rng.choice(NUMBERS)}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "B":
        return {"B": bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))}
    if kind == "SS":
        return {"SS": sorted({rng.choice("abcdef") * rng.randrange(1, 4) for _ in range(3)})}
    if kind == "NS":
        return {"NS": sorted({rng.choice(NUMBERS[:6]) for _ in range(3)})}
    if kind == "BS":
        return {"BS": [b"\x00", b"\xff\x01"][: rng.randrange(1, 3)]}
    if kind == "L":
        return {"L": [random_value(rng, depth + 1) for _ in range(rng.randrange(3))]}
    return {"M": {f"k{position}": random_value(rng, depth + 1) for position in range(rng.randrange(3))}}


def random_item(rng: random.Random, number: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": f"p{rng.randrange(3)}"},
        "sk": {"S": f"{number:05d}"},
        "n": {"N": rng.choice(NUMBERS)},
        "other": {"S": "x" * rng.randrange(50)},
    }
    if rng.random() < 0.8:
        item["tag"] = {"S": rng.choice("abc")}
    if rng.random() < 0.8:  # the indexes are sparse: some items carry no day
        item["day"] = {"S": f"d{rng.randrange(3)}"}
        item["value"] = {"N": str(rng.randrange(10))}  # ties on purpose
    if rng.random() < 0.5:  # plain items (strings, numbers, booleans, nulls) and the rest
        item["flag"] = {"BOOL": rng.random() < 0.5}
        item["nothing"] = {"NULL": True}
    else:
        for position in range(rng.randrange(1, 4)):
            item[f"v{position}"] = random_value(rng)
        item["m"] = {"M": {"a": random_value(rng), "b": {"L": [random_value(rng)]}}}
        item["l"] = {"L": [random_value(rng), random_value(rng)]}
    if rng.random() < 0.15:  # a few big ones: pages end at 1 MB, not at Limit
        item["big"] = {"S": "B" * rng.randrange(100 * KB, 300 * KB)}
    return item


def random_read(rng: random.Random) -> tuple[str, dict[str, Any]]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    params: dict[str, Any] = {"TableName": "t"}
    choice = rng.random()
    if choice < 0.5:
        index = rng.choice([None, "by_value", "keys_by_day", "by_tag", "local_tag"])
        if index in ("by_value", "keys_by_day"):
            names["#h"], values[":h"] = "day", {"S": f"d{rng.randrange(4)}"}
        elif index == "by_tag":
            names["#h"], values[":h"] = "tag", {"S": rng.choice("abcd")}
        else:
            names["#h"], values[":h"] = "pk", {"S": f"p{rng.randrange(4)}"}
        condition = "#h = :h"
        if index == "by_value" and rng.random() < 0.5:
            names["#r"] = "value"
            low = rng.randrange(10)
            values |= {":lo": {"N": str(low)}, ":hi": {"N": str(low + rng.randrange(5))}}
            condition += " AND #r BETWEEN :lo AND :hi"
        elif index is None and rng.random() < 0.6:
            names["#r"] = "sk"
            values |= {":lo": {"S": f"{rng.randrange(200):05d}"}, ":hi": {"S": f"{rng.randrange(100, 300):05d}"}}
            condition += rng.choice([" AND #r BETWEEN :lo AND :hi", " AND #r > :lo", " AND begins_with(#r, :lo)"])
            if "begins_with" in condition:
                values[":lo"] = {"S": f"00{rng.randrange(3)}"}
                values.pop(":hi")
            elif ">" in condition:
                values.pop(":hi")
        params |= {"KeyConditionExpression": condition, "ScanIndexForward": rng.random() < 0.5}
        if index:
            params["IndexName"] = index
        operation = "query"
    else:
        operation = "scan"
        if rng.random() < 0.3:
            params["IndexName"] = rng.choice(["by_value", "keys_by_day", "by_tag"])
    if rng.random() < 0.3:
        names["#f"] = "n"
        values[":f"] = {"N": rng.choice(NUMBERS[:5])}
        params["FilterExpression"] = rng.choice(["#f > :f", "#f = :f", "attribute_exists(#f)"])
        if "attribute_exists" in params["FilterExpression"]:
            values.pop(":f")
    if rng.random() < 0.3 and params.get("IndexName") in (None, "by_tag"):
        paths = rng.sample(["#p1", "#p2", "m.a", "l[0]", "#p3", "m.b[0]"], rng.randrange(1, 4))
        names |= {"#p1": "sk", "#p2": "n", "#p3": "flag"}
        params["ProjectionExpression"] = ", ".join(paths)
    elif rng.random() < 0.2:
        params["Select"] = "COUNT"
    if rng.random() < 0.5:
        params["Limit"] = rng.choice([1, 3, 7, 50])
    if rng.random() < 0.3:
        params["ReturnConsumedCapacity"] = rng.choice(["TOTAL", "INDEXES", "NONE"])
    used = " ".join(str(params.get(key, "")) for key in ("KeyConditionExpression", "FilterExpression"))
    used += " " + params.get("ProjectionExpression", "")
    names = {name: value for name, value in names.items() if name in used}
    if names:
        params["ExpressionAttributeNames"] = names
    if values:
        params["ExpressionAttributeValues"] = values
    return operation, params


def pages(recorder: Recorder, operation: str, params: dict[str, Any]) -> None:
    request = dict(params)
    for _ in range(100):
        answer = recorder.call(operation, **request)
        if not answer or "LastEvaluatedKey" not in answer:
            return
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def random_key(rng: random.Random, limit: int = 240) -> dict[str, Any]:
    return {"pk": {"S": f"p{rng.randrange(3)}"}, "sk": {"S": f"{rng.randrange(limit):05d}"}}


def random_write(recorder: Recorder, rng: random.Random, step: int) -> None:
    key = random_key(rng)
    kind = step % 9
    if kind == 0:
        recorder.call("put_item", TableName="t", Item=random_item(rng, int(key["sk"]["S"])), ReturnValues="ALL_OLD")
    elif kind == 1:  # in place: the item grows or shrinks by up to 300 KB
        recorder.call(
            "update_item",
            TableName="t",
            Key=key,
            UpdateExpression="SET #b = :b, #n = :n",
            ExpressionAttributeNames={"#b": "big", "#n": "n"},
            ExpressionAttributeValues={":b": {"S": "U" * rng.randrange(300 * KB)}, ":n": {"N": rng.choice(NUMBERS)}},
            ReturnValues=rng.choice(["NONE", "ALL_NEW", "UPDATED_OLD"]),
        )
    elif kind == 2:  # in place: moves it between index partitions, edits nested values, removes some
        recorder.call(
            "update_item",
            TableName="t",
            Key=key,
            UpdateExpression="SET #d = :d, #v = :v, #m = if_not_exists(#m, :m), #l = list_append(:l, :l) REMOVE #o",
            ExpressionAttributeNames={"#d": "day", "#v": "value", "#m": "m", "#l": "l", "#o": "other"},
            ExpressionAttributeValues={
                ":d": {"S": f"d{rng.randrange(3)}"},
                ":v": {"N": str(rng.randrange(10))},
                ":m": {"M": {"a": {"S": "new"}}},
                ":l": {"L": [{"S": "e"}]},
            },
            ReturnValues="ALL_OLD",
        )
    elif kind == 3:  # in place: numbers and sets
        recorder.call(
            "update_item",
            TableName="t",
            Key=key,
            UpdateExpression="ADD #c :one, #s :s",
            ExpressionAttributeNames={"#c": "counter", "#s": "strings"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":s": {"SS": [rng.choice("xyz") * 1000]}},
        )
    elif kind == 4:  # in place, the legacy way
        recorder.call(
            "update_item",
            TableName="t",
            Key=key,
            AttributeUpdates={
                "big": {"Action": "PUT", "Value": {"S": "A" * rng.randrange(200 * KB)}},
                "other": {"Action": "DELETE"},
                "counter": {"Action": "ADD", "Value": {"N": "5"}},
            },
        )
    elif kind == 5:
        recorder.call("delete_item", TableName="t", Key=key, ReturnValues="ALL_OLD")
    elif kind == 6:
        items = {int(random_key(rng)["sk"]["S"]) for _ in range(5)}
        requests_ = [{"PutRequest": {"Item": random_item(rng, number)}} for number in sorted(items)]
        recorder.call("batch_write_item", RequestItems={"t": requests_})
    elif kind == 7:  # a transaction, which moto rolls back by putting deep copies of the tables in place
        other = random_key(rng)
        condition = rng.choice(["attribute_exists(pk)", "attribute_not_exists(pk)"])
        recorder.call(
            "transact_write_items",
            TransactItems=[
                {
                    "Put": {
                        "TableName": "t",
                        "Item": random_item(rng, int(key["sk"]["S"])),
                        "ConditionExpression": condition,
                    }
                },
                {
                    "Update": {
                        "TableName": "t",
                        "Key": other if other != key else random_key(rng, 9),
                        "UpdateExpression": "SET #b = :b",
                        "ExpressionAttributeNames": {"#b": "big"},
                        "ExpressionAttributeValues": {":b": {"S": "T" * rng.randrange(150 * KB)}},
                    }
                },
            ],
        )
    else:
        recorder.call(
            "execute_statement",
            Statement="UPDATE t SET other = ? WHERE pk = ? AND sk = ?",
            Parameters=[{"S": "p" * rng.randrange(100)}, key["pk"], key["sk"]],
        )


def random_point_reads(recorder: Recorder, rng: random.Random) -> None:
    key = random_key(rng)
    projection = rng.choice([None, "#a, #b", "m.a, #a", "l[1]"])
    params: dict[str, Any] = {"TableName": "t", "Key": key, "ConsistentRead": rng.random() < 0.5}
    if projection:
        params["ProjectionExpression"] = projection
        names = {"#a": "n", "#b": "flag"}
        params["ExpressionAttributeNames"] = {name: value for name, value in names.items() if name in projection}
        if not params["ExpressionAttributeNames"]:
            del params["ExpressionAttributeNames"]
    if rng.random() < 0.3:
        params["ReturnConsumedCapacity"] = rng.choice(["TOTAL", "INDEXES", "NONE"])
    recorder.call("get_item", **params)
    keys = {tuple(sorted((name, value["S"]) for name, value in random_key(rng).items())) for _ in range(12)}
    batch: dict[str, Any] = {"Keys": [{name: {"S": value} for name, value in key} for key in sorted(keys)]}
    if rng.random() < 0.5:
        batch |= {"ProjectionExpression": "#a, sk, m.a", "ExpressionAttributeNames": {"#a": "n"}}
    recorder.call("batch_get_item", RequestItems={"t": batch})


def random_session(seed: int) -> list[Any]:
    rng = random.Random(seed)
    recorder = Recorder()
    create_table(recorder.client)
    recorder.bodies.clear()  # a table description carries the time it was created
    for number in range(160):
        recorder.call("put_item", TableName="t", Item=random_item(rng, number))
    for step in range(70):
        operation, params = random_read(rng)
        pages(recorder, operation, params)
        random_point_reads(recorder, rng)
        random_write(recorder, rng, step)  # the reads after it must not answer from before it
    return recorder.bodies


@pytest.mark.parametrize("seed", range(3))
def test_every_response_is_the_bytes_moto_answers_without_the_patches(speedups_off: None, seed: int) -> None:
    fast, plain = both_ways(lambda: random_session(seed))
    assert len(fast) == len(plain)
    for position, (with_patches, without) in enumerate(zip(fast, plain, strict=True)):
        assert with_patches == without, f"call {position}: {without[0]}"
    # The sessions reached what they are about: pages cut at 1 MB, and calls moto refused.
    assert any(b'"LastEvaluatedKey"' in body for _, status, body in plain if status == 200)
    assert any(status == "error" for _, status, _ in plain)
    assert sum(status == 200 for _, status, _ in plain) > 0.9 * len(plain)


# ---------------------------------------------------------------- stale caches


def paging_after_an_item_grows() -> list[Any]:
    """Pages of one partition of 100 KB items before and after one, then another, grows to 280 KB in place."""
    recorder = Recorder()
    create_table(recorder.client)
    for number in range(12):
        item = {"pk": {"S": "p"}, "sk": {"S": f"{number:05d}"}, "big": {"S": "b" * 100 * KB}}
        recorder.call("put_item", TableName="t", Item=item)
    recorder.bodies.clear()
    query = {"TableName": "t", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p"}}}
    before = recorder.client.query(**query, Select="COUNT")
    recorder.client.update_item(
        TableName="t",
        Key={"pk": {"S": "p"}, "sk": {"S": "00003"}},
        UpdateExpression="SET big = :b",
        ExpressionAttributeValues={":b": {"S": "g" * 280 * KB}},
    )
    after = recorder.client.query(**query, Select="COUNT")
    recorder.client.update_item(  # the legacy path changes the item in place too
        TableName="t",
        Key={"pk": {"S": "p"}, "sk": {"S": "00004"}},
        AttributeUpdates={"big": {"Action": "PUT", "Value": {"S": "h" * 280 * KB}}},
    )
    last = recorder.client.query(**query, Select="COUNT")
    return [before["Count"], after["Count"], last["Count"], recorder.bodies]


def test_an_update_in_place_moves_the_next_query_page_end(speedups_off: None) -> None:
    fast, plain = both_ways(paging_after_an_item_grows)
    assert fast == plain
    counts = plain[:3]
    assert counts[0] > counts[1] > counts[2], "each growth must cut the first 1 MB page shorter"


def test_a_size_computed_during_an_update_is_not_reused(speedups_off: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another request may ask an item's size while an update is halfway through it (moto takes no lock)."""
    moto_speedups.install()
    original_set = SetExecutor.execute
    seen: list[Item] = []

    def set_then_measure(self: SetExecutor, item: Item) -> None:
        original_set(self, item)
        seen.append(item)
        item.size()  # between the two SET actions

    monkeypatch.setattr(SetExecutor, "execute", set_then_measure)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        client.put_item(TableName="t", Item={"pk": {"S": "p"}, "sk": {"S": "1"}})
        client.update_item(
            TableName="t",
            Key={"pk": {"S": "p"}, "sk": {"S": "1"}},
            UpdateExpression="SET a = :a, b = :b",
            ExpressionAttributeValues={":a": {"S": "a" * 1000}, ":b": {"S": "b" * 5000}},
        )
        (item, _) = seen
        measured = moto_speedups._originals[(Item, "size")](item)
        assert measured > 6000
        assert item.size() == measured


def test_install_and_uninstall_are_idempotent_and_restore_moto(speedups_off: None) -> None:
    owners = [
        Item,
        DynamoType,
        UpdateExpressionExecutor,
        DynamoHandler,
        DynamoDBBackend,
        BaseResponse,
        DomainDispatcherApplication,
        core_responses,
        dynamodb_responses,
    ]
    before = [dict(vars(owner)) for owner in owners]
    moto_speedups.install()
    replaced = dict(moto_speedups._originals)
    assert {owner for owner, _ in replaced} == set(owners)
    moto_speedups.install()
    assert moto_speedups._originals == replaced
    assert [dict(vars(owner)) for owner in owners] != before
    moto_speedups.uninstall()
    moto_speedups.uninstall()
    assert [dict(vars(owner)) for owner in owners] == before


# ---------------------------------------------------------------- what moto keeps


def tracked_after_reads() -> tuple[int, int]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client)
    start = len(Item.instances_tracked)
    rng = random.Random(5)
    for number in range(40):
        client.put_item(TableName="t", Item=random_item(rng, number))
    stored = len(Item.instances_tracked) - start
    for _ in range(5):
        client.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p1"}})
        client.query(
            TableName="t",
            IndexName="by_value",
            KeyConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "day"},
            ExpressionAttributeValues={":d": {"S": "d1"}},
        )
        client.scan(TableName="t", ProjectionExpression="sk, n")
        client.get_item(TableName="t", Key={"pk": {"S": "p1"}, "sk": {"S": "00001"}}, ProjectionExpression="n")
    return stored, len(Item.instances_tracked) - start


def test_reads_leave_no_copies_in_motos_instance_list(speedups_off: None) -> None:
    (stored, kept_fast), (_, kept_plain) = both_ways(tracked_after_reads)
    assert kept_fast == stored  # the stored items, still listed for /moto-api/data.json
    assert kept_plain > stored  # moto keeps every copy a read made


# ---------------------------------------------------------------- routing


HOSTS = [
    None,
    "moto_api",
    "instance_metadata",
    "dynamodb",
    "dynamodbstreams",
    "dynamodb_v20111205",
    "s3control",
    "sesv2",
    "sqs.us-east-1.amazonaws.com",
    "s3.us-east-1.amazonaws.com",
    "s3.amazonaws.com",
    "bucket.s3.amazonaws.com",
    "secretsmanager.us-east-1.amazonaws.com",
    "secretsmanager.eu-west-1.amazonaws.com",
    "lambda.us-east-1.amazonaws.com",
    "logs.us-east-1.amazonaws.com",
    "monitoring.us-east-1.amazonaws.com",
    "sts.amazonaws.com",
    "events.us-east-1.amazonaws.com",
    "apigateway.us-east-1.amazonaws.com",
    "cloudfront.amazonaws.com",
    "data.mediastore.us-east-1.amazonaws.com",
    "nothing.example.com",
]


def test_every_host_goes_to_the_backend_moto_picks(speedups_off: None, capsys: pytest.CaptureFixture[str]) -> None:
    expected = [DomainDispatcherApplication(create_backend_app).get_backend_for_host(host) for host in HOSTS]
    moto_speedups.install()
    dispatcher = DomainDispatcherApplication(create_backend_app)
    for _ in range(3):  # the first time asks moto, then the kept answers
        assert [dispatcher.get_backend_for_host(host) for host in HOSTS] == expected
    assert {"dynamodb", "dynamodbstreams", "sqs", "s3", "secretsmanager"} <= set(expected)
    capsys.readouterr()


@pytest.fixture
def patched_server(speedups_off: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    moto_speedups.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    try:
        yield url
    finally:
        server.stop()


def test_every_service_of_the_template_is_served_through_the_patched_server(patched_server: str) -> None:
    stack = provision()
    logs_table = stack.name("RequestLogsTable")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    secretsmanager = boto3.client("secretsmanager", region_name="us-east-1")
    (secret_arn,) = stack.secret_values
    for round_ in range(2):  # the second round goes through the kept routes
        key = {"pk": {"S": f"acct#{round_}"}, "sk": {"S": "0001"}}
        dynamodb.put_item(TableName=logs_table, Item={**key, "status": {"S": "ok"}, "bin": {"B": b"\x00\xff"}})
        assert dynamodb.get_item(TableName=logs_table, Key=key)["Item"]["bin"] == {"B": b"\x00\xff"}
        answer = dynamodb.query(
            TableName=logs_table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": key["pk"]},
            ReturnConsumedCapacity="TOTAL",
        )
        assert answer["Count"] == 1
        assert answer["ConsumedCapacity"]["TableName"] == logs_table
        records = StreamReader(stack.stream_arns["RequestLogsTable"]).poll()
        assert sum(len(batch) for batch in records.values()) == round_ + 1
        queue = stack.queue_urls["IngestQueue"]
        sqs.send_message(QueueUrl=queue, MessageBody=f"message {round_}")
        (message,) = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)["Messages"]
        assert message["Body"] == f"message {round_}"
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        bucket = stack.name("ContentBucket")
        s3.put_object(Bucket=bucket, Key=f"k{round_}", Body=b"content")
        assert s3.get_object(Bucket=bucket, Key=f"k{round_}")["Body"].read() == b"content"
        assert secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"] == stack.secret_values[secret_arn]
        assert requests.get(f"{patched_server}/moto-api/data.json", timeout=10).status_code == 200
