"""`python -m sweeptracker_client ...` is the `sweeptracker` command."""

from __future__ import annotations

import sys

from sweeptracker_client.cli import main

sys.exit(main())
