"""PyTorch's own per-op sample inputs (``op_db`` from torch's OpInfo test suite) run against
ember: a corpus of edge cases (empty and 0-d tensors, non-contiguous inputs and views, broadcasting,
extreme arguments) written by PyTorch's authors.

For every OpInfo that ember covers, the samples for float32, float64 and one integer dtype are
converted to ember and run; results must match torch's (values, dtypes, shapes, named tuples)
and, for float64 samples of differentiable ops, so must the gradients of a random projection
of the outputs with respect to every input that requires grad. The method variant
(``Tensor.<name>``) and the in-place variant (``Tensor.<name>_``) run on the float32 and integer
samples; an in-place op that torch refuses must raise the same exception type and leave the
tensor unchanged. Every ``error_inputs`` sample must raise torch's exception type.

Coverage is explicit: every OpInfo is run or listed in ``UNCOVERED`` with the reason; samples
ember handles differently on purpose are listed in ``DIFFERENT``, and samples that fail because
of bugs reported to the owners of other files in ``REPORTED`` (they must keep failing, so a fix
forces the entry out).
"""
import random

import numpy as np
import pytest
import torch
from torch.testing._internal.common_methods_invocations import op_db

import ember
from helpers import assert_same
from op_db_support import (Converter, always, arg, assert_same_meta, assert_same_result,
                           assert_valid_indices, builtin_exception, dropping, flatten,
                           gradcheck_wrapper, has_kwarg, not_tensor_input,
                           op_key, op_seed, out_overlaps_input, projection_loss, resolve,
                           resolve_inplace, resolve_method, shapes)

# samples per op and dtype, taken evenly from torch's list (a few ops have thousands)
MAX_SAMPLES = 48

_NOT_EMBER = "not part of ember's op surface"
_INTERNAL = "ATen-internal or torch.compile helper op, not public API"
_COPY = "*_copy functional variant of a view op (for torch's compilers), not public API"

# OpInfos ember does not cover: op name or "name/variant" -> reason
UNCOVERED = {
    **{name: _INTERNAL for name in (
        "_batch_norm_with_update", "_chunk_cat", "_native_batch_norm_legit", "_segment_reduce",
        "_softmax_backward_data", "_unsafe_masked_index", "_unsafe_masked_index_put_accumulate",
        "_upsample_bilinear2d_aa", "native_batch_norm", "native_dropout_backward",
        "native_group_norm", "native_layer_norm", "max_pool2d_with_indices_backward",
        "torch._scaled_mm", "torch._scaled_mm_v2", "torch.ops.aten._efficient_attention_forward",
        "torch.ops.aten._flash_attention_forward", "torch.ops.aten._safe_softmax.default",
        "grid_sampler_2d", "grid_sampler_3d", "slice", "hash_tensor", "nonzero_static",
        "empty_permuted", "new_empty_strided")},
    **{name: "CUDA jiterator (runtime-compiled kernels), CUDA only" for name in (
        "jiterator_unary", "jiterator_binary", "jiterator_4inputs_with_extra_args",
        "jiterator_binary_return_by_ref", "jiterator_2inputs_2outputs")},
    **{name: _COPY for name in (
        "alias_copy", "as_strided_copy", "diagonal_copy", "expand_copy", "permute_copy",
        "split_with_sizes_copy", "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy",
        "unfold_copy", "unsqueeze_copy", "view_copy")},
    **{name: "unsafe_* aliases without aliasing checks, not public API" for name in (
        "unsafe_chunk", "unsafe_split")},
    "sparse.sampled_addmm": "sparse", "sparse.mm": "sparse", "to_sparse": "sparse",
    "chalf": "complex32 has no NumPy dtype",
    "linalg.ldl_factor": _NOT_EMBER, "linalg.ldl_factor_ex": _NOT_EMBER,
    "linalg.ldl_solve": _NOT_EMBER,
    "stft": _NOT_EMBER + " (no torch.fft)", "istft": _NOT_EMBER + " (no torch.fft)",
    # public torch functions ember does not implement (yet)
    **{name: "not implemented in ember" for name in (
        "as_strided_scatter", "block_diag", "cartesian_prod", "combinations",
        "cumulative_trapezoid", "trapezoid", "trapz", "fill", "frexp", "ldexp", "gcd", "lcm",
        "gradient", "histogram", "histogramdd", "i0", "igamma", "igammac", "isin", "mvlgamma",
        "nextafter", "renorm", "resolve_neg", "sum_to_size", "svd_lowrank", "pca_lowrank",
        "unravel_index", "nn.functional.fractional_max_pool2d",
        "nn.functional.fractional_max_pool3d", "nn.functional.linear_cross_entropy")},
}
# whole namespaces
UNCOVERED_PREFIXES = {
    "special.": "ember.special is not covered",
    "fft.": "ember has no torch.fft",
    "masked.": "torch.masked (prototype masked reductions) is " + _NOT_EMBER,
    "signal.": "ember has no torch.signal",
}

