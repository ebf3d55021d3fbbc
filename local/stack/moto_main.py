"""``python -m local.stack.moto_main``: moto's server, with queries that read one partition.

The entry point ``local/stack/moto_server.MotoServer`` starts in its child process: moto's own server
(same arguments as ``python -m moto.server``) after ``partitioned_queries.install()``, so a query of the
local runtime costs its partition, as on DynamoDB, instead of a walk of the whole table.
"""

from __future__ import annotations

import sys

from moto.server import main

from local.stack import partitioned_queries

if __name__ == "__main__":
    partitioned_queries.install()
    main(sys.argv[1:])
