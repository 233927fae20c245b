"""The writer's text tasks: summaries, translations, answers about a text, chat and free writing.

HuggingGPT hands text tasks that no expert covers to its LLM. Here that LLM is a small instruct
model, so each task gets a prompt it follows (its instructions in the system turn, the text fenced
in the user turn), greedy decoding with a repetition penalty, and checks on what comes back: an
echo of the prompt is cut, a summary that only copies its text is asked for again, a loop ends
the text. A text longer than the context is never an error: it is split on paragraph and
sentence boundaries, summarized or translated piece by piece (with progress), and a question is
answered from the pieces that share most words with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.languages import target_languages
from core.llm import Controller

Progress = Callable[[int, int, str], None]  # (done, total, what is happening)

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10}

SUMMARY_SYSTEM = ("You write summaries. A summary is much shorter than its text, is written in "
                  "your own words, and keeps the key facts: names, numbers, places, dates and "
                  "conclusions. Never add anything the text does not say.")
TRANSLATE_SYSTEM = ("You are a professional translator. Translate the user's text faithfully "
                    "and idiomatically. Reply with the translation only: no notes, no quotes, no "
                    "explanation.")
# Worked translations shown before the text (our own sentences): a 1.5B model translates time
# and place phrases word by word without them ("um acht in der Mitternacht" for "at eight in
# the morning"); with them it writes "um acht Uhr am Morgen". Measured in scripts/eval_answers.py.
TRANSLATION_EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "German": (
        ("I get up early in the morning and go to work by bus.",
         "Ich stehe morgens früh auf und fahre mit dem Bus zur Arbeit."),
        ("The shop closes at six in the evening.", "Das Geschäft schließt um sechs Uhr abends."),
        ("Where is the nearest pharmacy?", "Wo ist die nächste Apotheke?"),
    ),
    "French": (
        ("I get up early in the morning and go to work by bus.",
         "Je me lève tôt le matin et je vais au travail en bus."),
        ("The shop closes at six in the evening.", "Le magasin ferme à six heures du soir."),
        ("Where is the nearest pharmacy?", "Où est la pharmacie la plus proche ?"),
    ),
    "Spanish": (
        ("I get up early in the morning and go to work by bus.",
         "Me levanto temprano por la mañana y voy al trabajo en autobús."),
        ("The shop closes at six in the evening.", "La tienda cierra a las seis de la tarde."),
        ("Where is the nearest pharmacy?", "¿Dónde está la farmacia más cercana?"),
    ),
}
ANSWER_SYSTEM = ("Answer the question from the passage only. Quote names and numbers exactly "
                 "as the passage gives them. If the passage does not hold the answer, say that "
                 "it does not. Answer in one or two sentences.")
CHAT_SYSTEM = ("You are Conductor, an offline assistant running on the user's own computer. "
               "Reply helpfully and briefly. Never claim to have seen, heard or made anything.")
WRITE_SYSTEM = ("You are a careful writer. Write what the user asks for, in plain text, without "
                "a preamble.")
REWRITE_SYSTEM = "Rewrite the user's text as asked. Reply with the rewritten text only."


@dataclass(frozen=True)
class SummaryLength:
    """How long the user asked a summary to be."""

    sentences: int = 3
    words: int | None = None
    asked: bool = False  # the user named the length (then it is kept to)

    def instruction(self) -> str:
        if self.words:
            return f"in at most {self.words} words"
        return f"in {self.sentences} sentence{'s' if self.sentences != 1 else ''}"


def summary_length(request: str) -> SummaryLength:
    """'in two sentences', 'in 50 words', 'one line', 'briefly' -> the length asked for."""
    lowered = request.lower()
    number = r"(\d+|" + "|".join(NUMBER_WORDS) + ")"
    match = re.search(number + r"[\s-]+(sentence|line|word|bullet)", lowered)
    if match:
        raw, unit = match.groups()
        count = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
        if unit == "word":
            return SummaryLength(words=max(5, count), asked=True)
        return SummaryLength(sentences=max(1, min(count, 12)), asked=True)
    if re.search(r"\b(one[- ]liner|tl;?dr|in a sentence|briefly|short)\b", lowered):
        return SummaryLength(sentences=1, asked=True)
    return SummaryLength()


# ---------------------------------------------------------------- splitting long texts


def split_text(text: str, max_tokens: int, count: Callable[[str], int]) -> list[str]:
    """Pieces of ``text`` of at most ``max_tokens`` tokens each, cut at paragraph, then
    sentence, then word boundaries, so no piece starts mid-sentence where that can be avoided."""
    if count(text) <= max_tokens:
        return [text.strip()]
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if count(paragraph) <= max_tokens:
            units.append(paragraph)
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            if count(sentence) <= max_tokens:
                units.append(sentence)
            else:
                words = sentence.split()
                step = max(1, len(words) * max_tokens // max(1, count(sentence)))
                units.extend(" ".join(words[i:i + step]) for i in range(0, len(words), step))
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        cost = count(unit) + 2
        if current and size + cost > max_tokens:
            pieces.append("\n\n".join(current))
            current, size = [], 0
        current.append(unit)
        size += cost
    if current:
        pieces.append("\n\n".join(current))
    return pieces


# ---------------------------------------------------------------- checks on what comes back


def words_of(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text.lower())


def copied_share(output: str, source: str, n: int = 6) -> float:
    """The share of the output's word 6-grams that appear verbatim in the source."""
    out, src = words_of(output), words_of(source)
    if len(out) < n:
        return 0.0
    grams = {tuple(src[i:i + n]) for i in range(len(src) - n + 1)}
    hits = sum(tuple(out[i:i + n]) in grams for i in range(len(out) - n + 1))
    return hits / (len(out) - n + 1)


