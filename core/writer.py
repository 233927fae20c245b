"""The writer's text tasks: summaries, translations, answers about a text, chat and free writing.

HuggingGPT hands text tasks that no expert covers to its LLM. Here that LLM is a small instruct
model, so each task gets a prompt it follows (its instructions in the system turn, the text fenced
in the user turn), greedy decoding with a repetition penalty, and checks on what comes back: an
echo of the prompt is cut, a summary that only copies its text is asked for again, a loop ends
the text. A text longer than a call is never an error: a summary is written from its key
sentences, a translation goes piece by piece (split at paragraph and sentence boundaries), a
question is answered from the pieces that share most words with it; long work reports progress.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.languages import ENGLISH_NUMBERS, numbers_in, target_languages, with_digits
from core.llm import Controller

Progress = Callable[[int, int, str], None]  # (done, total, what is happening)

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
    number = r"(\d+|" + "|".join(ENGLISH_NUMBERS) + ")"
    match = re.search(number + r"[\s-]+(sentence|line|word|bullet)", lowered)
    if match:
        raw, unit = match.groups()
        count = int(raw) if raw.isdigit() else ENGLISH_NUMBERS[raw]
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


def key_sentences(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """The sentences of a long text that carry most of it, in their original order, within
    ``max_tokens``. The opening and closing sentences come first (where reports state and
    restate their point: the lead is the strongest simple summary there is); the rest of the
    budget goes to the sentences whose content words the whole text keeps using, with a bonus for
    numbers and names (the facts a summary must keep). A sentence said twice counts once."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    sentences: list[tuple[int, str]] = []  # (paragraph, sentence)
    seen: set[str] = set()
    for index, paragraph in enumerate(paragraphs):
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            key = " ".join(words_of(sentence))
            if key and key not in seen:
                seen.add(key)
                sentences.append((index, sentence.strip()))
    frequency: dict[str, int] = {}
    for _, sentence in sentences:
        for word in set(_content_words(sentence)):
            frequency[word] = frequency.get(word, 0) + 1

    def centrality(sentence: str) -> float:
        words = set(_content_words(sentence))
        return sum(math.log1p(frequency[w]) for w in words) / math.sqrt(1 + len(words))

    top = max((centrality(s) for _, s in sentences), default=1.0) or 1.0

    def score(order: int) -> float:
        sentence = sentences[order][1]
        value = centrality(sentence) / top  # 0..1
        value += 0.4 * bool(re.search(r"\d", sentence))
        value += 0.1 * min(3, len(re.findall(r"(?<=\s)[A-Z][a-z]+", sentence)))
        return value

    lead = list(range(min(3, len(sentences))))
    close = list(range(max(len(lead), len(sentences) - 2), len(sentences)))
    rest = sorted(set(range(len(sentences))) - set(lead) - set(close), key=score, reverse=True)
    chosen: set[int] = set()
    used = 0
    for order in [*lead, *close, *rest]:
        cost = count(sentences[order][1]) + 1
        if used + cost <= max_tokens:
            chosen.add(order)
            used += cost
    kept: list[str] = []
    last_paragraph = None
    for order in sorted(chosen):
        paragraph, sentence = sentences[order]
        if kept:
            kept.append("\n\n" if paragraph != last_paragraph else " ")
        kept.append(sentence)
        last_paragraph = paragraph
    return "".join(kept)


def _numbered_facts(text: str) -> list[str]:
    """A text's quantities with what they count ("12 percent", "300 engineers"), in order;
    dates and years left out (a summary may round them away)."""
    found = re.findall(r"\b(\d[\d,.]*\s?(?:%|percent|per cent|[a-z]+))", text)
    months = ("january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december")
    return list(dict.fromkeys(f for f in found if not f.lower().endswith(months)
                              and not re.fullmatch(r"\d{4}\s?\w+", f)))


def _content_words(sentence: str) -> list[str]:
    return [w for w in words_of(sentence) if len(w) > 3 and w not in _COMMON]


