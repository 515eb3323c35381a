"""Tensor creation against PyTorch: dtype inference, memory sharing, filled tensors, ranges,
complex/polar, and copy_/fill_/zero_ (values, dtypes, autograd, errors)."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, check, gradcheck_fn, randn, raises


def both(expr, values=True, **env):
    """Evaluate ``expr`` with ``lib`` bound to torch and to ember; compare the results (only
    shapes and dtypes when not ``values``), or the exception types when torch raises."""
    results = []
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                results.append(eval(expr, {"lib": lib, "np": np, "math": math, **env}))
            except Exception as e:  # noqa: BLE001 - compared below
                results.append(e)
    t, e = results
    if isinstance(t, Exception):
        assert isinstance(e, Exception), f"{expr}: torch raised {t!r}, ember returned {e!r}"
        # ember raises the same type, or a RuntimeError/ValueError/TypeError where torch's C++
        # layer leaks an odd one (NotImplementedError is a RuntimeError).
        assert isinstance(e, type(t)) or isinstance(t, type(e)), \
            f"{expr}: torch raised {type(t).__name__}, ember {type(e).__name__}: {e}"
        return e
    if isinstance(e, Exception):
        raise e
    if isinstance(t, str):
        t = t.replace("torch.", "ember.")
    if isinstance(t, torch.dtype):
        assert isinstance(e, ember.dtype) and e.name == str(t)[6:], f"{expr}: {e} != {t}"
    elif values:
        assert_same(e, t, what=expr)
    else:
        assert e.shape == t.shape and e.dtype.name == str(t.dtype)[6:], expr
        assert e.requires_grad == t.requires_grad, expr
    return e


TENSOR_DATA = [
    "1", "2.5", "True", "1 + 2j", "[]", "[[]]", "[[], []]", "[1, 2, 3]", "[1.0, 2]", "[1, True]",
    "[True, 1.5]", "[1, 2j]", "[[1, 2], [3, 4]]", "((1, 2), (3, 4))", "range(4)",
    "[[1.5], [2.5]]", "[[[1]], [[2]]]", "np.float32(1.5)", "np.int32(3)", "np.bool_(True)",
    "[np.float32(1.0), 2]", "[np.float64(1.0), 2]", "[1.5, np.float64(2)]", "[np.int32(1), 2]",
    "[np.int16(1), np.int8(2)]", "np.array([1, 2], dtype=np.int16)", "np.array(1.0)",
    "np.arange(6.0).reshape(2, 3)", "np.array([[1, 2]], dtype=np.uint8)",
    "[np.array([1, 2]), np.array([3, 4])]", "np.array([True, False])",
    "np.array([1 + 1j], dtype=np.complex128)", "[lib.tensor(1), lib.tensor(2.5)]",
    "[lib.tensor(1, dtype=lib.int32), 2]", "[lib.tensor([1.0]), lib.tensor([2.0])]",
    "[[lib.tensor(1.5, dtype=lib.float64)], [2]]", "lib.ones(2, 3)", "[-1, 2**62]",
    "np.arange(6.0)[::2]", "np.asfortranarray(np.ones((2, 3)))", "[1e300, -1e-300]",
    "np.array([1.5, 2], dtype=np.float16)", "[np.float16(1), 2]",
]


def test_from_torch_tensors():
    for x in (torch.ones(2, 3), torch.tensor(2.5), torch.arange(3, dtype=torch.int32)):
        assert_same(ember.tensor(x), x)
        assert_same(ember.as_tensor(x), x)
    assert_same(ember.tensor([torch.tensor(1.5), torch.tensor(2.0)]),
                torch.tensor([torch.tensor(1.5), torch.tensor(2.0)]))
    src = torch.zeros(2)
    ember.tensor(src).add_(1)
    assert src.tolist() == [0.0, 0.0]


def test_bfloat16_numpy_data():
    import ml_dtypes
    a = np.array([1.5, -2.0], dtype=ml_dtypes.bfloat16)
    for t in (ember.tensor(a), ember.as_tensor(a), ember.from_numpy(a), ember.tensor([a[0], 2])):
        assert t.dtype is ember.bfloat16
    assert ember.tensor(a).tolist() == [1.5, -2.0]
    assert ember.from_numpy(a).data_ptr() == a.__array_interface__["data"][0]


@pytest.mark.parametrize("data", TENSOR_DATA)
def test_tensor_inference(data):
    both(f"lib.tensor({data})")
    both(f"lib.as_tensor({data})")
    both(f"lib.asarray({data})")


@pytest.mark.parametrize("data", ["[1, 2.5]", "[[1, 2], [3, 4]]", "3", "np.arange(4)",
                                  "[True, False]"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int8", "uint8", "int32",
                                   "bool", "complex64"])
def test_tensor_explicit_dtype(data, dtype):
    both(f"lib.tensor({data}, dtype=lib.{dtype})")
    both(f"lib.as_tensor({data}, dtype=lib.{dtype})")


def test_tensor_default_dtype_follows_setting():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for data in ("[1.5]", "2.5", "[1j]", "[1, 2]", "[np.float32(1)]"):
            both(f"lib.tensor({data})")
            both(f"lib.zeros(2)")
            both(f"lib.arange(0.5, 2)")
            both(f"lib.full((2,), 1.5)")
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("data,exc,match", [
    ("[[1, 2], [3]]", ValueError, "expected sequence of length 2 at dim 1 \\(got 1\\)"),
    ("[[1, 2], [3, 4, 5]]", ValueError, "expected sequence of length 2 at dim 1 \\(got 3\\)"),
    ("[[[1], [2]], [[3], [4, 5]]]", ValueError, "length 1 at dim 2 \\(got 2\\)"),
    ("[[1, 2], 3]", TypeError, "expected a sequence at dim 1"),
    ("[1, [2]]", TypeError, "expected a number at dim 1"),
    ("'a'", TypeError, "invalid data type 'str'"),
    ("[1, 'a']", TypeError, "invalid data type 'str'"),
    ("None", RuntimeError, "Could not infer dtype of NoneType"),
    ("[None]", RuntimeError, "Could not infer dtype of NoneType"),
    ("object()", RuntimeError, "Could not infer dtype of object"),
    ("{1: 2}", RuntimeError, "Could not infer dtype of dict"),
    ("[ember.zeros(2, 2)]", ValueError, "one-element tensors .* shape \\[2, 2\\].*stack"),
    ("np.array(['a'])", TypeError, "numpy.str"),
])
def test_tensor_errors(data, exc, match):
    raises(exc, "^tensor: .*" + match, lambda: ember.tensor(eval(data)))


def test_tensor_overflow():
    raises(RuntimeError, "tensor: .*out of range for ember.int64", ember.tensor, 2**63)
    raises(RuntimeError, "tensor: .*out of range", ember.tensor, [2**64])
    assert ember.tensor(-1, dtype=ember.uint8).item() == 255


def test_tensor_copies_and_warns():
    arr = np.arange(3.0)
    t = ember.tensor(arr)
    arr[0] = 7
    assert t[0].item() == 0
    src = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="detach\\(\\).clone\\(\\)"):
        c = ember.tensor(src)
    assert c.is_leaf and not c.requires_grad
    c.add_(1)
    assert src[0].item() == 1
    r = ember.tensor([1.0, 2.0], requires_grad=True)
    assert r.requires_grad and r.is_leaf
    raises(RuntimeError, "floating point", ember.tensor, [1, 2], requires_grad=True)


def test_as_tensor_and_asarray_share_memory():
    arr = np.arange(4.0)
    for t in (ember.as_tensor(arr), ember.asarray(arr), ember.from_numpy(arr)):
        t[0] = 9.0
        assert arr[0] == 9.0
        arr[0] = 0.0
    assert ember.as_tensor(arr, dtype=ember.float32).dtype is ember.float32
    copied = ember.as_tensor(arr, dtype=ember.float32)
    copied[1] = 5
    assert arr[1] == 1.0
    x = ember.ones(3, requires_grad=True)
    assert ember.as_tensor(x) is x
    assert ember.asarray(x) is x
    assert ember.as_tensor(x, dtype=ember.float64).grad_fn is not None
    y = ember.asarray(arr, copy=True)
    y[0] = 5
    assert arr[0] == 0
    raises(ValueError, "asarray: copy=False", ember.asarray, arr, dtype=ember.float32,
           copy=False)
    raises(ValueError, "asarray: copy=False", ember.asarray, ember.ones(2), dtype=ember.int64,
           copy=False)
    t = ember.ones(2)
    assert ember.asarray(t, requires_grad=True) is t and t.requires_grad


def test_from_numpy():
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = ember.from_numpy(arr)
    assert t.dtype is ember.int32 and t.shape == (2, 3)
    arr[0, 0] = 42
    assert t[0, 0].item() == 42
    assert ember.from_numpy(arr[:, ::2]).stride() == torch.from_numpy(arr[:, ::2]).stride()
    raises(TypeError, "from_numpy: expected np.ndarray", ember.from_numpy, [1, 2])
    raises(ValueError, "from_numpy: .*byte order", ember.from_numpy,
           np.arange(3, dtype=">i4"))
    raises(TypeError, "from_numpy: .*uint16", ember.from_numpy, np.arange(3, dtype=np.uint16))
    raises(TypeError, "from_numpy: .*str", ember.from_numpy, np.array(["a"]))
    ro = np.arange(3.0)
    ro.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        t = ember.from_numpy(ro)
    raises(RuntimeError, "read-only", t.fill_, 1.0)
    # big-endian and unsupported integer types convert when copying is allowed
    assert ember.tensor(np.arange(3, dtype=">i4")).tolist() == [0, 1, 2]
    assert ember.tensor(np.array([1, 2], dtype=np.uint16)).dtype is ember.int32


SIZES = ["2, 3", "(2, 3)", "[2, 3]", "lib.Size([2, 3])", "()", "0", "(0, 4)", "5"]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
def test_filled(fn, size):
    values = fn != "empty"  # torch's empty is uninitialized
    out = both(f"lib.{fn}({size})", values)
    both(f"lib.{fn}({size}, dtype=lib.int16)", values)
    both(f"lib.{fn}({size}, dtype=lib.bool)", values)
    assert not out.requires_grad
    assert both(f"lib.{fn}({size}, requires_grad=True)", values).requires_grad


@pytest.mark.parametrize("fill", ["1", "1.", "True", "1j", "lib.tensor(2)",
                                  "lib.tensor(2.5, dtype=lib.float64)", "np.float64(2)",
                                  "np.int32(3)", "-0.0", "float('nan')", "float('inf')"])
def test_full_dtype_inference(fill):
    both(f"lib.full((2, 3), {fill})")
    both(f"lib.full((2,), {fill}, dtype=lib.float64)")
    both(f"lib.full_like(lib.zeros(2, dtype=lib.int32), {fill})" if "j" not in fill else "1")


@pytest.mark.parametrize("expr", [
    "lib.zeros(-1)", "lib.ones((2, -3))", "lib.zeros(2.5)", "lib.full(2, 1)",
    "lib.full((2,), 1j, dtype=lib.int64)", "lib.full((2,), 300, dtype=lib.int8)",
    "lib.zeros(2, dtype=lib.int64, requires_grad=True)", "lib.full((2,), 'a')",
    "lib.empty(-2, 3)",
])
def test_filled_errors(expr):
    e = both(expr)
    name = expr.split("(")[0].split(".")[1]
    assert str(e).startswith(name + ":"), str(e)


def test_out_argument():
    for fn in ("zeros", "ones", "empty"):
        both(f"lib.{fn}(3, out=lib.zeros(2, dtype=lib.int64))", fn != "empty")
        both(f"lib.{fn}((2, 2), out=lib.zeros(4))", fn != "empty")
    both("lib.full((2,), 1.5, out=lib.zeros(2, dtype=lib.float64))")
    both("lib.arange(5, out=lib.zeros(2))")
    both("lib.linspace(0, 1, 5, out=lib.zeros(5, dtype=lib.float64))")
    both("lib.eye(3, out=lib.zeros(1))")
    out = ember.zeros(2)
    assert ember.ones(2, out=out) is out and out.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("fn,extra", [("zeros_like", ""), ("ones_like", ""),
                                      ("empty_like", ""), ("full_like", ", 7")])
def test_like(fn, extra):
    values = fn != "empty_like"
    for src in ("lib.ones(2, 3, dtype=lib.int32)", "lib.ones(0)", "lib.tensor(1.5)",
                "lib.ones(4, 2).t()"):
        both(f"lib.{fn}({src}{extra})", values)
        both(f"lib.{fn}({src}{extra}, dtype=lib.float64)", values)
        both(f"lib.{fn}({src}{extra}, dtype=lib.float16, requires_grad=True)", values)
        both(f"lib.{fn}({src}{extra}, device='cpu')", values)
    raises(TypeError, f"{fn}: argument 'input' must be a Tensor", getattr(ember, fn),
           *([[1.0]] + ([7] if extra else [])))


@pytest.mark.parametrize("expr", [
    "x.new_tensor([1, 2])", "x.new_tensor([1.5], dtype=lib.int32)", "x.new_tensor(3)",
    "x.new_zeros(2, 3)", "x.new_zeros((2,))", "x.new_ones([3])", "x.new_ones(2, dtype=lib.int64)",
    "x.new_full((2,), 3)", "x.new_full((2,), 3.5, dtype=lib.float64)", "x.new_empty((2, 1))",
    "x.new_empty(2, requires_grad=True)", "x.new([1, 2])", "x.new()", "x.new(2, 3)",
    "x.new(x)", "x.new_tensor(np.array([1, 2]))",
])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float64"])
def test_new_methods(expr, dtype):
    if "requires_grad" in expr and dtype == "int32":
        return
    env_expr = f"(lambda x: {expr})(lib.ones(2, dtype=lib.{dtype}))"
    result = both(env_expr, values="empty" not in expr and "new(2" not in expr)
    if "new_tensor" in expr:
        assert result.is_leaf


def test_new_errors_and_sharing():
    x = ember.ones(2)
    raises(TypeError, "new: expected a tensor of dtype ember.float32", x.new,
           ember.ones(2, dtype=ember.int64))
    alias = x.new(x)
    alias[0] = 5
    assert x[0].item() == 5
    src = ember.tensor([1.0, 2.0])
    with pytest.warns(UserWarning):
        c = x.new_tensor(src)
    c[0] = 3
    assert src[0].item() == 1


def test_legacy_constructor():
    both("lib.Tensor(2, 3).shape")
    both("lib.Tensor([1, 2])")
    both("lib.Tensor(np.array([1, 2]))")
    both("lib.Tensor()")
    both("lib.Tensor([[1.5], [2]])")
    raises(TypeError, "Tensor: expected data", ember.Tensor, "abc", 2)


ARANGE = [
    "5", "lib.tensor(5)", "lib.tensor(5., dtype=lib.float64)", "0, 1, 0.1", "0, 10, 3",
    "5, 0, -1", "np.int32(4)", "np.float64(4)", "0.5, 3, dtype=lib.int64", "-3.5, 2",
    "10, dtype=lib.uint8", "0, 1, 0.3, dtype=lib.int32", "True", "1, 2.5, 0.5",
    "0, 1, 1/3", "-1, 1, 0.2, dtype=lib.float64", "1e6, 1e6 + 10", "0, 5, dtype=lib.float16",
    "0, 3, dtype=lib.bfloat16", "0, 0", "3, 3, 1.5", "0, -10, -2.5", "10, dtype=lib.int8",
    "0, 2**40, 2**37",
]


@pytest.mark.parametrize("args", ARANGE)
def test_arange(args):
    both(f"lib.arange({args})")


def test_arange_lengths_match_torch():
    rng = np.random.default_rng(3)
    for _ in range(300):
        start = float(rng.uniform(-100, 100))
        step = float(rng.choice([-1, 1]) * 10 ** rng.uniform(-3, 1))
        end = start + step * float(rng.uniform(0, 50))
        for dtype in (torch.float32, torch.float64):
            t = torch.arange(start, end, step, dtype=dtype)
            e = ember.arange(start, end, step, dtype=getattr(ember, str(dtype)[6:]))
            assert e.shape == t.shape, (start, end, step)
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("expr,match", [
    ("lib.arange(0, 5, -1)", "upper bound and lower bound inconsistent with step sign"),
    ("lib.arange(0, 5, 0)", "step must be nonzero"),
    ("lib.arange(float('inf'))", "unsupported range"),
    ("lib.arange(float('nan'))", "unsupported range"),
])
def test_arange_errors(expr, match):
    e = both(expr)
    assert str(e).startswith("arange: ") and match in str(e)


@pytest.mark.parametrize("args", ["1, 4", "0, 1, 0.25", "1, 4, dtype=lib.int64", "4, 1, -1",
                                  "0, 1, 0.3", "-2.5, 2.5", "5", "1, 0"])
def test_range(args):
    with pytest.warns(UserWarning, match="deprecated"):
        ember.range(0, 1)
    both(f"lib.range({args})")


LINSPACE = ["0, 10, 4, dtype=lib.int64", "0, 1, 1", "0, 1, 0", "3, 1, 5", "0, 1, 2",
            "lib.tensor(0.), 1, 3", "0, 10, 5, dtype=lib.int64", "0, 1j, 3", "-5, 5, 11",
            "0, 1, 100", "0, 1, 7, dtype=lib.float64", "1, 2, 5, dtype=lib.float16",
            "2.5, -7.25, 33", "0, 255, 7, dtype=lib.uint8", "1 + 1j, 2 - 3j, 6"]


@pytest.mark.parametrize("args", LINSPACE)
def test_linspace_logspace(args):
    both(f"lib.linspace({args})")
    both(f"lib.logspace({args})")
    both(f"lib.logspace({args}, base=2)") if "dtype" not in args else None
    both(f"lib.linspace({args}, requires_grad=True)") if "dtype" not in args and "j" not in args \
        else None


def test_linspace_errors():
    e = both("lib.linspace(0, 1, -1)")
    assert str(e).startswith("linspace: number of steps must be non-negative")
    both("lib.logspace(0, 1, -1)")
    raises(TypeError, "linspace: steps must be an int", ember.linspace, 0, 1, 2.5)


@pytest.mark.parametrize("args", ["3", "2, 3", "3, 2", "0", "0, 2", "1, dtype=lib.int64",
                                  "2, dtype=lib.bool", "3, requires_grad=True"])
def test_eye(args):
    both(f"lib.eye({args})")


def test_eye_errors():
    assert str(both("lib.eye(-1)")).startswith("eye: n must be greater or equal to 0")
    assert str(both("lib.eye(2, -1)")).startswith("eye: m must be greater or equal to 0")


@pytest.mark.parametrize("size,stride", [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((4,), (2,)),
                                         ((2, 0), (1, 1)), ((), ())])
def test_empty_strided(size, stride):
    e = ember.empty_strided(size, stride, dtype=ember.float64)
    t = torch.empty_strided(size, stride, dtype=torch.float64)
    assert e.shape == t.shape and e.stride() == t.stride() and e.dtype is ember.float64
    raises(RuntimeError, "empty_strided: mismatch in length", ember.empty_strided, (2, 3), (1,))


def test_scalar_tensor():
    for v in ("3", "True", "2.5", "-1"):
        both(f"lib.scalar_tensor({v})")
        both(f"lib.scalar_tensor({v}, dtype=lib.int64)")
    both("lib.scalar_tensor(1.5, dtype=lib.float64, requires_grad=True)")


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 1), (3,)), ((), (4,)), ((0,), (0,))])
def test_complex(shapes):
    re, im = randn(*shapes[0]), randn(*shapes[1])
    check(lambda lib, a, b: lib.complex(a, b), re, im)
    check(lambda lib, a, b: lib.complex(a, b), re.astype(np.float64), im.astype(np.float64))
    gradcheck_fn(lambda lib, a, b: lib.complex(a, b), re, im)


def test_polar():
    r, theta = np.abs(randn(3, 2)) + 0.1, randn(3, 2)
    check(lambda lib, a, b: lib.polar(a, b), r, theta)
    gradcheck_fn(lambda lib, a, b: lib.polar(a, b), r, theta)


@pytest.mark.parametrize("expr", [
    "lib.complex(lib.ones(2), lib.zeros(2, dtype=lib.float64))",
    "lib.complex(lib.ones(2, dtype=lib.int64), lib.zeros(2, dtype=lib.int64))",
    "lib.complex(lib.ones(2), lib.zeros(3))",
    "lib.polar(lib.ones(2), lib.zeros(2, dtype=lib.float64))",
])
def test_complex_errors(expr):
    e = both(expr)
    assert str(e).split(":")[0] in ("complex", "polar", "The size of tensor a (2) must match "
                                                        "the size of tensor b (3) at "
                                                        "non-singleton dimension 0")


def test_complex_out():
    out = ember.zeros(2, dtype=ember.complex64)
    assert ember.complex(ember.ones(2), ember.ones(2), out=out) is out
    assert out.tolist() == [1 + 1j, 1 + 1j]


# ---- copy_ / fill_ / zero_ ---------------------------------------------------------------------
@pytest.mark.parametrize("dst,src", [
    ("lib.zeros(2, 3)", "lib.arange(3.)"), ("lib.zeros(2, 3, dtype=lib.int32)",
                                            "lib.tensor([1.7, -2.2, 3.9])"),
    ("lib.zeros(3)", "lib.tensor(5)"), ("lib.zeros(2, dtype=lib.float64)", "lib.ones(2)"),
    ("lib.zeros(2)", "lib.tensor([1 + 2j, 3j])"), ("lib.zeros(2, dtype=lib.complex64)",
                                                   "lib.tensor([1., 2.])"),
    ("lib.zeros(2, dtype=lib.bool)", "lib.tensor([0., 2.])"), ("lib.zeros(0, 3)",
                                                               "lib.ones(3)"),
    ("lib.zeros(4, 2).t()", "lib.arange(8.).reshape(2, 4)"), ("lib.zeros(2, 2)",
                                                              "lib.ones(4, 2)[::2]"),
])
def test_copy_values(dst, src):
    e = both(f"(lambda d: (d.copy_({src}), d)[1])({dst})")
    assert e.is_leaf


def test_copy_complex_warns_and_errors():
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        ember.zeros(2).copy_(ember.tensor([1j, 2j]))
    e = both("lib.ones(2, 3).copy_(lib.ones(4))")
    assert "copy_" in str(e) or "size of tensor" in str(e)
    raises(TypeError, "copy_: argument 'src' must be a Tensor", ember.zeros(2).copy_, [1, 2])
    x = ember.zeros(2, requires_grad=True)
    raises(RuntimeError, "copy_: a leaf Variable that requires grad", x.copy_, ember.ones(2))
    with ember.no_grad():
        x.copy_(ember.ones(2))
    assert x.tolist() == [1.0, 1.0] and x.is_leaf


@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((3,), ()), ((2, 2), (2, 2))])
def test_copy_autograd(shapes):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    check(lambda lib, x, s: (x * 2).copy_(s), a, b)
    check(lambda lib, x, s: (x * 2).copy_(s.double()), a, b)
    check(lambda lib, x, s: lib.zeros(shapes[0], dtype=lib.float64).copy_(s), a, b)
    gradcheck_fn(lambda lib, x, s: (x * 2).copy_(s), a, b)


def test_copy_autograd_view_and_names():
    check(lambda lib, x, s: (lambda y: (y[0].copy_(s), y)[1])(x * 1), randn(2, 3), randn(3))
    e = (ember.ones(2, requires_grad=True) * 2).copy_(ember.ones(2))
    t = (torch.ones(2, requires_grad=True) * 2).copy_(torch.ones(2))
    assert e.grad_fn.name() == type(t.grad_fn).__name__ == "CopyBackwards"


@pytest.mark.parametrize("dtype", ["float32", "int64", "int8", "bool", "complex64", "float16"])
@pytest.mark.parametrize("value", ["1", "2.7", "True", "-3", "lib.tensor(4)",
                                   "lib.tensor(1.5, dtype=lib.float64)"])
def test_fill_and_zero(dtype, value):
    both(f"lib.zeros(2, 3, dtype=lib.{dtype}).fill_({value})")
    both(f"lib.ones(2, dtype=lib.{dtype}).zero_()")
    both(f"lib.ones(4, 2, dtype=lib.{dtype}).t().fill_({value})")


def test_fill_errors():
    assert str(both("lib.zeros(2).fill_(lib.tensor([1.]))")).startswith("fill_: ")
    assert str(both("lib.zeros(2, dtype=lib.int64).fill_(1j)")).startswith("fill_: ")
    assert str(both("lib.zeros(2, dtype=lib.int8).fill_(300)")).startswith("fill_: ")
    raises(RuntimeError, "fill_: a leaf Variable", ember.zeros(2, requires_grad=True).fill_, 1)
    raises(RuntimeError, "zero_: a leaf Variable", ember.zeros(2, requires_grad=True).zero_)


def test_fill_autograd():
    a = randn(2, 3)
    check(lambda lib, x: (x * 2).fill_(3.0), a)
    check(lambda lib, x: (x * 2).zero_(), a)
    check(lambda lib, x, v: (x * 2).fill_(v), a, randn())
    check(lambda lib, x, v: (lambda y: (y[1].fill_(v), y)[1])(x * 2), a, randn())
    gradcheck_fn(lambda lib, x, v: (x * 2).fill_(v), a, randn())
    e = (ember.ones(2, requires_grad=True) * 2).fill_(1)
    assert e.grad_fn.name() == "FillBackward0"  # torch numbers its overloads: FillBackward2
    e = (ember.ones(2, requires_grad=True) * 2).zero_()
    t = (torch.ones(2, requires_grad=True) * 2).zero_()
    assert e.grad_fn.name() == type(t.grad_fn).__name__


def test_inplace_bumps_version():
    x = ember.zeros(3)
    v = x._version
    x.fill_(1)
    x.zero_()
    x.copy_(ember.ones(3))
    assert x._version == v + 3


def test_op_db_regressions():
    """Cases PyTorch's OpInfo samples (tests/ops/test_op_db.py) found."""
    # integer linspace/logspace convert the endpoints to the dtype first (truncating)
    for dtype in ("int64", "int32", "int8", "uint8"):
        for args in ((4.3, -3, 50), (-7.9, 8.7, 13), (2.5, 2.7, 4)):
            if dtype == "uint8" and min(args[:2]) < 0:
                continue
            assert_same(ember.linspace(*args, dtype=getattr(ember, dtype)),
                        torch.linspace(*args, dtype=getattr(torch, dtype)))
        assert_same(ember.logspace(0, 1.2, 2, 5.0, dtype=getattr(ember, dtype)),
                    torch.logspace(0, 1.2, 2, 5.0, dtype=getattr(torch, dtype)))
    # a step that truncates to 0 for an int64 range is a ValueError, as in PyTorch
    with pytest.raises(ValueError):
        torch.arange(0, 1, 0.5, dtype=torch.int64)
    raises(ValueError, "arange: step must be nonzero", ember.arange, 0, 1, 0.5,
           dtype=ember.int64)
    # complex(out=) needs the exact complex dtype
    re = ember.tensor(randn(3).astype(np.float64))
    raises(RuntimeError, "complex: Expected object of scalar type complex128", ember.complex,
           re, re, out=ember.empty(3, dtype=ember.complex64))