def drop_repeats(text: str) -> str:
    """Remove sentences a small model repeated (a loop), keeping the first of each."""
    seen: set[str] = set()
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        key = " ".join(words_of(sentence))
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(sentence)
    return " ".join(kept).strip()


def strip_echo(output: str, prompt_parts: Sequence[str]) -> str:
    """Cut a leading echo of the instructions or a label line ('Summary:', 'Translation:')."""
    text = output.strip()
    for part in prompt_parts:
        part = part.strip()
        if part and text.lower().startswith(part.lower()):
            text = text[len(part):].lstrip(" :\n")
    text = re.sub(r"^(here is|here's)[^:\n]{0,60}:\s*", "", text, flags=re.I)
    text = re.sub(r"^(summary|translation|answer|german|french|spanish|english)\s*:\s*", "",
                  text, flags=re.I)
    return text.strip().strip('"“”').strip()


# ---------------------------------------------------------------- the writer


class Writer:
    """Text tasks on a loaded chat controller."""

    def __init__(self, controller: Controller, max_tokens: int = 320) -> None:
        self.controller = controller
        self.max_tokens = max_tokens

    # -- budget

    def count(self, text: str) -> int:
        return len(self.controller.tokenize(text))

    def piece_budget(self, answer_tokens: int) -> int:
        """Tokens of source text one call can take: the context less instructions and answer."""
        return max(256, min(2500, self.controller.n_ctx - answer_tokens - 400))

    def _ask(self, system: str, user: str, max_tokens: int, prefix: str = "") -> str:
        text = self.controller.chat([{"role": "system", "content": system},
                                     {"role": "user", "content": user}],
                                    max_tokens=max_tokens, prefix=prefix, fixed=system)
        return drop_repeats(text)

    # -- tasks

    def summarize(self, text: str, request: str = "", progress: Progress | None = None) -> str:
        length = summary_length(request)
        pieces = split_text(text, self.piece_budget(200), self.count)
        if len(pieces) == 1:
            return self._summary(pieces[0], length)
        notes = []
        for index, piece in enumerate(pieces):
            if progress:
                progress(index, len(pieces) + 1, f"summarizing part {index + 1} of {len(pieces)}")
            notes.append(self._summary(piece, SummaryLength(sentences=3)))
        if progress:
            progress(len(pieces), len(pieces) + 1, "combining the parts' summaries")
        combined = "\n\n".join(notes)
        while self.count(combined) > self.piece_budget(200):  # very long texts: fold again
            combined = "\n\n".join(self._summary(p, SummaryLength(sentences=3))
                                   for p in split_text(combined, self.piece_budget(200),
                                                       self.count))
        return self._summary(combined, length, parts=True)

    def _summary(self, text: str, length: SummaryLength, parts: bool = False) -> str:
        what = "these summaries of a document's parts" if parts else "this text"
        user = (f"Summarize {what} {length.instruction()}. Keep the names, numbers and places."
                f"\n\n<text>\n{text}\n</text>")
        budget = (length.words * 2 if length.words else 40 * length.sentences) + 40
        summary = strip_echo(self._ask(SUMMARY_SYSTEM, user, budget), [user])
        if copied_share(summary, text) > 0.6 or len(summary) >= 0.9 * len(text):
            # a copy, not a summary: ask for the main points in fewer, own words
            user = (f"In {max(1, length.sentences - 1)} short sentence(s) of your own words, say "
                    f"what this text is about and its key facts.\n\n<text>\n{text}\n</text>")
            summary = strip_echo(self._ask(SUMMARY_SYSTEM, user, budget), [user])
        if length.asked and not length.words:
            summary = " ".join(re.split(r"(?<=[.!?])\s+", summary)[: length.sentences])
        return summary

    def translate(self, text: str, target: str | None, request: str = "",
                  progress: Progress | None = None) -> str:
        target = target or next(iter(target_languages(request)), "English")
        shots: list[dict[str, str]] = []
        for source, translated in TRANSLATION_EXAMPLES.get(target, ()):
            shots += [{"role": "user", "content": f"Translate into {target}:\n\n{source}"},
                      {"role": "assistant", "content": translated}]
        pieces = split_text(text, self.piece_budget(self.max_tokens) // 2, self.count)
        out = []
        for index, piece in enumerate(pieces):
            if progress and len(pieces) > 1:
                progress(index, len(pieces), f"translating part {index + 1} of {len(pieces)}")
            user = f"Translate into {target}:\n\n{piece}"
            messages = [{"role": "system", "content": TRANSLATE_SYSTEM}, *shots,
                        {"role": "user", "content": user}]
            # the instructions and worked examples are the same for every text: kept evaluated
            fixed = shots[-1]["content"] if shots else TRANSLATE_SYSTEM
            translated = self.controller.chat(messages, max_tokens=max(64, 2 * self.count(piece)
                                                                       + 32), fixed=fixed)
            out.append(strip_echo(drop_repeats(translated), [user]))
        return "\n\n".join(out)

    def answer(self, question: str, context: str) -> str:
        if not context.strip():
            return self.chat(question)
        passage = self.relevant_passage(question, context)
        user = f"Passage:\n<text>\n{passage}\n</text>\n\nQuestion: {question}"
        return strip_echo(self._ask(ANSWER_SYSTEM, user, 120), [user])

    def relevant_passage(self, question: str, context: str) -> str:
        """The context itself when it fits, else its pieces that share most words with the
        question, in their original order, as many as fit."""
        budget = self.piece_budget(160)
        if self.count(context) <= budget:
            return context
        pieces = split_text(context, max(200, budget // 4), self.count)
        wanted = {w for w in words_of(question) if len(w) > 3}
        ranked = sorted(range(len(pieces)), key=lambda i: -len(wanted & set(words_of(pieces[i]))))
        chosen: list[int] = []
        used = 0
        for index in ranked:
            cost = self.count(pieces[index])
            if used + cost > budget:
                continue
            chosen.append(index)
            used += cost
        return "\n\n".join(pieces[i] for i in sorted(chosen))

    def chat(self, message: str, system: str = CHAT_SYSTEM) -> str:
        message = self._fit(message)
        return strip_echo(self._ask(system, message, self.max_tokens), [message])

    def write(self, instruction: str) -> str:
        instruction = self._fit(instruction)
        return strip_echo(self._ask(WRITE_SYSTEM, instruction, self.max_tokens), [instruction])

    def rewrite(self, text: str, request: str) -> str:
        user = self._fit(f"{request}\n\n<text>\n{text}\n</text>")
        return strip_echo(self._ask(REWRITE_SYSTEM, user, max(64, 2 * self.count(text) + 32)),
                          [user])

    def _fit(self, text: str) -> str:
        """A message cut to what the context takes (its opening and its end kept)."""
        budget = self.piece_budget(self.max_tokens)
        if self.count(text) <= budget:
            return text
        head = split_text(text, budget // 2, self.count)
        return head[0] + "\n...\n" + head[-1]
