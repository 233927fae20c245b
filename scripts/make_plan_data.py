"""Back-instructed planning data: sample a task graph, have the local writer ask for it, check it.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/make_plan_data.py --count 800 --max-minutes 70

TaskBench made its data this way ("back-instruct"): sample a subgraph of the tool graph, have an
LLM write a request that needs exactly those steps, keep it only if it checks out. Here:

1. **Sample** (seeded per item, so a resumed run draws the same graphs): a single task, a chain
   or a DAG of 1 to 6 nodes over the whole catalogue (``core.tasks``; tasks without an installed
   model too), where a task may follow another only if it takes what that one makes. Inputs are
   new or reused file names, quoted texts from our own phrase pools
   (``scripts/train_templates.py``), or an earlier step's output.
2. **Write**: the steps in plain words ("transcribe meeting.wav", "translate the transcript from
   step 1 into German") go to the writer LLM (Qwen2.5-Coder-1.5B Instruct, the default
   ``writer``) with a persona and a length, sampled at temperature 0.7. The instructions and the
   worked examples are one fixed prompt head, so llama.cpp keeps it evaluated between requests.
3. **Check**: every file name and quoted text appears in the request as given, every step is
   asked for in words that point to its task (``core.task_cues``), no strong cue asks for a task
   the graph lacks, no step numbers leak, and the live decoder can reproduce the plan
   (``train_templates.check``). Rejected items are kept in the file with their reason, so a
   resumed run skips them and the rates can be read back.

Nothing from ``../shared/eval/`` is read: the dev set and TaskBench only measure. The output is
committed project data; training and CI read it and never regenerate it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.languages import languages_named  # noqa: E402
from core.plan import parse, validate  # noqa: E402
from core.task_cues import mentions, strongly_mentioned  # noqa: E402
from core.tasks import AUDIO, CATALOGUE, IMAGE, TEXT, Task, get_task, kind_of_file, produces  # noqa: E402
from scripts import train_templates as pools  # noqa: E402
from scripts.train_templates import weighted  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "scripts" / "data" / "back_instruct.jsonl"

# How often each task is drawn (1 unless said): vectors and gap filling are rare asks.
TASK_WEIGHTS = {"feature-extraction": 0.3, "fill-mask": 0.4, "conversational": 0.6,
                "sentence-similarity": 0.6, "zero-shot-classification": 0.7}
# Which task may take which one's output: the type graph of core.tasks narrowed to steps a
# person chains (a transcript is summarized, a label is not; a generated picture is described,
# not read as a scanned document). Vectors, scores and filled gaps feed nothing.
_PROSE = ("automatic-speech-recognition", "image-to-text", "summarization", "translation",
          "text-generation", "conversational", "text2text-generation", "question-answering",
          "visual-question-answering", "document-question-answering", "token-classification")
_LABELS = ("text-classification", "zero-shot-classification", "image-classification",
           "audio-classification", "object-detection", "image-segmentation")
_IMAGES = ("text-to-image", "image-to-image", "object-detection", "image-segmentation",
           "depth-estimation")
_AUDIO = ("text-to-speech", "audio-to-audio")
_READS_PROSE = ("summarization", "translation", "text-to-speech", "text-classification",
                "token-classification", "question-answering", "text-to-image", "text-generation",
                "text2text-generation", "zero-shot-classification", "conversational",
                "sentence-similarity", "image-to-image")
_READS_LABELS = ("text-generation", "text-to-image", "translation", "text-to-speech",
                 "conversational")
_READS_IMAGES = ("image-to-text", "image-classification", "object-detection",
                 "image-segmentation", "depth-estimation", "visual-question-answering",
                 "image-to-image")
_READS_AUDIO = ("automatic-speech-recognition", "audio-classification", "audio-to-audio")
FOLLOWS: dict[str, set[str]] = {}
for _producers, _consumers in ((_PROSE, _READS_PROSE), (_LABELS, _READS_LABELS),
                               (_IMAGES, _READS_IMAGES), (_AUDIO, _READS_AUDIO)):
    for _producer in _producers:
        FOLLOWS.setdefault(_producer, set()).update(c for c in _consumers if c != _producer)
# The inputs an earlier step's output may feed, where not every input of its kind makes sense
# fed (a question is the user's, the passage or picture it is about may come from a step).
FEEDABLE = {"question-answering": ("context",), "visual-question-answering": ("image",),
            "document-question-answering": ("image",), "zero-shot-classification": ("text",)}
# Texts of more words than this reach the writer as placeholders (it rewrites long ones).
SHORT_TEXT_WORDS = 9
SHAPES = (("single", 0.1), ("chain", 0.45), ("dag", 0.45))  # singles: the templates have many
CHAIN_SIZES = ((2, 0.35), (3, 0.35), (4, 0.2), (5, 0.1))
DAG_SIZES = ((3, 0.4), (4, 0.35), (5, 0.2), (6, 0.05))
# How the message starts: written into the writer's reply before it goes on, so that it asks
# (a small writer otherwise often answers, or tells what it did itself).
OPENERS = (("Could you", 3), ("Can you", 3), ("Hi! Could you", 1), ("Please", 2),
           ("I need you to", 1), ("I'd like you to", 1), ("Hey, can you", 1), ("I have", 2),
           ("I'm working on", 1), ("My", 1))

# What each step asks, in plain words; {key} is an input (a file, a quoted text, or an earlier
# step's output), {language} the translation target.
STEP_WORDS = {
    "text-classification": "tell whether {text} sounds positive or negative",
    "token-classification": "pick out the people, places and organisations named in {text}",
    "zero-shot-classification": "decide which of the labels {labels} fits {text}",
    "question-answering": "answer the question {text} using {context}",
    "summarization": "summarize {text}",
    "translation": "translate {text} into {language}",
    "text-generation": "write {text}",
    "conversational": "reply to {text} as in a chat",
    "text2text-generation": "rewrite {text} with correct grammar",
    "fill-mask": "fill in the missing word in {text}",
    "sentence-similarity": "say how similar in meaning {text} and {text2} are",
    "feature-extraction": "turn {text} into an embedding vector",
    "text-to-speech": "read {text} aloud",
    "automatic-speech-recognition": "transcribe {audio}",
    "audio-classification": "identify what kind of sound is in {audio}",
    "audio-to-audio": "remove the background noise from {audio}",
    "image-to-text": "describe {image}",
    "image-classification": "say what kind of thing {image} shows",
    "object-detection": "find and mark the objects in {image}",
    "image-segmentation": "segment {image} into labelled regions",
    "depth-estimation": "estimate the depth of {image}",
    "visual-question-answering": "answer the question {text} about {image}",
    "document-question-answering": "answer the question {text} about the document in {image}",
    "text-to-image": "draw a picture of {text}",
    "image-to-image": "edit {image} so as to {text}",
}
# Wording for a text input that comes from an earlier step, where the plain reference reads
# badly ("write the transcript from step 1").
DEPENDENT_WORDS = {
    "text-generation": "write a short text based on {text}",
    "text-to-image": "draw a picture based on {text}",
    "image-to-image": "edit {image} as {text} says",
    "conversational": "reply to {text}",
}
# What an earlier step's output is called.
OUTPUT_NOUNS = {
    "text-classification": "the sentiment", "token-classification": "the names found",
    "zero-shot-classification": "the chosen label", "question-answering": "the answer",
    "summarization": "the summary", "translation": "the translation",
    "text-generation": "the text written", "conversational": "the reply",
    "text2text-generation": "the corrected text", "text-to-speech": "the speech audio",
    "automatic-speech-recognition": "the transcript",
    "audio-classification": "the sound label", "audio-to-audio": "the cleaned audio",
    "image-to-text": "the description", "image-classification": "the class",
    "object-detection": "the detection result", "image-segmentation": "the segmented image",
    "depth-estimation": "the depth map", "visual-question-answering": "the answer",
    "document-question-answering": "the answer", "text-to-image": "the picture",
    "image-to-image": "the edited image",
}

PERSONAS = ("a student", "a parent", "a small-business owner", "a journalist", "a retired teacher",
            "a software developer", "a traveller", "a nurse", "a musician", "a researcher",
            "a real-estate agent", "a museum guide", "a podcast host", "a shop assistant",
            "a designer", "a hobby photographer", "a lawyer", "a farmer", "a chef",
            "an office manager")
LENGTHS = ("Use one or two sentences.", "Use two or three sentences and say why you need it.",
           "Use three or four sentences, chatty, with a little background.",
           "Be brief and casual.")

INSTRUCTIONS = (
    "You write the messages people type to an offline AI assistant. You get numbered steps; "
    "write ONE message in which the person asks for all of the steps, in that order, leaving "
    "none out and adding none. Write as the person, in the first person, naturally and a "
    "little indirectly: say what you want and why; do not name AI tasks or models and do not "
    "number the steps. Copy every file name and every quoted text exactly, in double quotes. "
    "A long text the person gives is shown as [TEXT A], [TEXT B]: write that placeholder "
    "once, where the text goes. Refer to earlier "
    "results in your own words (\"the transcript\", \"that description\"). You are the "
    "person asking, not the assistant: never answer. Output only the message."
)
# Worked examples of our own (no evaluation data): steps in, message out.
EXAMPLES = (
    ("Persona: a traveller. Be brief and casual.\nSteps:\n"
     "1. transcribe voice_note.m4a\n2. translate the transcript from step 1 into Spanish",
     "Hey, can you figure out what I said in voice_note.m4a and put it into Spanish for me?"),
    ("Persona: a parent. Use two or three sentences and say why you need it.\nSteps:\n"
     "1. describe garden.png\n2. read the description from step 1 aloud",
     "My son can't see very well and loves our garden. Could you tell me what's in "
     "garden.png and then read that description out loud so he can listen to it?"),
    ("Persona: a researcher. Use three or four sentences, chatty, with a little background.\n"
     "Steps:\n1. find and mark the objects in shelf_03.jpg\n"
     "2. estimate the depth of shelf_03.jpg\n3. summarize [TEXT A]\n"
     "4. translate \"please handle with care\" into German",
     "I'm cataloguing an old archive room. In shelf_03.jpg, could you point out the objects "
     "on the shelf and work out how far back each one sits? Separately, please give me a short "
     "summary of this note: [TEXT A] And how would I say \"please handle with care\" in "
     "German?"),
    ("Persona: a chef. Use one or two sentences.\nSteps:\n"
     "1. tell whether [TEXT A] sounds positive or negative\n"
     "2. write a short text based on the sentiment from step 1",
     "A guest left this comment on our menu, [TEXT A]; is it praise or a complaint, and could "
     "you draft a few lines I could post in reply to that?"),
)
@dataclass
class Draft:
    """A sampled graph before its request is written: the plan with steps in words."""

    shape: str
    plan: list[dict[str, Any]]
    files: list[str]
    steps: list[str]
    literals: list[str]  # long texts the request carries, written as placeholder(i)
    quoted: list[str]  # short texts the writer copies in quotes
    languages: list[str]


def placeholder(index: int) -> str:
    """How the writer sees the index-th text the person gives: the text itself is put in after
    writing, so it reaches the request exactly and costs no generated tokens."""
    return f"[TEXT {chr(ord('A') + index)}]"


def fill_in(request: str, literals: list[str]) -> str | None:
    """The request with each placeholder replaced by its text in double quotes (None when a
    placeholder is missing or written twice)."""
    for index, text in enumerate(literals):
        mark = placeholder(index)
        if request.count(mark) != 1:
            return None
        quoted = re.search(r"[\"'\u201c\u2018]" + re.escape(mark) + r"[\"'\u201d\u2019]", request)
        request = (request.replace(quoted.group(0), f'"{text}"') if quoted
                   else request.replace(mark, f'"{text}"'))
    return request


def _feeds(producer: str, task: Task) -> str | None:
    """The input of ``task`` that ``producer``'s output can feed, if any."""
    if task.name not in FOLLOWS.get(producer, ()):
        return None
    keys = [k for k, kind in task.inputs if produces(get_task(producer), kind)
            and k in FEEDABLE.get(task.name, task.input_keys)]
    return keys[0] if keys else None


