# t/optim: tests of the optimizer plugins and the learning-rate schedules.
check_PROGRAMS += t/test_optimizers t/test_schedule
TESTS += t/test_optimizers t/test_schedule
EXTRA_DIST += t/ref/optim_ref.py
t_test_optimizers_SOURCES = t/test_optimizers.c $(FAKE_HOST)
t_test_optimizers_CFLAGS = $(TEST_CFLAGS)
t_test_schedule_SOURCES = t/test_schedule.c $(TESTLIB)
t_test_schedule_CFLAGS = $(TEST_CFLAGS)
