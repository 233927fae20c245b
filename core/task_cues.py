"""Words in a request that point to a catalogue task.

One table serves two jobs: the back-instructed training data keeps a written request only if
it asks for every sampled step (scripts/make_plan_data.py), and the planner's "another task?"
choice leans towards going on while the request still asks for something no planned task does
(core/planner.py, ``CoveragePrior``). The cues are deliberately plain words a person uses
("transcribe", "read it aloud"), not task names.
"""

from __future__ import annotations

import re

from core.languages import CODES
from core.tasks import TASK_NAMES

_LANGUAGE_NAMES = "|".join(sorted((name.lower() for name in CODES), key=len, reverse=True))

TASK_CUES: dict[str, str] = {
    "text-classification": r"sentiment|positive|negative|\btone\b|\bmood\b|attitude|"
                           r"happy or|angry|upset|pleased|satisf|praise|complain|feel(s|ing)? "
                           r"about|emotion",
    "token-classification": r"named entit|entities|\bnames?\b|people,? (and )?places|"
                            r"organi[sz]ations?|part[s]? of speech|\bnouns?\b|\bverbs?\b|"
                            r"pick out|who and where|\bwho\b.{0,40}\bwhere\b|locations|"
                            r"\btag\b|key (terms|people)|mentioned|\bpeople\b|\bplaces\b",
    "zero-shot-classification": r"categor|\blabels?\b|sort (it|this|them)|which (one )?of|"
                                r"\btopic\b|belongs? to|\bfits?\b|one of the|decide which|"
                                r"which one|match(es)?\b|\beither\b",
    "question-answering": r"\banswer|question|\bwhat\b|\bwho\b|\bwhen\b|\bwhere\b|\bwhy\b|"
                          r"\bhow (many|much|long|high|far)|find out|tell me|look up",
    "summarization": r"summar|shorten|condense|\bgist\b|main points|key points|tl;?dr|brief|"
                     r"boil (it )?down|overview|short version|in a nutshell|recap|sum (it )?up|"
                     r"few (words|lines|sentences)|short(er)?\b",
    "translation": r"translat|\bin(to)? (" + _LANGUAGE_NAMES + r")\b",
    "text-generation": r"\bwrite|compose|\bdraft|story|poem|haiku|continue|essay|\bemails?\b|"
                       r"article|blog|\bpost\b|caption for|slogan|lyrics|generate (a|some)|"
                       r"come up with|create (a|some) (text|story|description|message)|"
                       r"\bpen\b|put together",
    "conversational": r"\bchat|\breply|respond|\btalk|conversation|converse|discuss|advice|"
                      r"what do you think|your (view|thoughts|opinion)|answer (it|this|that)",
    "text2text-generation": r"paraphras|rephrase|reword|rewrite|\bcorrect|grammar|simplif|"
                            r"polish|more formal|plain (english|words)|clean up|\bfix\b|"
                            r"\bmistakes?\b|errors?\b",
    "fill-mask": r"\[mask\]|blank|missing word|fill (in|the)|\bgap\b",
    "sentence-similarity": r"similar|same meaning|\bcompare|how close|alike|match(es)?\b|"
                           r"differ|the same",
    "feature-extraction": r"embedding|vector|features?\b|numerical representation|numbers",
    "text-to-speech": r"aloud|out loud|read (it|this|that|them|the \w+)( back)? (out|to (me|us|"
                      r"him|her|them))|narrat|audio (version|file|clip|recording) of|spoken|"
                      r"voice ?-?over|(into|to|as) (speech|audio|sound|a voice|an audio)|"
                      r"text[- ]to[- ]speech|\bsay (it|this|that)|audiobook|(can|could) "
                      r"(hear|listen)|(hear|listen to) (it|this|that|them)|pronounc|\bspeak",
    "automatic-speech-recognition": r"transcri|speech to text|(is|was|being|were) said|"
                                    r"written (form|text|version|down)|into (text|words|"
                                    r"writing)|dictat|write (it )?down|type (it )?(up|out)|"
                                    r"make out|\bsays?\b|\bsaid\b|\bspoken\b|\bwords\b",
    "audio-classification": r"(kind|type|sort) of (sound|noise|audio|music)|what sound|"
                            r"\bsounds?\b|classif|identify|recogni[sz]|\bgenre|emotion|"
                            r"\bnoise\b|what is (playing|heard)|\bcategor|what (it|this) is",
    "audio-to-audio": r"noise|enhance|clean( it)? up|denois|separat|clearer|improve|"
                      r"background|\bquality|crisp|isolate|remove|hiss",
    "image-to-text": r"describ|description|caption|what('s| is) (in|on|shown)|\bshows?\b|"
                     r"depict|\btext\b|written|\bread\b|\bocr\b|extract|\bwords?\b|"
                     r"what (it|the (image|picture|photo)) (is|contains)|contents?|"
                     r"in words|tell me (about|what)",
    "image-classification": r"classif|categor|what (kind|type|sort) of|identify|species|breed|"
                            r"which (animal|object|thing)|recogni[sz]|\bclass\b|"
                            r"\bis (it|this) an?\b|what (it|this) is|what .{0,20} shows",
    "object-detection": r"detect|locat|\bfind\b|bounding|how many|\bcount|\bspot|\bobjects?\b|"
                        r"\bfaces?\b|\bwhere\b|identify|\bmark|\bbox|point out|highlight",
    "image-segmentation": r"segment|regions?|separate|\bmasks?\b|outlin|partition|areas?|"
                          r"\bparts\b|pixel|boundar|distinct|isolate|sections?|divide|split",
    "depth-estimation": r"depth|\bdeep|distance|how far|closer|farther|further|\b3d\b|near|"
                        r"foreground|background|far (back|away)",
    "visual-question-answering": r"question|\bwhat\b|\bhow many\b|\bis there\b|\bare there\b|"
                                 r"\bwhich\b|colou?r|\bwho\b|\bwhere\b|tell me|\banswer|\?",
    "document-question-answering": r"document|invoice|receipt|\bform\b|scan|\bbill\b|contract|"
                                   r"letter|ticket|statement|certificate|page|question|\bwhat\b|"
                                   r"\bwhen\b|\bwho\b|total|\banswer|\?",
    "text-to-image": r"\bdraw|illustrat|picture of|image of|(generate|create|make|produce) "
                     r"(an? )?(new )?(image|picture|illustration|drawing|artwork|visual)|"
                     r"visuali[sz]|render|\bpaint|artwork|sketch|poster|\bart\b",
    "image-to-image": r"\bedit|change|make (it|the)|transform|turn (it|the)|\bstyle|filter|"
                      r"modif|recolou?r|background|\bpaint|brighter|darker|convert|enhance|"
                      r"adjust|look (like|more)|\badd\b|remove|replace",
}
assert set(TASK_CUES) == set(TASK_NAMES), "every catalogue task has cues"
_COMPILED = {task: re.compile(pattern, re.IGNORECASE) for task, pattern in TASK_CUES.items()}

