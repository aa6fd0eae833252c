# t/layers.mk: the layer plugins and the loss.
check_PROGRAMS += t/test_layers
TESTS += t/test_layers
t_test_layers_SOURCES = t/test_layers.c $(FAKE_HOST)
t_test_layers_CFLAGS = $(TEST_CFLAGS)