# In the tables below, samples are picked by matchers ``f(sample, dtype) -> bool``, and keys
# are OpInfo keys ("*": every op), with ":inplace" or ":errors" where only that check (the
# in-place variant, the error inputs) is concerned.

# Samples ember handles differently from torch on purpose: key -> [(matcher, reason)]
_UNBOUND = "an unbound Tensor method called with a number as self: ember's (Python) methods " \
    "accept it, torch's C methods refuse it"
DIFFERENT = {
    "*:errors": [(lambda s, dtype: isinstance(s.input, torch.Tensor) and s.input.ndim > 64,
                  "NumPy arrays have at most 64 dims: ember cannot even build the input"),
                 (out_overlaps_input, "ember computes the result before writing it into "
                                      "out=, so an out= sharing memory with an input is safe")],
    **{f"{k}:errors": [(not_tensor_input, _UNBOUND)] for k in (
        "__radd__", "__rand__", "__rdiv__", "__rmod__", "__rmul__", "__ror__", "__rpow__",
        "__rsub__", "__rxor__")},
    "rsub:errors": [(not_tensor_input, "ember.rsub accepts a Python number as input")],
    "addbmm:inplace": [(lambda s, dtype: s.broadcasts_input,
                        "torch's addbmm_ resizes a smaller self to the result's shape; ember "
                        "refuses, as every in-place op does")],
    "gather": [(lambda s, dtype: s.args[1].numel() == 0 and s.args[1].dtype == torch.uint8,
                "torch checks the index dtype only when the index is not empty")],
    "nn.functional.embedding": [(has_kwarg("sparse", True), "ember has no sparse gradients")],
    "nn.functional.embedding_bag": [(has_kwarg("sparse", True),
                                     "ember has no sparse gradients")],
    "narrow_copy:errors": [(lambda s, dtype: s.args[0] >= s.input.ndim,
                            "ember raises IndexError for a dim out of range as torch.narrow "
                            "does; torch.narrow_copy's RuntimeError is an internal assert")],
}

# Samples failing because of known bugs not fixed yet (with a reproduction in the entry):
# key -> [(matcher, what is wrong)]. They must fail; once fixed the test fails until the entry
# is removed. Empty: every bug the corpus found is fixed.
REPORTED = {}

# Results that are random or uninitialized: shapes, dtypes and requires_grad only.
# key -> matcher of the samples concerned
META_ONLY = {
    **{k: always for k in (
        "bernoulli", "cauchy", "exponential", "geometric", "log_normal", "multinomial",
        "normal", "normal/in_place", "normal/number_mean", "uniform", "rand_like", "randint",
        "randint_like", "randn", "randn_like",
        "empty", "empty_like", "empty_strided", "new_empty")},
    **{k: dropping(True) for k in (
        "nn.functional.dropout", "nn.functional.dropout2d", "nn.functional.dropout3d")},
    **{k: dropping(False) for k in (
        "nn.functional.alpha_dropout", "nn.functional.feature_alpha_dropout/with_train")},
    "nn.functional.rrelu": lambda s, dtype: bool(arg(s, 2, "training", False)),
    "nn.functional.scaled_dot_product_attention":
        lambda s, dtype: arg(s, 3, "dropout_p", 0.0) > 0,
    "nn.functional.multi_head_attention_forward":
        lambda s, dtype: arg(s, 9, "dropout_p", 0.0) > 0 and arg(s, 12, "training", True),
}

# (atol, rtol) per key and dtype where the default tolerance of helpers.assert_same is too tight
TOLERANCES = {
    # torch computes float32 euclidean distances through a matrix product (less accurate)
    "cdist": {torch.float32: (1e-4, 1e-4)},
    # large entries (~1e4) next to small ones: float32 rounding of the whole matrix
    "matrix_exp": {torch.float32: (1e-3, 1e-4)},
    # ember evaluates polygamma in float64; torch's float32 kernel is off by ~2e-5 near poles
    **{f"polygamma/polygamma_n_{n}": {torch.float32: (1e-5, 1e-4)} for n in range(5)},
    # sums of ~100 products of entries up to ~80 (one matrix product, summed in another order
    # than torch's): both are ~1e-4 off the float64 result where entries cancel
    "nn.functional.conv_transpose3d": {torch.float32: (1e-4, 1e-4)},
}

# (values, indices) results with indices unspecified among ties: key -> f(sample) -> (dim, keepdim)
TIE_INDICES = {
    "kthvalue": lambda s: (arg(s, 1, "dim", -1), arg(s, 2, "keepdim", False)),
    "topk": lambda s: (arg(s, 1, "dim", -1), True),
    "mode": lambda s: (arg(s, 0, "dim", -1), arg(s, 1, "keepdim", False)),
}

