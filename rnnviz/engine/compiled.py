"""The engine's compiled kernels (numba): the one place where compiled code runs.

A model runs them when ``model.compiled`` is True: float64 (the default) with numba importable and
its JIT enabled. Otherwise (float32, ``NUMBA_DISABLE_JIT``, no numba, or ``model.compiled = False``)
the same passes run as plain numpy, written out in ``rnn.py`` and ``lstm.py``; the tests run both
and compare them (tests/test_compiled.py). Each kernel runs a whole sequence's time loop in one
call, the formulas as ``rnn.py`` and ``lstm.py`` write them:

    rnn_forward    RNN forward: a_t = x_t W_I [+ h_{t-k} W_S] + h_{t-1} W_H + b; h_t = f(a_t); Σ h_t²
    rnn_backward   BPTT: δ_t = ∂L/∂h_t ⊙ f'(a_t) (f' from h_t); ∂L/∂h_{t-1} += δ_t W_H^T
                   [∂L/∂h_{t-k} += δ_t W_S^T]; ∂L/∂W_H = Σ_t h_{t-1}^T δ_t with each term's size
                   ‖h_{t-1}^T δ_t‖_F; ∂L/∂W_I, ∂L/∂b
    lstm_forward   LSTM forward: a_t = x_t W_I + h_{t-1} W_H + b; gates, c_t, tanh(c_t), h_t; Σ h_t²
    lstm_backward  BPTT through the cell: ∂L/∂c_t, δ_t = [δ_i | δ_f | δ_g | δ_o], then as the RNN's

A training step's pass (``keep_steps=False``) hands the kernels one-step buffers for a_t, δ_t and
∂L/∂c_t where it keeps none of them (each kernel says which). A full pass keeps them for every step,
(T, B, ·) arrays of 1.6 MB each at B = 32, H = 64, T = 100 (6.4 MB for the LSTM's a_t and δ_t): the
kernels then still work in one-step buffers that stay in cache, and copy each step's values to the
kept array with non-temporal stores (``_keep``), which send a line to memory without reading it into
the cache first. Written the ordinary way, the three kept arrays of an RNN pass cost a read of each
line before its write and pushed h_t, which the backward pass reads again, out of a 2 MB cache.
Measured (B = 32, H = 64, T = 100, CPU time, the engine bench's order of sides): the RNN's full pass
2.71 -> 2.47 ms, the LSTM's 10.4 -> 9.7 ms; the numbers are the same to the last bit. Each row goes
out as soon as the step's elementwise work has done it (``_store_row_past_cache``), so that the
stores leave while the next row is computed; copied after the step's last row, a 16 KB copy spent
about a microsecond waiting for them (rows that are not whole lines still go that way, ``_keep``).

Why: at the sizes the lessons train (B = 32, H = 32, T = 50) one step's matrix products take a
microsecond or two each, and numpy spent more than that around each (a call, a view, a ufunc per
operation: several per time step). Here a pass is one call; its matrix products are BLAS's dgemm
(the library numpy itself loaded, called from the compiled loop; ``DGEMM`` says which; without
one the models take the numpy path), and the elementwise work of a step is a few vectorised loops.
The cancel flag is still asked at every time step (``flag_address``: a byte read from memory, or a
C function that calls ``cancel.is_set()``).

tanh and σ: numpy's float64 tanh and exp are scalar libm code on CPUs without AVX-512 (about 14 ns
per element). Nothing on PyPI offers a vectorised float64 tanh or exp for AVX2 (numba with Intel's
SVML needs a patched llvmlite that pip does not ship), so tanh and σ are written here as plain
arithmetic that LLVM vectorises (no branches, one division each):

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


def _find_dgemm() -> tuple[int | None, str]:
    """(address, where) of the cblas_dgemm with 64-bit integers in a BLAS that numpy loaded
    (numpy's wheels bundle OpenBLAS built so: ``scipy_cblas_dgemm64_``); (None, why not) if there
    is none, or no numba to call it from."""
    if numba is None:
        return None, "numba is not installed"
    if numba.config.DISABLE_JIT:
        return None, "numba's JIT is disabled"
    import ctypes

    import threadpoolctl
    libraries = sorted((info["filepath"] for info in threadpoolctl.threadpool_info()
                        if info.get("user_api") == "blas"), key=lambda path: "numpy" not in path)
    for path in libraries:                       # numpy's own first
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_cblas_dgemm64_", "cblas_dgemm64_", "cblas_dgemm_64"):
            function = getattr(library, name, None)
            if function is not None:
                return ctypes.cast(function, ctypes.c_void_p).value, f"{name} in {path}"
    return None, "no BLAS with a 64-bit-integer cblas_dgemm is loaded"


_DGEMM_ADDRESS, DGEMM = _find_dgemm()
#: True when the kernels below run: numba importable with its JIT enabled, and a BLAS dgemm for
#: their products (``DGEMM`` says which, or why not). Otherwise models take the plain numpy path.
COMPILED = _DGEMM_ADDRESS is not None

if COMPILED:
    import ctypes
    import functools
    import platform
    import weakref

    import llvmlite.binding as llvm
    import numpy as np
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
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

    #: The function attribute that asks LLVM for 512-bit vectors (see ``_wide_vectors``).
    _VECTOR_WIDTH = '"prefer-vector-width"="512"'

    @functools.cache
    def _vector_width_accepted() -> bool:
        """Whether this llvmlite and LLVM take ``_VECTOR_WIDTH``: a scratch module with one empty
        function carrying it is printed and parsed back, as numba does with each kernel's module
        (about 0.5 ms, once per process, and only when a kernel compiles: cached kernels skip it).
        Any failure, whatever llvmlite or LLVM raise, means: leave the hint out."""
        module = ir.Module()
        function = ir.Function(module, ir.FunctionType(ir.VoidType(), ()), "probe")
        ir.IRBuilder(function.append_basic_block()).ret_void()
        try:
            set.add(function.attributes, _VECTOR_WIDTH)
            parsed = llvm.parse_assembly(str(module))
            parsed.verify()
        except Exception:  # noqa: BLE001 - any refusal only costs the vector width
            return False
        return "prefer-vector-width" in str(parsed)

    @intrinsic
    def _wide_vectors(typingctx):
        """Let LLVM vectorise the calling kernel's loops with 512-bit vectors where the CPU has
        AVX-512 (it prefers 256 bits on Intel's AVX-512 CPUs unless a function asks): the function
        attribute ``"prefer-vector-width"="512"`` on the function that calls this. The arithmetic
        is the same, lane by lane, so elementwise results are bit-identical (sums of squares, taken
        in any order, differ by rounding); CPUs without AVX-512 keep their widest vectors.
        Measured on an AVX-512 Xeon: tanh over 2e5 values 0.19 -> 0.16 ms, the LSTM forward pass
        at B = H = 32, T = 62 0.76 -> 0.65 ms. llvmlite's attribute set lists only LLVM's keyword
        attributes, so the string attribute is added to the set directly, and only when
        ``_vector_width_accepted`` found that this llvmlite and LLVM emit and parse it; otherwise
        this emits nothing and the kernels compile with LLVM's default width."""
        def codegen(context, builder, signature, args):
            if _vector_width_accepted():
                set.add(builder.function.attributes, _VECTOR_WIDTH)
            return context.get_dummy_value()
        return types.void(), codegen

    def _can_cache() -> bool:
        """Whether numba can keep this file's machine code on disk (a writable __pycache__ beside
        it, or the user's cache directory). Without either, ``cache=True`` fails at import; the
        kernels then compile at each start (a few seconds) instead."""
        def probe():
            return 0

        try:
            numba.njit(cache=True)(probe)
        except RuntimeError:
            return False
        return True

    #: Whether the kernels' machine code is cached on disk (compiled once per machine, not per start).
    CACHED = _can_cache()

    @numba.njit(fastmath=_FASTMATH, error_model="numpy", inline="always", cache=CACHED)
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

    @numba.njit(fastmath=_FASTMATH, error_model="numpy", inline="always", cache=CACHED)
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

    _KERNEL = {"fastmath": _FASTMATH, "error_model": "numpy", "cache": CACHED, "boundscheck": False, "nogil": True}
    #: As _KERNEL, for loops that sum squares: the sum may be taken in any order (vectorised).
    _SUMMING = dict(_KERNEL, fastmath={"contract", "reassoc"})

    # -- the matrix products: BLAS's dgemm, called from compiled code ------------------------------

    _ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112     # CBLAS's enums
    #: The name the kernels call dgemm by, bound at every start (the cached machine code holds no address).
    _SYMBOL = "rnnviz_cblas_dgemm"
    llvm.add_symbol(_SYMBOL, _DGEMM_ADDRESS)

    @intrinsic
    def _dgemm(typingctx, trans_a, m, n, k, a, lda, b, ldb, beta, c, ldc):
        """cblas_dgemm(row-major, trans_a, no transpose, m, n, k, 1, A, lda, B, ldb, β, C, ldc), the
        arrays given by their addresses."""
        int64 = types.int64
        signature = types.void(int64, int64, int64, int64, int64, int64, int64, int64, types.float64, int64, int64)

        def codegen(context, builder, sig, args):
            trans_a, m, n, k, a, lda, b, ldb, beta, c, ldc = args
            i32, i64, f64, pointer = ir.IntType(32), ir.IntType(64), ir.DoubleType(), ir.DoubleType().as_pointer()
            function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
                ir.VoidType(), [i32, i32, i32, i64, i64, i64, f64, pointer, i64, pointer, i64, f64, pointer, i64]),
                _SYMBOL)
            builder.call(function, [ir.Constant(i32, _ROW_MAJOR), builder.trunc(trans_a, i32),
                                    ir.Constant(i32, _NO_TRANS), m, n, k, ir.Constant(f64, 1.0),
                                    builder.inttoptr(a, pointer), lda, builder.inttoptr(b, pointer), ldb, beta,
                                    builder.inttoptr(c, pointer), ldc])
            return context.get_dummy_value()
        return signature, codegen

    @intrinsic
    def _rows(typingctx, array):
        """The address of a C-contiguous float64 array's data, for dgemm, which reads it as rows of
        contiguous float64 (a leading dimension of one row). Any other array, a strided view or
        another dtype, would be read as if it were one: a kernel called with such an array is
        refused when numba types the call (a TypingError naming the array's type), before it runs."""
        if not (isinstance(array, types.Array) and array.layout == "C" and array.dtype == types.float64):
            raise numba.core.errors.TypingError(
                f"the compiled kernels multiply C-contiguous float64 arrays only; got {array} "
                "(pass np.ascontiguousarray(x, dtype=np.float64))")

        def codegen(context, builder, signature, args):
            data = context.make_array(signature.args[0])(context, builder, args[0]).data
            return builder.ptrtoint(data, ir.IntType(64))
        return types.int64(array), codegen

    @numba.njit(inline="always", cache=CACHED)
    def _product(a, b, c, beta):
        """c = a b + β c; C-contiguous 2-D float64 arrays (c is not read when β = 0)."""
        m, k = a.shape
        n = b.shape[1]
        _dgemm(_NO_TRANS, m, n, k, _rows(a), k, _rows(b), n, beta, _rows(c), n)

    @numba.njit(inline="always", cache=CACHED)
    def _product_transposed(a, b, c, beta):
        """c = aᵀ b + β c (a summed over its rows: Σ_rows a_rowᵀ b_row); C-contiguous 2-D float64 arrays."""
        k, m = a.shape
        n = b.shape[1]
        _dgemm(_TRANS, m, n, k, _rows(a), m, _rows(b), n, beta, _rows(c), n)

    # -- kept per-step arrays: written past the cache ---------------------------------------------

    @intrinsic
    def _store_past_cache(typingctx, destination, source):
        """Copy 8 float64 (one 64-byte line) from address ``source`` to address ``destination`` (64-byte
        aligned) with a non-temporal store: the line goes to memory without first being read into
        the cache (x86: ``vmovntpd``, or two or four narrower ones without AVX-512)."""
        signature = types.void(types.int64, types.int64)

        def codegen(context, builder, sig, args):
            vector = ir.VectorType(ir.DoubleType(), 8)
            value = builder.load(builder.inttoptr(args[1], vector.as_pointer()), align=8)
            store = builder.store(value, builder.inttoptr(args[0], vector.as_pointer()), align=64)
            store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
            return context.get_dummy_value()
        return signature, codegen

    _X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")

    @intrinsic
    def _fence(typingctx):
        """Orders the non-temporal stores before it before every store after it, so that another
        thread that sees the kernel's return (and reads a kept array then) sees them too. Every
        time-loop kernel that keeps rows (``_keep``, or the elementwise kernels' row stores) ends
        with it, on its cancelled return too (once per call); the elementwise kernels do not fence
        on their own."""
        def codegen(context, builder, sig, args):
            if _X86:        # sfence: what orders non-temporal stores there (LLVM's fence is a locked or)
                builder.call(cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), ()),
                                                            "llvm.x86.sse.sfence"), ())
            else:
                builder.fence("seq_cst")
            return context.get_dummy_value()
        return types.void(), codegen

    @numba.njit(inline="always", cache=CACHED)
    def _keep(source, destination):
        """destination = source (C-contiguous float64 arrays of one size), written past the cache:
        whole 64-byte lines of destination with ``_store_past_cache``, the elements before its first
        line boundary and after its last one plainly (all of it plainly if destination is not even
        8-byte aligned)."""
        n = source.size
        flat_source, flat_destination = source.reshape(n), destination.reshape(n)
        address, source_address = _rows(destination), _rows(source)
        head = n if address % 8 else min(n, (-address % 64) // 8)
        for i in range(head):
            flat_destination[i] = flat_source[i]
        i = head
        while i + 8 <= n:
            _store_past_cache(address + 8 * i, source_address + 8 * i)
            i += 8
        for j in range(i, n):
            flat_destination[j] = flat_source[j]

    @numba.njit(inline="always", cache=CACHED)
    def _rows_in_lines(array):
        """Whether each row of a C-contiguous (·, n) float64 array is whole 64-byte lines (n a
        multiple of 8, the array on a line boundary), as ``_store_row_past_cache`` needs."""
        return array.shape[1] % 8 == 0 and _rows(array) % 64 == 0

    @numba.njit(inline="always", cache=CACHED)
    def _store_row_past_cache(to, start, n):
        """n float64 (a multiple of 8) from address ``start`` to address ``to`` (on a line boundary),
        line by line with ``_store_past_cache``. The elementwise kernels keep a step's rows so, each
        as soon as it is done, and the stores leave while they compute the next row: ``_keep``
        after the step's last row waited for most of them (at B = 32, H = 64 about a microsecond
        per 16 KB copy). (Addresses, not row views: helpers that take array rows inside a row loop
        made numba's code for the loop several times slower.)"""
        for k in range(0, n, 8):
            _store_past_cache(to + 8 * k, start + 8 * k)

    # -- the cancel flag, asked once per time step -------------------------------------------------

    _ASK = ctypes.CFUNCTYPE(ctypes.c_int)
    _askers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    #: flag → (its cancel byte, the byte's address): ``byte.ctypes.data`` builds numpy's ctypes
    #: helper objects in Python at every call; with the window drawing at default settings the two
    #: calls of a training step cost its thread 20-35 µs a step (A/B with the address kept here).
    _bytes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def flag_address(cancel) -> tuple[int, object]:
        """(flag, keep-alive) for the kernels, which test the flag once per time step; (0, None) for
        no flag. Hold the keep-alive while a kernel runs.

        A flag with a ``cancel_byte`` (see `rnnviz.engine.cancel`) is read straight from
        memory: the flag is minus the byte's address. Any other flag is asked through a C function
        that returns ``cancel.is_set()`` (about 0.15 µs, one per flag, made on its first pass), which
        takes Python's GIL at every time step: measured with the window drawing at T = 100, training
        ran at 0.79–0.80 of headless that way and 0.85–0.86 without a callback."""
        if cancel is None:
            return 0, None
        byte = getattr(cancel, "cancel_byte", None)
        if byte is not None:
            try:
                known = _bytes.get(cancel)
                if known is None or known[0] is not byte:
                    known = _bytes[cancel] = (byte, byte.ctypes.data)
                return -known[1], byte
            except TypeError:                       # not hashable or not weakly referable
                return -byte.ctypes.data, byte
        try:
            ask = _askers.get(cancel)
            if ask is None:
                flag = weakref.ref(cancel)          # the function must not keep its flag alive
                ask = _askers[cancel] = _ASK(lambda: bool(flag().is_set()))
        except TypeError:                           # not hashable or not weakly referable
            ask = _ASK(lambda: bool(cancel.is_set()))
        return ctypes.cast(ask, ctypes.c_void_p).value, ask

    @intrinsic
    def _ask(typingctx, address):
        """Call the C function ``int f(void)`` at ``address``."""
        def codegen(context, builder, sig, args):
            function_type = ir.FunctionType(ir.IntType(32), [])
            return builder.call(builder.inttoptr(args[0], function_type.as_pointer()), [])
        return types.int32(types.int64), codegen

    @intrinsic
    def _read_byte(typingctx, address):
        """The byte at ``address``, read anew at every call (an atomic load: another thread sets it,
        and the compiler may not keep an earlier value)."""
        def codegen(context, builder, sig, args):
            pointer = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
            return builder.zext(builder.load_atomic(pointer, "monotonic", 1), ir.IntType(32))
        return types.int32(types.int64), codegen

    @numba.njit(inline="always", cache=CACHED)
    def _cancelled(flag):
        """flag: 0 (none), minus the address of a cancel byte, or the address of a C function."""
        if flag == 0:
            return False
        if flag < 0:
            return _read_byte(-flag) != 0
        return _ask(flag) != 0

    # -- elementwise work of one time step --------------------------------------------------------
    # Loops index 2-D arrays as a[r, k]: a row view a[r] costs more than a row's arithmetic here
    # (numba counts references to each view: the LSTM's backward step ran 3x slower with views).
    # Each loop writes one array: a loop that writes several is not vectorised (LLVM cannot rule
    # out that they overlap without more run-time checks than it allows).

    #: The RNN's activations, as ``rnn_forward`` takes them.
    ACTIVATIONS = {"tanh": 0, "relu": 1, "sigmoid": 2, "linear": 3}

    @numba.njit(**_KERNEL)
    def _activate(a, b, activation, h, keep, kept):
        """a += b completes a_t; h_t = f(a_t), row by row. (B, H) arrays, b (H,). With ``keep``, also
        kept = a_t past the cache, each row as soon as it is complete (``_store_row_past_cache``:
        kept's rows must be whole lines, ``_rows_in_lines``; kept is not touched without ``keep``)."""
        _wide_vectors()
        B, H = a.shape
        to, start = _rows(kept), _rows(a)
        for r in range(B):
            for k in range(H):
                a[r, k] += b[k]
            if activation == 0:                               # tanh
                for k in range(H):
                    h[r, k] = _tanh_scalar(a[r, k])
            elif activation == 1:                             # ReLU
                for k in range(H):
                    h[r, k] = 0.0 if a[r, k] < 0.0 else a[r, k]   # NaN stays NaN, as np.maximum
            elif activation == 2:                             # σ
                for k in range(H):
                    h[r, k] = _sigmoid_scalar(a[r, k])
            else:                                             # linear
                for k in range(H):
                    h[r, k] = a[r, k]
            if keep:
                _store_row_past_cache(to + 8 * r * H, start + 8 * r * H, H)

    @numba.njit(**_SUMMING)
    def _through_f(dh, h, activation, delta, keep, kept_delta, keep_dh, kept_dh):
        """delta ← δ_t = ∂L/∂h_t ⊙ f'(a_t), with f' from h_t = f(a_t) (tanh' = 1 − h², σ' = h(1 − h),
        ReLU' = 1 where h > 0, which is where a > 0: ``_activate`` keeps h = a there and sets h = 0 or
        keeps a ≤ 0 or NaN elsewhere); returns ‖∂L/∂h_t‖_F². Taking f' here rather than keeping it
        from the forward pass saves writing and re-reading a (T, B, H) array: h_t is still in cache,
        the step after read it for h_tᵀ δ_{t+1}; and the backward pass reads no a_t. With ``keep``,
        also kept_delta = δ_t, and with ``keep_dh`` kept_dh = ∂L/∂h_t, past the cache, each row as
        soon as δ's is done (as in ``_activate``; the kept arrays are not touched otherwise)."""
        _wide_vectors()
        flat_dh = dh.reshape(dh.size)
        square = 0.0
        for i in range(flat_dh.size):
            square += flat_dh[i] * flat_dh[i]
        B, H = dh.shape
        to_delta, from_delta, to_dh, from_dh = _rows(kept_delta), _rows(delta), _rows(kept_dh), _rows(dh)
        for r in range(B):
            if activation == 0:                               # tanh' = 1 − h²
                for k in range(H):
                    delta[r, k] = dh[r, k] * (1.0 - h[r, k] * h[r, k])
            elif activation == 1:                             # ReLU' = 1 where h > 0 (⇔ a > 0)
                for k in range(H):
                    delta[r, k] = dh[r, k] * (1.0 if h[r, k] > 0.0 else 0.0)
            elif activation == 2:                             # σ' = h(1 − h)
                for k in range(H):
                    delta[r, k] = dh[r, k] * ((1.0 - h[r, k]) * h[r, k])
            else:                                             # linear: f' = 1
                for k in range(H):
                    delta[r, k] = dh[r, k] * 1.0
            if keep_dh:
                _store_row_past_cache(to_dh + 8 * r * H, from_dh + 8 * r * H, H)
            if keep:
                _store_row_past_cache(to_delta + 8 * r * H, from_delta + 8 * r * H, H)
        return square

    @numba.njit(**_SUMMING)
    def _sum_squares(h):
        """Σ h² over a (B, H) array (for Σ_batch,units h_t², while h_t is in cache)."""
        _wide_vectors()
        flat = h.reshape(h.size)
        square = 0.0
        for k in range(flat.size):
            square += flat[k] * flat[k]
        return square

    @numba.njit(**_SUMMING)
    def _add_term(term, total):
        """total += term; returns ‖term‖_F² (for h_{t-1}^T δ_t)."""
        _wide_vectors()
        flat_total, flat_term = total.reshape(total.size), term.reshape(term.size)
        square = 0.0
        for k in range(flat_term.size):
            value = flat_term[k]
            flat_total[k] += value
            square += value * value
        return square

    @numba.njit(**_KERNEL)
    def _add_rows(rows, total):
        """total += Σ_rows rows (for Σ_batch δ_t)."""
        _wide_vectors()
        for r in range(rows.shape[0]):
            for k in range(total.size):
                total[k] += rows[r, k]

    # -- one-hot inputs: x_t W_I and x_t^T δ_t read off rows -------------------------------------
    # The symbol tasks (recall, sentence, text) feed one-hot x_t: each row a single 1, zeros elsewhere.
    # Row r of x_t W_I is then row c_r of W_I, and x_t^T δ_t adds δ_t's row r to row c_r: the same
    # numbers as the products (``_pickable``, ``_rows_by_column``), without them. At the lstm
    # preset's sizes (B = 32, I = 9, 4H = 128) x_t W_I took 1.2 us a step alone and ~2 us inside
    # the forward pass's loop.

    _EXPONENT = 0x7FF0000000000000           # an IEEE-754 double's exponent bits: all set = inf or NaN

    @numba.njit(inline="always", cache=CACHED)
    def _one_hot(x_t, columns):
        """Whether every row of x_t (B, I) is one-hot, a single 1 and every other entry ±0; then
        columns[r] is the column of row r's 1, otherwise columns[0] is −1."""
        B, I = x_t.shape
        for r in range(B):
            ones, others, column = 0, 0, 0
            for i in range(I):
                value = x_t[r, i]
                one = value == 1.0
                ones += one
                others += value != 0.0 and not one          # NaN too
                column += i * one
            if ones != 1 or others != 0:
                columns[0] = -1
                return False
            columns[r] = column
        return True

    @numba.njit(inline="always", cache=CACHED)
    def _pickable(W_I):
        """Whether x_t W_I of a one-hot x_t may be read off W_I's rows: every weight finite and
        nonzero. Each entry of the product then sums one weight and exact zeros, in whatever order
        dgemm takes them: the weight itself. (A weight of 0 could come out −0 where dgemm gives +0,
        and an infinite or NaN weight makes dgemm's column NaN in every row, 0 · ∞.)"""
        flat = W_I.reshape(W_I.size)
        for i in range(flat.size):
            if not (flat[i] != 0.0 and abs(flat[i]) < np.inf):
                return False
        return True

    @numba.njit(**_KERNEL)
    def _rows_by_column(delta, columns, total, scratch):
        """total += x_t^T δ_t for a one-hot x_t (columns as ``_one_hot`` left them): δ_t's rows
        summed into scratch[columns[r]] in the order of the rows, then added to total, as dgemm sums
        x_t^T δ_t (0 · δ adds nothing) and adds the sum to C with β = 1 (the same numbers, tested).
        Returns False, total untouched, where a sum is infinite or NaN: δ_t then holds inf or NaN,
        which dgemm turns into NaN in every row of its column (0 · ∞), so the caller takes the
        product after all. scratch: (I, n)."""
        _wide_vectors()
        B, n = delta.shape
        scratch[:] = 0.0
        for r in range(B):
            c = columns[r]
            for k in range(n):
                scratch[c, k] += delta[r, k]
        flat, flat_total = scratch.reshape(scratch.size), total.reshape(total.size)
        worst = 0
        for k in range(flat.size):
            worst = max(worst, _bits(flat[k]) & _EXPONENT)
        if worst == _EXPONENT:
            return False
        for k in range(flat.size):
            flat_total[k] += flat[k]
        return True

    @numba.njit(**_KERNEL)
    def lstm_cell(a, b, c_prev, gate, c, tanh_c, h, keep, kept, pick, W_I, columns):
        """LSTM forward, one step (as ``lstm.cell_step``): a += b completes a_t = x_t W_I + h_{t-1} W_H + b
        = [a_i|a_f|a_g|a_o] (B, 4H); gate = [i|f|g|o] = [σ(a_i)|σ(a_f)|tanh(a_g)|σ(a_o)];
        c = f ⊙ c_prev + i ⊙ g; tanh_c = tanh(c); h = o ⊙ tanh_c. C-contiguous float64 arrays. With
        ``keep``, also kept = a_t past the cache, each row as soon as it is done (as ``_activate``).
        With ``pick``, a holds h_{t-1} W_H alone and x_t is one-hot (columns from ``_one_hot``): row r
        first adds W_I[columns[r]], x_t W_I (the a that dgemm's x_t W_I, then β = 1 plus h_{t-1} W_H,
        gives: one rounding of the sum; see ``_pickable``). W_I and columns are not read otherwise."""
        _wide_vectors()
        B, H = c.shape
        to, start = _rows(kept), _rows(a)
        for r in range(B):
            if pick:
                row = columns[r]
                for k in range(4 * H):
                    a[r, k] = (a[r, k] + W_I[row, k]) + b[k]
            else:
                for k in range(4 * H):
                    a[r, k] += b[k]
            for k in range(2 * H):                                      # i, f
                gate[r, k] = _sigmoid_scalar(a[r, k])
            for k in range(2 * H, 3 * H):                               # g
                gate[r, k] = _tanh_scalar(a[r, k])
            for k in range(3 * H, 4 * H):                               # o
                gate[r, k] = _sigmoid_scalar(a[r, k])
            for k in range(H):                                          # c_t = f ⊙ c_{t-1} + i ⊙ g
                c[r, k] = gate[r, H + k] * c_prev[r, k] + gate[r, k] * gate[r, 2 * H + k]
            for k in range(H):
                tanh_c[r, k] = _tanh_scalar(c[r, k])
            for k in range(H):                                          # h_t = o ⊙ tanh(c_t)
                h[r, k] = gate[r, 3 * H + k] * tanh_c[r, k]
            if keep:
                _store_row_past_cache(to + 32 * r * H, start + 32 * r * H, 4 * H)

    @numba.njit(**_SUMMING)
    def lstm_cell_backward(dh, dc_next, gate, c_prev, tanh_c, dc, delta, keep, kept_delta, kept_dc, keep_dh,
                           kept_dh):
        """LSTM backward, one step (as ``lstm.cell_step_backward``): from ∂L/∂h_t (dh) and
        ∂L/∂c_{t+1} ⊙ f_{t+1} (dc_next): dc = ∂L/∂c_t = dh ⊙ o ⊙ (1 − tanh²(c_t)) + dc_next;
        delta = [δ_i|δ_f|δ_g|δ_o] = [dc ⊙ g ⊙ i(1−i) | dc ⊙ c_{t-1} ⊙ f(1−f) | dc ⊙ i ⊙ (1−g²) |
        dh ⊙ tanh(c_t) ⊙ o(1−o)]; then dc_next = dc ⊙ f, handed to step t−1. Returns ‖∂L/∂h_t‖_F²
        (summed in any order). C-contiguous float64 arrays. With ``keep``, also kept_delta = δ_t and
        kept_dc = ∂L/∂c_t, and with ``keep_dh`` kept_dh = ∂L/∂h_t, past the cache, each row as soon
        as it is done (as ``_activate``; the kept arrays are not touched otherwise)."""
        _wide_vectors()
        B, H = dc.shape
        square = 0.0
        to_delta, from_delta, to_dc, from_dc = _rows(kept_delta), _rows(delta), _rows(kept_dc), _rows(dc)
        to_dh, from_dh = _rows(kept_dh), _rows(dh)
        for r in range(B):
            for k in range(H):
                tc = tanh_c[r, k]
                dc[r, k] = dh[r, k] * gate[r, 3 * H + k] * (1.0 - tc * tc) + dc_next[r, k]
            for k in range(H):
                square += dh[r, k] * dh[r, k]
            for k in range(H):                                          # δ_i
                i = gate[r, k]
                delta[r, k] = dc[r, k] * gate[r, 2 * H + k] * (i * (1.0 - i))
            for k in range(H):                                          # δ_f
                f = gate[r, H + k]
                delta[r, H + k] = dc[r, k] * c_prev[r, k] * (f * (1.0 - f))
            for k in range(H):                                          # δ_g
                g = gate[r, 2 * H + k]
                delta[r, 2 * H + k] = dc[r, k] * gate[r, k] * (1.0 - g * g)
            for k in range(H):                                          # δ_o
                o = gate[r, 3 * H + k]
                delta[r, 3 * H + k] = dh[r, k] * tanh_c[r, k] * (o * (1.0 - o))
            for k in range(H):                                          # handed to c_{t-1}
                dc_next[r, k] = dc[r, k] * gate[r, H + k]
            if keep_dh:
                _store_row_past_cache(to_dh + 8 * r * H, from_dh + 8 * r * H, H)
            if keep:
                _store_row_past_cache(to_delta + 32 * r * H, from_delta + 32 * r * H, 4 * H)
                _store_row_past_cache(to_dc + 8 * r * H, from_dc + 8 * r * H, H)
        return square

    @numba.njit(inline="always", cache=CACHED)
    def _handed(dh, i, T):
        """dh's row for ∂L/∂h_{i+1}: dh[i] of a (T, B, H) dh, or one of two rows in turn (dh[1] for
        h_T, dh[0] for h_{T−1}, …) when dh has two, for a pass that keeps no ∂L/∂h_t per step."""
        return dh[i] if dh.shape[0] == T else dh[1 - (T - 1 - i) % 2]

    # -- the optimisers' updates: every parameter in one loop -------------------------------------
    # The same operations, in the same order, as the numpy updates in ``optimizers.py``, with no
    # contraction into FMAs (each product and sum rounded on its own, as numpy's ufuncs round them):
    # the same numbers to the last bit (tests/test_compiled.py). Each numpy operation was a ufunc
    # call of its own, 13 per parameter for Adam: at the lstm preset's sizes the calls, not the
    # arithmetic, were the cost (Adam 55-90 us of a 1.8 ms training step, measured inside the
    # step's loop, where the calls run with cold caches).

    _UPDATE = {"error_model": "numpy", "cache": CACHED, "boundscheck": False, "nogil": True}

    @numba.njit(**_UPDATE)
    def adam_update(theta, g, m, v, beta1, beta2, root_correction, eps, step_size):
        """As ``Adam._update``'s numpy path, element by element (C-contiguous float64 arrays of one
        shape): m ← β₁ m + (1 − β₁) g; v ← β₂ v + (1 − β₂) g²; θ ← θ − (m / (√v · root_correction
        + ε)) · step_size, with root_correction = 1/√(1 − β₂ᵗ) and step_size = η/(1 − β₁ᵗ)."""
        n = theta.size
        flat_theta, flat_g, flat_m, flat_v = theta.reshape(n), g.reshape(n), m.reshape(n), v.reshape(n)
        keep1, keep2 = 1.0 - beta1, 1.0 - beta2
        for i in range(n):
            gi = flat_g[i]
            m_i = flat_m[i] * beta1 + gi * keep1
            v_i = flat_v[i] * beta2 + (gi * gi) * keep2
            flat_m[i] = m_i
            flat_v[i] = v_i
            flat_theta[i] = flat_theta[i] - (m_i / (np.sqrt(v_i) * root_correction + eps)) * step_size

    @numba.njit(**_UPDATE)
    def sgd_update(theta, g, velocity, momentum, lr):
        """As ``SGD._update``'s numpy path, element by element (C-contiguous float64 arrays of one
        shape): v ← μ v − η g; θ ← θ + v."""
        n = theta.size
        flat_theta, flat_g, flat_v = theta.reshape(n), g.reshape(n), velocity.reshape(n)
        for i in range(n):
            v_i = flat_v[i] * momentum - flat_g[i] * lr
            flat_v[i] = v_i
            flat_theta[i] = flat_theta[i] + v_i

    # -- whole sequences: the time loops ----------------------------------------------------------
    # Each returns 0, or the step t at which it found the flag set (before doing anything of step t).

    @numba.njit(**_KERNEL)
    def rnn_forward(x, W_I, pre, hidden, W_H, b, W_S, skip, activation, flag, hidden_squares):
        """RNN forward, t = 1..T (as ``RNN._forward``'s loop):

            a_t = x_t W_I [+ h_{t-k} W_S] + h_{t-1} W_H + b      → pre[t−1]
            h_t = f(a_t)                                          → hidden[t]
            Σ_batch,units h_t²                                    → hidden_squares[t−1]

        hidden[0] = h_0 is read, not set. pre is (T, B, H), or (1, B, H) when a_t is not kept (each
        step's goes through it in turn); a kept a_t is computed in a one-step buffer and copied to pre
        past the cache row by row by ``_activate``. ``skip`` = k (0: none; then W_S is not read),
        ``activation`` from ``ACTIVATIONS``. (f'(a_t) is taken in ``rnn_backward``.) x_t W_I is a
        product per step, while a_t is in cache: for all t at once, (T·B, I) times (I, H) with I = 8
        took 116 us at B = 32, H = 64, T = 100, and 70 us as 100 products."""
        T = x.shape[0]
        keep = pre.shape[0] == T
        by_row = keep and _rows_in_lines(pre[0])                       # a_t kept as f goes along
        a = np.empty(pre.shape[1:]) if keep else pre[0]
        for t in range(1, T + 1):
            if _cancelled(flag):
                _fence()
                return t
            _product(x[t - 1], W_I, a, 0.0)                            # x_t W_I
            if skip > 0 and t > skip:
                _product(hidden[t - skip], W_S, a, 1.0)                # + h_{t-k} W_S
            _product(hidden[t - 1], W_H, a, 1.0)                       # + h_{t-1} W_H
            _activate(a, b, activation, hidden[t], by_row, pre[t - 1 if keep else 0])
            hidden_squares[t - 1] = _sum_squares(hidden[t])
            if keep and not by_row:
                _keep(a, pre[t - 1])
        _fence()
        return 0

    @numba.njit(**_KERNEL)
    def rnn_backward(dh, da, hidden, activation, x, W_HT, W_ST, skip, only_last, flag, grad_I, grad_H, grad_S,
                     grad_b, term, squares, dh_squares):
        """BPTT, t = T..1 (as ``RNN._backward`` then ``_weight_grads``): on entry dh[t−1] holds what
        y_t sends to h_t (only dh[T−1] with ``only_last``, the rest unset); hidden as the forward pass
        left it, ``activation`` as there (f'(a_t) is taken from h_t, ``_through_f``);

            δ_t = ∂L/∂h_t ⊙ f'(a_t)                   → da[t−1]; ‖∂L/∂h_t‖_F² → dh_squares[t−1]
            ∂L/∂h_{t-1} += δ_t W_H^T                  (= with ``only_last`` and no skip)
            ∂L/∂h_{t-k} += δ_t W_S^T                  (skip k > 0)
            ∂L/∂W_H = Σ_t h_{t-1}^T δ_t,  squares[t−1] = ‖h_{t-1}^T δ_t‖_F²   (term: (H, H) scratch)
            ∂L/∂W_I = Σ_t x_t^T δ_t,  ∂L/∂b = Σ_t Σ_batch δ_t     (each step's share while δ_t is in cache)

        then ∂L/∂W_S = Σ_{t>k} h_{t-k}^T δ_t. da is (T, B, H), or (1, B, H) when δ_t is not kept: each
        step's δ_t goes through it in turn (not with skips, whose ∂L/∂W_S reads every δ_t at the end).
        dh is (T, B, H), or (2, B, H) with
        ``only_last`` and no skips when ∂L/∂h_t is not kept (``_handed``). Kept δ_t, and with
        ``only_last`` and no skips kept ∂L/∂h_t, are computed in one-step buffers (two rows in turn
        for ∂L/∂h_t) and copied to da and dh past the cache row by row by ``_through_f``."""
        T, B, H = hidden.shape[0] - 1, hidden.shape[1], hidden.shape[2]
        keep = da.shape[0] == T
        overwrite = only_last and skip == 0
        if only_last and not overwrite:
            dh[:T - 1] = 0.0                                           # y_1..y_{T-1} send nothing
        grad_I[:] = 0.0
        grad_H[:] = 0.0
        grad_b[:] = 0.0
        delta = np.empty(da.shape[1:]) if keep else da[0]
        keep_dh = overwrite and dh.shape[0] == T and T > 1
        by_row = keep and _rows_in_lines(da[0]) and _rows_in_lines(dh[0])   # kept as δ_t goes along
        handed = np.empty((2, B, H)) if keep_dh else dh
        if keep_dh:
            handed[1] = dh[T - 1]
        for t in range(T, 0, -1):
            if _cancelled(flag):
                _fence()
                return t
            kept_dh = keep_dh and t < T                               # δ_t (and the kept rows)
            dh_squares[t - 1] = _through_f(_handed(handed, t - 1, T), hidden[t], activation, delta, by_row,
                                           da[t - 1 if keep else 0], by_row and kept_dh, dh[t - 1 if keep_dh else 0])
            if kept_dh and not by_row:
                _keep(_handed(handed, t - 1, T), dh[t - 1])
            if t > 1:
                # δ_t W_H^T to h_{t-1}
                _product(delta, W_HT, _handed(handed, t - 2, T), 0.0 if overwrite else 1.0)
            if skip > 0 and t > skip:
                _product(delta, W_ST, dh[t - skip - 1], 1.0)                  # δ_t W_S^T to h_{t-k}
            _product_transposed(hidden[t - 1], delta, term, 0.0)              # h_{t-1}^T δ_t
            squares[t - 1] = _add_term(term, grad_H)
            _product_transposed(x[t - 1], delta, grad_I, 1.0)                 # + x_t^T δ_t, and
            _add_rows(delta, grad_b)                                          # + Σ_batch δ_t: in cache
            if keep and not by_row:
                _keep(delta, da[t - 1])
        _fence()
        if skip > 0 and T > skip:
            _product_transposed(hidden[1:T + 1 - skip].reshape((T - skip) * B, H),
                                da[skip:].reshape((T - skip) * B, H), grad_S, 0.0)
        elif skip > 0:
            grad_S[:] = 0.0                                            # no step reaches k back
        return 0

    @numba.njit(**_KERNEL)
    def lstm_forward(x, W_I, W_H, b, pre, gates, hidden, cell, tanh_c, flag, hidden_squares, columns):
        """LSTM forward, t = 1..T (as ``LSTM._forward``'s loop): a_t = x_t W_I + h_{t-1} W_H + b → pre,
        then ``lstm_cell`` → gates, cell[t], tanh_c, hidden[t], and Σ_batch,units h_t² →
        hidden_squares[t−1]. hidden[0], cell[0] are read, not set.
        pre is (T, B, 4H), or (1, B, 4H) when a_t is not kept (each step's goes through it in turn); a
        kept a_t is computed in a one-step buffer and copied to pre past the cache row by row by
        ``lstm_cell``. columns (T, B) int64: each one-hot x_t's columns (``_one_hot``; −1 first in a
        step whose x_t is not), which ``lstm_backward`` reads; x_t W_I of a one-hot x_t is read off
        W_I's rows where ``_pickable(W_I)``, as ``lstm_cell`` says. columns (0, B): the products
        for every x_t (the tests' reference)."""
        T = x.shape[0]
        keep = pre.shape[0] == T
        by_row = keep and _rows_in_lines(pre[0])                       # a_t kept as the cell goes along
        a = np.empty(pre.shape[1:]) if keep else pre[0]
        rows_known = columns.shape[0] == T
        pickable = rows_known and _pickable(W_I)
        no_columns = np.empty(0, np.int64)
        for t in range(1, T + 1):
            if _cancelled(flag):
                _fence()
                return t
            step_columns = columns[t - 1] if rows_known else no_columns
            pick = rows_known and _one_hot(x[t - 1], step_columns) and pickable
            if pick:                                                   # x_t W_I: rows of W_I, in lstm_cell
                _product(hidden[t - 1], W_H, a, 0.0)                   # h_{t-1} W_H
            else:
                _product(x[t - 1], W_I, a, 0.0)                        # x_t W_I
                _product(hidden[t - 1], W_H, a, 1.0)                   # + h_{t-1} W_H
            lstm_cell(a, b, cell[t - 1], gates[t - 1], cell[t], tanh_c[t - 1], hidden[t], by_row,
                      pre[t - 1 if keep else 0], pick, W_I, step_columns)
            hidden_squares[t - 1] = _sum_squares(hidden[t])
            if keep and not by_row:
                _keep(a, pre[t - 1])
        _fence()
        return 0

    @numba.njit(**_KERNEL)
    def lstm_backward(dh, gates, cell, tanh_c, hidden, x, W_HT, only_last, flag, da, dcell, dc_next, grad_I,
                      grad_H, grad_b, term, squares, dh_squares, columns):
        """BPTT through the cell, t = T..1 (as ``LSTM._backward`` then ``_weight_grads``): on entry
        dh[t−1] holds what y_t sends to h_t (only dh[T−1] with ``only_last``);

            ``lstm_cell_backward``: ∂L/∂c_t → dcell[t−1], δ_t → da[t−1], ‖∂L/∂h_t‖_F² → dh_squares[t−1]
            ∂L/∂h_{t-1} += δ_t W_H^T                  (= with ``only_last``)
            ∂L/∂W_H = Σ_t h_{t-1}^T δ_t,  squares[t−1] = ‖h_{t-1}^T δ_t‖_F²   (term: (H, 4H) scratch)
            ∂L/∂W_I = Σ_t x_t^T δ_t,  ∂L/∂b = Σ_t Σ_batch δ_t

        dc_next: (B, H) scratch. da and dcell are (T, ·, ·), or (1, ·, ·) when δ_t and ∂L/∂c_t are not
        kept (each step's goes through them in turn); dh (T, B, H), or (2, B, H) with ``only_last``
        (``_handed``). Kept δ_t and ∂L/∂c_t, and with ``only_last`` kept ∂L/∂h_t, are computed in
        one-step buffers and copied past the cache row by row by ``lstm_cell_backward``. columns: as
        ``lstm_forward`` left them; x_t^T δ_t of a one-hot x_t adds δ_t's rows (``_rows_by_column``);
        (0, B): the products."""
        dc_next[:] = 0.0                                               # nothing comes from beyond c_T
        grad_I[:] = 0.0
        grad_H[:] = 0.0
        grad_b[:] = 0.0
        T, B, H = gates.shape[0], dh.shape[1], dh.shape[2]
        keep = da.shape[0] == T
        delta = np.empty(da.shape[1:]) if keep else da[0]
        dc = np.empty(dcell.shape[1:]) if keep else dcell[0]
        keep_dh = only_last and dh.shape[0] == T and T > 1
        by_row = (keep and _rows_in_lines(da[0]) and _rows_in_lines(dcell[0])      # kept as the cell goes
                  and _rows_in_lines(dh[0]))
        handed = np.empty((2, B, H)) if keep_dh else dh
        if keep_dh:
            handed[1] = dh[T - 1]
        by_column = np.empty(grad_I.shape)
        rows_known = columns.shape[0] == T
        for t in range(T, 0, -1):
            if _cancelled(flag):
                _fence()
                return t
            kept_dh = keep_dh and t < T
            dh_squares[t - 1] = lstm_cell_backward(_handed(handed, t - 1, T), dc_next, gates[t - 1], cell[t - 1],
                                                   tanh_c[t - 1], dc, delta, by_row, da[t - 1 if keep else 0],
                                                   dcell[t - 1 if keep else 0], by_row and kept_dh,
                                                   dh[t - 1 if keep_dh else 0])
            if kept_dh and not by_row:
                _keep(_handed(handed, t - 1, T), dh[t - 1])
            if t > 1:
                _product(delta, W_HT, _handed(handed, t - 2, T), 0.0 if only_last else 1.0)   # δ_t W_H^T
            _product_transposed(hidden[t - 1], delta, term, 0.0)              # h_{t-1}^T δ_t
            squares[t - 1] = _add_term(term, grad_H)
            if not (rows_known and columns[t - 1, 0] >= 0 and _rows_by_column(delta, columns[t - 1], grad_I,
                                                                               by_column)):
                _product_transposed(x[t - 1], delta, grad_I, 1.0)             # + x_t^T δ_t, and
            _add_rows(delta, grad_b)                                          # + Σ_batch δ_t: in cache
            if keep and not by_row:
                _keep(delta, da[t - 1])
                _keep(dc, dcell[t - 1])
        _fence()
        return 0
else:
    CACHED = False
    rnn_forward = rnn_backward = lstm_forward = lstm_backward = flag_address = None
    lstm_cell = lstm_cell_backward = adam_update = sgd_update = None
    ACTIVATIONS = {}
