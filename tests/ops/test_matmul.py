"""Matrix products, tensordot, kron, trace and einsum against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, randn, randint, raises


def crandn(*shape):
    return (randn(*shape) + 1j * randn(*shape)).astype(np.complex64)


# ---- matmul -------------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((3,), (2, 3, 4)),
    ((2, 2, 3), (3,)), ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((2, 0, 3), (3, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb):
    a, b = randn(*sa), randn(*sb)
    check(lambda lib, x, y: lib.matmul(x, y), a, b)
    check(lambda lib, x, y: x @ y, a.astype(np.float64), b.astype(np.float64))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                                   ((2, 2, 3), (3, 2)), ((2, 3), (2, 3, 2))])
def test_matmul_gradcheck(sa, sb):
    gradcheck_fn(lambda lib, x, y: lib.matmul(x, y), randn(*sa), randn(*sb))


def test_matmul_dtypes():
    for dtype in (np.int64, np.int32):
        a, b = randint(-5, 5, (2, 3), dtype), randint(-5, 5, (3, 4), dtype)
        check(lambda lib, x, y: x @ y, a, b)
    check(lambda lib, x, y: x @ y, crandn(2, 3), crandn(3, 4))
    gradcheck_fn(lambda lib, x, y: x @ y, crandn(2, 3), crandn(3, 2))
    for name in ("float16", "bfloat16"):
        check(lambda lib, x, y: (x.to(getattr(lib, name)) @ y.to(getattr(lib, name))).float(),
              randn(4, 8), randn(8, 3), atol=1e-2, rtol=1e-2)


def test_matmul_noncontiguous_and_out():
    a = randn(4, 3)
    check(lambda lib, x, y: x.t() @ y, a, randn(4, 5))
    check(lambda lib, x, y: x.transpose(0, 1) @ y.transpose(0, 1), randn(3, 2, 4),
          randn(4, 2, 5))
    out_e, out_t = ember.empty(0), torch.empty(0)
    x, y = randn(2, 3), randn(3, 4)
    ember.matmul(ember.tensor(x), ember.tensor(y), out=out_e)
    torch.matmul(torch.tensor(x), torch.tensor(y), out=out_t)
    np.testing.assert_allclose(out_e.numpy(), out_t.numpy(), rtol=1e-6)


def test_imatmul():
    def f(lib, x, y):
        z = x * 1
        z @= y
        return z
    check(f, randn(2, 3), randn(3, 3))


def test_matmul_errors():
    a = ember.ones(2, 3)
    e = raises(RuntimeError, r"matmul.*2x3 and 4x5", ember.matmul, a, ember.ones(4, 5))
    assert "cannot be multiplied" in str(e)
    raises(RuntimeError, r"matmul.*float32, float64", ember.matmul, a,
           ember.ones(3, 5, dtype=ember.float64))
    raises(RuntimeError, r"matmul.*at least 1D.*0D", ember.matmul, ember.tensor(1.0), a)
    raises(RuntimeError, r"matmul.*batch dims.*\[2\] vs \[3\]", ember.matmul,
           ember.ones(2, 2, 3), ember.ones(3, 3, 4))
    raises(NotImplementedError, r"matmul.*bool", ember.matmul, ember.ones(2, 2, dtype=ember.bool),
           ember.ones(2, 2, dtype=ember.bool))
    raises(TypeError, r"matmul.*Tensors", ember.matmul, a, [[1.0]])
    raises(RuntimeError, r"mm: mat2 must be a matrix.*float32\[3\]", ember.mm, a, ember.ones(3))
    raises(RuntimeError, r"bmm.*same number of batches, got 2 and 3", ember.bmm,
           ember.ones(2, 2, 3), ember.ones(3, 3, 2))
    raises(RuntimeError, r"bmm: batch1 must be a 3-D", ember.bmm, a, a)
    raises(RuntimeError, r"mv.*2x3 and 4", ember.mv, a, ember.ones(4))
    raises(RuntimeError, r"mv: vec must be a vector", ember.mv, a, ember.ones(3, 1))


# ---- mm, bmm, mv, dot, vdot, inner, outer ------------------------------------------------------

def test_mm_bmm_mv():
    check(lambda lib, x, y: lib.mm(x, y), randn(2, 3), randn(3, 4))
    check(lambda lib, x, y: x.mm(y), randn(0, 3), randn(3, 4))
    check(lambda lib, x, y: lib.bmm(x, y), randn(2, 2, 3), randn(2, 3, 4))
    check(lambda lib, x, y: lib.mv(x, y), randn(2, 3), randn(3))
    check(lambda lib, x, y: x.mv(y), randint(0, 5, (2, 3)), randint(0, 5, (3,)))
    gradcheck_fn(lambda lib, x, y: lib.bmm(x, y), randn(2, 2, 3), randn(2, 3, 2))
    gradcheck_fn(lambda lib, x, y: lib.mv(x, y), randn(2, 3), randn(3))


def test_dot_vdot():
    check(lambda lib, x, y: lib.dot(x, y), randn(5), randn(5))
    check(lambda lib, x, y: x.dot(y), randint(-3, 3, (4,)), randint(-3, 3, (4,)))
    check(lambda lib, x, y: lib.dot(x, y), randn(0), randn(0))
    check(lambda lib, x, y: lib.vdot(x, y), crandn(4), crandn(4))
    check(lambda lib, x, y: x.vdot(y), randn(4), randn(4))
    gradcheck_fn(lambda lib, x, y: lib.vdot(x, y), crandn(3), crandn(3))
    gradcheck_fn(lambda lib, x, y: lib.dot(x, y), randn(3), randn(3))
    raises(RuntimeError, r"dot: inconsistent tensor size.*\[2\].*\[3\]", ember.dot,
           ember.ones(2), ember.ones(3))
    raises(RuntimeError, r"dot: 1D tensors expected, but got 2D and 2D", ember.dot,
           ember.ones(2, 2), ember.ones(2, 2))
    raises(RuntimeError, r"dot.*float32, float64", ember.dot, ember.ones(2),
           ember.ones(2, dtype=ember.float64))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (4, 3)), ((2, 1, 3), (3,)),
                                   ((), (2, 3)), ((2, 3), ())])
def test_inner(sa, sb):
    check(lambda lib, x, y: lib.inner(x, y), randn(*sa), randn(*sb))
    gradcheck_fn(lambda lib, x, y: x.inner(y), randn(*sa), randn(*sb))


def test_inner_outer_errors():
    raises(RuntimeError, r"inner: the last dimension must match.*\[2, 3\] and \[4, 4\]",
           ember.inner, ember.ones(2, 3), ember.ones(4, 4))
    raises(RuntimeError, r"outer: input must be a vector.*float32\[2, 2\]", ember.outer,
           ember.ones(2, 2), ember.ones(3))


def test_outer_ger():
    check(lambda lib, x, y: lib.outer(x, y), randn(3), randn(4))
    check(lambda lib, x, y: lib.ger(x, y), randn(3), randn(4).astype(np.float64))
    check(lambda lib, x, y: x.outer(y), randint(0, 4, (3,)), randn(2))
    gradcheck_fn(lambda lib, x, y: lib.outer(x, y), randn(3), randn(2))


# ---- addmm, addmv, addr, baddbmm, addbmm -------------------------------------------------------

ADD_CASES = [
    ("addmm", (2, 4), (2, 3), (3, 4)), ("addmm", (4,), (2, 3), (3, 4)),
    ("addmm", (1, 1), (2, 3), (3, 4)), ("addmv", (2,), (2, 3), (3,)), ("addmv", (), (2, 3), (3,)),
    ("addr", (2, 3), (2,), (3,)), ("addr", (3,), (2,), (3,)),
    ("baddbmm", (2, 2, 4), (2, 2, 3), (2, 3, 4)), ("baddbmm", (4,), (2, 2, 3), (2, 3, 4)),
    ("addbmm", (2, 4), (2, 2, 3), (2, 3, 4)), ("addbmm", (1,), (3, 2, 3), (3, 3, 4)),
]


@pytest.mark.parametrize("op,s0,s1,s2", ADD_CASES)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2.0), (0, 3)])
def test_add_products(op, s0, s1, s2, beta, alpha):
    args = randn(*s0), randn(*s1), randn(*s2)
    check(lambda lib, x, y, z: getattr(lib, op)(x, y, z, beta=beta, alpha=alpha), *args)
    if beta == 0.5:
        gradcheck_fn(lambda lib, x, y, z: getattr(lib, op)(x, y, z, beta=beta, alpha=alpha),
                     *args)


def test_add_products_special():
    # beta=0 ignores NaNs in input
    nan = np.full((2, 4), np.nan, np.float32)
    check(lambda lib, x, y, z: lib.addmm(x, y, z, beta=0), nan, randn(2, 3), randn(3, 4))
    # integer tensors take integer factors
    ints = [randint(-3, 3, s) for s in ((2, 4), (2, 3), (3, 4))]
    check(lambda lib, x, y, z: lib.addmm(x, y, z, beta=2, alpha=3), *ints)
    # addr promotes and works on bool
    check(lambda lib, x, y, z: lib.addr(x, y, z), randn(2, 3).astype(np.float64), randn(2),
          randn(3), grad=False)  # torch's own backward fails on mixed dtypes
    bools = [randint(0, 2, s).astype(bool) for s in ((2, 3), (2,), (3,))]
    check(lambda lib, x, y, z: lib.addr(x, y, z), *bools)
    check(lambda lib, x, y, z: lib.addr(x, y, z, beta=False), *bools)
    # in-place forms
    check(lambda lib, x, y, z: x.clone().addmm_(y, z, alpha=2), randn(2, 4), randn(2, 3),
          randn(3, 4))
    check(lambda lib, x, y, z: x.clone().baddbmm_(y, z, beta=0.5), randn(2, 2, 4),
          randn(2, 2, 3), randn(2, 3, 4))
    check(lambda lib, x, y, z: x.clone().addr_(y, z), randn(2, 3), randn(2), randn(3))


def test_add_products_errors():
    raises(RuntimeError, r"addmm: input of shape \[4\] cannot be broadcast.*\[2, 3\]", ember.addmm,
           ember.ones(4), ember.ones(2, 3), ember.ones(3, 3))
    raises(RuntimeError, r"addmm.*float64, float32", ember.addmm,
           ember.ones(3, dtype=ember.float64), ember.ones(2, 3), ember.ones(3, 3))
    raises(RuntimeError, r"addmv.*float32, float64", ember.addmv, ember.ones(2),
           ember.ones(2, 3), ember.ones(3, dtype=ember.float64))
    raises(RuntimeError, r"addbmm.*same number of batches, got 2 and 3", ember.addbmm,
           ember.ones(3), ember.ones(2, 2, 3), ember.ones(3, 3, 3))


# ---- chain_matmul, tensordot, kron, trace ------------------------------------------------------

def test_chain_matmul():
    mats = randn(2, 3), randn(3, 5), randn(5, 1), randn(1, 4)
    check(lambda lib, *m: lib.chain_matmul(*m), *mats)
    check(lambda lib, m: lib.chain_matmul(m), randn(2, 3))
    gradcheck_fn(lambda lib, *m: lib.chain_matmul(*m), *mats[:3])
    raises(RuntimeError, r"chain_matmul\(\): Tensor dimension is 1, expected 2", ember.chain_matmul,
           ember.ones(2, 3), ember.ones(3))


@pytest.mark.parametrize("sa,sb,dims", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 4), 1), ((2, 3), (4,), 0), ((3, 4), (3, 4), 2),
    ((2, 3, 4), (4, 2, 5), ([2, 0], [0, 1])), ((2, 3), (2, 3), ([0, 1], [0, 1])),
    ((2, 3), (3, 4), ([-1], [0])), ((0, 3), (3, 2), 1),
])
def test_tensordot(sa, sb, dims):
    check(lambda lib, x, y: lib.tensordot(x, y, dims=dims), randn(*sa), randn(*sb))
    gradcheck_fn(lambda lib, x, y: lib.tensordot(x, y, dims=dims), randn(*sa), randn(*sb))


def test_tensordot_errors_and_tensor_dims():
    check(lambda lib, x, y: lib.tensordot(x, y, dims=lib.tensor([[1], [0]])), randn(2, 3),
          randn(3, 4))
    a, b = ember.ones(2, 3), ember.ones(3, 4)
    raises(RuntimeError, r"tensordot: contracted dimensions need to match.*size 3 in dim 1 and "
           r"second has size 4 in dim 1", ember.tensordot, a, b, ([1], [1]))
    raises(RuntimeError, r"tensordot: expects dims >= 0", ember.tensordot, a, b, -1)
    raises(RuntimeError, r"tensordot: expects dims < ndim", ember.tensordot, a, b, 3)
    raises(RuntimeError, r"tensordot: both dimension lists should have same length",
           ember.tensordot, a, b, ([1, 0], [0]))
    raises(TypeError, r"tensordot: dims=\(1, 0\) is ambiguous", ember.tensordot, a, b, (1, 0))


@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 2)), ((2,), (3, 2)), ((2, 1, 3), (2, 2)),
                                   ((), (3,)), ((0, 2), (2, 2))])
def test_kron(sa, sb):
    check(lambda lib, x, y: lib.kron(x, y), randn(*sa), randn(*sb))
    gradcheck_fn(lambda lib, x, y: x.kron(y), randn(*sa), randn(*sb))


def test_kron_dtypes():
    check(lambda lib, x, y: lib.kron(x, y), randn(2, 2), randn(2).astype(np.float64))
    check(lambda lib, x, y: lib.kron(x, y), randint(0, 3, (2, 2)), randint(0, 3, (2,)))


def test_trace():
    check(lambda lib, x: lib.trace(x), randn(3, 3))
    check(lambda lib, x: x.trace(), randn(2, 4))
    check(lambda lib, x: lib.trace(x), randint(-3, 3, (3, 2), np.int32))
    check(lambda lib, x: lib.trace(x), randn(0, 3))
    gradcheck_fn(lambda lib, x: lib.trace(x), randn(3, 2))
    raises(RuntimeError, r"trace: expected a matrix, but got tensor with dim 3", ember.trace,
           ember.ones(2, 2, 2))


# ---- einsum -------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (1, 3, 4)]),          # broadcast batch label
    ("i,i->", [(3,), (1,)]),                            # broadcast size-1 label
    ("ii->i", [(3, 3)]),                                 # diagonal
    ("ii", [(3, 3)]),                                    # trace
    ("iji->j", [(2, 3, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ba", [(2, 3)]),                                    # implicit output is sorted
    ("Ab,a", [(2, 3), (4,)]),
    ("i,j", [(2,), (3,)]),                               # outer
    ("i,j->", [(2,), (3,)]),                             # a label only in one operand
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),   # ellipsis broadcast
    ("...ii->...i", [(2, 3, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("i...,j...->ij", [(2, 3), (4, 3)]),
    ("...", [(2, 3)]),
    ("ij->", [(0, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 2), (2, 2)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("i i -> i", [(2, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum(eq, shapes):
    ops = [randn(*s) for s in shapes]
    check(lambda lib, *xs: lib.einsum(eq, *xs), *ops)
    gradcheck_fn(lambda lib, *xs: lib.einsum(eq, *xs), *ops)


def test_einsum_call_forms_and_dtypes():
    a, b = randn(2, 3), randn(3)
    check(lambda lib, x, y: lib.einsum("ij,j", [x, y]), a, b)
    check(lambda lib, x, y: lib.einsum(x, [0, 1], y, [1], [0]), a, b)
    check(lambda lib, x: lib.einsum(x, [0, Ellipsis], [Ellipsis]), a)
    check(lambda lib, x: lib.einsum(x, [27, 0]), a)
    check(lambda lib, x, y: lib.einsum("ij,jk", x, y), randint(-3, 3, (2, 3)),
          randint(-3, 3, (3, 2)))
    check(lambda lib, x, y: lib.einsum("ij,jk", x, y), crandn(2, 3), crandn(3, 2))
    gradcheck_fn(lambda lib, x, y: lib.einsum("ij,jk", x, y), crandn(2, 3), crandn(3, 2))
    check(lambda lib, x, y: lib.einsum("ij,jk", x.half(), y.half()).float(), a, randn(3, 2),
          atol=1e-2, rtol=1e-2)
    check(lambda lib, x: lib.einsum("->", x), randn())


def test_einsum_result_does_not_alias_input():
    x = ember.ones(2, 3)
    y = ember.einsum("ij->ji", x)
    x.add_(1)
    assert float(y.sum()) == 6.0


@pytest.mark.parametrize("args,match", [
    (("ij,jk", (2, 3), (4, 4)), r"subscript j has size 4 for operand 1 which does not "
                                r"broadcast with previously seen size 3"),
    (("ij,jk->l", (2, 3), (3, 4)), r"output subscript l does not appear"),
    (("ij,jk->ikk", (2, 3), (3, 4)), r"output subscript k appears more than once"),
    (("ij", (2, 3), (3, 4)), r"more operands were provided"),
    (("i,i", (2,)), r"fewer operands were provided"),
    (("ijk", (2, 3)), r"the number of subscripts in the equation \(3\) does not match the number "
                      r"of dimensions \(2\) for operand 0"),
    (("ii->i", (2, 3)), r"subscript i is repeated for operand 0 but the sizes don't match"),
    (("i$", (2, 2)), r"invalid subscript given at index 1"),
    (("i..j", (2, 2)), r"found '.' for operand 0 that is not part of any ellipsis"),
    (("...i...", (2, 2)), r"found '.' for operand 0 for which an ellipsis was already found"),
    (("i...,...", (2, 3), (1, 4)), r"dimension 1 covered by ellipsis in operand 1 has size 4"),
])
def test_einsum_errors(args, match):
    eq, *shapes = args
    raises(RuntimeError, "einsum\\(\\): " + match, ember.einsum, eq,
           *[ember.ones(*s) for s in shapes])


def test_einsum_dtype_errors():
    raises(RuntimeError, r"einsum.*float32, float64", ember.einsum, "ij,jk", ember.ones(2, 3),
           ember.ones(3, 2, dtype=ember.float64))
    raises(ValueError, r"einsum\(\): subscript in subscript list is not within the valid range",
           ember.einsum, ember.ones(2, 3), [0, 52])


def test_empty_inner_dims():
    check(lambda lib, x, y: x @ y, randn(5, 5, 0), randn(0, 5))
    check(lambda lib, x, y: x @ y, randn(0, 5), randn(5, 5, 0))
    check(lambda lib, x, y: lib.inner(x, y), randn(2, 0), randn(3, 0))


def test_tensordot_broadcasts_size_one_dims():
    check(lambda lib, x, y: lib.tensordot(x, y, dims=([0, 1], [2, 0])), randn(1, 1, 1),
          randn(2, 1, 2))
