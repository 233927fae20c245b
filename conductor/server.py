"""The local server (``main.py serve``): HuggingGPT's API and the OpenAI chat API over HTTP.

Scripts in any language reach Conductor the way they reach LM Studio, Ollama or HuggingGPT's own
server mode: ``POST /tasks`` (the plan only), ``/results`` (plan and task results) and
``/hugginggpt`` (the answer), and ``GET /v1/models``, ``POST /v1/chat/completions`` (streamed
or not), ``POST /v1/files`` and ``GET /files/{run}/{name}``. Nothing leaves the machine: it binds
loopback unless a token is set, and then checks the token on every request.

Runs fit two cores: each LLM (the default planner and writer, or one ``model`` a client names)
has one lane, a worker thread that owns its ``Assistant`` (SQLite connections belong to the
thread that opened them) and runs one request at a time; a bounded number wait, and the next
is told ``429`` with ``Retry-After``. A client that disconnects cancels its run. Every run is in
the history, as from the CLI or the GUI.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import hmac
import ipaddress
import json
import shutil
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from conductor.api_shapes import (
    BadRequest,
    ChatRequest,
    chat_completion,
    chunk,
    completion_id,
    conductor_extra,
    error_body,
    hugginggpt_results,
    hugginggpt_tasks,
    in_uploads,
    read_messages,
)
from core.config import Settings
from core.disk import unused_path
from core.events import DONE, Event, EventKind, RunResult

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8004
DEFAULT_QUEUE = 4  # requests that may wait behind the running one, per LLM
DEFAULT_MAX_UPLOAD_MB = 100
PIPELINE_MODEL = "conductor"  # the model name of the whole four-stage pipeline
FILES_PATH = "/files"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str) -> None:
    """Refuse to serve beyond this machine without a token (``ValueError`` says how)."""
    if not is_loopback(host) and not token:
        raise ValueError(f"serving on {host} would let other machines run models here: give a "
                         "token (--token, or CONDUCTOR_SERVER_TOKEN), which every request must "
                         "then send as 'Authorization: Bearer <token>', or bind 127.0.0.1")


@dataclass
class ServerConfig:
    settings: Settings
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str = ""
    queue_size: int = DEFAULT_QUEUE
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB << 20

    @property
    def uploads(self) -> Path:
        return self.settings.data_path / "uploads"


class Busy(Exception):
    """The lane's queue is full: 429, try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"busy: retry after {retry_after} s")
        self.retry_after = retry_after


