# t/gradcheck.mk: `strata gradcheck` (t/test_gradcheck: every built-in
# layer plugin and the example layers pass; t/plugins/wrong_backward, a
# layer whose backward is deliberately wrong, fails) and the relocated
# install (t/installcheck.sh: `make install prefix=TMP`, then
# scripts/installcheck on it, before and after a move).
check_LTLIBRARIES += t/plugins/wrong_backward.la
t_plugins_wrong_backward_la_SOURCES = t/plugins/wrong_backward.c
t_plugins_wrong_backward_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
t_plugins_wrong_backward_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -rpath /nowhere

check_PROGRAMS += t/test_gradcheck
TESTS += t/test_gradcheck t/installcheck.sh
t_test_gradcheck_SOURCES = t/test_gradcheck.c $(RUN_STRATA)
t_test_gradcheck_CFLAGS = $(TEST_CFLAGS)
EXTRA_DIST += t/installcheck.sh
