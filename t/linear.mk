# t/linear.mk: the linear layer's kernels (AVX-512 and AVX2, by strata_isa())
# and its sgemm path against a double-precision reference. One source, two
# programs: test_linear_fast runs at every ISA level, test_linear_kernel
# needs the kernel (AVX2 level and above; SKIP at the base level).
check_PROGRAMS += t/test_linear_fast t/test_linear_kernel
TESTS += t/test_linear_fast t/test_linear_kernel
t_test_linear_fast_SOURCES = t/test_linear_fast.c t/fake_host.c t/fake_host.h t/testlib.c t/testlib.h
t_test_linear_fast_CFLAGS = $(TEST_CFLAGS)
t_test_linear_fast_LDADD = $(TEST_LIBS) $(DL_LIBS) -lm
t_test_linear_kernel_SOURCES = $(t_test_linear_fast_SOURCES)
t_test_linear_kernel_CFLAGS = $(TEST_CFLAGS) -DKERNEL_SUITE
t_test_linear_kernel_LDADD = $(t_test_linear_fast_LDADD)