# The phrase pool of each task with one text input.
TEXT_POOLS = {
    "text-classification": pools.REVIEWS, "token-classification": pools.NER_SENTENCES,
    "summarization": pools.PARAGRAPHS, "translation": pools.SENTENCES,
    "conversational": pools.CONVERSATION, "text2text-generation": pools.BAD_GRAMMAR,
    "fill-mask": pools.MASKED, "feature-extraction": pools.SENTENCES,
    "text-to-speech": pools.SENTENCES, "text-to-image": pools.IMAGE_DESCRIPTIONS,
    "image-to-image": pools.EDIT_INSTRUCTIONS,
}


def _literal(rng: random.Random, task: str, key: str) -> str:
    """A quoted text of our own for a task's text input."""
    if task == "question-answering":
        passage, question = rng.choice(pools.QA_PAIRS)
        return question if key == "text" else passage
    if task == "visual-question-answering":
        return rng.choice(pools.QUESTIONS_IMAGE)
    if task == "document-question-answering":
        return rng.choice(pools.QUESTIONS_DOC)
    if task == "sentence-similarity":
        return rng.choice(pools.SIMILAR_PAIRS)[0 if key == "text" else 1]
    if task == "zero-shot-classification":
        return (", ".join(rng.choice(pools.LABEL_SETS)) if key == "labels"
                else rng.choice(pools.ZS_TEXTS))
    if task == "text-generation":
        return f"{rng.choice(pools.WRITING_KINDS)} about {rng.choice(pools.WRITING_TOPICS)}"
    return rng.choice(TEXT_POOLS[task])