class Lane:
    """One LLM's runs: a worker thread that owns its ``Assistant``, one run at a time, at most
    ``queue_size`` waiting."""

    def __init__(self, settings: Settings, queue_size: int) -> None:
        self.settings = settings
        self.capacity = 1 + max(0, queue_size)
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="lane")
        self._assistant: Any = None
        self._admitted = 0
        self._guard = threading.Lock()
        self._recent: list[float] = []

    def submit(self, job: Callable[[Any], Any]) -> concurrent.futures.Future:
        """Queue ``job(assistant)``; ``Busy`` when the queue is full."""
        with self._guard:
            if self._admitted >= self.capacity:
                typical = sorted(self._recent)[len(self._recent) // 2] if self._recent else 5.0
                raise Busy(max(1, round(typical * self._admitted)))
            self._admitted += 1
        return self._worker.submit(self._run, job)

    def _run(self, job: Callable[[Any], Any]) -> Any:
        started = time.perf_counter()
        try:
            if self._assistant is None:
                from core.assistant import Assistant

                self._assistant = Assistant(self.settings)
            return job(self._assistant)
        finally:
            with self._guard:
                self._admitted -= 1
                self._recent = [*self._recent[-9:], time.perf_counter() - started]

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


def create_app(config: ServerConfig) -> Any:
    """The ASGI app (FastAPI) for ``config``."""
    from core.services import Services

    lanes: dict[str, Lane] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        for lane in lanes.values():
            lane.close()

    app = FastAPI(title="Conductor", version=_version(), lifespan=lifespan,
                  description="HuggingGPT's API and the OpenAI chat API, offline.")
    services = Services(config.settings)
    config.uploads.mkdir(parents=True, exist_ok=True)

    def lane_for(model: str) -> Lane:
        """The lane of a model a client named: the pipeline, or one controller for both
        roles (``BadRequest`` 404 for an unknown name, 400 for an expert)."""
        if model in ("", PIPELINE_MODEL):
            key, settings = PIPELINE_MODEL, config.settings
        else:
            from core.registry import CONTROLLER_RUNTIME, ModelNotFoundError

            try:
                record = services.model(model)
            except ModelNotFoundError:
                raise BadRequest(f"no model {model!r} (GET /v1/models lists them)", 404,
                                 "model_not_found") from None
            if record.runtime != CONTROLLER_RUNTIME:
                raise BadRequest(f"{model!r} is an expert model for {record.task}, not a chat "
                                 f"model; use {PIPELINE_MODEL!r} (it picks experts itself) or a "
                                 "controller LLM", 400, "model_not_chat")
            key, settings = model, dataclasses.replace(config.settings, controller=model)
        if key not in lanes:
            lanes[key] = Lane(settings, config.queue_size)
        return lanes[key]

    @app.middleware("http")
    async def check_token(request: Request, call_next):
        if config.token:
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {config.token}".encode()):
                return JSONResponse(error_body("a valid 'Authorization: Bearer <token>' header "
                                               "is required", "invalid_token",
                                               "authentication_error"), 401)
        return await call_next(request)

    @app.exception_handler(BadRequest)
    async def bad_request(_request: Request, exc: BadRequest):
        return JSONResponse(error_body(str(exc), exc.code), exc.status)

    @app.exception_handler(Busy)
    async def busy(_request: Request, exc: Busy):
        return JSONResponse(error_body(f"Conductor is busy with other requests; retry after "
                                       f"{exc.retry_after} s", "busy", "rate_limit_error"), 429,
                            headers={"Retry-After": str(exc.retry_after)})

    async def body_of(request: Request) -> Any:
        try:
            return json.loads(await request.body() or b"null")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("the body is not valid JSON", 400, "invalid_json") from None

    def attachments(chat: ChatRequest, must_exist: bool) -> tuple[list[Path], dict[str, str]]:
        """The files a request names, inside the uploads folder; and each staged name's
        original spelling, so a plan shows "/examples/d.jpg" as the client wrote it."""
        from core.assistant import InputFileError, check_attachment

        paths, originals = [], {}
        for name in chat.file_names:
            path = in_uploads(config.uploads, name)
            if must_exist:
                if not path.is_file():
                    raise BadRequest(f"{name!r} is not in the uploads folder; upload it first "
                                     "(POST /v1/files)", 400, "file_not_found")
                try:
                    check_attachment(path)
                except InputFileError as exc:
                    raise BadRequest(str(exc), 415, "unsupported_file") from None
            paths.append(path)
            originals[path.name] = name
        return paths, originals

    async def run_in_lane(request: Request, lane: Lane, job: Callable[[Any], Any],
                          cancel: threading.Event) -> Any:
        """Run a job in its lane; a client that goes away cancels it."""
        future = lane.submit(job)
        while not future.done():
            if await request.is_disconnected():
                cancel.set()
                break
            await asyncio.sleep(0.1)
        return await asyncio.wrap_future(future)

    def asking(chat: ChatRequest, paths: list[Path], cancel: threading.Event,
               on_event: Callable[[Event], None] | None = None) -> Callable[[Any], RunResult]:
        def job(assistant: Any) -> RunResult:
            return assistant.ask(chat.text, files=paths, cancel=cancel, on_event=on_event,
                                 history=chat.history)
        return job

    # -- HuggingGPT

    @app.post("/tasks")
    async def tasks(request: Request):
        chat = read_messages(await body_of(request))
        paths, originals = attachments(chat, must_exist=False)
        planned = await run_in_lane(request, lane_for(""), lambda assistant: assistant.plan(
            chat.text, [p.name for p in paths], chat.history), threading.Event())
        return hugginggpt_tasks([n.to_json() for n in planned.plan], originals)

    async def hugginggpt_run(request: Request) -> tuple[RunResult, dict[str, str]]:
        """A whole run of the messages HuggingGPT's endpoints take, on the default LLMs."""
        chat = read_messages(await body_of(request))
        paths, originals = attachments(chat, must_exist=True)
        cancel = threading.Event()
        result = await run_in_lane(request, lane_for(""), asking(chat, paths, cancel), cancel)
        return result, originals

    @app.post("/results")
    async def results(request: Request):
        return hugginggpt_results(*await hugginggpt_run(request))

    @app.post("/hugginggpt")
    async def hugginggpt(request: Request):
        result, _ = await hugginggpt_run(request)
        return {"message": result.answer}

    # -- OpenAI

    @app.get("/v1/models")
    async def models():
        created = int(time.time())
        data = [{"id": PIPELINE_MODEL, "object": "model", "created": created,
                 "owned_by": "conductor", "task": "four stages: plan, select, run, answer"}]
        data += [{"id": r.id, "object": "model", "created": created, "owned_by": "conductor",
                  "task": r.task, "runtime": r.runtime} for r in services.models()]
        return {"object": "list", "data": data}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        body = await body_of(request)
        chat = read_messages(body)
        model = body.get("model") or PIPELINE_MODEL
        if not isinstance(model, str):
            raise BadRequest("\"model\" must be a string")
        lane = lane_for(model)
        paths, _ = attachments(chat, must_exist=True)
        file_url = f"{str(request.base_url).rstrip('/')}{FILES_PATH}"
        words = len(chat.text.split())
        cancel = threading.Event()
        if not body.get("stream"):
            result = await run_in_lane(request, lane, asking(chat, paths, cancel), cancel)
            return chat_completion(result, model, file_url, words)
        return StreamingResponse(stream(lane, chat, paths, cancel, model, file_url),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def stream(lane: Lane, chat: ChatRequest, paths: list[Path], cancel: threading.Event,
                     model: str, file_url: str) -> AsyncIterator[str]:
        """Server-sent events: the answer's tokens as the writer makes them, then the run."""
        loop = asyncio.get_running_loop()
        tokens: asyncio.Queue[str] = asyncio.Queue()

        def on_event(event: Event) -> None:
            if event.kind == EventKind.TOKEN:
                loop.call_soon_threadsafe(tokens.put_nowait, event.data["text"])

        future = asyncio.wrap_future(lane.submit(asking(chat, paths, cancel, on_event)))
        name = completion_id()
        try:
            yield _sse(chunk(name, model, {"role": "assistant", "content": ""}))
            while not (future.done() and tokens.empty()):
                try:
                    text = await asyncio.wait_for(tokens.get(), timeout=0.2)
                except TimeoutError:
                    continue
                yield _sse(chunk(name, model, {"content": text}))
            result = future.result()
            finish = "stop" if result.status == DONE else "cancelled"
            yield _sse(chunk(name, model, {}, finish, conductor_extra(result, file_url)))
            yield "data: [DONE]\n\n"
        finally:
            if not future.done():  # the client went away: stop its run
                cancel.set()

    @app.post("/v1/files")
    async def upload(file: UploadFile):
        return await save_upload(file)

    async def save_upload(file: Any) -> dict[str, Any]:
        from core.assistant import InputFileError, check_attachment
        from core.tasks import kind_of_file

        name = _safe_name(file.filename or "")
        if kind_of_file(name) is None:
            raise BadRequest(f"{file.filename!r}: unsupported file type (images, audio and "
                             ".txt/.md text)", 415, "unsupported_file")
        target = unused_path(config.uploads / name)
        partial = target.with_name(target.name + ".part")
        size = 0
        try:
            with partial.open("wb") as out:
                while block := await file.read(1 << 20):
                    size += len(block)
                    if size > config.max_upload_bytes:
                        raise BadRequest(f"the file is larger than the upload limit of "
                                         f"{config.max_upload_bytes >> 20} MB", 413,
                                         "file_too_large")
                    out.write(block)
            shutil.move(partial, target)  # whole, or not there: never a half-written upload
            check_attachment(target)
        except InputFileError as exc:
            target.unlink(missing_ok=True)
            raise BadRequest(str(exc), 415, "unsupported_file") from None
        finally:
            partial.unlink(missing_ok=True)
        return {"id": target.name, "object": "file", "bytes": size,
                "created_at": int(time.time()), "filename": target.name,
                "purpose": "assistants"}

    @app.get(FILES_PATH + "/{run_id}/{name:path}")
    async def download(run_id: str, name: str):
        from core.runners.base import Workspace, WorkspaceError
        from core.store import UnknownRunError

        try:
            run = services.run(run_id)
        except UnknownRunError as exc:
            raise BadRequest(str(exc), 404, "run_not_found") from None
        try:
            path = Workspace(Path(run["workspace"])).resolve(name)
        except WorkspaceError as exc:
            raise BadRequest(str(exc), 400, "path_outside_workspace") from None
        if not path.is_file():
            raise BadRequest(f"run {run_id} has no file {name!r}", 404, "file_not_found")
        return FileResponse(path, filename=path.name)

    app.state.lanes = lanes
    app.state.lane_for = lane_for
    return app


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _safe_name(filename: str) -> str:
    """An upload's name as stored: its last component, plain characters only."""
    base = Path(filename.replace("\\", "/")).name
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in base).lstrip(".")
    return safe[:120] or "upload"


def _version() -> str:
    from conductor import __version__

    return __version__


def serve(config: ServerConfig) -> None:
    """Check the bind, warm the default LLMs up, and serve until interrupted."""
    import sys

    import uvicorn

    check_bind(config.host, config.token)
    app = create_app(config)
    app.state.lane_for("").submit(lambda assistant: assistant.warm_up())
    print(f"Conductor serving on http://{config.host}:{config.port} "
          f"(HuggingGPT: /tasks /results /hugginggpt; OpenAI: /v1; "
          f"{'token required' if config.token else 'no token: this machine only'})",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning")
