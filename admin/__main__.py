"""``python -m admin``: accounts and API keys (see ``admin.cli``)."""

import sys

from admin.cli import main

sys.exit(main())
