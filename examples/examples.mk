# examples/: the example plugins (examples/plugins: two minimal ones,
# scale (a layer) and sgd_minimal (an optimizer), and two complete ones,
# leaky_prelu (a layer with options, a parameter, scratch and threads) and
# sgd_momentum (an optimizer with options and state), each a single file
# using STRATA_PLUGIN_DEFINE, and a Makefile for building them out of tree
# with pkg-config; doc/writing-plugins.md explains them). Built in tree for
# `make check` (t/test_examples trains with them, t/test_gradcheck checks
# the layers); `make installcheck` builds them again from the installed
# header alone.
EXAMPLE_PLUGINS = examples/plugins/scale.c examples/plugins/sgd_minimal.c \
	examples/plugins/leaky_prelu.c examples/plugins/sgd_momentum.c
EXTRA_DIST += examples/plugins/Makefile doc/writing-plugins.md
check_LTLIBRARIES += examples/plugins/scale.la examples/plugins/sgd_minimal.la \
	examples/plugins/leaky_prelu.la examples/plugins/sgd_momentum.la
examples_plugins_scale_la_SOURCES = examples/plugins/scale.c
examples_plugins_scale_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
examples_plugins_scale_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -rpath /nowhere
examples_plugins_sgd_minimal_la_SOURCES = examples/plugins/sgd_minimal.c
examples_plugins_sgd_minimal_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
examples_plugins_sgd_minimal_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -rpath /nowhere
examples_plugins_leaky_prelu_la_SOURCES = examples/plugins/leaky_prelu.c
examples_plugins_leaky_prelu_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -pthread
examples_plugins_leaky_prelu_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -rpath /nowhere -pthread
examples_plugins_sgd_momentum_la_SOURCES = examples/plugins/sgd_momentum.c
examples_plugins_sgd_momentum_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
examples_plugins_sgd_momentum_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -rpath /nowhere

check_PROGRAMS += t/test_examples
TESTS += t/test_examples
t_test_examples_SOURCES = t/test_examples.c $(RUN_STRATA)
t_test_examples_CFLAGS = $(TEST_CFLAGS)
