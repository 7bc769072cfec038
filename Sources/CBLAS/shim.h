// OpenBLAS's CBLAS interface. Debian installs the header under
// /usr/include/x86_64-linux-gnu/openblas-pthread/, which pkg-config adds to the search path.
#ifndef GRADFEAT_CBLAS_SHIM_H
#define GRADFEAT_CBLAS_SHIM_H
#include <stddef.h>
#include <cblas.h>

/// OpenBLAS exposes its thread controls as plain functions; these wrappers keep one spelling for Swift.
static inline void gradfeat_blas_set_threads(int n) { openblas_set_num_threads(n); }
static inline int gradfeat_blas_threads(void) { return openblas_get_num_threads(); }
static inline const char *gradfeat_blas_core(void) { return openblas_get_corename(); }

/// LAPACK's Cholesky factorisation and solve in double precision, which libopenblas exports with the Fortran
/// calling convention (Debian ships no LAPACKE header beside it): upper or lower triangle `uplo`, order `n`,
/// column-major `a` with leading dimension `lda`; `info` > 0 when the matrix is not positive definite. Integers are
/// OpenBLAS's `blasint`; the trailing length is the hidden length of the Fortran string `uplo` (1).
void dpotrf_(const char *uplo, const blasint *n, double *a, const blasint *lda, blasint *info, size_t uplo_length);
void dpotrs_(const char *uplo, const blasint *n, const blasint *nrhs, const double *a, const blasint *lda, double *b,
             const blasint *ldb, blasint *info, size_t uplo_length);
#endif