def _file(rng: random.Random, kind: str, files: list[str], document: bool = False) -> str:
    """A file for a root input: one already attached of that kind (sometimes), else a new one."""
    same = [f for f in files if kind_of_file(f) == kind]
    if same and rng.random() < 0.5:
        return rng.choice(same)
    return _new_file(rng, kind, files, document)


def _new_file(rng: random.Random, kind: str, files: list[str], document: bool = False) -> str:
    """A file name of ``kind`` not yet in ``files``, added to them."""
    stems, exts = {IMAGE: (pools.DOC_STEMS if document else pools.IMAGE_STEMS, pools.IMAGE_EXTS),
                   AUDIO: (pools.AUDIO_STEMS, pools.AUDIO_EXTS)}[kind]
    for _ in range(20):
        name = rng.choice(stems) + rng.choice(exts)
        if name not in files:
            files.append(name)
            return name
    return files[-1]


def sample_draft(rng: random.Random) -> Draft | None:
    """One task graph with its steps in words (None when the draw is not usable)."""
    shape = weighted(rng, SHAPES)
    size = 1 if shape == "single" else weighted(
        rng, CHAIN_SIZES if shape == "chain" else DAG_SIZES)
    plan: list[dict[str, Any]] = []
    files: list[str] = []
    steps: list[str] = []
    literals: list[str] = []
    quoted: list[str] = []
    languages: list[str] = []
    for index in range(size):
        # which earlier steps feed this one
        if index == 0 or shape == "single":
            sources: list[int] = []
        elif shape == "chain":
            sources = [index - 1]
        else:
            roll = rng.random()
            earlier = list(range(index))
            if roll < 0.3:
                sources = []
            elif roll < 0.85:
                sources = [rng.choice(earlier)]
            else:
                sources = sorted(rng.sample(earlier, min(2, len(earlier))))
        candidates = []
        for task in CATALOGUE:
            fed = [_feeds(plan[s]["task"], task) for s in sources]
            if all(fed) and len(set(fed)) == len(fed):
                candidates.append(((task, tuple(fed)), TASK_WEIGHTS.get(task.name, 1.0)))
        if not candidates:
            return None
        task, fed = weighted(rng, candidates)
        args: dict[str, str] = {}
        words: dict[str, str] = {}
        for key, kind in task.inputs:
            if key in fed:
                source = sources[fed.index(key)]
                args[key] = f"<GENERATED>-{source}"
                words[key] = f"{OUTPUT_NOUNS[plan[source]['task']]} from step {source + 1}"
            elif kind == TEXT and key == "labels":
                args[key] = _literal(rng, task.name, key)
                words[key] = f'"{args[key]}"'
            elif kind == TEXT:
                args[key] = _literal(rng, task.name, key)
                if len(args[key].split()) > SHORT_TEXT_WORDS:
                    words[key] = placeholder(len(literals))
                    literals.append(args[key])
                else:
                    words[key] = f'"{args[key]}"'
                    quoted.append(args[key])
            else:
                name = _file(rng, kind, files,
                             document=task.name == "document-question-answering")
                args[key] = name
                words[key] = name
        if task.name == "translation":
            language = rng.choice([n for n in pools.LANGUAGES if n != "English"])
            languages.append(language)
            words["language"] = language
        template = (DEPENDENT_WORDS.get(task.name) if fed and task.name in DEPENDENT_WORDS
                    else STEP_WORDS[task.name])
        steps.append(template.format(**words))
        plan.append({"task": task.name, "id": index, "dep": sources or [-1], "args": args})
    if shape == "dag" and all(n["dep"] == [n["id"] - 1] for n in plan[1:]):
        shape = "chain"  # drawn as a DAG, came out a chain: name it what it is
    if any(n["task"] == m["task"] and n["args"] == m["args"]
           for i, n in enumerate(plan) for m in plan[:i]):
        return None
    plan = [n.to_json() for n in validate(parse(plan), files)]  # its order of deps
    return Draft(shape, plan, files, steps, literals, quoted, languages)


