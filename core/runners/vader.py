"""Sentiment with VADER, a rule-based lexicon model (no neural network).

VADER scores words from a hand-rated lexicon and adjusts for negation, intensifiers ("very"),
capitals, punctuation and "but"; its compound score in [-1, 1] is the overall polarity. It is tuned
for short social-media style English and needs no weights beyond two text files, which ``install``
copies into the cache. The usual thresholds (compound >= 0.05 positive, <= -0.05 negative) come
from the VADER paper's recommendations.
"""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import DefaultModel, Runner, TaskInputError, Workspace, require_text

RUNTIME = "vader"
LEXICON = "vader_lexicon.txt"
EMOJI_LEXICON = "emoji_utf8_lexicon.txt"
THRESHOLD = 0.05


class VaderRunner(Runner):
    """text-classification: positive / negative / neutral from VADER's compound score."""

    runtime = RUNTIME

    def load(self, record: ModelRecord, model_path: Path) -> Any:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        folder = Path(model_path).resolve()
        # The analyser joins these names onto its own module folder; os.path.join keeps an
        # absolute second argument as is, so absolute paths make it read the cached copies.
        return SentimentIntensityAnalyzer(lexicon_file=str(folder / LEXICON),
                                          emoji_lexicon=str(folder / EMOJI_LEXICON))

    def run(self, model: Any, task: str, args: dict[str, Any], workspace: Workspace) -> dict:
        if task != "text-classification":
            raise TaskInputError(f"{RUNTIME} models do not do {task!r}")
        scores = model.polarity_scores(require_text(args))
        compound = float(scores["compound"])
        if compound >= THRESHOLD:
            label, score = "positive", compound
        elif compound <= -THRESHOLD:
            label, score = "negative", -compound
        else:
            # Near zero: the confidence in "neutral" is how close to zero the compound is.
            label, score = "neutral", 1.0 - abs(compound) / THRESHOLD * 0.5
        return {
            "labels": [{"label": label, "score": round(score, 4)}],
            "text": f"{label} ({score:.2f})",
            "scores": {k: float(v) for k, v in scores.items()},
        }


# ---------------------------------------------------------------- installing


def _package_dir() -> Path:
    spec = find_spec("vaderSentiment")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("package vaderSentiment is not installed")
    return Path(spec.origin).parent


def _available() -> bool:
    try:
        return (_package_dir() / LEXICON).is_file()
    except FileNotFoundError:
        return False


def install_lexicon(dest: Path) -> None:
    """Copy the word and emoji lexicons to the folder ``dest``."""
    source = _package_dir()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in (LEXICON, EMOJI_LEXICON):
        shutil.copy2(source / name, dest / name)


RUNNER = VaderRunner

DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="cjhutto/vaderSentiment",
            task="text-classification",
            runtime=RUNTIME,
            path="vader/vader-lexicon",
            description=(
                "Sentiment of English text: positive, negative or neutral, from VADER's "
                "hand-rated word lexicon and rules for negation, intensifiers, punctuation and "
                "emoji. Instant and transparent; tuned for short reviews and social media, it "
                "misses sarcasm and context a neural model would catch. Sentiment only, no "
                "other labels."
            ),
            license="mit",
            source="pypi:vadersentiment==3.3.2",
            skill="sentiment",
            tags=["sentiment", "lexicon", "rule-based", "english", "reviews", "social-media"],
            quantization="",
            preference=1_000,
            params={"threshold": THRESHOLD, "labels": ["positive", "negative", "neutral"]},
        ),
        install=install_lexicon,
        available=_available,
    ),
]
