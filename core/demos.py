"""The demo bank: worked examples of requests and their plans, chosen per request by similarity.

A small controller copies its examples; a fixed list makes it plan every request like the fixed
demos. So demos are retrieved per request: the ones nearest in meaning (sentence embeddings from
the registry's embedding model), with a bonus for demos whose attached files are of the same kinds
as the request's, since "what is in x.jpg" and "what is in x.wav" differ mostly by that.
Without an embedding model, word overlap ranks them instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.plan import TaskNode, parse
from core.tasks import kind_of_file

DEFAULT_BANK = Path(__file__).resolve().parent / "data" / "demos.jsonl"
_WORD = re.compile(r"[a-z0-9]+")


class Embeds(Protocol):
    def embed(self, texts: list[str]) -> Any: ...


@dataclass(frozen=True)
class Demo:
    request: str
    files: tuple[str, ...]
    plan: tuple[TaskNode, ...]

    @property
    def file_kinds(self) -> frozenset[str]:
        return frozenset(k for k in (kind_of_file(f) for f in self.files) if k)


class DemoBank:
    """Demos loaded from JSONL (same format as the evaluation data), with similarity search."""

    def __init__(self, demos: Sequence[Demo], embedder: Embeds | None = None) -> None:
        self.demos = list(demos)
        self.embedder = embedder
        self._vectors: Any = None  # embedded on first search: a planner with the adapter and
        # no demo prior never searches, and its start-up need not pay for it

    @classmethod
    def load(cls, path: Path = DEFAULT_BANK, embedder: Embeds | None = None) -> DemoBank:
        demos = []
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    demos.append(Demo(row["request"], tuple(row.get("files", [])),
                                      tuple(parse(row["plan"]))))
        return cls(demos, embedder)

    def select(self, request: str, files: Sequence[str], k: int = 4) -> list[Demo]:
        """The ``k`` demos best matching a request, least similar first (nearest next to it)."""
        return [demo for _, demo in self.select_scored(request, files, k)]

    def select_scored(self, request: str, files: Sequence[str], k: int = 4
                      ) -> list[tuple[float, Demo]]:
        """Like ``select``, with each demo's similarity score."""
        if not self.demos or k <= 0:
            return []
        kinds = frozenset(x for x in (kind_of_file(f) for f in files) if x)
        if self.embedder is not None:
            if self._vectors is None:
                self._vectors = self.embedder.embed([self._key(d.request, d.files)
                                                     for d in self.demos])
            query = self.embedder.embed([self._key(request, files)])[0]
            similarity = [float(v) for v in self._vectors @ query]
        else:
            similarity = [_overlap(request, d.request) for d in self.demos]
        scored = []
        for demo, sim in zip(self.demos, similarity, strict=True):
            bonus = 0.15 if demo.file_kinds == kinds else 0.0
            scored.append((sim + bonus, demo))
        scored.sort(key=lambda pair: pair[0], reverse=True)
        return list(reversed(scored[:k]))

    @staticmethod
    def _key(request: str, files: Sequence[str]) -> str:
        """Text embedded for a request: file names are replaced by their kinds (names are noise)."""
        text = request
        for name in files:
            text = text.replace(name, f"the {kind_of_file(name) or 'file'}")
        return text


def _overlap(a: str, b: str) -> float:
    wa, wb = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return len(wa & wb) / (len(wa | wb) or 1)