def writer_prompt(draft: Draft, rng: random.Random) -> list[dict[str, str]]:
    """The chat for one request: the fixed head (instructions, worked examples), then this one."""
    messages = [{"role": "system", "content": INSTRUCTIONS}]
    for user, assistant in EXAMPLES:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    numbered = "\n".join(f"{i + 1}. {step}" for i, step in enumerate(draft.steps))
    messages.append({"role": "user", "content": f"Persona: {rng.choice(PERSONAS)}. "
                                                f"{rng.choice(LENGTHS)}\nSteps:\n{numbered}"})
    return messages


_ANSWERING = re.compile(r"^(sure|certainly|of course|here('s| is| are)|absolutely|great)\b",
                        re.IGNORECASE)
_ASKING = re.compile(r"\?|\b(can|could|would|will) you\b|\bplease\b|\bhelp me\b|\bI (need|want)\b|"
                     r"\bI'?d (like|love)\b|\bI would like\b|\b(give|show|tell|let) me\b",
                     re.IGNORECASE)
_DOING_IT = re.compile(r"\b(I'll|I will|I'm going to|I have|I've|I) (then |also )?(summari[sz]ed?|"
                       r"translated?|transcribed?|described?|drew|draw|edited|edit|decided?|"
                       r"rewr[io]te|segmented|estimated?|detected|classified|removed)\b",
                       re.IGNORECASE)


