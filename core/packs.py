"""Air-gapped model packs: installed models in one tar file, checked before anything registers.

A machine with internet imports models once (``models import``) and writes a pack
(``models pack IDS... -o FILE.tar``); an offline machine installs it (``models unpack FILE.tar``).
The pack holds ``manifest.json`` (format version, every model's registry row, the sha256 and size
of every file, and the folder digest the registry keeps) followed by the model files under
``models/``. Unpacking streams each member into a staging folder inside the model cache while
hashing it, then checks every file and every model digest against the manifest; only when all
match are the models moved into place and registered. A damaged, truncated or tampered pack
raises ``PackError`` and changes nothing: no files, no rows.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from core.hashing import copy_hashed, hash_path, sha256_file
from core.registry import ModelNotFoundError, ModelRecord, Registry

PACK_FORMAT = "conductor-pack"
PACK_VERSION = 1
MANIFEST = "manifest.json"
MODELS_DIR = "models"
Progress = Callable[[str, float], None]


class PackError(ValueError):
    """A pack that cannot be written or installed: nothing was changed."""


# ---------------------------------------------------------------- writing


def pack_models(registry: Registry, model_ids: Iterable[str], output: Path | str,
                progress: Progress | None = None) -> dict[str, Any]:
    """Write the given installed models with their manifest to ``output`` (.tar or .tar.gz).

    Each model's files are checked against its registry sha256 first: a pack never carries a
    model that changed on disk since it was registered. The tar is written beside ``output``
    and renamed into place, so an interrupted run leaves no half-written pack under that name.
    """
    report = progress or (lambda step, fraction: None)
    ids = list(dict.fromkeys(model_ids))
    if not ids:
        raise PackError("name at least one model id to pack")
    output = Path(output)
    entries = []
    total = 0
    report("check", 0.0)
    for index, model_id in enumerate(ids):
        record = registry.get(model_id)
        target = registry.resolve(record)
        if not target.exists():
            raise PackError(f"{model_id}: its files are missing at {target}")
        digest, size = hash_path(target)
        if record.sha256 and digest != record.sha256:
            raise PackError(f"{model_id}: files changed since it was registered "
                            "(see `main.py models verify`); re-import it before packing")
        arc_root = f"{MODELS_DIR}/{_arc_name(record)}"
        files = _files_of(target)
        entries.append((record, target, arc_root, files, digest, size))
        total += size
        report("check", (index + 1) / len(ids))

    manifest: dict[str, Any] = {
        "format": PACK_FORMAT, "version": PACK_VERSION,
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "models": [],
    }
    for record, target, arc_root, files, digest, size in entries:
        row = record.to_json()
        row["installed_at"] = ""
        listed = []
        for relative in files:
            path = target / relative if target.is_dir() else target
            listed.append({"name": f"{arc_root}/{relative}" if target.is_dir() else arc_root,
                           "sha256": sha256_file(path), "size": path.stat().st_size})
        manifest["models"].append({"id": record.id, "record": row, "root": arc_root,
                                   "is_dir": target.is_dir(), "sha256": digest,
                                   "size_bytes": size, "files": listed})

    output.parent.mkdir(parents=True, exist_ok=True)
    mode = "w:gz" if output.name.endswith((".tar.gz", ".tgz")) else "w"
    handle, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(handle)
    written = 0
    try:
        with tarfile.open(temp_name, mode) as tar:
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(_dt.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            report("pack", 0.0)
            for (_, target, _, _, _, _), model in zip(entries, manifest["models"], strict=True):
                for item in model["files"]:
                    relative = item["name"][len(model["root"]) + 1:]
                    path = target / relative if model["is_dir"] else target
                    tar.add(str(path), arcname=item["name"], recursive=False)
                    written += item["size"]
                    report("pack", written / max(total, 1))
        os.replace(temp_name, output)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    report("pack", 1.0)
    return manifest


def _arc_name(record: ModelRecord) -> str:
    """The model's path inside the pack: its cache path, or a safe name for absolute paths."""
    path = PurePosixPath(Path(record.path).as_posix())
    if path.is_absolute() or ".." in path.parts:
        safe = re.sub(r"[^\w.-]+", "--", record.id).strip("-") or "model"
        return f"external/{safe}/{path.name}"
    return path.as_posix()


