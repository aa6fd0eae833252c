# t/results.mk: tests of the results store and the safetensors format.
check_PROGRAMS += t/test_results t/test_safetensors
TESTS += t/test_results t/test_safetensors
t_test_results_SOURCES = t/test_results.c $(RUN_STRATA) $(TESTLIB_DB)
t_test_results_CFLAGS = $(TEST_CFLAGS)
t_test_safetensors_SOURCES = t/test_safetensors.c $(TESTLIB)
t_test_safetensors_CFLAGS = $(TEST_CFLAGS)
# a database written by strata at schema version 3 (how: t/fixtures/schema-v3.txt)
EXTRA_DIST += t/fixtures/schema-v3.db t/fixtures/schema-v3.txt
