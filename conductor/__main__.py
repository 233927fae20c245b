"""``python -m conductor``: the same as the ``conductor`` command."""

import sys

from conductor.cli import main

sys.exit(main())
