"""The compiled kernels against numpy: tanh and σ to a few ulp, and whole passes against the plain
numpy path (every array of the trace, every architecture, readout and loss)."""

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest

from rnnviz.engine import ACTIVATIONS, build_model, compiled
from rnnviz.engine.lstm import cell_step, cell_step_backward

pytestmark = pytest.mark.skipif(not compiled.COMPILED, reason="numba's JIT is disabled")


def ulps(y, reference):
    """|y − reference| in units of the last place of the reference."""
    return np.abs(y - reference) / np.spacing(np.abs(reference))


def tanh(a):
    """tanh as the kernels compute it."""
    a = np.array(a, dtype=np.float64, ndmin=1)
    row = a.reshape(1, -1).copy()
    h = np.empty_like(row)
    b = np.full(row.shape[1], -0.0)          # a + (−0) = a for every a, −0 included
    compiled._activate(row, b, compiled.ACTIVATIONS["tanh"], h, False, h)
    return h.reshape(a.shape)


def lstm_gates(a):
    """[σ(a) | σ(a) | tanh(a) | σ(a)] through the LSTM cell kernel, one row (b = 0, c_{t-1} = 0)."""
    H = a.size
    row = np.tile(np.asarray(a, np.float64), 4)[None, :]
    gate, c, tanh_c, h = np.empty_like(row), np.empty((1, H)), np.empty((1, H)), np.empty((1, H))
    compiled.lstm_cell(row, np.zeros(4 * H), np.zeros((1, H)), gate, c, tanh_c, h, False, row, False, row,
                       np.zeros(1, np.int64))
    return gate[0].reshape(4, H)


def test_the_compiled_kernels_are_in_use():
    assert build_model("rnn", 2, 3, 2).compiled and build_model("lstm", 2, 3, 2).compiled
    assert not build_model("lstm", 2, 3, 2, dtype=np.float32).compiled   # float32: plain numpy


def test_tanh_within_two_ulp_of_numpy_over_the_whole_range():
    rng = np.random.default_rng(0)
    branch_points = [c + k * np.spacing(c) for c in (0.625, 19.06, 20.0) for k in range(-300, 301)]
    x = np.concatenate([
        np.linspace(-25.0, 25.0, 1_000_001),
        rng.uniform(-2.0, 2.0, 500_000),
        np.logspace(-300, 1.3, 50_000),
        np.array(branch_points),
    ])
    x = np.concatenate([x, -x])
    y = tanh(x)
    reference = np.tanh(x)
    nonzero = reference != 0
    assert ulps(y[nonzero], reference[nonzero]).max() <= 2.0
    assert np.array_equal(y[~nonzero], reference[~nonzero])


@pytest.mark.parametrize("value, expected", [
    (0.0, 0.0), (1e-300, 1e-300), (5e-324, 5e-324), (19.5, 1.0), (1e300, 1.0), (np.inf, 1.0),
])
def test_tanh_special_values(value, expected):
    for sign in (1.0, -1.0):
        out = tanh(sign * value)
        assert out[0] == sign * expected
        assert np.signbit(out[0]) == (sign < 0)        # −0 stays −0, the sign survives saturation


def test_every_kernel_is_cached_on_disk_and_the_passes_release_the_gil():
    """Cached: a start loads machine code instead of compiling (seconds) at every launch. nogil:
    the window's thread runs while a pass computes."""
    from numba.core.registry import CPUDispatcher
    kernels = {name: k for name, k in vars(compiled).items() if isinstance(k, CPUDispatcher)}
    assert {"rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward"} <= kernels.keys()
    for name, kernel in kernels.items():
        assert type(kernel._cache).__name__ == "FunctionCache", name
    for name in ("rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward"):
        assert kernels[name].targetoptions.get("nogil"), name


def test_the_products_run_in_numpys_blas():
    assert compiled.DGEMM.startswith(("scipy_cblas_dgemm64_", "cblas_dgemm64_", "cblas_dgemm_64")), compiled.DGEMM


