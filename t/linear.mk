# t/linear.mk: the linear layer's kernels (AVX-512 and AVX2, by strata_isa())
# and its sgemm path against a double-precision reference. One source, two
# programs: test_linear_fast runs at every ISA level, test_linear_kernel
# needs the kernel (AVX2 level and above; SKIP at the base level).
check_PROGRAMS += t/test_linear_fast t/test_linear_kernel
TESTS += t/test_linear_fast t/test_linear_kernel
t_test_linear_fast_SOURCES = t/test_linear_fast.c $(FAKE_HOST)
t_test_linear_fast_CFLAGS = $(TEST_CFLAGS)
t_test_linear_kernel_SOURCES = $(t_test_linear_fast_SOURCES)
t_test_linear_kernel_CFLAGS = $(TEST_CFLAGS) -DKERNEL_SUITE
