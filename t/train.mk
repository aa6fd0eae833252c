# t/train.mk — `strata run` end to end: training on a synthetic image folder,
# determinism, schedules, configuration and I/O errors, Ctrl-C.
check_PROGRAMS += t/test_train
TESTS += t/test_train
t_test_train_SOURCES = t/test_train.c t/run_strata.c t/run_strata.h t/fixtures/imgwrite.c t/fixtures/imgwrite.h t/testlib.c t/testlib.h t/testlib_db.c t/testlib_db.h
t_test_train_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS) $(PNG_CFLAGS)
t_test_train_LDADD = $(TEST_LIBS) $(SQLITE_LIBS) $(PNG_LIBS) $(JPEG_LIBS) -lm
# its experiment (3 synthetic classes; the suite edits the text)
EXTRA_DIST += t/fixtures/tiny-synthetic.yaml
