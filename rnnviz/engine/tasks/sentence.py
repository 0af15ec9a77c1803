"""``sentence``: the lecture's own long-term dependency, as a literal sentence (issue 7).

    I grew up in  France  and then we moved around a lot when I …  so I speak fluent  ___ → French
    └─ prefix ─┘  country └──── ``length`` filler words ────────┘  └──── suffix ───┘      target

One word per time step, one-hot over the word vocabulary; the target is the language of the country
(ce, readout "last", at the last suffix word): only the country word carries the answer,
``length`` + len(suffix) steps before it. Classes are the distinct languages; a sentence first draws a language uniformly,
then one of its countries, so chance = 1/#languages. The words are data, in
``resources/sentence/vocabulary.toml`` (or ``path``): prefix, suffix, filler phrases and a
country → language table. Filler phrases drawn at random are strung together and cut to exactly
``length`` words.

Held out: the filler word sequences of ``eval_batch`` are never those of ``batch``
(``split_sequences`` over the filler words; its shift of the last filler word may break that
phrase). Every country appears in both.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz.resource_dir import RESOURCES
from .base import Task, one_hot, split_sequences

DEFAULT_VOCABULARY = RESOURCES / "sentence" / "vocabulary.toml"
KEYS = ("prefix", "suffix", "fillers", "countries")


@dataclass(frozen=True)
class Vocabulary:
    """The sentence task's words: template, filler phrases (tuples of words), country → language."""

    prefix: tuple[str, ...]
    suffix: tuple[str, ...]
    fillers: tuple[tuple[str, ...], ...]
    countries: dict[str, str]

    @property
    def languages(self) -> tuple[str, ...]:
        """The distinct languages in order of first appearance: the classes."""
        return tuple(dict.fromkeys(self.countries.values()))

    @property
    def filler_words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for phrase in self.fillers for w in phrase))

    @property
    def words(self) -> tuple[str, ...]:
        """Every input word once: prefix, countries, filler words, suffix."""
        return tuple(dict.fromkeys((*self.prefix, *self.countries, *self.filler_words, *self.suffix)))


