"""Conductor from a source checkout: ``python main.py ARGS`` is the ``conductor`` command."""

import sys

from conductor.cli import main

if __name__ == "__main__":
    sys.exit(main())