def check_request(draft: Draft, written: str) -> tuple[str | None, pools.Sample | None]:
    """Why a written request is rejected (None if kept), and the training sample it makes."""
    written = " ".join(written.split()).strip().strip('"').strip()
    if not written:
        return "empty", None
    if _ANSWERING.match(written):
        return "answered instead of asking", None
    if not _ASKING.search(written):
        return "does not ask for anything", None
    if _DOING_IT.search(written):
        return "the person does a step themselves", None
    if len(written.split()) > 120:
        return "too long", None
    if re.search(r"\bsteps? \d", written, re.IGNORECASE):
        return "step numbers", None
    if re.search(r"\[TEXT [A-Z]\]", written) and not draft.literals:
        return "placeholder invented", None
    request = fill_in(written, draft.literals)
    if request is None or re.search(r"\[TEXT [A-Z]\]", request):
        return "placeholder missing or repeated", None
    # a file may go unnamed ("this recording") when it is the only one of its kind: it is
    # attached, and the planner sees the attached files' names
    missing = [f for f in draft.files if f not in request
               and sum(kind_of_file(g) == kind_of_file(f) for g in draft.files) > 1]
    if missing:
        return f"file missing: {missing[0]}", None
    plan = copy.deepcopy(draft.plan)
    outside = written  # the person's own words, without the texts they quote
    for text in draft.quoted:
        at = request.lower().find(text.lower())
        if at < 0:
            return f"text changed: {text[:40]}", None
        spelled = request[at:at + len(text)]  # as the request spells it
        for node in plan:
            node["args"] = {k: spelled if v == text else v for k, v in node["args"].items()}
        outside = outside.replace(spelled, " ")
    for language in draft.languages:
        if language.lower() not in outside.lower():
            return f"language missing: {language}", None
    for node in plan:
        if not mentions(node["task"], outside):
            return f"step not asked: {node['task']}", None
    extra = strongly_mentioned(outside) - {n["task"] for n in plan}
    if extra:
        return f"step added: {sorted(extra)[0]}", None
    sample = pools.Sample(request, list(draft.files), plan, shape=draft.shape)
    if not pools.check(sample):
        return "decoder cannot reproduce the plan", None
    return None, sample


