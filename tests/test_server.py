"""The local server with real clients: the ``openai`` package, curl with JARVIS's own example,
plain HTTP for uploads, downloads, errors, path escapes, 20 requests at once, a client that goes
away, and a bind beyond loopback without a token. One server process (real models, the network
blocked but loopback) serves the module, with a 1 MB upload limit and a queue of 2."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from helpers import ROOT, assert_no_network, cli_env, heard, run_cli, text_image

openai = pytest.importorskip("openai", reason="the openai package (make setup installs it)")

TOKEN = "s3cret-token"
JARVIS_TASKS = ("based on pose of /examples/d.jpg and content of /examples/e.jpg, please show "
                "me a new image")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir):
    home = tmp_path_factory.mktemp("server")
    port, log = _free_port(), home / "net.log"
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", "--port", str(port), "--token", TOKEN,
         "--queue", "2", "--max-upload-mb", "1"], cwd=ROOT, text=True,
        env=cli_env(home / "data", cache_dir, log), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            _call(base + "/v1/models")
            break
        except (urllib.error.URLError, ConnectionError):
            if child.poll() is not None or time.monotonic() > deadline:
                child.kill()
                pytest.fail(f"the server did not start: {child.communicate()[1][-2000:]}")
            time.sleep(0.5)
    yield {"url": base, "data": home / "data", "cache": cache_dir, "log": log}
    child.terminate()
    child.communicate(timeout=30)
    assert_no_network(log)


def _call(url: str, body: object = None, token: str | None = TOKEN, raw: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict, object]:
    """(status, headers by lower-case name, JSON body) of one request; HTTP errors are
    returned, not raised."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", **(headers or {}),
        **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            payload = response.read()
            return response.status, _lower(response.headers), _json(payload)
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), _json(error.read())


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _json(payload: bytes) -> object:
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def _client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server["url"] + "/v1", api_key=TOKEN, max_retries=0,
                         timeout=600)


