# t/results.mk: tests of the results store and the safetensors format.
check_PROGRAMS += t/test_results t/test_safetensors
TESTS += t/test_results t/test_safetensors
t_test_results_SOURCES = t/test_results.c t/testlib.c t/testlib.h t/testlib_db.c t/testlib_db.h
t_test_results_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
t_test_results_LDADD = $(TEST_LIBS) $(SQLITE_LIBS)
t_test_safetensors_SOURCES = t/test_safetensors.c t/testlib.c t/testlib.h
t_test_safetensors_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
t_test_safetensors_LDADD = $(TEST_LIBS) $(SQLITE_LIBS)
