"""The teaching tasks: shapes, seeds, held-out streams, and targets that follow from the inputs."""

import numpy as np
import pytest

from rnnviz.engine.tasks import TASKS, make_task
from rnnviz.engine.tasks.base import one_hot, split_sequences
from rnnviz.engine.tasks.sentence import load_vocabulary

LENGTHS = {"recall": 6, "adding": 10, "sine": 12, "text": 15, "sentence": 5}


def tasks(**kwargs):
    return [make_task(name, length=length, **kwargs) for name, length in LENGTHS.items()]


# -- what every task shares --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(LENGTHS))
def test_shapes_dtypes_and_attributes(name, dtype):
    task = make_task(name, length=LENGTHS[name], seed=3, dtype=dtype)
    x, target = task.batch(7)
    T = task.seq_len
    assert x.shape == (T, 7, task.input_size) and x.dtype == dtype
    assert task.loss in ("ce", "mse") and task.readout in ("last", "all")
    if task.loss == "ce":
        assert np.issubdtype(target.dtype, np.integer)
        assert target.shape == ((7,) if task.readout == "last" else (T, 7))
        assert 0 <= target.min() and target.max() < task.output_size
        assert len(task.class_labels) == task.output_size
        assert np.array_equal(x.sum(axis=2), np.ones((T, 7)))     # one-hot
    else:
        assert target.dtype == dtype and task.chance is None
        assert target.shape == ((7, task.output_size) if task.readout == "last" else (T, 7, task.output_size))
    labels = task.step_labels(x, 6)
    assert len(labels) == T and all(isinstance(s, str) and s for s in labels)


@pytest.mark.parametrize("name", list(LENGTHS))
def test_seeded_streams_replay_and_differ(name):
    a, b, c = (make_task(name, length=LENGTHS[name], seed=s) for s in (5, 5, 6))
    xa, ta = a.batch(8)
    a.eval_batch(16)                                   # evaluating must not move the training stream
    xa2, ta2 = a.batch(8)
    xb, tb = b.batch(8)
    xb2, tb2 = b.batch(8)
    np.testing.assert_array_equal(xa, xb)
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(xa2, xb2)
    np.testing.assert_array_equal(ta2, tb2)
    assert not np.array_equal(xa, xa2)                 # the stream moves on
    assert not np.array_equal(xa, c.batch(8)[0])       # another seed, other data
    fresh = make_task(name, length=LENGTHS[name], seed=5)
    xe, te = fresh.eval_batch(8)
    assert not np.array_equal(xe, xb)                  # held-out stream differs from training
    np.testing.assert_array_equal(xe, make_task(name, length=LENGTHS[name], seed=5).eval_batch(8)[0])


def test_accuracy_and_chance():
    recall = make_task("recall", length=3)
    x, target = recall.batch(20)
    perfect = np.eye(recall.output_size)[target] * 5.0
    assert recall.accuracy(perfect, target) == 1.0
    assert recall.accuracy(np.roll(perfect, 1, axis=1), target) == 0.0
    assert recall.chance == 0.25
    assert make_task("recall", length=3, symbols=8).chance == 0.125
    assert make_task("adding", length=4).accuracy(np.zeros((3, 1)), np.zeros((3, 1))) is None
    assert make_task("sine", length=4).chance is None
    sentence = make_task("sentence", length=2)
    assert sentence.chance == pytest.approx(1 / len(sentence.languages))
    text = make_task("text", length=4)
    assert text.chance == pytest.approx(1 / text.input_size)


@pytest.mark.parametrize("call, words", [
    (lambda: make_task("copy", length=5), "recall, adding, sine, text, sentence"),
    (lambda: make_task("recall", length=-1), "length for task 'recall' must be an integer in [0, 10000]"),
    (lambda: make_task("adding", length=1), "[2, 10000]"),
    (lambda: make_task("sine", length=2.5), "integer"),
    (lambda: make_task("text", length=100_000), "length for task 'text'"),
    (lambda: make_task("recall", length=5, colours=3), "symbols, distractors"),
    (lambda: make_task("adding", length=5, noise=0.1), "options none"),
    (lambda: make_task("recall", length=5, symbols=1), "symbols"),
    (lambda: make_task("recall", length=5, seed=-1), "seed"),
    (lambda: make_task("recall", length=5, dtype=np.int32), "float64, float32"),
    (lambda: make_task("recall", length=5).batch(0), "batch_size"),
])
def test_bad_arguments_name_what_is_allowed(call, words):
    with pytest.raises(ValueError) as error:
        call()
    assert words in str(error.value)


def test_task_registry():
    assert set(TASKS) == {"recall", "adding", "sine", "text", "sentence"}
    assert all(TASKS[name].name == name for name in TASKS)


# -- recall --------------------------------------------------------------------------------------------