# Cues that name one task only: a request that uses them and a plan without that task asks for
# a step the plan lacks (the data checker rejects such requests; the other cues overlap).
STRONG_CUES: dict[str, str] = {
    "text-to-speech": r"aloud|out loud|text[- ]to[- ]speech|audiobook|narrat|voice-?over|"
                      r"(into|to|as) (speech|spoken (words|audio))|spoken version",
    "automatic-speech-recognition": r"transcri|speech[- ]to[- ]text",
    "translation": r"translat",
    "summarization": r"summar",
    "depth-estimation": r"\bdepth\b",
    "image-segmentation": r"segment",
    "object-detection": r"object detection|detect (the |all |any )?(objects?|faces?|people|"
                        r"animals|cars|items)",
    "token-classification": r"named entit|\bentities\b|part[s]? of speech",
    "sentence-similarity": r"similarity",
    "text-to-image": r"\bdraw\b|illustrat|(generate|create|make|produce) an? (new )?(image|"
                     r"picture|illustration|drawing)",
    "fill-mask": r"\[mask\]",
}
_STRONG = {task: re.compile(pattern, re.IGNORECASE) for task, pattern in STRONG_CUES.items()}


def mentions(task: str, text: str) -> bool:
    """Whether ``text`` uses a word that asks for ``task``."""
    return bool(_COMPILED[task].search(text))


# A question about a picture ("what is the man holding in stadium.jpg?", "how many people are
# in the photo?", "answer this question about note.png") asks for visual question answering,
# or for document question answering when the picture is a document ("the total on
# invoice.png"). Questions that other tasks answer are left out: what is in it or what it
# shows (a description), which objects, what kind (a class), its parts, its depth, its text.
_PICTURE = r"(?:image|picture|photo|photograph|pic|scan|screenshot|\w+\.(?:jpe?g|png|webp|gif|" \
           r"bmp|tiff?))\b"