_COMMON = frozenset("""
that this with from have were been they their there which would could should about into than
then them these those what when where will also more most some such only other over very just
said each after before while being because through during between
""".split())


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

    def __init__(self, controller: Controller, max_tokens: int = 320,
                 piece_tokens: int = 1800) -> None:
        self.controller = controller
        self.max_tokens = max_tokens
        # source tokens per call: fewer than the context holds, as a 1.5B model summarizes a
        # few pages better than a whole report, and a piece's time grows with its length squared
        self.piece_tokens = piece_tokens

    # -- budget

    def count(self, text: str) -> int:
        return len(self.controller.tokenize(text))

    def piece_budget(self, answer_tokens: int) -> int:
        """Tokens of source text one call can take: the context less instructions and answer."""
        return max(128, min(self.piece_tokens, self.controller.n_ctx - answer_tokens - 400))

    def _ask(self, system: str, user: str, max_tokens: int) -> str:
        text = self.controller.chat([{"role": "system", "content": system},
                                     {"role": "user", "content": user}],
                                    max_tokens=max_tokens, fixed=system)
        return drop_repeats(text)

    # -- tasks

    def summarize(self, text: str, request: str = "", progress: Progress | None = None) -> str:
        """One summary call when the text fits a call; a longer text is first cut down to its
        key sentences (see ``key_sentences``), so a 3,000-word report or a whole book costs one
        call of bounded size instead of failing on the context or running for an hour."""
        length = summary_length(request)
        budget = self.piece_budget(200)
        if self.count(text) <= budget:
            return self._summary(text, length)
        if progress:
            progress(0, 2, f"picking the key sentences of a {len(text.split()):,}-word text")
        selected = key_sentences(text, budget, self.count)
        if progress:
            progress(1, 2, "summarizing the key sentences")
        return self._summary(selected, length, excerpt=True)

    def _summary(self, text: str, length: SummaryLength, excerpt: bool = False) -> str:
        what = "this document (its key sentences, in order)" if excerpt else "this text"
        instruction = (f"Summarize {what} {length.instruction()} of plain prose, not a list: "
                       "its main point, with the key facts (names, numbers as written, places).")
        budget = (length.words * 2 if length.words else 40 * length.sentences) + 40

        def ask(asked: str) -> str:
            user = f"{asked}\n\n<text>\n{text}\n</text>"
            return strip_echo(self._ask(SUMMARY_SYSTEM, user, budget), [user])

        summary = ask(instruction)
        facts = _numbered_facts(text)
        if facts and not any(f.split()[0] in summary for f in facts):
            # a small model's summary tends to drop the numbers: name them and ask again
            summary = ask(f"{instruction} Mention these facts: {'; '.join(facts[:4])}.")
        if copied_share(summary, text) > 0.6 or len(summary) >= 0.9 * len(text):
            # a copy, not a summary: ask for the main points in fewer, own words
            summary = ask(f"In {max(1, length.sentences - 1)} short sentence(s) of your own "
                          "words, say what this text is about and its key facts.")
        summary = " ".join(line.strip().lstrip("-*• ").strip() for line in summary.splitlines()
                           if line.strip())  # prose, even when a list came back
        if not length.words:
            limit = length.sentences if length.asked else length.sentences + 1
            summary = " ".join(re.split(r"(?<=[.!?])\s+", summary)[:limit])
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
            budget = max(64, 2 * self.count(piece) + 32)
            translated = self._translate_once(piece, target, shots, budget)
            digits = with_digits(piece)
            if numbers_in(translated, target) != numbers_in(piece, "English") and digits != piece:
                # a number changed on the way ("sept" for "nine"): digits survive translation
                again = self._translate_once(digits, target, shots, budget)
                if numbers_in(again, target) == numbers_in(digits, "English"):
                    translated = again
            out.append(translated)
        return "\n\n".join(out)

    def _translate_once(self, source: str, target: str, shots: list[dict[str, str]],
                        max_tokens: int) -> str:
        user = f"Translate into {target}:\n\n{source}"
        messages = [{"role": "system", "content": TRANSLATE_SYSTEM}, *shots,
                    {"role": "user", "content": user}]
        # the instructions and worked examples are the same for every text: kept evaluated
        # (the prompt up to the last example's answer)
        fixed = shots[-1]["content"] if shots else TRANSLATE_SYSTEM
        return strip_echo(drop_repeats(self.controller.chat(messages, max_tokens=max_tokens,
                                                            fixed=fixed)), [user])

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
