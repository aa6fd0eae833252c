# t/train.mk — `strata run` end to end: training on a synthetic image folder,
# determinism, schedules, configuration and I/O errors, Ctrl-C.
check_PROGRAMS += t/test_train
TESTS += t/test_train
t_test_train_SOURCES = t/test_train.c $(RUN_STRATA) $(IMGWRITE) $(TESTLIB_DB)
t_test_train_CFLAGS = $(TEST_CFLAGS)
# its experiment (3 synthetic classes; the suite edits the text)
EXTRA_DIST += t/fixtures/tiny-synthetic.yaml
