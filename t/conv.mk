# t/conv.mk: conv2d's fast paths (Winograd, batched im2col, the few-channel
# smallc) against the references, and bench_conv, a per-layer timing tool (built, not run).
check_PROGRAMS += t/test_conv_fast
TESTS += t/test_conv_fast
t_test_conv_fast_SOURCES = t/test_conv_fast.c t/fake_host.c t/fake_host.h t/testlib.c t/testlib.h
t_test_conv_fast_CFLAGS = $(TEST_CFLAGS) $(OPENBLAS_CFLAGS)
t_test_conv_fast_LDADD = $(TEST_LIBS) $(OPENBLAS_LIBS) $(DL_LIBS) -lm

# The few-channel first layer (algo smallc) against direct.
check_PROGRAMS += t/test_conv_first
TESTS += t/test_conv_first
t_test_conv_first_SOURCES = t/test_conv_first.c t/fake_host.c t/fake_host.h t/testlib.c t/testlib.h
t_test_conv_first_CFLAGS = $(TEST_CFLAGS)
t_test_conv_first_LDADD = $(TEST_LIBS) $(DL_LIBS) -lm

check_PROGRAMS += t/bench_conv
t_bench_conv_SOURCES = t/bench_conv.c t/fake_host.c t/fake_host.h
t_bench_conv_CFLAGS = $(TEST_CFLAGS) $(OPENBLAS_CFLAGS)
t_bench_conv_LDADD = $(TEST_LIBS) $(OPENBLAS_LIBS) $(DL_LIBS) -lm

# Winograd's vectorised transforms bit-identical to the generic loops at every
# lower ISA level (runs copies of itself under STRATA_ISA; SKIP at base).
check_PROGRAMS += t/test_conv_isa
TESTS += t/test_conv_isa
t_test_conv_isa_SOURCES = t/test_conv_isa.c t/fake_host.c t/fake_host.h t/testlib.c t/testlib.h
t_test_conv_isa_CFLAGS = $(TEST_CFLAGS)
t_test_conv_isa_LDADD = $(TEST_LIBS) $(DL_LIBS) -lm