def _files_of(target: Path) -> list[str]:
    if target.is_file():
        return [target.name]
    return sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())


# ---------------------------------------------------------------- reading


def read_manifest(pack: Path | str) -> dict[str, Any]:
    """The manifest of a pack, validated for shape (not yet for checksums)."""
    try:
        with tarfile.open(pack, "r:*") as tar:
            return _manifest(tar)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PackError(f"{pack} is not a readable pack ({exc})") from None


def _manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        handle = tar.extractfile(member)
        if handle is None:
            raise KeyError(MANIFEST)
        manifest = json.loads(handle.read().decode("utf-8"))
    except KeyError:
        raise PackError("the pack has no manifest.json; it was not written by "
                        "`models pack`") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PackError(f"the pack's manifest is damaged ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
        raise PackError("the pack's manifest is not a Conductor pack manifest")
    if manifest.get("version") != PACK_VERSION:
        raise PackError(f"pack format version {manifest.get('version')} is not supported "
                        f"(this Conductor reads version {PACK_VERSION})")
    models = manifest.get("models")
    if not isinstance(models, list) or not models:
        raise PackError("the pack's manifest lists no models")
    roots: set[str] = set()
    for model in models:
        if not isinstance(model, dict) or not all(
                k in model for k in ("id", "record", "root", "sha256", "files")):
            raise PackError("the pack's manifest has a malformed model entry")
        root = str(model["root"])
        _safe_member_name(root)
        if root in roots:
            raise PackError(f"two models of the pack share the path {root}")
        roots.add(root)
        if not isinstance(model["files"], list) or not model["files"]:
            raise PackError(f"{model['id']}: the manifest lists no files")
        for item in model["files"]:
            name = str(item.get("name", ""))
            _safe_member_name(name)
            if name != root and not name.startswith(root + "/"):
                raise PackError(f"manifest file {name} lies outside its model")
    return manifest


def _safe_member_name(name: str) -> PurePosixPath:
    """A member path that stays inside the pack's ``models/`` folder, or ``PackError``."""
    path = PurePosixPath(name)
    if (path.is_absolute() or not path.parts or path.parts[0] != MODELS_DIR
            or any(part in ("", ".", "..") for part in path.parts) or "\\" in name):
        raise PackError(f"unsafe path in pack: {name!r}")
    return path


# ---------------------------------------------------------------- installing


def unpack_models(registry: Registry, pack: Path | str, replace: bool = False,
                  progress: Progress | None = None) -> list[ModelRecord]:
    """Verify every checksum of a pack, then install and register its models; all or nothing.

    A model already registered with the same sha256 and intact files is kept as it is (listed in
    the result). One registered with other contents is refused unless ``replace``. Any
    mismatch, missing file, extra file or unsafe path raises ``PackError`` before the cache or
    the registry is touched.
    """
    report = progress or (lambda step, fraction: None)
    pack = Path(pack)
    if not pack.is_file():
        raise PackError(f"{pack} does not exist")
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=registry.cache_dir))
    try:
        manifest, skipped = _verify_into(registry, pack, staging, replace, report)
        return _install(registry, manifest, staging, skipped, report)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _verify_into(registry: Registry, pack: Path, staging: Path, replace: bool,
                 report: Progress) -> tuple[dict[str, Any], set[str]]:
    """Stream the pack into ``staging``, hashing as it goes; raise on any disagreement."""
    try:
        tar = tarfile.open(pack, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PackError(f"{pack} is not a readable pack ({exc})") from None
    with tar:
        try:
            manifest = _manifest(tar)
            skipped = _conflicts(registry, manifest, replace)
            expected = {item["name"]: item for model in manifest["models"]
                        for item in model["files"]}
            total = sum(int(item.get("size", 0)) for item in expected.values()) or 1
            seen: dict[str, str] = {}
            done = 0
            report("verify", 0.0)
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if member.isdir():
                    _safe_member_name(member.name)
                    continue
                if not member.isfile():
                    raise PackError(f"the pack holds a link or device ({member.name!r}); "
                                    "refused")
                path = _safe_member_name(member.name)
                if member.name not in expected:
                    raise PackError(f"the pack holds a file its manifest does not list: "
                                    f"{member.name}")
                if member.name in seen:
                    raise PackError(f"the pack holds {member.name} twice")
                dest = staging.joinpath(*path.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:
                    raise PackError(f"cannot read {member.name} from the pack")
                def advance(count: int) -> None:
                    nonlocal done
                    done += count
                    report("verify", min(done / total, 1.0))

                seen[member.name] = copy_hashed([source], dest, advance)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise PackError(f"the pack is damaged or truncated ({exc}); nothing was "
                            "installed") from None
    bad = [name for name, item in expected.items() if seen.get(name) != item["sha256"]]
    missing = [name for name in bad if name not in seen]
    if missing:
        raise PackError(f"the pack lacks {len(missing)} file(s) its manifest lists, e.g. "
                        f"{missing[0]}; nothing was installed")
    if bad:
        raise PackError(f"checksum mismatch for {len(bad)} file(s), e.g. {bad[0]}: the pack "
                        "is damaged; nothing was installed")
    for model in manifest["models"]:
        root = staging.joinpath(*PurePosixPath(model["root"]).parts)
        if hash_path(root)[0] != model["sha256"]:
            raise PackError(f"{model['id']}: its files do not add up to the registered sha256; "
                            "nothing was installed")
    report("verify", 1.0)
    return manifest, skipped


def _conflicts(registry: Registry, manifest: dict[str, Any], replace: bool) -> set[str]:
    """Ids already installed identically (to skip); raise for different ones unless replace."""
    skipped: set[str] = set()
    refused = []
    for model in manifest["models"]:
        try:
            existing = registry.get(model["id"])
        except ModelNotFoundError:
            continue
        intact = registry.resolve(existing).exists() and existing.sha256 == model["sha256"]
        if intact and registry.verify(existing.id)[0]["status"] == "ok":
            skipped.add(model["id"])
        elif not replace:
            refused.append(model["id"])
    if refused:
        raise PackError(f"already registered with other files: {', '.join(refused)}; remove "
                        "them first or unpack with --replace (nothing was installed)")
    return skipped


def _install(registry: Registry, manifest: dict[str, Any], staging: Path, skipped: set[str],
             report: Progress) -> list[ModelRecord]:
    """Move verified models into the cache and register them; undo everything on failure."""
    records: list[ModelRecord] = []
    moved: list[tuple[Path, Path | None]] = []  # (dest, backup of what it replaced)
    previous: list[ModelRecord] = []
    registered: list[str] = []
    report("register", 0.0)
    try:
        for index, model in enumerate(manifest["models"]):
            if model["id"] in skipped:
                records.append(registry.get(model["id"]))
                continue
            record = _record_from(model)
            staged = staging.joinpath(*PurePosixPath(model["root"]).parts)
            relative = PurePosixPath(model["root"]).relative_to(MODELS_DIR)
            record.path = relative.as_posix()
            dest = registry.cache_dir.joinpath(*relative.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            backup = None
            if dest.exists():
                backup = dest.with_name(f".{dest.name}.replaced-{os.getpid()}")
                os.replace(dest, backup)
            os.replace(staged, dest)
            moved.append((dest, backup))
            try:
                previous.append(registry.get(record.id))
            except ModelNotFoundError:
                pass
            registry.register(record, compute_hash=False)
            registered.append(record.id)
            records.append(record)
            report("register", (index + 1) / len(manifest["models"]))
    except BaseException:
        for model_id in registered:
            try:
                registry.remove(model_id)
            except ModelNotFoundError:
                pass
        for record in previous:
            registry.register(record, compute_hash=False)
        for dest, backup in reversed(moved):
            _delete(dest)
            if backup is not None:
                os.replace(backup, dest)
        raise
    for _, backup in moved:
        if backup is not None:
            _delete(backup)
    report("register", 1.0)
    return records


def _record_from(model: dict[str, Any]) -> ModelRecord:
    row = dict(model["record"])
    known = {f.name for f in dataclasses.fields(ModelRecord)}
    data = {k: v for k, v in row.items() if k in known}
    data["installed_at"] = ""
    data["sha256"] = model["sha256"]
    data["size_bytes"] = int(model.get("size_bytes") or row.get("size_bytes") or 0)
    try:
        return ModelRecord(**data)
    except TypeError as exc:
        raise PackError(f"{model['id']}: malformed registry row in the manifest ({exc})") from None


def _delete(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
