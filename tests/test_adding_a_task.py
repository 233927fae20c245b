"""Adding a task type is one catalogue entry plus its data: shown on a copy of the code.

The copy gets a new task, ``table-question-answering`` (the writer answers it from a table given
as text), by one entry in ``core/tasks.py`` and its cue words in ``core/task_cues.py``, nothing
else; then, in a child process on that copy, every table derived from the catalogue knows it
(the planner's task list, the plan checks, the writer's tasks), and the test that every table
agrees with the catalogue passes. Without the cue words the code refuses to start, naming what
is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

ENTRY = ('    Task("table-question-answering", "answer a question about a table given as text",\n'
         '         (("text", _T), ("table", _T)), (_T,), llm_fallback=True),\n')
CUES = '    "table-question-answering": r"\\btable\\b|spreadsheet|\\bcolumns?\\b",\n'

CHECKS = r'''
import sys
from core.planner import catalogue_text
from core.plan import parse, validate
from core.tasks import WRITER_TASKS, get_task

task = get_task("table-question-answering")
assert task.input_keys == ("text", "table") and task.llm_fallback
assert "table-question-answering" in WRITER_TASKS
assert ("- table-question-answering(text, table): answer a question about a table"
        in catalogue_text())
plan = validate(parse([
    {"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "sales.png"}},
    {"task": "table-question-answering", "id": 1, "dep": [0],
     "args": {"text": "Which month sold most?", "table": "<GENERATED>-0"}},
]), ["sales.png"])
assert [n.dep for n in plan] == [[-1], [0]]

sys.path.insert(0, "tests")
import test_plan
test_plan.test_every_table_keyed_by_task_names_catalogue_tasks_and_covers_what_it_must()
print("all derived tables know the new task")
'''


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "conductor"
    for folder in ("core", "scripts", "tests"):
        shutil.copytree(ROOT / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.gguf"))
    return copy


def _add(path: Path, after: str, text: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert after in source, f"{path.name} no longer has {after!r}: update this test"
    path.write_text(source.replace(after, after + text, 1), encoding="utf-8")


def _check(copy: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHECKS], cwd=copy, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(copy),
                                                       "HF_HUB_OFFLINE": "1",
                                                       "PATH": "/usr/bin:/bin"})


def test_one_catalogue_entry_and_its_cue_words_add_a_task(tmp_path):
    copy = _copy(tmp_path)
    _add(copy / "core" / "tasks.py", "CATALOGUE: tuple[Task, ...] = (\n", ENTRY)
    without_cues = _check(copy)
    assert without_cues.returncode != 0, without_cues.stdout
    assert "every catalogue task has cues" in without_cues.stderr, without_cues.stderr
    _add(copy / "core" / "task_cues.py", "TASK_CUES: dict[str, str] = {\n", CUES)
    result = _check(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all derived tables know the new task" in result.stdout