# Tensor.<name> / Tensor.<name>_ variants ember lacks: key -> reason
MISSING_VARIANTS = {
    "__rdiv__": "Tensor.__rdiv__ is Python 2's name; ember has __rtruediv__",
}


def _uncovered_reason(op):
    for k in (op_key(op), op.name):
        if k in UNCOVERED:
            return UNCOVERED[k]
    for prefix, reason in UNCOVERED_PREFIXES.items():
        if op.name.startswith(prefix):
            return reason
    return None


OPS = {op_key(op): op for op in op_db}
COVERED = sorted(k for k, op in OPS.items() if _uncovered_reason(op) is None)
WITH_ERRORS = [k for k in COVERED if OPS[k].error_inputs_func is not None]


def _seed(key):
    seed = op_seed(key)
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def _samples(op, dtype, requires_grad):
    """Up to MAX_SAMPLES of ``op``'s samples, always the same ones."""
    _seed(op_key(op))
    samples = list(op.sample_inputs("cpu", dtype, requires_grad=requires_grad))
    if len(samples) > MAX_SAMPLES:
        step = len(samples) / MAX_SAMPLES
        samples = [samples[int(i * step)] for i in range(MAX_SAMPLES)]
    return samples


def _dtypes(op):
    supported = op.supported_dtypes("cpu")
    ints = [d for d in (torch.int64, torch.int32, torch.uint8, torch.bool) if d in supported]
    return [d for d in (torch.float32, torch.float64) if d in supported] + ints[:1]


def _listed(table, key, sample, dtype, check=""):
    """The reason ``table`` gives for this sample (in ``check``: "", ":inplace", ":errors"),
    or None."""
    for k in (key + check, "*" + check):
        for match, reason in table.get(k, ()):
            if match(sample, dtype):
                return reason
    return None


class _Run:
    """One sample of one op: torch's results and ember's, compared."""

    def __init__(self, key, op, fn, sample, dtype):
        self.key, self.op, self.fn, self.sample, self.dtype = key, op, fn, sample, dtype
        self.conv = Converter()
        self.e_args = (self.conv(sample.input),) + self.conv(tuple(sample.args))
        self.e_kwargs = self.conv(sample.kwargs)

    def t_call(self, fn):
        s = self.sample
        return fn(s.input, *s.args, **s.kwargs)

    def e_call(self, fn):
        return fn(*self.e_args, **self.e_kwargs)

    def check(self, grad):
        self.random = META_ONLY.get(self.key, lambda s, d: False)(self.sample, self.dtype)
        try:
            t_out = self.t_call(self.op)
        except Exception as exc:  # torch refuses the sample: ember must refuse it alike
            with pytest.raises(builtin_exception(type(exc))):
                self.e_call(self.fn)
            return
        e_out = self.e_call(self.fn)
        self.compare(e_out, t_out)
        if grad and self.conv.grad_pairs() and not self.random:
            self.check_grads()
        if self.dtype != torch.float64:
            self.check_method(t_out)
            self.check_inplace()

    def compare(self, e_out, t_out):
        assert_same_meta(e_out, t_out)
        if self.random:
            return
        if self.key in TIE_INDICES:
            assert_valid_indices(e_out, t_out, self.sample.input,
                                 *TIE_INDICES[self.key](self.sample))
            return
        process = self.sample.output_process_fn_grad
        tol = TOLERANCES.get(self.key, {}).get(self.dtype, (None, None))
        assert_same_result(process(e_out), process(t_out), tol)

    def check_grads(self):
        wrapper, process = gradcheck_wrapper(self.op), self.sample.output_process_fn_grad
        s = self.sample
        t_flat = flatten(process(wrapper(self.op.op, s.input, *s.args, **s.kwargs)))
        e_flat = flatten(process(wrapper(self.fn, *self.e_args, **self.e_kwargs)))
        idx = [i for i, t in enumerate(t_flat) if isinstance(t, torch.Tensor) and t.requires_grad]
        for i in idx:
            assert e_flat[i].requires_grad, f"output {i} of ember does not require grad"
        if not idx:
            return
        seed = op_seed(self.key)
        t_loss = projection_loss(torch, [t_flat[i] for i in idx], seed)
        e_loss = projection_loss(ember, [e_flat[i] for i in idx], seed)
        pairs = self.conv.grad_pairs()
        t_grads = torch.autograd.grad(t_loss, [t for t, _ in pairs], allow_unused=True)
        e_grads = ember.autograd.grad(e_loss, [e for _, e in pairs], allow_unused=True)
        tol = TOLERANCES.get(self.key, {}).get("grad", (None, None))
        for i, (eg, tg) in enumerate(zip(e_grads, t_grads)):
            if tg is None:
                assert eg is None or not eg.detach().numpy().any(), f"grad {i}: torch has none"
            else:
                assert eg is not None, f"grad {i}: ember has none, torch has one"
                assert_same(eg, tg, *tol, what=f"grad {i}")

    def check_method(self, t_out):
        variant = resolve_method(self.op)
        if variant is None or self.key in MISSING_VARIANTS:
            return
        self.compare(self.e_call(variant[1]), t_out)

    def check_inplace(self):
        variant = resolve_inplace(self.op)
        if variant is None or self.key in MISSING_VARIANTS or \
                not isinstance(self.sample.input, torch.Tensor) or \
                _listed(DIFFERENT, self.key, self.sample, self.dtype, ":inplace"):
            return
        s = self.sample
        t_self = s.input.detach().clone()
        e_self = self.e_args[0].detach().clone()
        before = e_self.numpy().copy()
        try:
            t_res = variant[0](t_self, *s.args, **s.kwargs)
        except Exception as exc:
            with pytest.raises(builtin_exception(type(exc))):
                variant[1](e_self, *self.e_args[1:], **self.e_kwargs)
            np.testing.assert_array_equal(e_self.numpy(), before,
                                          err_msg="a refused in-place op modified its input")
            return
        e_res = variant[1](e_self, *self.e_args[1:], **self.e_kwargs)
        assert e_res is e_self, "the in-place variant does not return its input"
        self.compare(e_self, t_res)


