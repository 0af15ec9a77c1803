"""The engine's compiled kernels (numba): the one place where compiled code runs.

A model runs them when ``model.compiled`` is True: float64 (the default) with numba importable and
its JIT enabled. Otherwise (float32, ``NUMBA_DISABLE_JIT``, no numba, or ``model.compiled = False``)
the same passes run as plain numpy, written out in ``rnn.py`` and ``lstm.py``; the tests run both
and compare them (tests/test_compiled.py). The matrix products stay numpy's (BLAS) on both paths;
the kernels fuse the elementwise work of one time step, which numpy would spread over many calls:

    tanh_step          RNN forward, one step: a_t += b + h_{t-1} W_H; h_t = tanh(a_t); f'(a_t) = 1 − h_t²
    rnn_backward_step  RNN backward, one step: δ_t = ∂L/∂h_t ⊙ f'(a_t), and ‖∂L/∂h_t‖
    lstm_cell          LSTM forward, one step: gates, c_t, tanh(c_t), h_t from a_t
    lstm_cell_backward LSTM backward, one step: ∂L/∂c_t and δ_t = [δ_i | δ_f | δ_g | δ_o] from ∂L/∂h_t,
                       and ‖∂L/∂h_t‖
    accumulate_terms   ∂L/∂W_H = Σ_t h_{t-1}^T δ_t and each term's size ‖h_{t-1}^T δ_t‖_F, in one pass

Why: numpy's float64 tanh and exp are scalar libm code on CPUs without AVX-512 (about 14 ns per
element), and each ufunc call costs a microsecond or two; an LSTM step is a dozen of them. Nothing
on PyPI offers a vectorised float64 tanh or exp for AVX2 (numba with Intel's SVML needs a patched
llvmlite that pip does not ship), so tanh and σ are written here as plain arithmetic that LLVM
vectorises (no branches, one division each):

    tanh, |x| < 0.625:  tanh(x) = x + x³ P(x²)/Q(x²)               (Cephes tanh.c rational function)
    tanh, otherwise:    tanh(|x|) = 1 − 2/(e^{2|x|} + 1),  sign restored
    σ(x) = 1/(1 + e^{−x}):  e^{|x|} = 2ⁿ (E + R)/(E − R),
                        x ≥ 0: σ = 2ⁿ(E + R) / (2ⁿ(E + R) + (E − R)),  x < 0: σ = (E − R) / (same)

with e^{2a} = 2ⁿ · (E + R)/(E − R) for n = rint(2a/ln 2), reduced argument h = a − n ln2/2 (Cephes
exp.c Padé form). tanh caps |x| at 20 (tanh rounds to 1 beyond 19.06), σ at 708 (σ(−708) ≈ 3e−308).
±0 keeps its sign in tanh, ±inf gives ±1 (σ: 1 and ≈ 0), NaN stays NaN. Measured against numpy on
millions of points: tanh within 2 ulp, σ within a few ulp (tests/test_compiled.py).
"""

from __future__ import annotations

try:
    import numba
except ImportError:  # the engine still works, as plain numpy
    numba = None

#: True when the kernels below exist (numba importable, JIT enabled).
COMPILED = numba is not None and not numba.config.DISABLE_JIT

