"""What the server reads and writes, apart from HTTP: chat messages in, HuggingGPT's and OpenAI's
response shapes out.

Both APIs take ``{"messages": [{"role", "content"}, ...]}``: the last user message is the
request, earlier user/assistant pairs are the conversation's history. Files are named in the
text the way HuggingGPT's examples do (``/examples/d.jpg``) or listed in a ``files`` field; each
is looked up inside the server's uploads folder only, never on the server's file system at
large. The shapes are those of HuggingGPT's server mode (``awesome_chat.py --mode server``: a
task list from ``/tasks``, a result per task id from ``/results``, ``{"message"}`` from
``/hugginggpt``) and of the OpenAI chat API, with the plan, choices, task results and files in
an extra ``conductor`` field that plain clients ignore.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.events import RunResult
from core.planner import Turn
from core.tasks import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, TEXT_EXTENSIONS

_EXTENSIONS = "|".join(sorted((re.escape(e.lstrip(".")) for e in
                               IMAGE_EXTENSIONS | AUDIO_EXTENSIONS | TEXT_EXTENSIONS),
                              key=len, reverse=True))
# A file named in a message: "/examples/d.jpg", "photo.png" (not part of a URL or a longer word)
_FILE_WORD = re.compile(rf"(?<![\w/.:-])(/?[\w.-]+(?:/[\w.-]+)*\.(?:{_EXTENSIONS}))(?!\w)",
                        re.IGNORECASE)


class BadRequest(ValueError):
    """A request the server refuses with 400 (and the status it should have, when not 400)."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass
class ChatRequest:
    """The request of a ``messages`` list: its text, history, and the files it names."""

    text: str
    history: list[Turn] = field(default_factory=list)
    file_names: list[str] = field(default_factory=list)  # as written, e.g. "/examples/d.jpg"


def read_messages(body: Any, extra_files: Any = None) -> ChatRequest:
    """The request in a ``messages`` list; ``BadRequest`` for anything malformed or empty."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with a \"messages\" list")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("\"messages\" must be a non-empty list of {\"role\", \"content\"}")
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise BadRequest(f"messages[{index}] must be an object with a \"role\"")
        turns.append((message["role"], _content_text(message.get("content"), index)))
    users = [i for i, (role, _) in enumerate(turns) if role == "user"]
    if not users or not turns[users[-1]][1].strip():
        raise BadRequest("the last user message is empty: there is nothing to do")
    last = users[-1]
    history, pending = [], None
    for role, text in turns[:last]:
        if role == "user":
            pending = text
        elif role == "assistant" and pending is not None:
            history.append(Turn(pending, text))
            pending = None
    text = turns[last][1].strip()
    names = [match.group(1) for match in _FILE_WORD.finditer(text)]
    listed = extra_files if extra_files is not None else body.get("files", [])
    if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
        raise BadRequest("\"files\" must be a list of uploaded file names")
    names += [n for n in listed if n not in names]
    return ChatRequest(text, history, names)


def _content_text(content: Any, index: int) -> str:
    """A message's text: a string, or OpenAI's list of parts (their ``text`` parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)
                 and p.get("type") == "text"]
        if len(parts) == len(content):
            return "\n".join(parts)
        raise BadRequest(f"messages[{index}]: only text parts are supported; upload files with "
                         "POST /v1/files and name them in the text", 415, "unsupported_content")
    if content is None:
        return ""
    raise BadRequest(f"messages[{index}].content must be text")


def in_uploads(uploads: Path, name: str) -> Path:
    """Where a file named in a message lives: inside ``uploads`` only (a leading slash means
    the uploads folder's root, as in HuggingGPT's "/examples/d.jpg"); ``BadRequest`` for a
    path that climbs out."""
    relative = name.lstrip("/")
    root = uploads.resolve()
    path = (root / relative).resolve()
    if not relative or not path.is_relative_to(root):
        raise BadRequest(f"{name!r} is outside the uploads folder; only uploaded files can be "
                         "used", 400, "path_outside_uploads")
    return path


# -- HuggingGPT's shapes

# HuggingGPT's names for a task's outputs in ``/results`` ("generated image": a file)
GENERATED = {"image": "generated image", "audio": "generated audio", "text": "generated text"}


def hugginggpt_tasks(result_plan: list[dict[str, Any]], originals: dict[str, str]
                     ) -> list[dict[str, Any]]:
    """The plan as ``/tasks`` returns it, file arguments named as the request named them."""
    tasks = []
    for node in result_plan:
        args = {k: originals.get(v, v) if isinstance(v, str) else v
                for k, v in node["args"].items()}
        tasks.append({"args": args, "dep": node["dep"], "id": node["id"], "task": node["task"]})
    return tasks


def hugginggpt_results(result: RunResult, originals: dict[str, str]) -> dict[str, Any]:
    """``/results``: per task id, the task, its inference result and the model choice."""
    choices = {c["task_id"]: c for c in result.choices}
    tasks = {t["id"]: t for t in result.tasks}
    out: dict[str, Any] = {}
    for node in hugginggpt_tasks(result.plan, originals):
        record = tasks.get(node["id"], {})
        inference = {GENERATED.get(k, k): v for k, v in (record.get("outputs") or {}).items()
                     if k != "traceback"}
        if record.get("status") != "done":
            inference = {"error": record.get("error") or record.get("status") or "not run"}
        choice = choices.get(node["id"], {})
        out[str(node["id"])] = {"task": node, "inference result": inference,
                                "choose model result": {"id": choice.get("model"),
                                                        "reason": choice.get("reason")}}
    return out


# -- OpenAI's shapes


def conductor_extra(result: RunResult, file_url: str) -> dict[str, Any]:
    """What the run did, for clients that read it: plan, choices, tasks, files with URLs."""
    names = [Path(path).name for path in result.files_made]
    return {"run_id": result.run_id, "conversation_id": result.conversation_id,
            "status": result.status, "plan": result.plan, "choices": result.choices,
            "tasks": [{k: v for k, v in t.items() if k != "traceback"} for t in result.tasks],
            "files": [{"name": n, "url": f"{file_url}/{result.run_id}/{n}"} for n in names],
            "timings": result.timings}


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def chat_completion(result: RunResult, model: str, file_url: str, prompt_words: int
                    ) -> dict[str, Any]:
    """A whole ``chat.completion`` (``stream: false``)."""
    return {"id": completion_id(), "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant",
                                                     "content": result.answer}}],
            "usage": _usage(prompt_words, result.answer),
            "conductor": conductor_extra(result, file_url)}


def chunk(completion: str, model: str, delta: dict[str, Any], finish: str | None = None,
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``chat.completion.chunk`` of a stream."""
    data = {"id": completion, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "delta": delta,
                                         "finish_reason": finish}]}
    if extra is not None:
        data["conductor"] = extra
    return data


def _usage(prompt_words: int, answer: str) -> dict[str, int]:
    """Word counts, not tokens: two LLMs share a run, so there is no one tokenizer to count
    with; a client that budgets by usage gets a number of the right size."""
    completion = len(answer.split())
    return {"prompt_tokens": prompt_words, "completion_tokens": completion,
            "total_tokens": prompt_words + completion}


def error_body(message: str, code: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """OpenAI's error shape (HuggingGPT's clients read ``error`` too)."""
    return {"error": {"message": message, "type": kind, "code": code}}
