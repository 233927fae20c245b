"""The task catalogue: every task a plan may name, what it takes and what it makes.

Task ids are Hugging Face pipeline task ids (plus ``conversational``), so HuggingGPT plans and
TaskBench data carry over. The catalogue is the single source for the planner's grammar (which
task names exist, which argument keys each needs, which resource kinds may feed them), for the
executor's type checks, and for how an imported model does each task (its ONNX export recipe).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Resource kinds a task argument or output can have.
TEXT = "text"
IMAGE = "image"
AUDIO = "audio"
LABELS = "labels"  # list of {"label", "score"}; renders as text for dependants
RESOURCE_KINDS = (TEXT, IMAGE, AUDIO)
FILE_KINDS = (IMAGE, AUDIO)  # the kinds that are files in a run's workspace, not values
# The argument of a translation that names the language to translate into (Hugging Face's
# name for it); the planner fills it from the request.
TARGET_LANGUAGE = "tgt_lang"

# File extensions that identify an attached file's kind (files need not exist to be planned).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".m4a"})
TEXT_EXTENSIONS = frozenset({".txt", ".md"})


@dataclass(frozen=True)
class OnnxExport:
    """How a Hugging Face model imported for a task is exported and run.

    ``export_task`` is optimum's exporter task, ``onnx_class`` the ``optimum.onnxruntime`` class
    that loads the result, ``pipeline_task`` the transformers pipeline that wraps it. ``int8``
    says whether the task tolerates dynamic quantisation at all (dense per-pixel outputs do not
    gain much, as convolutions stay fp32, and show its errors as visible artefacts).
    ``extra_tasks`` are the other catalogue tasks such a model also does.
    """

    export_task: str
    onnx_class: str
    pipeline_task: str
    with_past: bool = False
    int8: bool = True
    extra_tasks: tuple[str, ...] = ()


_SEQ2SEQ = "ORTModelForSeq2SeqLM"


@dataclass(frozen=True)
class Task:
    """One task the controller can plan.

    ``inputs`` maps argument key to resource kind, in the order the planner writes them.
    ``outputs`` are the kinds a dependant may take from this task's result.
    ``llm_fallback`` marks text tasks the writer LLM can do itself when no expert is installed.
    ``options`` are argument keys that are settings, not resources, filled from the request
    after decoding (translation's ``tgt_lang``).
    ``onnx`` is how an imported Hugging Face model does the task (None: no ONNX route; the
    importer refuses such a ``--task``, and only a runtime of its own or the writer can do it).
    """

    name: str
    description: str
    inputs: tuple[tuple[str, str], ...]
    outputs: tuple[str, ...]
    llm_fallback: bool = False
    options: tuple[str, ...] = ()
    onnx: OnnxExport | None = None

    @property
    def input_keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.inputs)

    def input_kind(self, key: str) -> str:
        return dict(self.inputs)[key]


_T = TEXT
_I = IMAGE
_A = AUDIO

CATALOGUE: tuple[Task, ...] = (
    Task("text-classification", "label a text, e.g. its sentiment (positive/negative)",
         (("text", _T),), (LABELS, _T),
         onnx=OnnxExport("text-classification", "ORTModelForSequenceClassification",
                         "text-classification")),
    Task("token-classification", "find named entities (people, places, organisations, dates) "
         "or parts of speech in a text", (("text", _T),), (_T,),
         onnx=OnnxExport("token-classification", "ORTModelForTokenClassification",
                         "token-classification")),
    Task("zero-shot-classification", "sort a text into labels the user names",
         (("text", _T), ("labels", _T)), (LABELS, _T),
         onnx=OnnxExport("text-classification", "ORTModelForSequenceClassification",
                         "zero-shot-classification", extra_tasks=("text-classification",))),
    Task("question-answering", "answer a question from a given passage of text",
         (("text", _T), ("context", _T)), (_T,), llm_fallback=True,
         onnx=OnnxExport("question-answering", "ORTModelForQuestionAnswering",
                         "question-answering")),
    Task("summarization", "shorten a text to its main points", (("text", _T),), (_T,),
         llm_fallback=True,
         onnx=OnnxExport("text2text-generation", _SEQ2SEQ, "summarization", with_past=True)),
    Task("translation", "translate a text into another language", (("text", _T),), (_T,),
         llm_fallback=True, options=(TARGET_LANGUAGE,),
         onnx=OnnxExport("text2text-generation", _SEQ2SEQ, "translation", with_past=True)),
    Task("text-generation", "write or continue a text (story, poem, email)", (("text", _T),),
         (_T,), llm_fallback=True),
    Task("conversational", "reply to a chat message", (("text", _T),), (_T,),
         llm_fallback=True),
    Task("text2text-generation", "rewrite a text (paraphrase, correct grammar)",
         (("text", _T),), (_T,), llm_fallback=True,
         onnx=OnnxExport("text2text-generation", _SEQ2SEQ, "text2text-generation",
                         with_past=True)),
    Task("fill-mask", "fill the [MASK] gap in a sentence", (("text", _T),), (_T,),
         onnx=OnnxExport("fill-mask", "ORTModelForMaskedLM", "fill-mask")),
    Task("sentence-similarity", "score how similar two texts are in meaning",
         (("text", _T), ("text2", _T)), (LABELS, _T),
         onnx=OnnxExport("feature-extraction", "ORTModelForFeatureExtraction",
                         "feature-extraction", extra_tasks=("feature-extraction",))),
    Task("feature-extraction", "turn a text into an embedding vector", (("text", _T),), (_T,),
         onnx=OnnxExport("feature-extraction", "ORTModelForFeatureExtraction",
                         "feature-extraction", extra_tasks=("sentence-similarity",))),
    Task("text-to-speech", "read a text aloud as speech audio", (("text", _T),), (_A,)),
    Task("automatic-speech-recognition", "transcribe speech audio into text",
         (("audio", _A),), (_T,),
         onnx=OnnxExport("automatic-speech-recognition", "ORTModelForSpeechSeq2Seq",
                         "automatic-speech-recognition", with_past=True)),
    Task("audio-classification", "label a sound or audio clip", (("audio", _A),), (LABELS, _T),
         onnx=OnnxExport("audio-classification", "ORTModelForAudioClassification",
                         "audio-classification")),
    Task("audio-to-audio", "enhance or separate audio (remove noise)", (("audio", _A),), (_A,)),
    Task("image-to-text", "describe an image or read the text written in it (OCR)",
         (("image", _I),), (_T,),
         onnx=OnnxExport("image-to-text", "ORTModelForVision2Seq", "image-to-text",
                         with_past=True)),
    Task("image-classification", "say what kind of thing an image shows", (("image", _I),),
         (LABELS, _T),
         onnx=OnnxExport("image-classification", "ORTModelForImageClassification",
                         "image-classification")),
    Task("object-detection", "find and box objects or faces in an image", (("image", _I),),
         (_I, _T),
         onnx=OnnxExport("object-detection", "ORTModelForCustomTasks", "object-detection")),
    Task("image-segmentation", "split an image into labelled regions", (("image", _I),),
         (_I, _T),
         onnx=OnnxExport("semantic-segmentation", "ORTModelForSemanticSegmentation",
                         "image-segmentation", int8=False)),
    Task("depth-estimation", "estimate the depth of each pixel of an image", (("image", _I),),
         (_I,),
         onnx=OnnxExport("depth-estimation", "ORTModelForCustomTasks", "depth-estimation",
                         int8=False)),
    Task("visual-question-answering", "answer a question about an image",
         (("image", _I), ("text", _T)), (_T,),
         onnx=OnnxExport("image-to-text", "ORTModelForPix2Struct", "image-to-text",
                         with_past=True)),
    Task("document-question-answering", "answer a question about a scanned document",
         (("image", _I), ("text", _T)), (_T,)),
    Task("text-to-image", "draw an image from a text description", (("text", _T),), (_I,)),
    Task("image-to-image", "change an image as a text instruction says",
         (("image", _I), ("text", _T)), (_I,)),
)

TASKS: dict[str, Task] = {task.name: task for task in CATALOGUE}
TASK_NAMES: tuple[str, ...] = tuple(TASKS)
# The text tasks the writer LLM does itself when no expert is installed.
WRITER_TASKS: tuple[str, ...] = tuple(t.name for t in CATALOGUE if t.llm_fallback)


@dataclass(frozen=True)
class Skill:
    """What a model can be for inside a task that names several jobs (the registry's
    ``skill``): what it does, in the words of a capability list, and what it cannot."""

    can: str
    cannot: str = ""


# image-to-text holds both text reading and picture description; a request to describe a photo
# is not served by an OCR model, and the answer must say so rather than pass its output off as
# a description.
SKILLS: dict[str, dict[str, Skill]] = {
    "image-to-text": {
        "ocr": Skill("read the text written in an image (OCR)",
                     "describe what an image shows"),
        "captioning": Skill("describe what an image shows"),
    },
    # the default set's sentiment lexicon and entity recognizer do one job of their task each;
    # a capability list that named the task's whole range would promise what they cannot do
    "text-classification": {
        "sentiment": Skill("tell whether a text sounds positive, negative or neutral",
                           "sort a text into other labels"),
    },
    "token-classification": {
        "entities": Skill("find the people, places, organisations and dates a text names",
                          "tag parts of speech"),
    },
    # the default voices and speech recognizers are English only
    "text-to-speech": {"english": Skill("read an English text aloud as speech audio",
                                        "speak other languages")},
    "automatic-speech-recognition": {"english": Skill("transcribe English speech into text",
                                                      "transcribe other languages")},
    "object-detection": {
        "faces": Skill("find and mark human faces in an image", "find other objects"),
        "cat-faces": Skill("find and mark cat faces in an image", "find other objects"),
    },
}
SKILL_WORDS: dict[str, dict[str, str]] = {
    "image-to-text": {
        "ocr": r"\b(read|text|says?|written|writing|ocr|words?|signs?|note|letters?|scan|"
               r"document|receipt|invoice|label)\b",
        "captioning": r"\b(describe|description|caption|what(?:'s| is| are) (?:in|on|shown)|"
                      r"shows?|depicts?|see|looks? like|scene)\b",
    },
}
# What a request that names no job wants of the task ("what's going on in this picture?"):
# for image-to-text, as for Hugging Face's pipeline, a description.
DEFAULT_SKILL: dict[str, str] = {"image-to-text": "captioning"}
# "read it aloud" asks for speech, not for text reading
_ALOUD = r"\bread\b[^.,;]{0,40}\b(aloud|out loud|out)\b"


def wanted_skill(task: str, request: str) -> str | None:
    """The skill a request asks of a task (None when the task has no skills); reading words
    win, as a request to read a photo's text wants OCR; else the task's default skill."""
    words = SKILL_WORDS.get(task)
    if not words:
        return None
    lowered = re.sub(_ALOUD, " ", request.lower())
    for skill, pattern in words.items():
        if re.search(pattern, lowered):
            return skill
    return DEFAULT_SKILL.get(task)


def skill_of(task: str, skill: str) -> Skill | None:
    """The skill a model records for a task, if the task has such skills."""
    return SKILLS.get(task, {}).get(skill)


class UnknownTaskError(KeyError):
    """A task name that is not in the catalogue."""

    def __str__(self) -> str:
        return f"unknown task {self.args[0]!r}; known tasks: {', '.join(TASK_NAMES)}"


def get_task(name: str) -> Task:
    """Look a task up by name, with an error that lists what exists."""
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTaskError(name) from None


def kind_of_file(name: str) -> str | None:
    """The resource kind of a file, judged by its extension (planning needs no file on disk)."""
    lowered = name.lower()
    dot = lowered.rfind(".")
    if dot < 0:
        return None
    ext = lowered[dot:]
    if ext in IMAGE_EXTENSIONS:
        return IMAGE
    if ext in AUDIO_EXTENSIONS:
        return AUDIO
    if ext in TEXT_EXTENSIONS:
        return TEXT
    return None


def output_files(outputs: dict) -> list[tuple[str, str]]:
    """The files among a task's outputs, as (kind, path in the workspace): what a run made."""
    return [(kind, str(outputs[kind])) for kind in FILE_KINDS if outputs.get(kind)]


def produces(task: Task, kind: str) -> bool:
    """Whether a task's output can feed an input of ``kind`` (labels render as text)."""
    return kind in task.outputs
