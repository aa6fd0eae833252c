# examples/: the example plugins (examples/plugins: a layer and an
# optimizer, each a single file using STRATA_PLUGIN_DEFINE, and a Makefile
# snippet for building them out of tree with pkg-config). Built in tree
# for `make check` (t/test_examples trains with both); `make installcheck`
# builds them again from the installed header alone.
EXAMPLE_PLUGINS = examples/plugins/scale.c examples/plugins/sgd_minimal.c
EXTRA_DIST += examples/plugins/Makefile
check_LTLIBRARIES += examples/plugins/scale.la examples/plugins/sgd_minimal.la
examples_plugins_scale_la_SOURCES = examples/plugins/scale.c
examples_plugins_scale_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
examples_plugins_scale_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -rpath /nowhere
examples_plugins_sgd_minimal_la_SOURCES = examples/plugins/sgd_minimal.c
examples_plugins_sgd_minimal_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
examples_plugins_sgd_minimal_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -rpath /nowhere

check_PROGRAMS += t/test_examples
TESTS += t/test_examples
t_test_examples_SOURCES = t/test_examples.c $(RUN_STRATA)
t_test_examples_CFLAGS = $(TEST_CFLAGS)
