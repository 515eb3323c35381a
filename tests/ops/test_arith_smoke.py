import numpy as np
import pytest

from helpers import check, gradcheck_fn, randn


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)),
                                    ((), (3,)), ((0, 3), (3,))])
def test_binary(op, shapes):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    check(lambda lib, x, y: getattr(lib, op)(x, y), a, b)
    gradcheck_fn(lambda lib, x, y: getattr(lib, op)(x, y), a, b)


@pytest.mark.parametrize("op", ["exp", "tanh"])
def test_unary(op):
    a = randn(3, 4)
    check(lambda lib, x: getattr(lib, op)(x), a)
    gradcheck_fn(lambda lib, x: getattr(lib, op)(x), a)


def test_scalar_promotion():
    a = np.arange(6).reshape(2, 3)
    check(lambda lib, x: x * 2.5, a)
    check(lambda lib, x: x / 2, a)
    check(lambda lib, x: 2 - x, a)
    check(lambda lib, x: x.float() + lib.tensor(1.0, dtype=lib.float64), a)
