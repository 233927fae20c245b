"""The network block in child processes started by the tests (CLI runs, scripts).

Python imports this at start-up when this folder is on PYTHONPATH. With CONDUCTOR_NETBLOCK_LOG
set, it creates that file (so the test knows the block was on in the child) and appends each
attempt to it; the test asserts the file exists and is empty.
"""

import os

_LOG = os.environ.get("CONDUCTOR_NETBLOCK_LOG")

if _LOG:
    import netblock

    def _append(what: str) -> None:
        with open(_LOG, "a", encoding="utf-8") as handle:
            handle.write(f"{what}\n")

    open(_LOG, "a", encoding="utf-8").close()
    netblock.install(_append)
