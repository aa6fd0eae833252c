# t/plot.mk: the plot drawing, the bitmap font, PNG writing and `strata plot`.
check_PROGRAMS += t/test_plot
TESTS += t/test_plot
t_test_plot_SOURCES = t/test_plot.c t/png_check.c t/png_check.h $(RUN_STRATA)
t_test_plot_CFLAGS = $(TEST_CFLAGS)
check_PROGRAMS += t/test_report
TESTS += t/test_report
t_test_report_SOURCES = t/test_report.c t/png_check.c t/png_check.h $(RUN_STRATA) $(TESTLIB_DB)
t_test_report_CFLAGS = $(TEST_CFLAGS)
# scripts/tutorial-study and scripts/tutorial-study-report on the demo set,
# the protocol shortened (about 30 s).
TESTS += t/test_tutorial_study.sh
EXTRA_DIST += t/test_tutorial_study.sh scripts/tutorial-study scripts/tutorial-study-report
