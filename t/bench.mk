# t/test_blas: cpuid detection, OPENBLAS_CORETYPE selection, sgemm results.
check_PROGRAMS += t/test_blas
TESTS += t/test_blas
t_test_blas_SOURCES = t/test_blas.c $(TESTLIB)
t_test_blas_CFLAGS = $(TEST_CFLAGS)