_THE = r"(?:the |this |that |my |your |an? )?"
_IN_SENTENCE = r"(?:[^.!?\n]|\.(?=\w))"  # a file name's dot does not end the sentence
_OTHER_TASKS_QUESTIONS = (r"objects?|kind|type|sort|class|parts?|regions?|areas?|depth|"
                          r"describ\w*|happening|show|shows|showing|text|written|say|says|"
                          r"words|mentioned")
_PICTURE_QUESTION = re.compile(
    r"\b(?:what|which|who|how many|how much|is there|are there|is the|are the|does the)\b"
    r"(?!'s in|'s on| is in| is on)"
    rf"(?!{_IN_SENTENCE}{{0,80}}\b(?:{_OTHER_TASKS_QUESTIONS})\b)"
    rf"{_IN_SENTENCE}{{0,80}}\b(?:in|on) {_THE}{_PICTURE}"
    rf"|question about {_THE}{_PICTURE}"
    rf"|answer\b{_IN_SENTENCE}{{0,30}}\bquestion{_IN_SENTENCE}{{0,30}}\b(?:about|on|in|from) "
    rf"{_THE}{_PICTURE}", re.IGNORECASE)
_DOCUMENT = re.compile(r"document|invoice|receipt|\bforms?\b|letter|scanned|contract|"
                       r"certificate|\bbill\b|statement|\breport\b|\bpage\b|\bmenu\b|ticket|"
                       r"\btotal\b", re.IGNORECASE)


def strongly_mentioned(text: str) -> set[str]:
    """The tasks ``text`` asks for by a word that names them alone, or by a question about a
    picture that only a question-answering task over it answers."""
    found = {task for task, pattern in _STRONG.items() if pattern.search(text)}
    if _PICTURE_QUESTION.search(text):
        found.add("document-question-answering" if _DOCUMENT.search(text)
                  else "visual-question-answering")
    return found


# Verbs a person uses to ask for one step ("transcribe", "translate", "identify", "draw"), by
# stem. Counting them in the part of a request that asks ("could you ..., ... and then ...")
# estimates how many steps it wants; verbs that only frame a request ("help", "show", "give
# me") are left out. Written from the catalogue's vocabulary; fitted on our own back-instructed
# requests, where the written request and its number of steps are both known.
_ACTION_STEMS = (
    r"transcrib|translat|summari[sz]|condens|shorten|distil|boil|identif|detect|recogni[sz]|"
    r"classif|categori[sz]|label|tag|annotat|describ|caption|extract|generat|creat|produc|draw|"
    r"paint|sketch|illustrat|visuali[sz]|depict|render|animat|design|craft|convert|turn|"
    r"transform|enhanc|improv|clean|restor|sharpen|denois|filter|remov|replac|edit|modif|"
    r"chang|tweak|adjust|answer|respond|reply|read|narrat|speak|say|recit|estimat|measur|"
    r"gaug|quantif|segment|separat|isolat|split|outlin|delineat|compar|analy[sz]|assess|"
    r"evaluat|determin|interpret|explain|figur|find|locat|spot|pinpoint|highlight|mark|count|"
    r"tell|chat|discuss|convers|engag|writ|compos|rewrit|paraphras|rephras|correct|fix|"
    r"simplif|polish|formulat|predict|infer|decipher|decod|check|scor|rate"
)
_ACTION = re.compile(r"\b(" + _ACTION_STEMS + r")(e|es|ed|ing|s|y|ies|ied|en)?\b",
                     re.IGNORECASE)
# Where the asking starts; what comes before it describes the files ("I recorded a talk").
_ASKING = re.compile(r"\b(could|can|would|will) you\b|\bplease\b|\bi(?:'d| would) (?:like|love)"
                     r"\b|\bi (?:want|need|wish)\b|\bhelp me\b", re.IGNORECASE)
# Quoted text is what a step works on, not what it is asked to do.
_QUOTED = re.compile(r"'[^']{12,}'|\"[^\"]{12,}\"|\u201c[^\u201d]+\u201d|\u2018[^\u2019]{12,}"
                     r"\u2019")


def asked_steps(text: str) -> int:
    """About how many steps ``text`` asks for: the action verbs where it asks."""
    text = _QUOTED.sub(" ", text)
    asking = _ASKING.search(text)
    if asking:
        text = text[asking.start():]
    return len(_ACTION.findall(text))
