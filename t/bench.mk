# t/test_blas: cpuid detection, OPENBLAS_CORETYPE selection, sgemm results.
check_PROGRAMS += t/test_blas
TESTS += t/test_blas
t_test_blas_SOURCES = t/test_blas.c t/testlib.c t/testlib.h
t_test_blas_CFLAGS = $(TEST_CFLAGS) $(OPENBLAS_CFLAGS)
t_test_blas_LDADD = $(TEST_LIBS) $(OPENBLAS_LIBS)
