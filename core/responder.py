"""Stage 4, response generation: an answer that states only what the task records hold.

The answer is what a user reads first, so it is built to be true before it is built to be
fluent:

- A task that failed, was skipped or timed out is always reported by a sentence made from its
  record (what failed, why, and the way out), never left to the LLM.
- When a task's model could not do what the request asked (only text reading is installed and
  the user asked to describe a photo), a sentence made from the registry says so.
- When the last task is a text task the writer did (a summary, a translation, an answer), its
  output *is* the answer and is shown as it is, not retold.
- Otherwise the writer LLM describes the successful results, and each of its sentences is
  checked against the records before it is shown: numbers, file names and quoted text must occur
  in the request or the task records, and a sentence may not bring in many content words that
  appear nowhere in them. A sentence that fails is dropped; if none is left, sentences made from
  the records stand in.
- A request with no task (chit-chat, a general question) is answered by the writer, which is told
  what the installation can do; "what can you do?" is answered from the registry itself.

The answer ends with a results section made from the records: each task, its model, its result
or error, and every file produced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from core.capabilities import GREETING, Capability, asks_what_it_can_do, capabilities_text
from core.executor import DONE, SKIPPED, TIMED_OUT, TaskResult, output_text
from core.languages import ENGLISH_NUMBERS
from core.llm import Controller
from core.planner import Turn
from core.registry import ModelRecord
from core.tasks import (
    FILE_KINDS,
    TASKS,
    WRITER_TASKS,
    get_task,
    output_files,
    skill_of,
    wanted_skill,
)
from core.textclip import clip

ANSWER_SYSTEM = (
    "You are Conductor, an offline assistant. Local models ran steps for the user's request; "
    "their results follow the request. Tell the user what was found, in one to three plain "
    "sentences. Use only facts written in the results; copy numbers, names, labels and file "
    "names exactly; quote a transcript or a text read from an image. Never describe a picture "
    "unless a result describes it. Do not name the steps, do not write a list.")
# Worked answers (our own), shown as earlier chat turns: they set the length and the tone, and
# show that a result is reported, not embellished. Evaluated once and kept (a fixed prefix).
ANSWER_EXAMPLES = (
    ("Say 'good morning' aloud, then transcribe it",
     '- text-to-speech: made the file speech-1.wav\n'
     '- automatic-speech-recognition: "good morning."',
     'I read the text aloud into speech-1.wav; the transcript of the recording reads "good '
     'morning."'),
    ("Which companies are named in: Tom left Google for Apple",
     '- token-classification: "Tom (PERSON), Google (ORG), Apple (ORG)"',
     "The companies named are Google and Apple; Tom is a person."),
    ("Find the faces in team.jpg",
     '- object-detection on team.jpg (its model can only find and mark human faces in an '
     'image): "3 faces found"; made the file team-face-1.png',
     "I found 3 faces in team.jpg and marked them in team-face-1.png."),
    ("How does this review sound: the food was cold and the waiter rude",
     '- text-classification: "negative (0.87), neutral (0.13)"',
     "The review sounds negative (score 0.87)."),
)
CHAT_SYSTEM = (
    "You are Conductor, an offline assistant running entirely on the user's computer. Answer "
    "the user's message directly and briefly, in the user's language. You ran no task for this "
    "message, so never claim to have looked at, heard, made or saved anything. If asked what you "
    "can do, name only these installed abilities:\n")
# Words an answer may use that no record holds: how answers talk about results.
ANSWER_WORDS = frozenset("""
answer answers asked aloud audio better called contains describe described description detected
done entities entity file files find found heard image images listed made mark marked marks
mentioned message mood named names negative neutral note output person people picture places
positive reads reading recording request result results said says score sentiment shows speech
spoken summary text texts there these this those transcribed transcript transcription translated
translation voice wrote written organization organizations location locations date dates place
persons label labels labelled labeled boxed detection located identified recognized recognised
following which with that from into about also here have were your like sounds seems overall
""".split())
STOPWORDS = frozenset("""
the and for are but not you all any can had her was one our out has his how its may new now old
see two who did get let say she too use they them then than what when where will would could
should their there been being some such only into over under very just more most other each
""".split())
NUMBER_WORDS = {**ENGLISH_NUMBERS, "zero": 0}
FILE_NAME = re.compile(r"[\w.-]+\.(?:wav|flac|mp3|ogg|m4a|png|jpe?g|bmp|gif|webp|tiff?|txt|md)\b",
                       re.I)


# ---------------------------------------------------------------- records as text


def files_made(results: Sequence[TaskResult]) -> list[str]:
    return [path for r in results if r.status == DONE for _, path in output_files(r.outputs)]


def summary_of(answer: str) -> str:
    """An answer without its results section (``results_section``): what it says in words."""
    return answer.split("\n\nResults:")[0]


def results_section(results: Sequence[TaskResult]) -> str:
    """The factual part of the answer: per task, model, status, result and files."""
    if not results:
        return ""
    lines = ["Results:"]
    for r in results:
        head = f"{r.id + 1}. {r.task} with {r.model or 'no model'}"
        if r.status == DONE:
            text = output_text(r.outputs)
            files = [path for _, path in output_files(r.outputs)]
            detail = f': "{clip(text, 400)}"' if text else ""
            if files:
                detail += f" (file: {', '.join(files)})"
            lines.append(f"{head} ({r.seconds:.1f} s){detail}")
        else:
            lines.append(f"{head}: {r.status}: {r.error}")
    files = files_made(results)
    if files:
        lines.append("Files: " + ", ".join(files))
    return "\n".join(lines)


def _input_names(result: TaskResult) -> list[str]:
    return [str(v) for k, v in result.args.items() if k in FILE_KINDS
            and not str(v).startswith("<GENERATED>")]


def record_sentence(result: TaskResult, record: ModelRecord | None) -> str:
    """One true sentence about a successful task, made from its record alone."""
    out = result.outputs
    text = output_text(out).strip()
    names = _input_names(result)
    source = f" in {names[0]}" if names else ""
    made = files_made([result])
    task = result.task
    if task == "text-to-speech":
        return f"I read the text aloud into {made[0]}." if made else "I read the text aloud."
    if task == "automatic-speech-recognition":
        return f'The recording says: "{clip(text, 300)}"' if text else \
            "The speech recognizer heard no words."
    if task == "image-to-text":
        if record is not None and record.skill == "ocr":
            return (f'The text{source} reads: "{clip(text, 300)}"' if text
                    else f"The text reader found no text{source}.")
        return f"The image{source.replace(' in', '')} shows {clip(text, 300)}" if text else \
            f"The captioning model gave no description{source}."
    if task == "object-detection":
        boxes = out.get("boxes") or []
        mark = f" and marked them in {made[0]}" if made and boxes else ""
        return f"I found {text or str(len(boxes)) + ' objects'}{source}{mark}."
    if task in ("text-classification", "audio-classification", "image-classification",
                "zero-shot-classification") and out.get("labels"):
        best = out["labels"][0]
        return f"The result is {best['label']} (score {best['score']:.2f})."
    if task == "token-classification":
        if out.get("entities") == [] or not text:  # the recognizer found none
            return "No named entities were found."
        return f"The named entities are: {clip(text, 300)}."
    if made and not text:
        return f"{task} made {', '.join(made)}."
    return f"{task}: {clip(text, 400)}" if text else f"{task} finished with no output."


def problem_sentence(result: TaskResult) -> str:
    """A failed, skipped or timed-out task: what did not happen, why, and the way out."""
    what = get_task(result.task).description if result.task in TASKS else result.task
    error = (result.error or "no reason was recorded").rstrip(".")
    if result.status == SKIPPED:
        return f"I did not {what}, because an earlier step it needed did not succeed ({error})."
    if result.status == TIMED_OUT:
        return (f"The {result.task} step did not finish in time ({error}); try a shorter input, "
                "or raise task_timeout_s in the settings.")
    if result.model is None or "no installed model" in error:
        return (f"I could not {what}: no installed model can do {result.task}. Import one with "
                "`main.py models import <folder or hub id>`.")
    if SAYS_ITS_WAY_OUT.search(error):  # a full disk, a missing extra: the reason says it all
        return f"The {result.task} step failed: {clip(error, 300)}."
    if re.match(r"^\w*(Error|Exception)\b", error):  # the model crashed, not the input
        fix = f"`main.py models verify {result.model}` checks the model's files"
    elif re.search(r"\bfile|readable|image|audio", error, re.I):
        fix = "check the attached file"
    else:
        fix = "say more precisely what you need, e.g. name the labels or the text"
    return f"The {result.task} step failed ({clip(error, 200)}); {fix}."


# Task errors that already end with what to do (core/executor.py, core/runners/onnx_loading.py).
SAYS_ITS_WAY_OUT = re.compile(r"^no space left|install the `import` extra")


def skill_gap_sentence(request: str, result: TaskResult, record: ModelRecord | None) -> str:
    """When the model that ran could not do what the request asked of its task (an OCR model for
    'describe this photo'), the sentences that say so and what it did find; empty when it could.
    """
    wanted_name = wanted_skill(result.task, request)
    wanted = skill_of(result.task, wanted_name or "")
    have = skill_of(result.task, record.skill) if record is not None else None
    if wanted is None or have is None or record is None or record.skill == wanted_name:
        return ""
    names = _input_names(result)
    target = names[0] if names else "the image"
    sentence = (f"I cannot {wanted.can.replace('an image', target)}: no {wanted_name} model is "
                f"installed, and the model that ran ({record.id}) can only {have.can}.")
    found = output_text(result.outputs).strip()
    if result.status == DONE:
        sentence += (f' It found this text: "{clip(found, 200)}".' if found
                     else f" It found no text in {target}.")
    return (sentence + f" Import a {wanted_name} model with `main.py models import <folder or hub "
            f"id>` to {wanted.can}.")


def evidence_of(request: str, results: Sequence[TaskResult], history: Sequence[Turn]) -> str:
    """Everything an answer may draw on: the request, earlier answers and every task record."""
    parts = [request, *(t.answer for t in history[-2:])]
    for r in results:
        parts += [r.task, r.model or "", " ".join(map(str, r.args.values())), r.error or ""]
        parts += [output_text(r.outputs), *files_made([r])]
        parts += [str(b.get("label", "")) for b in r.outputs.get("boxes") or []]
    return "\n".join(parts)


# ---------------------------------------------------------------- grounding checks


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[\w'’]+", text.lower()))


def numbers_in(text: str) -> set[str]:
    """Digits a text states, and counts it spells out ('three faces')."""
    found = {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in NUMBER_WORDS:
            found.add(str(NUMBER_WORDS[word]))
    return {n.rstrip(".") for n in found}


def unsupported(sentence: str, evidence: str) -> str:
    """Why a sentence of the writer's is not supported by the evidence; empty when it is."""
    evidence_numbers = numbers_in(evidence)
    for number in numbers_in(sentence):
        if number not in evidence_numbers and number.split(".")[0] not in evidence_numbers:
            return f"the number {number} is in no record"
    known_files = {f.lower() for f in FILE_NAME.findall(evidence)}
    for name in FILE_NAME.findall(sentence):
        if name.lower() not in known_files:
            return f"the file {name} is in no record"
    normalized = _norm(evidence)
    for quoted in re.findall(r'"([^"]{3,})"|“([^”]{3,})”', sentence):
        text = _norm(quoted[0] or quoted[1])
        if text and text not in normalized:
            return f"the quote {text!r} is in no record"
    known = set(normalized.split())
    content = [w for w in re.findall(r"[a-z][a-z'-]{3,}", sentence.lower())
               if w not in STOPWORDS and w not in ANSWER_WORDS]
    novel = [w for w in content if w not in known and w.rstrip("s") not in known
             and not any(k.startswith(w[:5]) for k in known if len(w) > 5)]
    if len(novel) >= 3 and len(novel) > len(content) / 3:
        return f"words in no record: {', '.join(novel[:5])}"
    return ""


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", text.strip()) if s.strip()]


