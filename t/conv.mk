# t/conv.mk: conv2d's fast paths (Winograd, batched im2col) against the
# references, and bench_conv, a per-layer timing tool (built, not run).
check_PROGRAMS += t/test_conv_fast
TESTS += t/test_conv_fast
t_test_conv_fast_SOURCES = t/test_conv_fast.c t/fake_host.c t/fake_host.h
t_test_conv_fast_CFLAGS = $(TEST_CFLAGS)
t_test_conv_fast_LDADD = $(TEST_LIBS) $(DL_LIBS) -lm