def _run_sample(key, op, fn, sample, dtype, grad, check=""):
    """Runs one sample (``check`` ":errors" for an error input) unless DIFFERENT lists it; a
    sample REPORTED lists must fail."""
    if _listed(DIFFERENT, key, sample, dtype, check) is not None:
        return
    reported = _listed(REPORTED, key, sample, dtype, check)
    if reported is None:
        _Run(key, op, fn, sample, dtype).check(grad)
        return
    try:
        _Run(key, op, fn, sample, dtype).check(grad)
    except (Exception, pytest.fail.Exception):  # the reported bug, still there
        return
    raise AssertionError(f"fixed: {reported!r}; remove the entry from REPORTED")


@pytest.mark.parametrize("key", COVERED)
def test_samples(key):
    op = OPS[key]
    fn = resolve(op)
    assert fn is not None, f"ember has no {op.name}; list it in UNCOVERED with the reason"
    for dtype in _dtypes(op):
        grad = dtype == torch.float64 and op.supports_autograd
        for i, sample in enumerate(_samples(op, dtype, grad)):
            try:
                _run_sample(key, op, fn, sample, dtype, grad)
            except BaseException as exc:  # name the failing sample, then fail
                exc.add_note(f"{key}: sample {i} of {dtype}: {sample.summary()}")
                raise


@pytest.mark.parametrize("key", WITH_ERRORS)
def test_error_inputs(key):
    """torch's samples that must raise: ember raises the same exception type. (A few generic
    ones do not raise in torch; those are compared as ordinary samples.)"""
    op = OPS[key]
    fn = resolve(op)
    _seed(key)
    for i, error in enumerate(op.error_inputs("cpu")):
        try:
            _run_sample(key, op, fn, error.sample_input, None, False, ":errors")
        except BaseException as exc:
            exc.add_note(f"{key}: error input {i} ({error.error_type.__name__}, "
                         f"{error.error_regex!r}): {error.sample_input.summary()}")
            raise


def test_coverage_is_explicit():
    """Every OpInfo is run or listed, listed ones really are missing from ember, and the
    method and in-place variants exist unless listed."""
    names = {op.name for op in op_db}
    keys = [k.split(":")[0] for table in (UNCOVERED, DIFFERENT, REPORTED, META_ONLY, TOLERANCES,
                                          TIE_INDICES, MISSING_VARIANTS) for k in table]
    stale = [k for k in keys if k != "*" and k not in OPS and k not in names]
    assert not stale, f"tables name OpInfos op_db does not have: {stale}"
    present = [k for k, op in OPS.items() if _uncovered_reason(op) and resolve(op) is not None]
    assert not present, f"ember now has these; remove them from UNCOVERED: {present}"
    missing = [k for k in COVERED if resolve(OPS[k]) is None]
    assert not missing, f"ember does not cover these and UNCOVERED does not list them: {missing}"
    no_variant = [k for k in COVERED if k not in MISSING_VARIANTS and any(
        v is not None and v[1] is None for v in (resolve_method(OPS[k]), resolve_inplace(OPS[k])))]
    assert not no_variant, f"ember lacks the method or in-place variant of {no_variant}"
