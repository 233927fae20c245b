"""Stage 4, response generation: the controller answers from the results, streaming.

The controller writes a short answer from the request and each task's result. Because a small
controller can drop facts, the answer always ends with a results section made from the records
themselves: each task with the model that ran it, its result or error, and every file produced.
So the user always learns which models were used and where the files are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.executor import DONE, TaskResult, output_text
from core.llm import Controller
from core.planner import Turn

PROMPT = (
    "You are an offline assistant. The user asked: {request}\n"
    "You ran these tasks with local models:\n{results}\n"
    "Tell the user the result in one or two short sentences."
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
            detail = f': "{_clip(text, 400)}"' if text else ""
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


class Responder:
    """Writes the final answer with the controller, streaming it piece by piece."""

    def __init__(self, controller: Controller, max_tokens: int = 96) -> None:
        self.controller = controller
        self.max_tokens = max_tokens

    def respond(self, request: str, results: Sequence[TaskResult], history: Sequence[Turn] = (),
                on_token: Callable[[str], None] | None = None) -> dict[str, Any]:
        stream = on_token or (lambda text: None)
        messages = []
        for turn in history[-2:]:
            messages.append({"role": "user", "content": turn.request})
            messages.append({"role": "assistant", "content": _clip(turn.answer, 300)})
        if results:
            brief = "\n".join(
                f"- {r.task} ({r.model}): "
                + (_clip(output_text(r.outputs), 300) or "made " + ", ".join(files_made([r]))
                   if r.status == DONE else f"{r.status}: {r.error}")
                for r in results)
            messages.append({"role": "user",
                             "content": PROMPT.format(request=request, results=brief)})
        else:
            messages.append({"role": "user", "content": request})
        summary = self.controller.chat(messages, max_tokens=self.max_tokens, on_text=stream)
        facts = results_section(results)
        if facts:
            stream("\n\n" + facts)
        answer = summary + ("\n\n" + facts if facts else "")
        return {"answer": answer.strip(), "summary": summary,
                "models": sorted({r.model for r in results if r.model}),
                "files": files_made(results)}


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
