from tests.conftest import ACCOUNT_A, ApiCaller, Ingestor, sample_messages


def test_ingested_logs_are_listed_newest_first(stack, clock, api: ApiCaller, ingest: Ingestor) -> None:
    messages = sample_messages(count=40)
    assert ingest.messages(messages) == []
    response = api.get("/api/account/request-logs", {"limit": 100})
    assert response.status == 200
    created = [log["created_at"] for log in response.body["logs"]]
    assert len(created) == 40 == response.body["pagination"]["total"]
    assert created == sorted(created, reverse=True)
    assert {log["request_id"] for log in response.body["logs"]} == {m["request_id"] for m in messages}
    assert all(log["id"].startswith("log_") for log in response.body["logs"])
    assert response.body["logs"][0]["api_key_prefix"].startswith("sk-")
    assert ACCOUNT_A
