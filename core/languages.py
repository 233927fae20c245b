"""Languages a request names, and which of them it wants a translation into.

One table for every part that deals in languages: the planner writes the target into a
translation task's arguments (``tgt_lang``), the selector matches it against the language pair
an imported translation model serves (its registry ``skill``, e.g. ``en-de``), and the writer
names it in its prompt.
"""

from __future__ import annotations

import re

# English name -> ISO 639-1 code
CODES: dict[str, str] = {
    "English": "en", "German": "de", "French": "fr", "Spanish": "es", "Italian": "it",
    "Portuguese": "pt", "Dutch": "nl", "Polish": "pl", "Swedish": "sv", "Danish": "da",
    "Norwegian": "no", "Finnish": "fi", "Czech": "cs", "Russian": "ru", "Ukrainian": "uk",
    "Turkish": "tr", "Greek": "el", "Chinese": "zh", "Japanese": "ja", "Korean": "ko",
    "Arabic": "ar", "Hindi": "hi",
}
# Other words a request may use for a language.
ALIASES: dict[str, str] = {"deutsch": "German", "français": "French", "francais": "French",
                           "español": "Spanish", "espanol": "Spanish", "castilian": "Spanish",
                           "mandarin": "Chinese", "italiano": "Italian"}
_NAMES = {**{name.lower(): name for name in CODES}, **ALIASES}
_NAME = "|".join(sorted(map(re.escape, _NAMES), key=len, reverse=True))
_TARGETS = re.compile(rf"\b(?:into|to|in|auf)\s+({_NAME})\b"
                      rf"((?:\s*(?:,|and|or|&)\s*(?:{_NAME})\b)*)", re.IGNORECASE)


def languages_named(text: str) -> list[str]:
    """Languages a text names, in the order they first appear."""
    found = [_NAMES[m.group(0).lower()] for m in re.finditer(rf"\b(?:{_NAME})\b", text, re.I)]
    return list(dict.fromkeys(found))


def target_languages(request: str) -> list[str]:
    """The languages a request asks for a translation into, in order: 'into German and French'
    gives both; 'the German text into English' gives English only. A request that names
    languages but none after into/to/in: those not introduced by 'from'."""
    targets: list[str] = []
    for match in _TARGETS.finditer(request):
        targets.append(_NAMES[match.group(1).lower()])
        targets += languages_named(match.group(2) or "")
    if targets:
        return list(dict.fromkeys(targets))
    sources = {_NAMES[m.group(1).lower()] for m in re.finditer(rf"\bfrom\s+({_NAME})\b",
                                                                request, re.I)}
    return [name for name in languages_named(request) if name not in sources]


def code_of(language: str) -> str:
    """A language's ISO code ('German' -> 'de'); anything else (a code already, such as a
    model's own 'de_DE') is returned as it is."""
    return CODES.get(language, language)


# Number words two to twelve (one is also an article in most of these languages), by language:
# a translation must carry the same numbers as its source, and small models swap them ("sept"
# for "nine"), so the writer compares them.
ENGLISH_NUMBERS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
NUMBER_WORDS: dict[str, tuple[str, ...]] = {
    "English": tuple(word for word, value in ENGLISH_NUMBERS.items() if value >= 2),
    "German": ("zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf",
               "zwölf"),
    "French": ("deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
               "douze"),
    "Spanish": ("dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
                "once", "doce"),
}


def numbers_in(text: str, language: str) -> list[int]:
    """The numbers a text states, as digits or as the language's number words, sorted."""
    found = [int(n) for n in re.findall(r"\b\d+\b", text)]
    words = NUMBER_WORDS.get(language, ())
    for word in re.findall(r"[^\W\d_]+", text.lower()):
        if word in words:
            found.append(words.index(word) + 2)
    return sorted(found)


def with_digits(text: str) -> str:
    """English number words (two to twelve) written as digits."""
    words = NUMBER_WORDS["English"]
    return re.sub(rf"\b({'|'.join(words)})\b",
                  lambda m: str(words.index(m.group(1).lower()) + 2), text, flags=re.I)
