"""``ember.linalg``: PyTorch's ``torch.linalg`` on NumPy/CuPy's batched LAPACK routines.

Every function accepts batches of matrices (the last two dims) and broadcasts batch dims where
PyTorch does; results that PyTorch returns as named tuples are named tuples with the same
fields. Gradients are written in ember ops, so they can be differentiated again. The
deprecated top-level forms (``torch.det``, ``torch.svd``, ``torch.qr`` ...) and the Tensor
methods are registered from the same modules."""
from .._errors import LinAlgError
from ..ops.linalg import matmul
from ._solve import (inv, inv_ex, solve, solve_ex, solve_triangular, lu_factor, lu_factor_ex, lu,
                     lu_solve)
from ._decomp import (cholesky, cholesky_ex, qr, svd, svdvals, eigh, eigvalsh, eig, eigvals, det,
                      slogdet)
from ._lstsq import pinv, matrix_rank, lstsq
from ._norms import norm, vector_norm, matrix_norm, cond, vecdot, cross
from ._functions import (matrix_power, matrix_exp, multi_dot, householder_product, vander,
                         diagonal, tensorinv, tensorsolve)

__all__ = ["LinAlgError", "matmul", "inv", "inv_ex", "solve", "solve_ex", "solve_triangular",
           "lu_factor", "lu_factor_ex", "lu", "lu_solve", "cholesky", "cholesky_ex", "qr", "svd",
           "svdvals", "eigh", "eigvalsh", "eig", "eigvals", "det", "slogdet", "pinv",
           "matrix_rank", "lstsq", "norm", "vector_norm", "matrix_norm", "cond", "vecdot",
           "cross", "matrix_power", "matrix_exp", "multi_dot", "householder_product", "vander",
           "diagonal", "tensorinv", "tensorsolve"]
