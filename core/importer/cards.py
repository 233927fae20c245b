"""What a model card and config say: metadata, the first prose paragraph as the description,
the licence, tags, and the skill inside a task (OCR or captioning, a language pair).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from core.importer.errors import ImportModelError


def read_card(folder: Path) -> tuple[dict[str, Any], str]:
    """The model card's YAML metadata and its prose (README.md), or empty ones."""
    card_path = folder / "README.md"
    if not card_path.is_file():
        return {}, ""
    text = card_path.read_text(encoding="utf-8", errors="replace")
    meta: dict[str, Any] = {}
    body = text
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n?", text, re.S)
    if match:
        body = text[match.end():]
        try:
            import yaml

            loaded = yaml.safe_load(match.group(1))
            meta = loaded if isinstance(loaded, dict) else {}
        except Exception:  # a malformed card must not stop an import
            meta = {}
    return meta, body


def card_description(body: str, limit: int = 400) -> str:
    """The first prose paragraph of a model card (no headings, badges, tables, code or HTML)."""
    paragraphs: list[str] = []
    current: list[str] = []
    in_code = False
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if not line or line.startswith(("#", "|", "<", "!", "[!", "---", "- ", "* ", ">")):
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    for paragraph in paragraphs:
        cleaned = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", paragraph)  # markdown links -> text
        cleaned = re.sub(r"[*_`]{1,3}", "", cleaned).strip()
        if len(cleaned) >= 30 and not cleaned.lower().startswith(("license", "copyright")):
            if len(cleaned) > limit:
                cut = cleaned[:limit]
                stop = cut.rfind(". ")
                cleaned = cut[: stop + 1] if stop > limit // 2 else cut.rstrip() + "..."
            return cleaned
    return ""


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise ImportModelError(f"{folder} has no config.json; is it a Hugging Face model folder?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ImportModelError(f"{path} is not valid JSON ({exc})") from None


def card_skill(model_id: str, task: str, config: dict[str, Any], card: dict[str, Any]) -> str:
    """What the model is for inside its task (core.tasks.SKILLS, the registry's ``skill``):
    text reading or captioning for image-to-text, the language pair for translation."""
    if task == "image-to-text":
        decoder = (config.get("decoder") or {}).get("model_type", "")
        named = f"{model_id} {config.get('model_type', '')} {decoder}".lower()
        return "ocr" if "ocr" in named or "donut" in named else "captioning"
    if task == "translation":
        pair = re.search(r"(?:^|[-_/])([a-z]{2,3})-([a-z]{2,3})$", model_id.lower())
        if pair:
            return f"{pair.group(1)}-{pair.group(2)}"
        languages = card.get("language") or []
        if isinstance(languages, list) and len(languages) == 2:
            return "-".join(map(str, languages))
    return ""


def card_license(card: dict[str, Any]) -> str:
    value = card.get("license")
    if isinstance(value, list):
        value = value[0] if value else None
    if value == "other" and card.get("license_name"):
        value = card["license_name"]
    return str(value) if value else "unknown"


def card_tags(card: dict[str, Any], model_type: str, task: str, quantized: bool) -> list[str]:
    tags: list[str] = []
    raw = card.get("tags") or []
    languages = card.get("language") or []
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(languages, str):
        languages = [languages]
    for tag in [*map(str, raw), *map(str, languages), model_type, task, "onnx",
                "int8" if quantized else "fp32"]:
        tag = tag.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:20]