def judged(draft: Draft, written: str) -> dict[str, Any]:
    """A data row's verdict on a written request: kept or why not, and what training reads."""
    reason, sample = check_request(draft, written)
    return {"request": sample.request if sample else "",
            "files": sample.files if sample else draft.files,
            "plan": sample.plan if sample else draft.plan,
            "accepted": reason is None, "reason": reason or ""}


def load_writer(threads: int, gguf: Path | None):
    """The default writer model, as the registry names it."""
    from core.assistant import resolve_role
    from core.config import Settings
    from core.llm import Controller
    from core.registry import Registry

    if gguf is None:
        settings = Settings.load()
        registry = Registry(settings.cache_path)
        gguf = registry.resolve(resolve_role(registry, settings, "writer"))
    return Controller(gguf, n_ctx=2048, threads=threads)


def write_request(writer, messages: list[dict[str, str]], opener: str, seed: int) -> str:
    """Sample one request (temperature 0.7) that starts with ``opener``; the unchanged prompt
    head stays evaluated, as llama.cpp reuses the longest common prefix with the previous
    prompt."""
    tokens = writer.prompt_tokens(messages) + writer.tokenize(opener)
    out = writer.llama.create_completion(
        tokens, max_tokens=170, temperature=0.7, top_p=0.95, repeat_penalty=1.1, seed=seed,
        stop=list(writer.template.stop_strings) + ["\n\n"])
    return (opener + out["choices"][0]["text"]).strip()