def test_recall_target_is_the_first_symbol_and_distractors_are_random():
    task = make_task("recall", length=30, seed=1)
    x, target = task.batch(64)
    K, D = task.symbols, task.distractors
    assert task.seq_len == 32 and task.input_size == K + D + 1
    ids = x.argmax(axis=2)
    np.testing.assert_array_equal(ids[0], target)
    assert (ids[-1] == K + D).all()                                 # the query token
    middle = ids[1:-1]
    assert ((middle >= K) & (middle < K + D)).all()
    assert len(np.unique(middle)) == D                              # several distractor symbols, not one
    assert len(np.unique(target)) == K
    labels = task.step_labels(x, 0)
    assert labels[0] == "ABCD"[target[0]] and labels[-1] == "?" and labels[1].startswith("·")


@pytest.mark.parametrize("length, batch", [(0, 3), (1, 1), (7, 5), (40, 32)])
def test_recall_x_is_the_one_hot_of_the_drawn_sequence(length, batch):
    """Recall writes its one-hot x directly; it must be `one_hot` of the sequence the seed draws:
    the symbol, the distractors (split into training or held-out sequences) and the query."""
    task = make_task("recall", length=length, seed=5)
    K, D = task.symbols, task.distractors
    for heldout, draw in ((False, task.batch), (True, task.eval_batch)):
        rng = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(1,)) if heldout else 5)
        first = rng.integers(K, size=batch)
        noise = rng.integers(D, size=(batch, length))
        split_sequences(noise, D, heldout, rng)
        ids = np.concatenate([first[None], noise.T + K, np.full((1, batch), K + D)])
        for _ in range(2):                                  # and the next batch of the stream
            x, target = draw(batch)
            np.testing.assert_array_equal(x, one_hot(ids, task.input_size, np.dtype(np.float64)))
            np.testing.assert_array_equal(target, first)
            first = rng.integers(K, size=batch)
            noise = rng.integers(D, size=(batch, length))
            split_sequences(noise, D, heldout, rng)
            ids = np.concatenate([first[None], noise.T + K, np.full((1, batch), K + D)])


def test_recall_held_out_sequences_are_never_trained_on():
    task = make_task("recall", length=2, seed=0)                   # 4² = 16 distractor sequences
    train = {tuple(s) for s in task.batch(2000)[0].argmax(axis=2)[1:-1].T.tolist()}
    held = {tuple(s) for s in task.eval_batch(2000)[0].argmax(axis=2)[1:-1].T.tolist()}
    assert train and held and not train & held
    assert len(train) + len(held) == 16
    symbols = set(task.batch(500)[1].tolist())
    assert symbols == {0, 1, 2, 3}


# -- adding --------------------------------------------------------------------------------------------

def test_adding_target_is_the_sum_of_the_marked_values():
    task = make_task("adding", length=21, seed=2)
    x, target = task.batch(50)
    values, markers = x[:, :, 0], x[:, :, 1]
    assert ((values >= 0) & (values < 1)).all()
    assert (markers.sum(axis=0) == 2).all()
    assert (markers[:10].sum(axis=0) == 1).all() and (markers[10:].sum(axis=0) == 1).all()
    np.testing.assert_allclose(target[:, 0], (values * markers).sum(axis=0), rtol=1e-15)
    labels = task.step_labels(x, 3)
    marked = [float(s) for s in labels if s != "·"]
    assert len(marked) == 2 and sum(marked) == pytest.approx(target[3, 0], abs=0.011)


# -- sine ----------------------------------------------------------------------------------------------

def test_sine_target_is_the_next_input():
    task = make_task("sine", length=40, seed=0, noise=0.0)
    x, target = task.batch(5)
    np.testing.assert_array_equal(target[:-1], x[1:])
    assert not np.shares_memory(x, target)
    assert np.abs(x).max() <= 1.0
    assert not np.allclose(x[:, 0], x[:, 1])                        # each sequence its own phase/frequency
    noisy = make_task("sine", length=40, seed=0, noise=0.1).batch(5)[0]
    assert 0.05 < np.std(noisy - x) < 0.15


# -- text ----------------------------------------------------------------------------------------------

def test_text_windows_come_from_the_corpus_and_predict_the_next_character():
    task = make_task("text", length=40, seed=0)
    corpus = task.path.read_text(encoding="utf-8")
    x, target = task.batch(6)
    ids = x.argmax(axis=2)
    np.testing.assert_array_equal(target[:-1], ids[1:])
    for b in range(6):
        window = task.decode(ids[:, b]) + task.decode(target[-1:, b])
        assert window in corpus
    split = int(len(corpus) * 0.9)
    xe, te = task.eval_batch(6)
    for b in range(6):                                              # held-out windows: the last 10 %
        assert task.decode(xe.argmax(axis=2)[:, b]) in corpus[split:]
    assert task.step_labels(x, 0) == [{" ": "␣", "\n": "↵"}.get(c, c) for c in task.decode(ids[:, 0])]


class NextCharacterModel:
    """A stub with the models' step/initial_state contract: it predicts the next character id."""

    def __init__(self, vocabulary_size):
        self.shift = np.roll(np.eye(vocabulary_size), 1, axis=1) * 50.0    # logit 50 on id + 1
        self.steps = 0

    def initial_state(self, batch_size):
        return (np.zeros((batch_size, 1)),)

    def step(self, x_t, state):
        assert x_t.ndim == 2 and x_t.shape[0] == 1
        self.steps += 1
        return x_t @ self.shift, (state[0] + 1,)