@pytest.mark.parametrize("layout", ["strided view", "float32"])
def test_a_kernel_refuses_an_array_blas_would_misread(layout):
    """dgemm reads its operands as rows of contiguous float64: a strided view of W_H (every other
    column of a wider matrix) would be multiplied as if it were the first rows of that matrix, and
    silently give wrong products. The kernels refuse such arrays when the call is typed."""
    rng = np.random.default_rng(2)
    T, B, H = 4, 3, 5
    wide = rng.standard_normal((H, 2 * H))
    W_H = wide[:, ::2] if layout == "strided view" else wide[:, :H].astype(np.float32)
    x, W_I = rng.standard_normal((T, B, H)), np.eye(H)
    pre, hidden = np.empty((T, B, H)), np.zeros((T + 1, B, H))
    hidden[0] = rng.standard_normal((B, H))
    with pytest.raises(numba.core.errors.TypingError, match="C-contiguous float64 arrays only"):
        compiled.rnn_forward(x, W_I, pre, hidden, W_H, np.zeros(H), W_H, 0, compiled.ACTIVATIONS["tanh"], 0,
                             np.empty(T))
    # the models hand the kernels contiguous copies: a strided W_H still trains as the numpy path does
    model = build_model("rnn", 2, H, 2, seed=1)
    model.params["W_H"] = np.asfortranarray(model.params["W_H"])       # column by column in memory
    x, target = rng.standard_normal((T, B, 2)), rng.integers(0, 2, size=B)
    fast = model.forward_backward(x, target)
    model.compiled = False
    plain = model.forward_backward(x, target)
    np.testing.assert_allclose(fast.hidden, plain.hidden, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fast.grads["W_H"], plain.grads["W_H"], rtol=1e-11, atol=1e-14)


