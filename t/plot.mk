# t/plot.mk: the plot drawing, the bitmap font, PNG writing and `strata plot`.
check_PROGRAMS += t/test_plot
TESTS += t/test_plot
t_test_plot_SOURCES = t/test_plot.c t/run_strata.c t/run_strata.h t/testlib.c t/testlib.h
t_test_plot_CFLAGS = $(TEST_CFLAGS) $(PNG_CFLAGS) $(SQLITE_CFLAGS)
t_test_plot_LDADD = $(TEST_LIBS) $(PNG_LIBS) $(SQLITE_LIBS) -lm