def read_done(path: Path) -> dict[int, dict[str, Any]]:
    done: dict[int, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                done[row["index"]] = row
    return done


def accepted_samples(path: Path = DEFAULT_OUT, held_out: bool | None = None,
                     variants: int = 0, seed: int = 0) -> list[pools.Sample]:
    """The kept samples of a data file; ``held_out`` True or False selects every tenth item
    (our own validation split) or the rest, None all of them. ``variants``: so many more copies
    of each, with other files, texts and languages (``variant``)."""
    samples = []
    for row in read_done(path).values():
        if not row["accepted"]:
            continue
        if held_out is not None and (row["index"] % 10 == 0) != held_out:
            continue
        sample = pools.Sample(row["request"], row["files"], row["plan"], shape=row["shape"])
        samples.append(sample)
        rng = random.Random(f"variant-{seed}-{row['index']}")
        for _ in range(variants):
            other = variant(sample, rng)
            if other is not None:
                samples.append(other)
    return samples


def variant(sample: pools.Sample, rng: random.Random) -> pools.Sample | None:
    """The same written request about other things: each file renamed (same kind), each quoted
    text swapped for another of its task's pool, each language for another. The writer's
    wording is what the planner should learn from, not the particular photo or sentence; None
    when the swapped request no longer passes the decoder's check."""
    request, plan = sample.request, copy.deepcopy(sample.plan)
    taken = list(sample.files)  # new names only: two files never become one
    files = []
    for name in sample.files:
        other = _new_file(rng, kind_of_file(name), taken)
        files.append(other)
        request = request.replace(name, other)
        for node in plan:
            node["args"] = {k: other if v == name else v for k, v in node["args"].items()}
    for node in plan:
        for key, kind in get_task(node["task"]).inputs:
            value = node["args"][key]
            if kind != TEXT or key == "labels" or value.startswith("<GENERATED>") \
                    or f'"{value}"' not in request:
                continue
            other = _literal(rng, node["task"], key)
            request = request.replace(f'"{value}"', f'"{other}"', 1)
            node["args"][key] = other
    for language in languages_named(request):
        if language != "English":
            other = rng.choice([n for n in pools.LANGUAGES if n not in ("English", language)])
            request = re.sub(rf"\b{language}\b", other, request)
    other = pools.Sample(request, files, plan, shape=sample.shape)
    return other if pools.check(other) else None


def recheck(path: Path, seed: int) -> int:
    """Judge every written request again with the checks as they are now, so that the file
    agrees with the code that reads it (the drafts are drawn again from their seeds)."""
    rows = read_done(path)
    for index, row in rows.items():
        if "written" not in row:
            continue
        row.update(judged(sample_draft(random.Random(f"{seed}-{index}")), row["written"]))
    path.write_text("".join(json.dumps(rows[i], ensure_ascii=False) + "\n" for i in sorted(rows)),
                    encoding="utf-8")
    kept = sum(r["accepted"] for r in rows.values())
    print(f"{kept} of {len(rows)} kept under today's checks", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=800, help="items to draw (kept or not)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-minutes", type=float, default=0.0, help="stop after (0: never)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gguf", type=Path, help="writer GGUF (default: the registry's writer)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print sampled steps without writing requests")
    parser.add_argument("--recheck", action="store_true",
                        help="apply today's checks to the requests already written (no LLM)")
    parser.add_argument("--export-held-out", type=Path, metavar="JSONL",
                        help="write the held-out tenth in eval_planner.py's format and stop")
    args = parser.parse_args(argv)
    if args.recheck:
        return recheck(args.out, args.seed)
    if args.export_held_out:
        held_out = accepted_samples(args.out, held_out=True)
        args.export_held_out.write_text("".join(
            json.dumps({"request": s.request, "files": s.files, "plan": s.plan},
                       ensure_ascii=False) + "\n" for s in held_out), encoding="utf-8")
        print(f"{len(held_out)} held-out requests written to {args.export_held_out}",
              file=sys.stderr)
        return 0

    done = read_done(args.out)
    todo = [i for i in range(args.count) if i not in done]
    if args.dry_run:
        for index in todo[:10]:
            draft = sample_draft(random.Random(f"{args.seed}-{index}"))
            print(index, draft.shape if draft else None, draft.steps if draft else "")
        return 0
    print(f"{len(done)} items already in {args.out}; {len(todo)} to go", file=sys.stderr)
    writer = load_writer(args.threads, args.gguf)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    kept = sum(1 for r in done.values() if r["accepted"])
    with open(args.out, "a", encoding="utf-8") as out:
        for count, index in enumerate(todo, 1):
            rng = random.Random(f"{args.seed}-{index}")
            draft = sample_draft(rng)
            row: dict[str, Any] = {"index": index}
            if draft is None:
                row.update(accepted=False, reason="no usable graph drawn")
            else:
                began = time.perf_counter()
                request = write_request(writer, writer_prompt(draft, rng),
                                        weighted(rng, OPENERS), seed=index)
                row.update(shape=draft.shape, steps=draft.steps, written=request,
                           **judged(draft, request),
                           seconds=round(time.perf_counter() - began, 2))
                kept += row["accepted"]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            elapsed = time.perf_counter() - started
            rate = elapsed / count
            print(f"\r{len(done) + count}/{args.count} drawn, {kept} kept, {rate:.1f} s each, "
                  f"{rate * (len(todo) - count) / 60:.0f} min left", end="", file=sys.stderr,
                  flush=True)
            if args.max_minutes and elapsed > args.max_minutes * 60:
                print(f"\nstopped after {args.max_minutes} min; run again to go on",
                      file=sys.stderr)
                break
    print(file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
