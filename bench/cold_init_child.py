"""A cold Lambda execution environment in one process: import the handler, handle one event, exit.

Run as a script, never imported: ``python bench/cold_init_child.py EVENT_FILE`` with the function's
directory and the shared layer on ``PYTHONPATH`` (``/var/task`` and ``/opt/python`` in Lambda). It
imports nothing the handler does not import anyway (``json``, ``importlib``, ``time``), so the parent
measures the handler's own cost. Exits with an error unless the handler answers 200; prints how many
modules the process loaded and the CPU time it has used so far.
"""

from __future__ import annotations

import importlib
import json
import sys
import time


class _Context:
    """The Lambda context attributes Powertools reads (a plain class: ``dataclasses`` costs an import)."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main() -> None:
    with open(sys.argv[1]) as handle:
        event = json.load(handle)
    response = importlib.import_module("app").lambda_handler(event, _Context())
    if response["statusCode"] != 200:
        sys.exit(f"the handler answered {response['statusCode']}: {response['body']}")
    # CPU time of the whole process so far: the cold start, without the interpreter's shutdown.
    print(len(sys.modules), time.process_time())


if __name__ == "__main__":
    main()