def test_without_a_64_bit_cblas_the_models_take_the_numpy_path():
    """No dgemm the kernels can call (e.g. a numpy linked to Accelerate or an LP64 BLAS): nothing is
    compiled, and every model runs the plain numpy path (tested against the compiled one below)."""
    script = textwrap.dedent("""
        import threadpoolctl
        threadpoolctl.threadpool_info = lambda: []          # as if numpy's BLAS had no such dgemm
        import numpy as np
        from rnnviz.engine import build_model, compiled
        assert not compiled.COMPILED and compiled.DGEMM.startswith("no BLAS"), compiled.DGEMM
        for arch in ("rnn", "skip", "lstm"):
            model = build_model(arch, 3, 4, 2)
            assert not model.compiled
            trace = model.forward_backward(np.ones((5, 2, 3)), np.array([0, 1]))
            assert np.isfinite(trace.loss) and trace.term_norms["W_H"].shape == (5,)
        print("numpy path")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "numpy path"


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_rnn_forward_completes_a_then_applies_f_and_backward_multiplies_by_its_derivative(activation):
    rng = np.random.default_rng(2)
    T, B, H = 3, 4, 6
    I = 2
    x, W_I = rng.standard_normal((T, B, I)) * 3, rng.standard_normal((I, H))
    W_H, b = rng.standard_normal((H, H)), rng.standard_normal(H)
    x_part = (x.reshape(T * B, I) @ W_I).reshape(T, B, H)
    pre, hidden = np.empty((T, B, H)), np.zeros((T + 1, B, H))
    squares = np.empty(T)
    assert compiled.rnn_forward(x, W_I, pre, hidden, W_H, b, W_H, 0, compiled.ACTIVATIONS[activation], 0,
                                squares) == 0
    np.testing.assert_allclose(squares, np.einsum("tbh,tbh->t", hidden[1:], hidden[1:]), rtol=1e-14)  # Σ h_t²
    f = ACTIVATIONS[activation]
    for t in range(1, T + 1):
        a = x_part[t - 1] + hidden[t - 1] @ W_H + b
        np.testing.assert_allclose(pre[t - 1], a, rtol=1e-14, atol=1e-14)           # a_t completed in place
        np.testing.assert_allclose(hidden[t], f.f(pre[t - 1]), rtol=4.5e-16, atol=0)   # h_t = f(a_t), ≤ 2 ulp
        dh, delta = rng.standard_normal((B, H)), np.empty((B, H))
        square = compiled._through_f(dh, hidden[t], compiled.ACTIVATIONS[activation], delta,
                                     False, delta, False, dh)                 # (nothing kept)
        fprime = f.derivative(pre[t - 1], hidden[t])
        np.testing.assert_allclose(delta, dh * fprime, rtol=0, atol=2.3e-16 * np.abs(dh).max())  # δ_t = ∂L/∂h_t ⊙ f'
        assert square == pytest.approx(float(np.vdot(dh, dh)), rel=1e-14)                      # ‖∂L/∂h_t‖²


def test_sigmoid_within_four_ulp_of_numpy_over_the_whole_range():
    x = np.concatenate([np.linspace(-40.0, 40.0, 200_001), np.linspace(-708.0, 708.0, 20_001),
                        np.logspace(-300, 0, 1_000)])
    x = np.concatenate([x, -x])
    gates = lstm_gates(x)
    reference = 1.0 / (1.0 + np.exp(-x))
    for block in (0, 1, 3):                               # i, f, o
        assert ulps(gates[block], reference).max() <= 4.0
    assert ulps(gates[2][x != 0], np.tanh(x[x != 0])).max() <= 2.0   # g


def test_sigmoid_special_values():
    i = lstm_gates(np.array([np.inf, -np.inf, np.nan, 0.0, 800.0, -800.0]))[0]
    assert i[0] == 1.0 and 0.0 < i[1] < 1e-307 and np.isnan(i[2]) and i[3] == 0.5
    assert i[4] == 1.0 and i[5] == i[1]                   # beyond |x| = 708: 1 and σ(−708)


def compiled_cell_step(a, carry, *rest):
    """``lstm.cell_step`` through the compiled cell, which finds h_{t-1} W_H already added to a."""
    np.add(a, carry, out=a)
    compiled.lstm_cell(a, *rest, False, a, False, a, np.zeros(a.shape[0], np.int64))


def compiled_cell_step_backward(dh, dc_next, gate, c_prev, tanh_c, dc, delta):
    """``lstm.cell_step_backward`` through the compiled cell (keeping nothing)."""
    compiled.lstm_cell_backward(dh, dc_next, gate, c_prev, tanh_c, dc, delta, False, delta, dc, False, dh)


def test_lstm_cell_kernels_match_the_numpy_steps():
    rng = np.random.default_rng(5)
    B, H = 3, 7
    a, carry, b = rng.standard_normal((B, 4 * H)) * 2, rng.standard_normal((B, 4 * H)), rng.standard_normal(4 * H)
    c_prev, dh, dc_next = rng.standard_normal((B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    outs = {}
    for name, forward, backward in (("numpy", cell_step, cell_step_backward),
                                    ("compiled", compiled_cell_step, compiled_cell_step_backward)):
        a_t, gate, c, tanh_c, h = a.copy(), np.empty((B, 4 * H)), *np.empty((3, B, H))
        forward(a_t, carry, b, c_prev, gate, c, tanh_c, h)
        handed, dc, delta = dc_next.copy(), np.empty((B, H)), np.empty((B, 4 * H))
        backward(dh, handed, gate, c_prev, tanh_c, dc, delta)
        outs[name] = (a_t, gate, c, tanh_c, h, handed, dc, delta)
    for numpy_array, compiled_array in zip(*outs.values()):
        np.testing.assert_allclose(compiled_array, numpy_array, rtol=1e-14, atol=1e-15)


def _trace_arrays(trace):
    arrays = {f.name: getattr(trace, f.name) for f in dataclasses.fields(trace)
              if isinstance(getattr(trace, f.name), np.ndarray)}
    arrays.update({f"grads[{k}]": v for k, v in trace.grads.items()})
    arrays.update({f"term_norms[{k}]": v for k, v in trace.term_norms.items()})
    arrays["dh_norms"] = trace.dh_norms
    return arrays


@pytest.mark.parametrize("arch, activation", [("rnn", "tanh"), ("skip", "tanh"), ("lstm", "tanh"),
                                              ("rnn", "relu")])
@pytest.mark.parametrize("loss, readout", [("ce", "last"), ("ce", "all"), ("mse", "all")])
def test_compiled_and_numpy_passes_give_the_same_trace(arch, activation, loss, readout):
    T, B, I, H, O = 30, 5, 3, 9, 4
    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, B, I)) * 2
    shape = (B,) if readout == "last" else (T, B)
    target = rng.integers(0, O, size=shape) if loss == "ce" else rng.standard_normal(shape + (O,))
    model = build_model(arch, I, H, O, activation=activation, init_scale=1.5, seed=3)
    assert model.compiled
    fast = model.forward_backward(x, target, loss=loss, readout=readout)
    model.compiled = False
    plain = model.forward_backward(x, target, loss=loss, readout=readout)
    fast_arrays, plain_arrays = _trace_arrays(fast), _trace_arrays(plain)
    assert fast_arrays.keys() == plain_arrays.keys()                 # the same quantities on both paths
    assert fast.loss == pytest.approx(plain.loss, rel=1e-13)
    for name, expected in plain_arrays.items():
        scale = np.abs(expected).max()
        np.testing.assert_allclose(fast_arrays[name], expected, rtol=1e-11, atol=1e-12 * scale, err_msg=name)
    y_fast, h_fast = build_model(arch, I, H, O, activation=activation, init_scale=1.5, seed=3).forward(x, readout)
    y_plain, h_plain = model.forward(x, readout)
    np.testing.assert_allclose(h_fast, h_plain, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y_fast, y_plain, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("readout", ["last", "all"])
@pytest.mark.parametrize("path", ["compiled", "numpy"])
def test_a_training_pass_keeps_everything_but_the_steps_to_the_last_bit(arch, readout, path):
    """keep_steps=False (what Session.step runs): pre, da, dh and dcell are left out, on both
    paths, and every other array of the trace is bit-identical to the full pass's."""
    T, B, I, H, O = 12, 5, 3, 9, 4
    rng = np.random.default_rng(11)
    x = rng.standard_normal((T, B, I))
    target = rng.integers(0, O, size=(B,) if readout == "last" else (T, B))
    model = build_model(arch, I, H, O, init_scale=1.5, seed=4)
    model.compiled = path == "compiled" and compiled.COMPILED
    lean = _trace_arrays(model.forward_backward(x, target, readout=readout, keep_steps=False))
    full = _trace_arrays(model.forward_backward(x, target, readout=readout))
    left_out = {"pre", "da", "dh", "dcell"} & full.keys()
    assert left_out == ({"pre", "da", "dh", "dcell"} if arch == "lstm" else {"pre", "da", "dh"})
    assert lean.keys() == full.keys() - left_out
    for name, array in lean.items():
        assert np.array_equal(array, full[name]), name
    trace = model.forward_backward(x, target, readout=readout, keep_steps=False)
    assert np.array_equal(trace.contribution_norms("W_H"), full["term_norms[W_H]"])
    with pytest.raises(ValueError, match="keep_steps"):
        trace.contribution_norms("W_I")


@pytest.mark.parametrize("offset", [0, 8, 24, 56, 3])
def test_keep_copies_every_element_whatever_the_alignment_and_size(offset):
    """``_keep`` writes whole 64-byte lines past the cache and the elements around them plainly: every
    element arrives, for destinations starting anywhere in a line (or not even 8-byte aligned,
    offset 3) and sizes that fill no line, part of one, or several and a tail."""
    rng = np.random.default_rng(5)
    raw = np.zeros(8 * 64 + 128, np.uint8)
    start = (-raw.ctypes.data % 64) + offset                     # a line boundary, then offset bytes on
    for n in [0, 1, 7, 8, 9, 15, 16, 17, 45, 64]:
        destination = raw[start:start + 8 * n].view(np.float64).reshape(1, n)
        destination[:] = np.nan
        source = rng.standard_normal((1, n))
        compiled._keep(source, destination)
        assert np.array_equal(destination, source), (offset, n)
        assert not raw[:start].any() and not raw[start + 8 * n:].any(), (offset, n)   # nothing beyond it


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
@pytest.mark.parametrize("T", [1, 2, 3])
@pytest.mark.parametrize("readout", ["last", "all"])
def test_short_sequences_keep_the_same_steps_as_the_numpy_path(arch, T, readout):
    """The kept a_t, δ_t, ∂L/∂h_t (and ∂L/∂c_t) go through one- and two-row buffers on the compiled
    path, whose turns start differently for T = 1, 2, 3: each matches the numpy path's arrays."""
    B, I, H, O = 4, 3, 9, 4
    rng = np.random.default_rng(T)
    x = rng.standard_normal((T, B, I))
    target = rng.integers(0, O, size=(B,) if readout == "last" else (T, B))
    model = build_model(arch, I, H, O, init_scale=1.5, seed=2)
    fast = _trace_arrays(model.forward_backward(x, target, readout=readout))
    model.compiled = False
    plain = _trace_arrays(model.forward_backward(x, target, readout=readout))
    assert {"pre", "da", "dh"} <= fast.keys() == plain.keys()
    for name, expected in plain.items():
        np.testing.assert_allclose(fast[name], expected, rtol=1e-11, atol=1e-13, err_msg=name)


def test_without_a_cache_directory_the_kernels_compile_instead_of_failing():
    """No writable __pycache__ and no user cache directory (simulated by allowing numba only a
    locator that never applies): import works, the kernels run, compiled at this start."""
    script = textwrap.dedent("""
        import numpy as np
        from rnnviz.engine import build_model, compiled
        assert compiled.COMPILED and not compiled.CACHED
        trace = build_model("rnn", 3, 4, 2).forward_backward(np.ones((5, 2, 3)), np.array([0, 1]))
        assert np.isfinite(trace.loss)
        print("compiled, not cached")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1],
                          env={**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "ZipCacheLocator"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "compiled, not cached"


@pytest.fixture
def fresh_vector_width_probe():
    """The vector-width probe asked again, before and after the test (its answer is kept per process)."""
    compiled._vector_width_accepted.cache_clear()
    yield
    compiled._vector_width_accepted.cache_clear()


def _fresh_activate():
    """The activation kernel compiled now (not from the disk cache), so its codegen runs."""
    return numba.njit(compiled._activate.py_func, fastmath=compiled._FASTMATH, error_model="numpy")


def test_kernels_carry_the_512_bit_hint_where_llvm_takes_it(fresh_vector_width_probe):
    kernel = _fresh_activate()
    row = np.linspace(-3.0, 3.0, 64).reshape(1, -1)
    h = np.empty_like(row)
    kernel(row, np.full(64, -0.0), compiled.ACTIVATIONS["tanh"], h, False, h)
    assert compiled._vector_width_accepted()
    assert any("prefer-vector-width" in ir for ir in kernel.inspect_llvm().values())


def test_kernels_still_compile_and_agree_with_numpy_when_llvmlite_rejects_the_hint(
        fresh_vector_width_probe, monkeypatch):
    """A later llvmlite that checks function attributes when it prints a module would refuse the
    string attribute: the kernels then compile without it instead of failing at their first call."""
    from llvmlite import ir

    known_only = ir.FunctionAttributes._to_list

    def refuse_unknown(self, ret_type):
        unknown = [name for name in self if name not in self._known]
        if unknown:
            raise ValueError(f"unknown function attribute {unknown[0]!r}")
        return known_only(self, ret_type)

    monkeypatch.setattr(ir.FunctionAttributes, "_to_list", refuse_unknown)
    kernel = _fresh_activate()
    x = np.linspace(-25.0, 25.0, 10_001)
    row = x.reshape(1, -1).copy()
    h = np.empty_like(row)
    kernel(row, np.full(x.size, -0.0), compiled.ACTIVATIONS["tanh"], h, False, h)
    assert not compiled._vector_width_accepted()
    assert not any("prefer-vector-width" in ir for ir in kernel.inspect_llvm().values())
    assert ulps(h[0], np.tanh(x)).max() <= 2


def _at_line_offset(shape, offset):
    """A float64 array of NaNs that starts ``offset`` bytes past a 64-byte line boundary."""
    n = int(np.prod(shape))
    raw = np.empty(8 * n + 128, np.uint8)
    start = -raw.ctypes.data % 64 + offset
    array = raw[start:start + 8 * n].view(np.float64).reshape(shape)
    array[...] = np.nan
    return array


def _rnn_kernels(x, weights, activation, only_last, offset):
    """Everything rnn_forward and rnn_backward write, with the kept arrays (a_t, δ_t, ∂L/∂h_t)
    starting ``offset`` bytes past a line boundary, or (offset None) with nothing kept."""
    T, B, _ = x.shape
    W_I, W_H, b, dh_T = weights
    H = W_H.shape[0]
    kept = offset is not None
    pre = _at_line_offset((T if kept else 1, B, H), offset or 0)
    hidden, squares = np.zeros((T + 1, B, H)), np.empty(T)
    assert compiled.rnn_forward(x, W_I, pre, hidden, W_H, b, W_H, 0, activation, 0, squares) == 0
    dh = _at_line_offset((2 if only_last and not kept else T, B, H), offset or 0)
    dh[-1] = dh_T
    if not only_last:
        dh[:] = dh_T
    da = _at_line_offset((T if kept else 1, B, H), offset or 0)
    grads = np.empty((W_I.shape[0], H)), np.empty((H, H)), np.empty((H, H)), np.empty(H)
    term_squares, dh_squares = np.empty(T), np.empty(T)
    W_HT = np.ascontiguousarray(W_H.T)
    assert compiled.rnn_backward(dh, da, hidden, activation, x, W_HT, W_HT, 0, only_last, 0, *grads,
                                 np.empty((H, H)), term_squares, dh_squares) == 0
    out = {"hidden": hidden, "squares": squares, "term_squares": term_squares, "dh_squares": dh_squares,
           **{f"grad{i}": g for i, g in enumerate(grads) if i != 2}}
    return (out | {"pre": pre, "da": da, "dh": dh}) if kept else out


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("only_last", [True, False])
def test_rnn_kernels_keep_rows_as_they_go_or_after_each_step_alike(activation, only_last):
    """Kept a_t, δ_t and ∂L/∂h_t go past the cache row by row as the elementwise work goes where
    each kept row is whole 64-byte lines (offset 0, H a multiple of 8), and with ``_keep`` after the
    step otherwise (offset 8): both give the same arrays to the bit, and a pass that keeps nothing
    the same results."""
    rng = np.random.default_rng(7)
    T, B, I, H = 4, 3, 2, 16
    x = rng.standard_normal((T, B, I))
    weights = (rng.standard_normal((I, H)), rng.standard_normal((H, H)) / 3, rng.standard_normal(H),
               rng.standard_normal((B, H)))
    act = compiled.ACTIVATIONS[activation]
    by_row, after, nothing = (_rnn_kernels(x, weights, act, only_last, offset) for offset in (0, 8, None))
    assert by_row.keys() == after.keys() and not np.isnan(by_row["dh"][:-1]).any()
    for name in by_row:
        assert np.array_equal(by_row[name], after[name]), name
    for name in nothing:
        assert np.array_equal(by_row[name], nothing[name]), name


def _lstm_kernels(x, weights, offset, pick=True):
    """As `_rnn_kernels` for lstm_forward and lstm_backward (y_T alone scored): a_t, δ_t, ∂L/∂c_t
    and ∂L/∂h_t kept ``offset`` bytes past a line boundary, or nothing kept (offset None)."""
    T, B, _ = x.shape
    W_I, W_H, b, dh_T = weights
    H = W_H.shape[0]
    kept = offset is not None
    steps = T if kept else 1
    pre, gates = _at_line_offset((steps, B, 4 * H), offset or 0), np.empty((T, B, 4 * H))
    hidden, cell, tanh_c, squares = np.zeros((T + 1, B, H)), np.zeros((T + 1, B, H)), np.empty((T, B, H)), np.empty(T)
    columns = np.empty((T if pick else 0, B), np.int64)
    assert compiled.lstm_forward(x, W_I, W_H, b, pre, gates, hidden, cell, tanh_c, 0, squares, columns) == 0
    dh = _at_line_offset((T if kept else 2, B, H), offset or 0)
    dh[-1] = dh_T
    da, dcell = _at_line_offset((steps, B, 4 * H), offset or 0), _at_line_offset((steps, B, H), offset or 0)
    grads = np.empty((W_I.shape[0], 4 * H)), np.empty((H, 4 * H)), np.empty(4 * H)
    term_squares, dh_squares = np.empty(T), np.empty(T)
    assert compiled.lstm_backward(dh, gates, cell, tanh_c, hidden, x, np.ascontiguousarray(W_H.T), True, 0, da,
                                  dcell, np.empty((B, H)), *grads, np.empty((H, 4 * H)), term_squares,
                                  dh_squares, columns) == 0
    out = {"gates": gates, "hidden": hidden, "cell": cell, "tanh_c": tanh_c, "squares": squares,
           "term_squares": term_squares, "dh_squares": dh_squares, **{f"grad{i}": g for i, g in enumerate(grads)}}
    return (out | {"pre": pre, "da": da, "dcell": dcell, "dh": dh}) if kept else out


def test_lstm_kernels_keep_rows_as_they_go_or_after_each_step_alike():
    """As for the RNN: the LSTM's kept a_t, δ_t, ∂L/∂c_t and ∂L/∂h_t, row by row (offset 0) or after
    each step (offset 8), are the same arrays, and the rest is what a pass that keeps nothing gives."""
    rng = np.random.default_rng(8)
    T, B, I, H = 4, 3, 2, 8
    x = rng.standard_normal((T, B, I))
    weights = (rng.standard_normal((I, 4 * H)), rng.standard_normal((H, 4 * H)) / 3, rng.standard_normal(4 * H),
               rng.standard_normal((B, H)))
    by_row, after, nothing = (_lstm_kernels(x, weights, offset) for offset in (0, 8, None))
    assert by_row.keys() == after.keys() and not np.isnan(by_row["dh"]).any()
    for name in by_row:
        assert np.array_equal(by_row[name], after[name]), name
    for name in nothing:
        assert np.array_equal(by_row[name], nothing[name]), name


@pytest.mark.parametrize("case", ["one-hot", "a step not one-hot", "a zero weight", "an infinite weight",
                                  "an infinite gradient", "a NaN gradient"])
def test_lstm_kernels_read_one_hot_inputs_off_rows_to_the_last_bit(case):
    """x_t W_I and x_t^T δ_t of one-hot x_t taken from W_I's and δ_t's rows give every array the
    products give (columns (0, B)), bit for bit; and where they would not (a zero or non-finite
    weight, a δ_t with inf or NaN, a step whose x_t is not one-hot) the kernels take the products."""
    rng = np.random.default_rng(9)
    T, B, I, H = 7, 5, 6, 8
    x = np.zeros((T, B, I))
    x[np.arange(T)[:, None], np.arange(B), rng.integers(0, I, (T, B))] = 1.0
    x[2, 1][x[2, 1] == 0.0] = -0.0                    # −0 is a zero too: still one-hot
    scale = 10.0 ** rng.uniform(-3, 3, (I, 4 * H))    # sums whose order shows in their rounding
    W_I, W_H = rng.standard_normal((I, 4 * H)) * scale, rng.standard_normal((H, 4 * H)) / 3
    b, dh_T = rng.standard_normal(4 * H), rng.standard_normal((B, H)) * 1e3
    if case == "a step not one-hot":
        x[3, 2] = 0.0
        x[3, 2, :2] = 1.0, 0.5
    elif case == "a zero weight":
        W_I[1, 3] = 0.0
    elif case == "an infinite weight":
        W_I[1, 3] = np.inf
    elif case in ("an infinite gradient", "a NaN gradient"):
        dh_T[2, 4] = np.inf if case == "an infinite gradient" else np.nan
    picked, products = (_lstm_kernels(x, (W_I, W_H, b, dh_T), None, pick) for pick in (True, False))
    for name in products:
        assert np.array_equal(picked[name], products[name], equal_nan=True), name
    if case in ("an infinite weight", "an infinite gradient", "a NaN gradient"):
        assert np.isnan(products["grad0"]).any()      # the product's NaN in every row of a column


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_compiled_optimiser_updates_match_the_numpy_operations_to_the_last_bit(name):
    """The compiled updates do the numpy path's operations in its order, with no FMA: equal arrays,
    not merely close ones, over steps with gradients from 1e-9 to 1e3 (and a live change of lr)."""
    from rnnviz.engine.optimizers import make_optimizer
    rng = np.random.default_rng(5)
    params = {"W": rng.standard_normal((9, 128)), "b": rng.standard_normal(128), "W_O": rng.standard_normal((32, 4))}
    plain_params = {k: w.copy() for k, w in params.items()}
    fast, plain = make_optimizer(name, 0.003, 0.9), make_optimizer(name, 0.003, 0.9)
    assert fast.compiled
    plain.compiled = False
    for step in range(40):
        if step == 20:
            fast.lr = plain.lr = 0.05
        grads = {k: rng.standard_normal(w.shape) * 10.0 ** rng.uniform(-9, 3, w.shape) for k, w in params.items()}
        fast.step(params, {k: g.copy() for k, g in grads.items()})
        plain.step(plain_params, grads)
        for k in params:
            assert np.array_equal(params[k], plain_params[k]), (step, k)
            assert np.array_equal(fast._state[k][0], plain._state[k][0]), (step, k)


def test_an_update_the_compiled_loop_cannot_take_runs_the_numpy_operations():
    """float32, or a Fortran-ordered weight: the numpy path, same numbers as with compiled = False."""
    from rnnviz.engine.optimizers import Adam
    rng = np.random.default_rng(6)
    for theta in (rng.standard_normal((5, 3)).astype(np.float32), np.asfortranarray(rng.standard_normal((5, 3)))):
        g = np.ones_like(theta)
        a, b = {"w": theta.copy(order="K")}, {"w": theta.copy(order="K")}
        fast, plain = Adam(0.01), Adam(0.01)
        plain.compiled = False
        fast.step(a, {"w": g})
        plain.step(b, {"w": g})
        assert a["w"].dtype == theta.dtype and np.array_equal(a["w"], b["w"])
