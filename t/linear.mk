# t/linear.mk: the linear layer's AVX-512 kernels and its sgemm path
# against a double-precision reference.
check_PROGRAMS += t/test_linear_fast
TESTS += t/test_linear_fast
t_test_linear_fast_SOURCES = t/test_linear_fast.c t/fake_host.c t/fake_host.h t/testlib.c t/testlib.h
t_test_linear_fast_CFLAGS = $(TEST_CFLAGS)
t_test_linear_fast_LDADD = $(TEST_LIBS) $(DL_LIBS) -lm