def test_text_sampling_uses_the_model_step_by_step():
    task = make_task("text", length=10)
    model = NextCharacterModel(task.input_size)
    chars = task.chars
    prime = chars[10] + chars[11]
    out = task.sample(model, 20, temperature=0.5, seed=1, prime=prime)
    assert out == "".join(chars[(12 + i) % len(chars)] for i in range(20))
    assert model.steps == 2 + 19                                    # prime, then all but the last
    free = task.sample(NextCharacterModel(task.input_size), 30, seed=4)
    assert len(free) == 30 and all(c in chars for c in free)
    again = task.sample(NextCharacterModel(task.input_size), 30, seed=4)
    assert free == again
    assert task.sample(model, 0) == ""


def test_text_sampling_rejects_bad_arguments():
    task = make_task("text", length=10)
    model = NextCharacterModel(task.input_size)
    with pytest.raises(ValueError, match="temperature"):
        task.sample(model, 5, temperature=0.0)
    with pytest.raises(ValueError, match="not in the corpus"):
        task.sample(model, 5, prime="§")


def test_text_corpus_errors_name_the_path(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(ValueError, match="nope.txt"):
        make_task("text", length=5, path=missing)
    short = tmp_path / "short.txt"
    short.write_text("too short")
    with pytest.raises(ValueError, match="too short"):
        make_task("text", length=5, path=short)


# -- sentence ------------------------------------------------------------------------------------------

def test_sentence_target_is_the_language_of_the_country_named():
    task = make_task("sentence", length=7, seed=0)
    vocabulary = task.vocabulary
    P = len(vocabulary.prefix)
    assert task.seq_len == P + 1 + 7 + len(vocabulary.suffix)
    assert len(vocabulary.countries) >= 8 and task.output_size == len(task.languages)
    x, target = task.batch(64)
    for b in range(64):
        words = task.step_labels(x, b)
        assert words[:P] == list(vocabulary.prefix)
        assert words[-len(vocabulary.suffix):] == list(vocabulary.suffix)
        assert vocabulary.countries[words[P]] == task.languages[target[b]]
        fillers = words[P + 1:P + 8]
        assert all(w in vocabulary.filler_words for w in fillers)
    assert len(set(target.tolist())) > task.output_size // 2


def test_sentence_fillers_are_phrases_and_held_out_fillers_are_new():
    task = make_task("sentence", length=3, seed=0)
    P = len(task.vocabulary.prefix)
    phrases = [" ".join(p[:3]) for p in task.vocabulary.fillers if len(p) >= 3]
    x, _ = task.batch(300)
    train = [" ".join(task.step_labels(x, b)[P + 1:P + 4]) for b in range(300)]
    assert sum(t in phrases for t in train) > 250                   # mostly unbroken phrase starts
    xe, _ = task.eval_batch(300)
    held = [" ".join(task.step_labels(xe, b)[P + 1:P + 4]) for b in range(300)]
    assert not set(train) & set(held)


def test_sentence_zero_fillers():
    task = make_task("sentence", length=0)
    x, target = task.batch(4)
    assert task.step_labels(x, 0)[:4] == ["I", "grew", "up", "in"]
    assert x.shape[0] == 9


@pytest.mark.parametrize("text, words", [
    ("prefix = [", "not valid TOML"),
    ("prefix = []\nsuffix = []\nfillers = ['a b']\n", "missing countries"),
    ("prefix = []\nsuffix = []\nfillers = ['a b']\n[countries]\nFrance = 'French'\n", "at least 2"),
    ("prefix = []\nsuffix = []\nfillers = ['we left France']\n[countries]\nFrance = 'French'\n"
     "Spain = 'Spanish'\n", "must not name a country"),
    ("prefix = ['grew up']\nsuffix = []\nfillers = ['a']\n[countries]\nFrance = 'French'\n"
     "Spain = 'Spanish'\n", "single words"),
])
def test_a_corrupt_vocabulary_names_the_file_and_the_reason(tmp_path, text, words):
    path = tmp_path / "vocabulary.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        make_task("sentence", length=3, path=path)
    assert str(path) in str(error.value) and words in str(error.value)


def test_a_missing_vocabulary_names_the_file(tmp_path):
    with pytest.raises(ValueError, match="missing.toml"):
        load_vocabulary(tmp_path / "missing.toml")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_hot_sets_exactly_the_named_unit(dtype):
    ids = np.random.default_rng(0).integers(0, 7, size=(5, 3))
    x = one_hot(ids, 7, np.dtype(dtype))
    assert x.shape == (5, 3, 7) and x.dtype == dtype
    np.testing.assert_array_equal(x, np.eye(7, dtype=dtype)[ids])
    np.testing.assert_array_equal(x.argmax(axis=-1), ids)


@pytest.mark.parametrize("ids", [[[3, 0]], [[0, -1]]])
def test_one_hot_refuses_ids_outside_the_alphabet(ids):
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        one_hot(np.array(ids), 3, np.dtype(np.float64))
