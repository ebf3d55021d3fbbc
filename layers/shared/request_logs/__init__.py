"""Request Logs API: ingest, storage and read endpoints for an LLM gateway's request logs."""