def _history(server) -> list[dict]:
    done = run_cli(["history", "--json", "--limit", "500"], server["data"], server["cache"],
                   server["log"].with_name("history-net.log"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_openai_client_lists_models_and_chats(server):
    client = _client(server)
    ids = [model.id for model in client.models.list()]
    assert ids[0] == "conductor" and "openai/whisper-tiny.en" in ids
    assert "Qwen/Qwen2.5-Coder-1.5B-Instruct" in ids
    reply = client.chat.completions.create(
        model="conductor",
        messages=[{"role": "user", "content": "What is the sentiment of: I love this phone"}])
    assert "positive" in reply.choices[0].message.content
    extra = reply.model_extra["conductor"]
    assert [n["task"] for n in extra["plan"]] == ["text-classification"]
    assert extra["choices"][0]["model"] == "cjhutto/vaderSentiment"
    assert extra["run_id"] in {run["id"] for run in _history(server)}  # in the store


def test_openai_client_streams_the_answer_as_it_is_written(server):
    client = _client(server)
    stream = client.chat.completions.create(
        model="conductor", stream=True,
        messages=[{"role": "user", "content": "Hello! How are you doing today?"}])
    pieces, last = [], None
    for part in stream:
        if part.choices and part.choices[0].delta.content:
            pieces.append(part.choices[0].delta.content)
        last = part
    assert len(pieces) >= 5  # tokens as they came, not one block
    assert last.choices[0].finish_reason == "stop"
    run_id = last.model_extra["conductor"]["run_id"]
    [stored] = [r for r in _history(server) if r["id"] == run_id]
    assert stored["answer"] == "".join(pieces).strip()


def test_a_made_file_is_downloaded_from_its_run(server, shared_assistant, tmp_path):
    reply = _client(server).chat.completions.create(
        model="conductor",
        messages=[{"role": "user", "content": "Read this aloud: the ferry leaves at noon"}])
    [made] = reply.model_extra["conductor"]["files"]
    assert made["name"] in reply.choices[0].message.content
    with urllib.request.urlopen(urllib.request.Request(
            made["url"], headers={"Authorization": f"Bearer {TOKEN}"})) as response:
        wav = tmp_path / made["name"]
        wav.write_bytes(response.read())
    assert heard(shared_assistant.transcribe(wav).text, {"ferry", "leaves", "noon"})


def test_jarvis_curl_example_for_tasks(server):
    """HuggingGPT's README example, as curl sends it, with our token added."""
    body = json.dumps({"messages": [{"role": "user", "content": JARVIS_TASKS}]})
    done = subprocess.run(["curl", "-s", "--location", server["url"] + "/tasks",
                           "--header", "Content-Type: application/json",
                           "--header", f"Authorization: Bearer {TOKEN}", "--data", body],
                          capture_output=True, text=True, timeout=300)
    tasks = json.loads(done.stdout)
    assert isinstance(tasks, list) and tasks
    for task in tasks:
        assert set(task) == {"args", "dep", "id", "task"}
    images = {task["args"].get("image") for task in tasks}
    assert {"/examples/d.jpg", "/examples/e.jpg"} <= images  # named as the request named them


def test_upload_run_results_and_download(server, tmp_path):
    client = _client(server)
    scan = text_image(tmp_path / "scan.png", "Invoice 42 due Friday")
    uploaded = client.files.create(file=scan.open("rb"), purpose="assistants")
    assert uploaded.filename == "scan.png" and uploaded.bytes == scan.stat().st_size
    status, _, results = _call(server["url"] + "/results", {"messages": [
        {"role": "user", "content": f"What does the text in /{uploaded.id} say?"}]})
    assert status == 200
    [only] = results.values()
    assert only["task"]["task"] == "image-to-text" and only["task"]["args"]["image"] == (
        f"/{uploaded.id}")
    assert "invoice" in only["inference result"]["generated text"].lower()
    assert only["choose model result"]["id"]
    status, _, answer = _call(server["url"] + "/hugginggpt", {"messages": [
        {"role": "user", "content": f"What does the text in {uploaded.id} say?"}]})
    assert status == 200 and "42" in answer["message"]


def test_errors_have_the_right_status_and_say_why(server, tmp_path):
    url = server["url"]
    chat = url + "/v1/chat/completions"
    say = {"role": "user", "content": "Hello"}
    cases = [
        (_call(chat, raw=b"{not json"), 400, "invalid_json"),
        (_call(chat, {"messages": []}), 400, "invalid_request"),
        (_call(chat, {"messages": [{"role": "user", "content": "  "}]}), 400, "invalid_request"),
        (_call(chat, {"model": "no/such-model", "messages": [say]}), 404, "model_not_found"),
        (_call(chat, {"model": "cjhutto/vaderSentiment", "messages": [say]}), 400,
         "model_not_chat"),
        (_call(chat, {"messages": [{"role": "user", "content": "Describe gone.png"}]}), 400,
         "file_not_found"),
        (_call(chat, {"messages": [say]}, token=None), 401, "invalid_token"),
        (_call(chat, {"messages": [say]}, token="wrong"), 401, "invalid_token"),
    ]
    for (status, _, body), expected, code in cases:
        assert (status, body["error"]["code"]) == (expected, code), body
        assert body["error"]["message"]
    client = _client(server)
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\0" * (2 << 20))
    with pytest.raises(openai.APIStatusError) as too_big:
        client.files.create(file=big.open("rb"), purpose="assistants")
    assert too_big.value.status_code == 413
    program = tmp_path / "tool.exe"
    program.write_bytes(b"MZ")
    with pytest.raises(openai.APIStatusError) as unsupported:
        client.files.create(file=program.open("rb"), purpose="assistants")
    assert unsupported.value.status_code == 415
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    with pytest.raises(openai.APIStatusError) as corrupt:
        client.files.create(file=broken.open("rb"), purpose="assistants")
    assert corrupt.value.status_code == 415
    uploads = server["data"] / "uploads"
    assert not any(p.name.endswith(".part") or p.name == "big.png" for p in uploads.iterdir())


def test_paths_cannot_escape_the_uploads_or_a_run(server, tmp_path):
    url = server["url"]
    secret = server["data"] / "secret.txt"
    secret.write_text("not for clients")
    status, _, body = _call(url + "/results", {"messages": [
        {"role": "user", "content": "Summarize /../secret.txt"}]})
    assert (status, body["error"]["code"]) == (400, "path_outside_uploads")
    status, _, body = _call(url + "/results", {"messages": [
        {"role": "user", "content": "Summarize it"}], "files": ["../../secret.txt"]})
    assert (status, body["error"]["code"]) == (400, "path_outside_uploads")
    sneaky = text_image(tmp_path / "x.png", "hello")
    client = _client(server)
    stored = client.files.create(file=("../../evil.png", sneaky.read_bytes()),
                                 purpose="assistants")
    assert stored.filename == "evil.png" and (server["data"] / "uploads" / "evil.png").is_file()
    run_id = _history(server)[0]["id"]
    for escape in ("..%2F..%2Fsecret.txt", "%2E%2E/%2E%2E/secret.txt"):
        status, _, body = _call(f"{url}/files/{run_id}/{escape}")
        assert status in (400, 404) and b"not for clients" not in json.dumps(body).encode()
    status, _, body = _call(f"{url}/files/no-such-run/x.wav")
    assert (status, body["error"]["code"]) == (404, "run_not_found")


def test_twenty_requests_at_once_are_answered_or_refused_none_lost(server):
    url = server["url"] + "/v1/chat/completions"
    outcomes: dict[int, tuple[int, dict, object]] = {}

    def ask(number: int) -> None:
        outcomes[number] = _call(url, {"messages": [
            {"role": "user", "content": f"Hello! This is request {number}."}]})

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    statuses = [status for status, _, _ in outcomes.values()]
    assert len(statuses) == 20 and set(statuses) <= {200, 429}
    assert statuses.count(200) >= 3  # the running one and the two waiting
    assert statuses.count(429) >= 1  # the writer takes seconds: most found the queue full
    for status, headers, body in outcomes.values():
        if status == 429:
            assert int(headers["retry-after"]) >= 1 and body["error"]["code"] == "busy"
    answered = {body["conductor"]["run_id"] for status, _, body in outcomes.values()
                if status == 200}
    stored = [r for r in _history(server) if r["request"].startswith("Hello! This is request")]
    assert sorted(r["id"] for r in stored) == sorted(answered)  # none lost, none twice


def test_a_client_that_goes_away_cancels_its_run(server):
    request = urllib.request.Request(
        server["url"] + "/v1/chat/completions", data=json.dumps({"stream": True, "messages": [
            {"role": "user", "content": "Tell me a long story about a lighthouse keeper and "
                                        "the storms of a whole winter"}]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    response = urllib.request.urlopen(request, timeout=300)
    for line in response:
        if line.startswith(b"data: "):
            break  # the stream has begun (the run is planning): now hang up
    response.close()
    deadline = time.monotonic() + 120
    runs: list[dict] = []
    while time.monotonic() < deadline:  # the run may start after the hang-up (queued)
        runs = [r for r in _history(server) if r["request"].startswith("Tell me a long story")]
        if runs and runs[0]["status"] != "running":
            break
        time.sleep(1)
    assert [r["status"] for r in runs] == ["cancelled"]


def test_serving_beyond_loopback_needs_a_token(tmp_path, cache_dir):
    refused = run_cli(["serve", "--host", "0.0.0.0", "--port", str(_free_port())],
                      tmp_path / "data", cache_dir, tmp_path / "net.log", timeout=60)
    assert refused.returncode == 2
    assert "give a token" in refused.stderr and "Traceback" not in refused.stderr


def test_the_server_binds_loopback_by_default():
    from conductor.server import DEFAULT_HOST, is_loopback

    assert DEFAULT_HOST == "127.0.0.1" and is_loopback(DEFAULT_HOST)
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
