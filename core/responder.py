"""Stage 4, response generation: the controller answers from the results, streaming.

The controller writes a short answer from the request and each task's result. A chat model gets
chat turns; a base model (the default Gemma 270M) gets worked examples as plain text, which it
follows far better. Because a small controller can still drop facts, the answer always ends with
a results section made from the records themselves: each task with the model that ran it, its
result or error, and every file produced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.executor import DONE, TaskResult, output_text
from core.llm import Controller
from core.planner import Turn
from core.textclip import clip

PREAMBLE = ("Conductor is an offline assistant. It runs local models and reports their results "
            "truthfully.\n")

# (request, results, answer): worked answers shown before the real one.
EXAMPLES = (
    ("Describe beach.png", "image-to-text: a sandy beach with two umbrellas",
     "The picture shows a sandy beach with two umbrellas."),
    ("Say 'good morning' aloud, then transcribe it",
     "text-to-speech: made speech-1.wav | automatic-speech-recognition: good morning.",
     'I read the text aloud into speech-1.wav; its transcript reads "good morning."'),
    ("Thanks a lot!", "none", "You're welcome! Ask me anytime."),
    ("Which companies are named in: Tom left Google for Apple",
     "token-classification: Tom (PERSON), Google (ORG), Apple (ORG)",
     "The companies are Google and Apple; Tom is a person."),
    ("What is the mood of: what a lovely day",
     "text-classification: positive (0.91), neutral (0.09)",
     "The text is positive (score 0.91)."),
    ("What does note.png say?", "image-to-text: Back at 3 pm",
     'The note says "Back at 3 pm".'),
    ("Find the faces in team.jpg", "object-detection: 3 faces found, made faces-2.png",
     "I found 3 faces in team.jpg and marked them in faces-2.png."),
    ("Caption cat.png and read the caption aloud",
     "image-to-text: failed: no model installed | text-to-speech: skipped",
     "I could not caption cat.png because no captioning model is installed, so nothing was "
     "read aloud."),
)


def results_section(results: Sequence[TaskResult]) -> str:
    """The factual part of the answer: per task, model, status, result and files."""
    if not results:
        return ""
    lines = ["Results:"]
    for r in results:
        head = f"{r.id + 1}. {r.task} with {r.model or 'no model'}"
        if r.status == DONE:
            text = output_text(r.outputs)
            files = [r.outputs[k] for k in ("image", "audio") if r.outputs.get(k)]
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


def files_made(results: Sequence[TaskResult]) -> list[str]:
    return [r.outputs[k] for r in results if r.status == DONE for k in ("image", "audio")
            if r.outputs.get(k)]


def brief(results: Sequence[TaskResult]) -> str:
    """One line of results for the prompt: task, then result, files or error."""
    parts = []
    for r in results:
        if r.status == DONE:
            made = files_made([r])
            text = clip(output_text(r.outputs), 300)
            detail = "; ".join(x for x in (text, f"made {', '.join(made)}" if made else "") if x)
        else:
            detail = f"{r.status}: {r.error}"
        parts.append(f"{r.task}: {detail}")
    return " | ".join(parts) or "none"


class Responder:
    """Writes the final answer with the controller, streaming it piece by piece."""

    def __init__(self, controller: Controller, max_tokens: int = 80) -> None:
        self.controller = controller
        self.max_tokens = max_tokens

    def respond(self, request: str, results: Sequence[TaskResult], history: Sequence[Turn] = (),
                on_token: Callable[[str], None] | None = None) -> dict[str, Any]:
        stream = on_token or (lambda text: None)
        if self.controller.is_chat_model:
            summary = self._chat(request, results, history, stream)
        else:
            summary = self._complete(request, results, history, stream)
        facts = results_section(results)
        if facts:
            stream("\n\n" + facts)
        answer = summary + ("\n\n" + facts if facts else "")
        return {"answer": answer.strip(), "summary": summary,
                "models": sorted({r.model for r in results if r.model}),
                "files": files_made(results)}

    def _complete(self, request: str, results: Sequence[TaskResult], history: Sequence[Turn],
                  stream: Callable[[str], None]) -> str:
        shots = "".join(f"\nRequest: {q}\nResults: {r}\nAnswer: {a}\n" for q, r, a in EXAMPLES)
        earlier = "".join(f"\nRequest: {t.request}\nResults: earlier turn\nAnswer: "
                          f"{clip(t.answer.splitlines()[0] if t.answer else '', 200)}\n"
                          for t in history[-2:])
        prompt = (f"{PREAMBLE}{shots}{earlier}\nRequest: {clip(request, 500)}\n"
                  f"Results: {brief(results)}\nAnswer:")
        # the preamble and worked answers (about 400 tokens) are the same every time
        return self.controller.complete(prompt, self.max_tokens, stop=("\n",), on_text=stream,
                                        fixed=PREAMBLE + shots)

    def _chat(self, request: str, results: Sequence[TaskResult], history: Sequence[Turn],
              stream: Callable[[str], None]) -> str:
        system = PREAMBLE + "Answer in one or two sentences from the task results."
        messages = [{"role": "system", "content": system}]
        for turn in history[-2:]:
            messages.append({"role": "user", "content": turn.request})
            messages.append({"role": "assistant", "content": clip(turn.answer, 300)})
        messages.append({"role": "user", "content": f"{request}\n\nTask results: "
                                                    f"{brief(results)}"})
        return self.controller.chat(messages, max_tokens=self.max_tokens, on_text=stream,
                                    fixed=system)


