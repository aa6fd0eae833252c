# t/layers.mk: the layer plugins and the loss.
check_PROGRAMS += t/test_layers
TESTS += t/test_layers
t_test_layers_SOURCES = t/test_layers.c t/fake_host.c t/fake_host.h t/testlib.c t/testlib.h
t_test_layers_CFLAGS = $(TEST_CFLAGS)
t_test_layers_LDADD = $(TEST_LIBS) $(DL_LIBS) -lm