def talks_about_steps(sentence: str) -> bool:
    """A sentence about the machinery (task names, 'the task results', a list item) rather
    than about what was found."""
    lowered = sentence.lower()
    return (sentence.lstrip().startswith(("-", "*", "1.")) or "task result" in lowered
            or any(name in lowered for name in TASKS if "-" in name))


def mentions_failure(text: str) -> bool:
    return bool(re.search(r"\b(fail\w*|could not|couldn't|cannot|can't|unable|not installed|"
                          r"no model|did not|didn't|skipped|timed out)\b", text, re.I))


# ---------------------------------------------------------------- the responder


class Responder:
    """Writes the final answer: record-made sentences for what went wrong, the writer LLM's
    checked sentences for what went right, streaming as it goes."""

    def __init__(self, writer: Controller, capabilities: Sequence[Capability] = (),
                 max_tokens: int = 120, writer_id: str = "") -> None:
        self.writer = writer
        self.capabilities = list(capabilities)
        self.writer_id = writer_id
        self.max_tokens = max_tokens

    def respond(self, request: str, results: Sequence[TaskResult], history: Sequence[Turn] = (),
                on_token: Callable[[str], None] | None = None,
                records: dict[str, ModelRecord] | None = None) -> dict[str, Any]:
        stream = on_token or (lambda text: None)
        records = records or {}
        if not results:
            summary, how = self._without_tasks(request, history, stream)
        else:
            summary, how = self._from_results(request, results, history, stream, records)
        facts = results_section(results)
        if facts:
            stream("\n\n" + facts)
        answer = summary + ("\n\n" + facts if facts else "")
        return {"answer": answer.strip(), "summary": summary, "written_by": how,
                "models": sorted({r.model for r in results if r.model}),
                "files": files_made(results)}

    # -- no task: chat, or what the installation can do

    def _without_tasks(self, request: str, history: Sequence[Turn],
                       stream: Callable[[str], None]) -> tuple[str, str]:
        if asks_what_it_can_do(request) or not self.writer.is_chat_model:
            text = self.capability_answer(request)
            stream(text)
            return text, "records"
        system = CHAT_SYSTEM + capabilities_text(self.capabilities)
        messages = [{"role": "system", "content": system}]
        for turn in history[-2:]:
            messages.append({"role": "user", "content": clip(turn.request, 500)})
            messages.append({"role": "assistant",
                             "content": clip(summary_of(turn.answer), 400)})
        messages.append({"role": "user", "content": clip(request, 2000)})
        text = self.writer.chat(messages, max_tokens=self.max_tokens * 2, on_text=stream,
                                fixed=system)
        return text or "I have no answer to that.", "writer"

    def capability_answer(self, request: str) -> str:
        """What this installation can do, from the registry (no model asked)."""
        hello = "Hi! " if GREETING.search(request) else ""
        if not self.capabilities:
            return (f"{hello}I am Conductor, an offline assistant, but no expert models are "
                    "installed yet: run `make setup` to install the default set.")
        writer_only = [c for c in self.capabilities if c.models == (self.writer_id,)]
        lines = [f"- {c.phrase}" for c in self.capabilities if c not in writer_only]
        if writer_only:
            lines.append("- with the writer model (" + self.writer_id + "): " +
                         "; ".join(c.phrase for c in writer_only))
        return (f"{hello}I am Conductor, an offline assistant: everything runs on this computer."
                " With the models installed here I can:\n" + "\n".join(lines) +
                "\nAttach an image, a recording or a text file, or just ask.")

    # -- tasks ran

    def _from_results(self, request: str, results: Sequence[TaskResult],
                      history: Sequence[Turn], stream: Callable[[str], None],
                      records: dict[str, ModelRecord]) -> tuple[str, str]:
        gaps = {r.id: gap for r in results
                if (gap := skill_gap_sentence(request, r, records.get(r.model or "")))}
        problems = [r for r in results if r.status != DONE]
        told = [r for r in results if r.status == DONE and r.id not in gaps]
        notes = [*gaps.values(), *(problem_sentence(r) for r in problems if r.id not in gaps)]
        parts: list[str] = []
        written: list[str] = []
        how = "records"
        if told and not problems and results[-1].task in WRITER_TASKS:
            parts.append(output_text(results[-1].outputs).strip())  # the text is the answer
            how = "task"
        elif told:
            written = (self._write(request, told, history, records, stream)
                       if self.writer.is_chat_model else [])
            if written:
                how = "writer"
            else:
                parts.extend(record_sentence(r, records.get(r.model or "")) for r in told)
        parts.extend(notes)
        rest = " ".join(p for p in parts if p).strip()
        if rest:
            stream((" " if how == "writer" else "") + rest)
        text = " ".join([*written, rest]).strip()
        return text, how

    def _write(self, request: str, told: Sequence[TaskResult], history: Sequence[Turn],
               records: dict[str, ModelRecord], stream: Callable[[str], None]) -> list[str]:
        """The writer's sentences about the successful tasks, each checked against the records
        as soon as it is complete and streamed only if it holds; the rest dropped."""
        lines = []
        for r in told:
            record = records.get(r.model or "")
            skill = skill_of(r.task, record.skill) if record is not None else None
            inputs = ", ".join(_input_names(r))
            head = f"- {r.task}" + (f" on {inputs}" if inputs else "") + \
                (f" (its model can only {skill.can})" if skill else "")
            text = output_text(r.outputs).strip()
            made = files_made([r])
            body = f': "{clip(text, 600)}"' if text else ": no text output"
            if made:
                body += f"; made the file {', '.join(made)}"
            lines.append(head + body)
        messages = [{"role": "system", "content": ANSWER_SYSTEM}]
        for example_request, example_results, example_answer in ANSWER_EXAMPLES:
            messages += [{"role": "user",
                          "content": f"Request: {example_request}\n\nResults:\n{example_results}"},
                         {"role": "assistant", "content": example_answer}]
        messages.append({"role": "user", "content": f"Request: {clip(request, 600)}\n\n"
                                                    "Results:\n" + "\n".join(lines)})
        evidence = evidence_of(request, told, history)
        kept: list[str] = []
        pieces: list[str] = []
        judged = 0

        def judge(sentences: list[str]) -> None:
            for sentence in sentences:
                if (unsupported(sentence, evidence) or mentions_failure(sentence)
                        or talks_about_steps(sentence)):
                    continue
                stream((" " if kept else "") + sentence)
                kept.append(sentence)

        def on_text(piece: str) -> None:
            nonlocal judged
            pieces.append(piece)
            sentences = split_sentences("".join(pieces))
            complete = sentences[:-1]  # the last one may still grow
            judge(complete[judged:])
            judged = max(judged, len(complete))

        self.writer.chat(messages, max_tokens=self.max_tokens, on_text=on_text,
                         fixed=ANSWER_EXAMPLES[-1][2])
        judge(split_sentences("".join(pieces))[judged:])
        return kept
