// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, pkg-config name `openblas`).
#include <cblas.h>

// LAPACK's symmetric eigensolver, which Debian's OpenBLAS builds in (it ships no LAPACK header).
// jobz 'N': eigenvalues only, ascending, into w; uplo 'U' or 'L': the triangle of a that is read.
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
            double *work, const int *lwork, int *info);
