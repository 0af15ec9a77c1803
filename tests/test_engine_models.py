"""build_model's contract: parameters, inits, argument checks, dtypes, seeds, traces, stepping."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rnnviz.engine import ACTIVATIONS, DEFAULT_SKIP, Trace, build_model, loss_and_grad

T, B, I, H, O = 6, 3, 3, 5, 4


def batch(arch_seed=0, loss="ce", readout="last", T_=T):
    rng = np.random.default_rng(arch_seed)
    x = rng.normal(size=(T_, B, I))
    shape = (B,) if readout == "last" else (T_, B)
    target = rng.integers(0, O, size=shape) if loss == "ce" else rng.normal(size=shape + (O,))
    return x, target


# -- parameters and init ------------------------------------------------------------------------

@pytest.mark.parametrize("arch, shapes", [
    ("rnn", {"W_I": (I, H), "W_H": (H, H), "b": (H,), "W_O": (H, O), "b_O": (O,)}),
    ("skip", {"W_I": (I, H), "W_H": (H, H), "W_S": (H, H), "b": (H,), "W_O": (H, O), "b_O": (O,)}),
    ("lstm", {"W_I": (I, 4 * H), "W_H": (H, 4 * H), "b": (4 * H,), "W_O": (H, O), "b_O": (O,)}),
])
def test_parameter_names_and_shapes(arch, shapes):
    model = build_model(arch, I, H, O)
    assert {name: p.shape for name, p in model.params.items()} == shapes
    assert all(p.dtype == np.float64 and p.flags.c_contiguous for p in model.params.values())
    assert (model.arch, model.input_size, model.hidden_size, model.output_size) == (arch, I, H, O)


def test_skip_default_and_ignored_elsewhere():
    assert build_model("skip", I, H, O).skip == DEFAULT_SKIP == 4
    assert build_model("skip", I, H, O, skip=7).skip == 7
    assert build_model("rnn", I, H, O, skip=7).skip is None
    assert build_model("lstm", I, H, O, skip=7).skip is None


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("scale", [1.0, 0.5, 2.0])
def test_identity_init_is_scaled_identity(arch, scale):
    model = build_model(arch, I, H, O, init="identity", init_scale=scale)
    W_H = model.params["W_H"]
    for block in np.split(W_H, W_H.shape[1] // H, axis=1):
        assert np.array_equal(block, scale * np.eye(H))
    if arch == "skip":
        assert np.array_equal(model.params["W_S"], scale * np.eye(H))


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_orthogonal_init_has_unit_singular_values_times_scale(arch):
    model = build_model(arch, I, 16, O, init="orthogonal", init_scale=0.7)
    W = model.recurrent_matrix()
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 0.7, rtol=1e-12)


def test_xavier_and_normal_have_variance_one_over_h_and_radius_near_one():
    Hbig = 200
    xavier = build_model("rnn", I, Hbig, O, init="xavier").params["W_H"]
    normal = build_model("rnn", I, Hbig, O, init="normal").params["W_H"]
    assert np.abs(xavier).max() <= np.sqrt(3 / Hbig)
    for W in (xavier, normal):
        assert W.var() == pytest.approx(1 / Hbig, rel=0.05)
        with threadpool_limits(1):  # many BLAS threads on a busy 2-core box take seconds here
            radius = np.abs(np.linalg.eigvals(W)).max()
        assert radius == pytest.approx(1.0, abs=0.15)
    assert np.abs(normal).max() > np.sqrt(3 / Hbig)  # Gaussian tails, not uniform


def test_lstm_forget_bias_and_recurrent_matrix_view():
    model = build_model("lstm", I, H, O, forget_bias=3.0)
    b = model.params["b"]
    assert np.array_equal(b[H:2 * H], np.full(H, 3.0))
    assert not b[:H].any() and not b[2 * H:].any()
    W_g = model.recurrent_matrix()
    assert np.shares_memory(W_g, model.params["W_H"])
    assert np.array_equal(W_g, model.params["W_H"][:, 2 * H:3 * H])
    rnn = build_model("rnn", I, H, O)
    assert rnn.recurrent_matrix() is rnn.params["W_H"]


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_same_seed_same_parameters_and_trace(arch):
    a, b = build_model(arch, I, H, O, seed=3), build_model(arch, I, H, O, seed=3)
    c = build_model(arch, I, H, O, seed=4)
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name])
    assert any(not np.array_equal(a.params[n], c.params[n]) for n in a.params)
    x, target = batch()
    ta, tb = a.forward_backward(x, target), b.forward_backward(x, target)
    assert ta.loss == tb.loss
    assert all(np.array_equal(ta.grads[n], tb.grads[n]) for n in ta.grads)


# -- argument checks ------------------------------------------------------------------------------

@pytest.mark.parametrize("argument, kwargs", [
    ("arch", dict(arch="gru")),
    ("input_size", dict(input_size=0)),
    ("hidden_size", dict(hidden_size=-1)),
    ("output_size", dict(output_size=2.5)),
    ("hidden_size", dict(hidden_size=True)),
    ("activation", dict(activation="softplus")),
    ("init", dict(init="he")),
    ("init_scale", dict(init_scale=-1.0)),
    ("init_scale", dict(init_scale=float("nan"))),
    ("skip", dict(arch="skip", skip=1)),
    ("skip", dict(arch="skip", skip=2.0)),
    ("forget_bias", dict(arch="lstm", forget_bias=float("inf"))),
    ("seed", dict(seed=-1)),
    ("dtype", dict(dtype=np.float16)),
    ("dtype", dict(dtype="int64")),
    ("dtype", dict(dtype="nonsense")),
])
def test_invalid_arguments_raise_value_error_naming_them(argument, kwargs):
    args = dict(arch="rnn", input_size=I, hidden_size=H, output_size=O) | kwargs
    with pytest.raises(ValueError, match=argument):
        build_model(args.pop("arch"), args.pop("input_size"), args.pop("hidden_size"),
                    args.pop("output_size"), **args)


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_invalid_pass_arguments_raise_value_error(arch):
    model = build_model(arch, I, H, O)
    x, target = batch()
    with pytest.raises(ValueError, match="loss"):
        model.forward_backward(x, target, loss="nll")
    with pytest.raises(ValueError, match="readout"):
        model.forward_backward(x, target, readout="first")
    with pytest.raises(ValueError, match="x must have shape"):
        model.forward_backward(x[..., :2], target)
    with pytest.raises(ValueError, match="x must have shape"):
        model.forward_backward(x[0], target)
    with pytest.raises(ValueError, match="target"):
        model.forward_backward(x, target[:2])
    with pytest.raises(ValueError, match="target"):
        model.forward_backward(x, target, readout="all")
    with pytest.raises(ValueError, match="integer"):
        model.forward_backward(x, target.astype(float))
    with pytest.raises(ValueError, match="0..3"):
        model.forward_backward(x, target + O)
    with pytest.raises(ValueError, match="readout"):
        model.forward(x, readout="middle")
    with pytest.raises(ValueError, match="x_t"):
        model.step(x, model.initial_state(B))


# -- traces ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("loss", ["ce", "mse"])
@pytest.mark.parametrize("readout", ["last", "all"])
def test_trace_shapes(arch, loss, readout):
    model = build_model(arch, I, H, O, skip=2)
    x, target = batch(loss=loss, readout=readout)
    trace = model.forward_backward(x, target, loss=loss, readout=readout)
    assert isinstance(trace, Trace) and isinstance(trace.loss, float)
    width = 4 * H if arch == "lstm" else H
    assert trace.outputs.shape == ((B, O) if readout == "last" else (T, B, O))
    assert trace.hidden.shape == (T + 1, B, H) and not trace.hidden[0].any()
    assert trace.pre.shape == trace.da.shape == (T, B, width)
    assert trace.dh.shape == (T, B, H)
    assert trace.dh_norms.shape == trace.contribution_norms().shape == (T,)
    assert trace.inputs.shape == x.shape
    if arch == "lstm":
        assert trace.cell.shape == (T + 1, B, H) and not trace.cell[0].any()
        assert trace.gates.shape == (T, B, 4 * H) and trace.dcell.shape == (T, B, H)
    else:
        assert trace.cell is None and trace.gates is None and trace.dcell is None
    _, dy = loss_and_grad(trace.outputs, target, loss, readout)   # h_T feeds nothing but y_T:
    dy_T = dy if readout == "last" else dy[-1]                    # ∂L/∂h_T = ∂L/∂y_T W_O^T
    np.testing.assert_allclose(trace.dh[-1], dy_T @ model.params["W_O"].T, rtol=1e-14)


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_traces_own_fresh_arrays(arch):
    """A later pass never writes into an earlier trace (the GUI keeps traces to replay them)."""
    model = build_model(arch, I, H, O)
    x, target = batch()
    first = model.forward_backward(x, target)
    kept = {name: np.copy(getattr(first, name)) for name in ("outputs", "hidden", "pre", "da", "dh", "inputs")}
    kept_grads = {name: g.copy() for name, g in first.grads.items()}
    x[...] = 0.0                                      # the caller reuses its input buffer
    second = model.forward_backward(np.ones_like(x), target)
    for name, value in kept.items():
        assert np.array_equal(getattr(first, name), value), name
        assert not np.shares_memory(getattr(first, name), getattr(second, name)), name
    for name, g in kept_grads.items():
        assert np.array_equal(first.grads[name], g)
        assert not np.shares_memory(g, model.params[name])


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_forward_and_step_agree_with_forward_backward(arch):
    model = build_model(arch, I, H, O, skip=2, seed=1)
    x, target = batch(loss="ce", readout="all")
    trace = model.forward_backward(x, target, readout="all")
    outputs, hidden = model.forward(x, readout="all")
    np.testing.assert_array_equal(outputs, trace.outputs)
    np.testing.assert_array_equal(hidden, trace.hidden)
    last, _ = model.forward(x)
    np.testing.assert_array_equal(last, trace.outputs[-1])
    state = model.initial_state(B)
    for t in range(T):
        y, state = model.step(x[t], state)
        np.testing.assert_allclose(y, trace.outputs[t], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state[0], trace.hidden[-1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_float32_end_to_end(arch):
    m32 = build_model(arch, I, H, O, dtype=np.float32, seed=2)
    m64 = build_model(arch, I, H, O, dtype="float64", seed=2)
    assert m32.dtype == np.float32
    assert all(p.dtype == np.float32 for p in m32.params.values())
    x, target = batch(loss="mse", readout="all")
    t32 = m32.forward_backward(x, target, loss="mse", readout="all")
    t64 = m64.forward_backward(x, target, loss="mse", readout="all")
    for name in ("outputs", "hidden", "pre", "da", "dh", "inputs"):
        assert getattr(t32, name).dtype == np.float32, name
    assert all(g.dtype == np.float32 for g in t32.grads.values())
    assert all(g.dtype == np.float32 for g in t32.grad_by_step.values())
    assert t32.loss == pytest.approx(t64.loss, rel=1e-5)
    for name in t64.grads:
        np.testing.assert_allclose(t32.grads[name], t64.grads[name], rtol=1e-3, atol=1e-5)
    assert m32.forward(x)[0].dtype == np.float32
    assert m32.step(x[0], m32.initial_state(B))[0].dtype == np.float32


@pytest.mark.parametrize("arch, activation", [("rnn", "relu"), ("rnn", "linear"), ("lstm", "tanh")])
def test_divergence_propagates_inf_and_nan_without_warnings(arch, activation):
    """Exploding weights give a non-finite loss and gradients, not an exception or a warning."""
    model = build_model(arch, I, H, O, activation=activation, init="identity", init_scale=1e300)
    model.params["W_I"][...] = 1e300
    model.params["W_O"][...] = 1e308 * np.where(np.arange(H * O).reshape(H, O) % 3, 1.0, -1.0)
    x, target = batch()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = model.forward_backward(np.abs(x) + 1.0, target)
        model.forward(x)
        model.step(x[0], model.initial_state(B))
    assert not np.isfinite(trace.loss) or not all(np.isfinite(g).all() for g in trace.grads.values())


def test_activations_derivatives():
    a = np.linspace(-4, 4, 81) + 0.013  # never exactly at ReLU's kink
    eps = 1e-6
    for act in ACTIVATIONS.values():
        h = act.f(a)
        numeric = (act.f(a + eps) - act.f(a - eps)) / (2 * eps)
        np.testing.assert_allclose(act.derivative(a, h), numeric, rtol=1e-7, atol=1e-9, err_msg=act.name)
        out = np.empty_like(a)
        assert act.f(a, out=out) is out and np.array_equal(out, h)
        assert act.derivative(a, h, out=out) is out
    sig = ACTIVATIONS["sigmoid"]
    extreme = np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = sig.f(extreme)
    assert values[0] < 1e-300 and values[-1] == 1.0 and values[3] == 0.5
    np.testing.assert_allclose(values[2], 1 / (1 + np.exp(30.0)), rtol=1e-15)
