"""``python -m local.stack.moto_main``: moto's server, with queries that read one partition.

The entry point ``local/stack/moto_server.MotoServer`` starts in its child process: moto's own server
(same arguments as ``python -m moto.server``) after ``partitioned_queries.install()``, so a query of the
local runtime costs its partition, as on DynamoDB, instead of a walk of the whole table, and
``moto_speedups.install()``, which takes most of moto's Python out of routing each request and of
copying, sizing, projecting and serialising each item it returns (same answers, a fraction of the time).

It runs in a session of its own (``MotoServer`` starts it so, out of reach of the terminal's Ctrl-C) and
exits as soon as its parent is gone, so that no server outlives the runtime that started it.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from moto.server import main

from local.stack import moto_speedups, partitioned_queries
from local.stack.moto_server import PARENT_PID_VARIABLE

_PARENT_CHECK_SECONDS = 0.5


def _exit_with_parent() -> None:
    """Exit once the process that started this one is gone (this process is then re-parented)."""
    parent = int(os.environ.get(PARENT_PID_VARIABLE) or os.getppid())

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    _exit_with_parent()
    partitioned_queries.install()
    moto_speedups.install()
    main(sys.argv[1:])