def load_vocabulary(path: str | Path = DEFAULT_VOCABULARY) -> Vocabulary:
    """Read and check a vocabulary file; ValueError with the path and the reason if it will not do."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise ValueError(f"cannot read sentence vocabulary {path}: {error}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"sentence vocabulary {path} is not valid TOML: {error}") from error
    try:
        return _parse(data)
    except ValueError as error:
        raise ValueError(f"sentence vocabulary {path}: {error}") from error


def _parse(data: dict) -> Vocabulary:
    unknown = sorted(set(data) - set(KEYS))
    missing = [key for key in KEYS if key not in data]
    if unknown or missing:
        raise ValueError(f"needs exactly the keys {', '.join(KEYS)}"
                         + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; unknown {', '.join(unknown)}" if unknown else ""))
    prefix, suffix = _words("prefix", data["prefix"]), _words("suffix", data["suffix"])
    phrases = data["fillers"]
    if not isinstance(phrases, list) or not phrases or not all(isinstance(p, str) for p in phrases):
        raise ValueError("fillers must be a non-empty list of phrases (strings)")
    fillers = tuple(tuple(p.split()) for p in phrases)
    if not all(fillers):
        raise ValueError("fillers must not contain an empty phrase")
    countries = data["countries"]
    if not isinstance(countries, dict) or not all(isinstance(v, str) and v.strip()
                                                  for v in countries.values()):
        raise ValueError("countries must be a table of country = \"language\" pairs")
    _words("countries", list(countries))
    vocabulary = Vocabulary(prefix, suffix, fillers, dict(countries))
    if len(vocabulary.languages) < 2:
        raise ValueError(f"countries must name at least 2 different languages; "
                         f"got {len(vocabulary.languages)}")
    answers = {w.lower() for name in (*countries, *countries.values()) for w in name.split()}
    leaks = sorted({w for w in (*prefix, *suffix, *vocabulary.filler_words) if w.lower() in answers})
    if leaks:
        raise ValueError(f"prefix, suffix and fillers must not name a country or language; "
                         f"found {', '.join(leaks)}")
    return vocabulary


def _words(key: str, value) -> tuple[str, ...]:
    """A list of single words (no spaces) as a tuple; ValueError naming ``key`` otherwise."""
    if not isinstance(value, list) or not all(isinstance(w, str) and w and not w.split()[1:] and
                                              w == w.strip() for w in value):
        raise ValueError(f"{key} must be a list of single words (no spaces); got {value!r}")
    return tuple(value)


class Sentence(Task):
    """x (T, B, W) one-hot words, T = len(prefix) + 1 + length + len(suffix); target (B,) language id."""

    name = "sentence"
    loss = "ce"
    readout = "last"
    OPTIONS = ("path",)
    MIN_LENGTH = 0

    def __init__(self, *, length: int, seed: int = 0, dtype=np.float64,
                 path: str | Path = DEFAULT_VOCABULARY):
        super().__init__(length=length, seed=seed, dtype=dtype)
        self.vocabulary = v = load_vocabulary(path)
        self.words = v.words
        self.languages = v.languages
        index = {w: i for i, w in enumerate(self.words)}
        self.seq_len = len(v.prefix) + 1 + self.length + len(v.suffix)
        self.input_size = len(self.words)
        self.output_size = len(self.languages)
        self.chance = 1.0 / len(self.languages)
        self.class_labels = self.languages
        # Countries of each language, as word ids, padded: (#languages, most countries of one).
        by_language = [[index[c] for c, lang in v.countries.items() if lang == language]
                       for language in self.languages]
        self._country_counts = np.array([len(c) for c in by_language])
        self._countries = np.array([c + [c[0]] * (max(self._country_counts) - len(c)) for c in by_language])
        # Filler phrases as filler-word ids (position in v.filler_words), padded with −1.
        local = {w: i for i, w in enumerate(v.filler_words)}
        longest = max(len(p) for p in v.fillers)
        self._phrases = np.array([[local[w] for w in p] + [-1] * (longest - len(p)) for p in v.fillers])
        # ⌈length / shortest phrase⌉ phrases always hold ``length`` words.
        self._phrases_per_sentence = -(-self.length // min(len(p) for p in v.fillers))
        self._filler_ids = np.array([index[w] for w in v.filler_words])
        self._prefix_ids = np.array([index[w] for w in v.prefix], np.intp)
        self._suffix_ids = np.array([index[w] for w in v.suffix], np.intp)

    def _draw(self, rng, batch_size, heldout):
        B, L, P = batch_size, self.length, len(self._prefix_ids)
        language = rng.integers(len(self.languages), size=B)
        pick = (rng.random(B) * self._country_counts[language]).astype(np.intp)
        country = self._countries[language, pick]
        phrases = rng.integers(len(self._phrases), size=(B, self._phrases_per_sentence))
        strung = self._phrases[phrases].reshape(B, -1)                  # phrases end to end, −1 pads
        valid = strung >= 0
        keep = valid & (np.cumsum(valid, axis=1) <= L)                   # the first L words of each row
        fill = strung[keep].reshape(B, L)
        split_sequences(fill, len(self._filler_ids), heldout, rng)
        ids = np.empty((self.seq_len, B), np.intp)
        ids[:P] = self._prefix_ids[:, None]
        ids[P] = country
        ids[P + 1:P + 1 + L] = self._filler_ids[fill].T
        ids[P + 1 + L:] = self._suffix_ids[:, None]
        return one_hot(ids, self.input_size, self.dtype), language

    def step_labels(self, x, example=0):
        """The word at each step."""
        return [self.words[i] for i in self._tokens(x, example).tolist()]
