# t/conv.mk: conv2d's fast paths (Winograd, batched im2col, the few-channel
# smallc) against the references (test_conv_fast); the few-channel first
# layer (algo smallc) against direct (test_conv_first); Winograd's vectorised
# transforms bit-identical to the generic loops at every lower ISA level
# (test_conv_isa: runs copies of itself under STRATA_ISA; SKIP at base);
# and bench_conv, a per-layer timing tool (built, not run).
check_PROGRAMS += t/test_conv_fast t/test_conv_first t/test_conv_isa t/bench_conv
TESTS += t/test_conv_fast t/test_conv_first t/test_conv_isa
t_test_conv_fast_SOURCES = t/test_conv_fast.c $(FAKE_HOST)
t_test_conv_fast_CFLAGS = $(TEST_CFLAGS)
t_test_conv_first_SOURCES = t/test_conv_first.c $(FAKE_HOST)
t_test_conv_first_CFLAGS = $(TEST_CFLAGS)
t_test_conv_isa_SOURCES = t/test_conv_isa.c $(FAKE_HOST)
t_test_conv_isa_CFLAGS = $(TEST_CFLAGS)
t_bench_conv_SOURCES = t/bench_conv.c $(FAKE_HOST)
t_bench_conv_CFLAGS = $(TEST_CFLAGS)