if COMPILED:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _bits(typingctx, x):
        """The IEEE-754 bits of a float64, as int64 (a bit cast, no conversion)."""
        if x != types.float64:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.IntType(64))

        return types.int64(types.float64), codegen

    @intrinsic
    def _from_bits(typingctx, x):
        """The float64 whose IEEE-754 bits are the int64 x."""
        if x != types.int64:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.DoubleType())

        return types.float64(types.int64), codegen

    # Cephes tanh.c, |x| < 0.625: tanh x = x + x³ P(x²)/Q(x²); P halved and negated here (exact).
    _P0 = 9.64399179425052238628e-1 / 2
    _P1 = 9.92877231001918586564e1 / 2
    _P2 = 1.61468768441708447952e3 / 2
    _Q0 = 1.12811678491632931402e2
    _Q1 = 2.23548839060100448583e3
    _Q2 = 4.84406305325125486048e3
    # Cephes exp.c, |r| ≤ ln2/2: e^r = (E + R)/(E − R) written in h = r/2, rescaled by powers of 2.
    _R1 = 4 * 3.02994407707441961300e-2
    _R0 = 16 * 1.26177193074810590878e-4
    _E2 = 2 * 2.27265548208155028766e-1
    _E1 = 8 * 2.52448340349684104192e-3
    _E0 = 32 * 3.00198505138664455042e-6
    _TWO_LOG2E = 2.8853900817779268          # 2/ln 2: n = rint(2|x|/ln 2)
    _LN2_HALF = 0.34657359027997264          # ln 2 / 2
    _LN2_HALF_HI = 0.3465728759765625        # ln 2 / 2 in two parts (Cephes C1/2, C2/2): n · HI is
    _LN2_HALF_LO = 7.1430341015470861606e-7  #   exact, so h stays accurate for n up to 1021
    _SHIFT = 6755399441055744.0 + 1023.0     # 1.5·2⁵² rounds to an integer; + the exponent bias
    _SIGN_BIT = -9223372036854775808         # int64 with only bit 63 set
    _SATURATED = 20.0                        # tanh(x) rounds to 1 in float64 beyond 19.06
    _SIGMOID_CAP = 708.0                     # |x| beyond: σ stays 1 or ≈ 3e−308, 2ⁿ stays finite

    # Contraction into FMAs only: NaN and infinity keep their IEEE meaning.
    _FASTMATH = {"contract"}

    @numba.njit(fastmath=_FASTMATH, error_model="numpy", inline="always", cache=True)
    def _tanh_scalar(x):
        a = abs(x)
        small = a < 0.625
        # Rational branch.
        z = a * a
        p = (_P0 * z + _P1) * z + _P2
        q = ((z + _Q0) * z + _Q1) * z + _Q2
        rational = (a * z) * p
        # Exponential branch: e^{2a} = 2ⁿ e^{2h}, h = a − n ln2/2.
        capped = min(a, _SATURATED)
        shifted = capped * _TWO_LOG2E + _SHIFT
        n = shifted - _SHIFT
        h = capped - n * _LN2_HALF
        hh = h * h
        R = (h * hh) * (_R0 * hh + _R1) + h
        E = (hh * hh) * (_E0 * hh + _E1) + (_E2 * hh + 1.0)
        two_n = _from_bits(_bits(shifted) << 52)    # shifted's low bits hold n + 1023: 2ⁿ
        d = E - R
        exp_denominator = two_n * (E + R) + d       # (e^{2a} + 1)(E − R)
        # Merge with selects, then the one division: tanh a = base − 2 num/den.
        base = a if small else 1.0
        num = rational if small else d
        den = q if small else exp_denominator
        result = base - 2.0 * (num / den)
        return _from_bits(_bits(result) | (_bits(x) & _SIGN_BIT))

    @numba.njit(fastmath=_FASTMATH, error_model="numpy", inline="always", cache=True)
    def _sigmoid_scalar(x):
        a = min(abs(x), _SIGMOID_CAP)
        half = 0.5 * a                              # e^{a} = e^{2·half} = 2ⁿ e^{2h}
        shifted = half * _TWO_LOG2E + _SHIFT
        n = shifted - _SHIFT
        h = (half - n * _LN2_HALF_HI) - n * _LN2_HALF_LO
        hh = h * h
        R = (h * hh) * (_R0 * hh + _R1) + h
        E = (hh * hh) * (_E0 * hh + _E1) + (_E2 * hh + 1.0)
        up = _from_bits(_bits(shifted) << 52) * (E + R)   # 2ⁿ (E + R) = e^{|x|} (E − R)
        down = E - R
        return (up if x >= 0.0 else down) / (up + down)

    _KERNEL = {"fastmath": _FASTMATH, "error_model": "numpy", "cache": True, "boundscheck": False, "nogil": True}

    @numba.njit(**_KERNEL)
    def tanh_step(a, carry, b, h, d):
        """RNN forward, one step: a += b + carry (a_t = x_t W_I + b + h_{t-1} W_H); h = tanh(a);
        d = tanh'(a) = 1 − h². a, carry, h, d: C-contiguous float64 (B, H); b: (H,)."""
        for i in range(a.shape[0]):
            _tanh_row(a[i], carry[i], b, h[i], d[i])

    @numba.njit(**_KERNEL)
    def _tanh_row(a, carry, b, h, d):
        for k in range(a.size):
            total = a[k] + b[k] + carry[k]
            a[k] = total
            y = _tanh_scalar(total)
            h[k] = y
            d[k] = 1.0 - y * y

    @numba.njit(fastmath={"contract", "reassoc"}, error_model="numpy", cache=True, boundscheck=False,
                nogil=True)
    def rnn_backward_step(dh, fprime):
        """RNN backward, one step: fprime ← δ_t = ∂L/∂h_t ⊙ f'(a_t) in place; returns ‖∂L/∂h_t‖_F²
        (summed in any order). C-contiguous float64 arrays of one shape."""
        flat_dh, flat_delta = dh.reshape(dh.size), fprime.reshape(fprime.size)
        square = 0.0
        for i in range(flat_dh.size):
            value = flat_dh[i]
            flat_delta[i] *= value
            square += value * value
        return square

    # The LSTM kernels run one short loop per operation and row (the loops below): a loop that
    # writes several arrays at once is not vectorised (LLVM cannot rule out that they overlap
    # without more run-time checks than it allows), and ran 4× slower.

    @numba.njit(**_KERNEL)
    def _sigmoid_into(x, out):
        for k in range(x.size):
            out[k] = _sigmoid_scalar(x[k])

    @numba.njit(**_KERNEL)
    def _tanh_into(x, out):
        for k in range(x.size):
            out[k] = _tanh_scalar(x[k])

    @numba.njit(**_KERNEL)
    def _add_into(x, y, z):
        for k in range(x.size):
            x[k] = x[k] + z[k] + y[k]

    @numba.njit(**_KERNEL)
    def _cell_update(f, c_prev, i, g, c):
        for k in range(c.size):
            c[k] = f[k] * c_prev[k] + i[k] * g[k]

    @numba.njit(**_KERNEL)
    def _cell_output(o, tanh_c, h):
        for k in range(h.size):
            h[k] = o[k] * tanh_c[k]

    @numba.njit(**_KERNEL)
    def lstm_cell(a, carry, b, c_prev, gate, c, tanh_c, h):
        """LSTM forward, one step (as ``lstm.cell_step``): a += b + carry completes a_t =
        x_t W_I + b + h_{t-1} W_H = [a_i|a_f|a_g|a_o] (B, 4H); gate = [i|f|g|o] = [σ(a_i)|σ(a_f)|tanh(a_g)|σ(a_o)]; c = f ⊙ c_prev + i ⊙ g;
        tanh_c = tanh(c); h = o ⊙ tanh_c. C-contiguous float64 arrays."""
        B, H = c.shape
        for r in range(B):
            a_r, gate_r = a[r], gate[r]
            _add_into(a_r, carry[r], b)
            _sigmoid_into(a_r[:2 * H], gate_r[:2 * H])              # i, f
            _tanh_into(a_r[2 * H:3 * H], gate_r[2 * H:3 * H])       # g
            _sigmoid_into(a_r[3 * H:], gate_r[3 * H:])              # o
            _cell_update(gate_r[H:2 * H], c_prev[r], gate_r[:H], gate_r[2 * H:3 * H], c[r])
            _tanh_into(c[r], tanh_c[r])
            _cell_output(gate_r[3 * H:], tanh_c[r], h[r])

    @numba.njit(fastmath={"contract", "reassoc"}, error_model="numpy", cache=True, boundscheck=False,
                nogil=True)
    def _cell_gradient(dh, o, tanh_c, dc_next, dc):
        square = 0.0
        for k in range(dc.size):
            dc[k] = dh[k] * o[k] * (1.0 - tanh_c[k] * tanh_c[k]) + dc_next[k]
            square += dh[k] * dh[k]
        return square

    @numba.njit(**_KERNEL)
    def _through_sigmoid(d, x, s, out):
        for k in range(out.size):
            out[k] = d[k] * x[k] * (s[k] * (1.0 - s[k]))

    @numba.njit(**_KERNEL)
    def _through_tanh(d, x, t, out):
        for k in range(out.size):
            out[k] = d[k] * x[k] * (1.0 - t[k] * t[k])

    @numba.njit(**_KERNEL)
    def _product(x, y, out):
        for k in range(out.size):
            out[k] = x[k] * y[k]

    @numba.njit(**_KERNEL)
    def lstm_cell_backward(dh, dc_next, gate, c_prev, tanh_c, dc, delta):
        """LSTM backward, one step (as ``lstm.cell_step_backward``): from ∂L/∂h_t (dh) and
        ∂L/∂c_{t+1} ⊙ f_{t+1} (dc_next): dc = ∂L/∂c_t = dh ⊙ o ⊙ (1 − tanh²(c_t)) + dc_next;
        delta = [δ_i|δ_f|δ_g|δ_o] = [dc ⊙ g ⊙ i(1−i) | dc ⊙ c_{t-1} ⊙ f(1−f) | dc ⊙ i ⊙ (1−g²) |
        dh ⊙ tanh(c_t) ⊙ o(1−o)]; then dc_next = dc ⊙ f, handed to step t−1. Returns ‖∂L/∂h_t‖_F².
        C-contiguous float64 arrays."""
        B, H = dc.shape
        square = 0.0
        for b in range(B):
            g_b, d_b = gate[b], delta[b]
            i, f, g, o = g_b[:H], g_b[H:2 * H], g_b[2 * H:3 * H], g_b[3 * H:]
            square += _cell_gradient(dh[b], o, tanh_c[b], dc_next[b], dc[b])
            _through_sigmoid(dc[b], g, i, d_b[:H])                  # δ_i
            _through_sigmoid(dc[b], c_prev[b], f, d_b[H:2 * H])     # δ_f
            _through_tanh(dc[b], i, g, d_b[2 * H:3 * H])            # δ_g
            _through_sigmoid(dh[b], tanh_c[b], o, d_b[3 * H:])      # δ_o
            _product(dc[b], f, dc_next[b])                          # handed to c_{t-1}
        return square

    @numba.njit(fastmath={"contract", "reassoc"}, error_model="numpy", cache=True, boundscheck=False,
                nogil=True)
    def accumulate_terms(terms, total, squares):
        """total += Σ_t terms[t] and squares[t] = ‖terms[t]‖_F², one pass over the (n, H, m) terms
        h_{t-1}^T δ_t (as ``recurrent.accumulate_terms``; the sums of squares in any order)."""
        flat_total = total.reshape(total.size)
        for t in range(terms.shape[0]):
            term = terms[t].reshape(total.size)
            square = 0.0
            for k in range(term.size):
                value = term[k]
                flat_total[k] += value
                square += value * value
            squares[t] = square
else:
    tanh_step = rnn_backward_step = lstm_cell = lstm_cell_backward = accumulate_terms = None
