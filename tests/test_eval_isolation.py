"""Evaluation data measures, it never teaches: no request of ``../shared/eval/`` (the dev plans,
the TaskBench head) and no run of ten of its words is in what Conductor learns or is prompted
from (the demo bank, the training templates and data, every prompt and script).

The check runs on any checkout: a fingerprint of the evaluation files (hashes of each request and
of each run of ten words, nothing readable) is committed beside this file, and, where the
evaluation files are beside the checkout, the fingerprint must be theirs. Rebuild it with
``.venv/bin/python tests/test_eval_isolation.py`` when they change.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = ROOT.parent / "shared" / "eval"
FINGERPRINT = Path(__file__).resolve().parent / "data" / "evaluation_fingerprint.json"
RUN = 10  # words: shorter runs are everyday phrases ("could you give me a brief summary of")
# A typing exercise older than any benchmark; TaskBench quotes it, and so may we.
PUBLIC_SENTENCES = ("the quick brown fox jumps over the lazy dog",)
# What teaches or prompts: the packages and scripts, with their data files.
TAUGHT_FROM = ("core", "scripts")


def _words(text: str) -> list[str]:
    text = text.lower()
    for sentence in PUBLIC_SENTENCES:
        text = text.replace(sentence, " ")
    return re.findall(r"[a-z0-9]+", text)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _runs(text: str) -> set[str]:
    words = _words(text)
    return {_digest(" ".join(words[i:i + RUN])) for i in range(len(words) - RUN + 1)}


def _requests(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.append(row.get("request") or row.get("instruction") or "")
    return [r for r in found if r]


def fingerprint(folder: Path) -> dict[str, list[str]]:
    requests = _requests(folder)
    return {"requests": sorted({_digest(" ".join(_words(r))) for r in requests}),
            "runs": sorted(set().union(*(_runs(r) for r in requests)))}


def _taught_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", *TAUGHT_FROM], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    return [ROOT / name for name in listed
            if name.endswith((".py", ".jsonl", ".json", ".md", ".txt"))]


def test_the_committed_fingerprint_is_that_of_the_evaluation_files():
    committed = json.loads(FINGERPRINT.read_text())
    assert len(committed["requests"]) >= 390 and len(committed["runs"]) > 10_000
    if SHARED_EVAL.is_dir():  # beside the shared folder: the fingerprint must be current
        assert fingerprint(SHARED_EVAL) == committed, \
            "rebuild it: .venv/bin/python tests/test_eval_isolation.py"


def test_no_evaluation_words_are_in_what_conductor_learns_from():
    committed = json.loads(FINGERPRINT.read_text())
    runs = set(committed["runs"])
    copied = {}
    for path in _taught_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        words = _words(text)
        for i in range(len(words) - RUN + 1):
            run = " ".join(words[i:i + RUN])
            if _digest(run) in runs:
                copied.setdefault(path.relative_to(ROOT).as_posix(), []).append(run)
    assert not copied, f"evaluation text copied into {copied}"


def test_no_evaluation_request_is_a_demo_or_a_training_request():
    from core.demos import DEFAULT_BANK
    from scripts import make_plan_data

    requests = set(json.loads(FINGERPRINT.read_text())["requests"])
    ours = [json.loads(line)["request"] for line in DEFAULT_BANK.open() if line.strip()]
    ours += [sample.request for sample in make_plan_data.accepted_samples(held_out=False)]
    assert len(ours) > 150
    assert not [r for r in ours if _digest(" ".join(_words(r))) in requests]


def test_the_check_finds_a_copied_request(tmp_path):
    """The fingerprint is not empty words: an evaluation-style request pasted into our text is
    found, by its ten-word runs, even with other punctuation and case."""
    made_up = tmp_path / "eval"
    made_up.mkdir()
    request = "Could you transcribe interview.wav and then summarise what the guest said?"
    (made_up / "x.jsonl").write_text(json.dumps({"request": request}) + "\n")
    runs = fingerprint(made_up)["runs"]
    pasted = "demo: COULD YOU transcribe interview.wav, and then summarise what the guest said"
    assert _runs(pasted) & set(runs)
    assert not _runs("Could you transcribe lecture.wav and then translate it?") & set(runs)


if __name__ == "__main__":
    FINGERPRINT.parent.mkdir(exist_ok=True)
    FINGERPRINT.write_text(json.dumps(fingerprint(SHARED_EVAL), indent=0) + "\n")
    print(f"wrote {FINGERPRINT}")
