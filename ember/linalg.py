"""ember.linalg: inv, det, solve, cholesky, qr, svd, svdvals, eigh, norm, vector_norm, matrix_norm, cross, ..."""
