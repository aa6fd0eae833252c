# t/data.mk — tests of the data pipeline (with PNG and JPEG files written
# by t/fixtures/imgwrite.c), and the shipped data set.
check_PROGRAMS += t/test_image t/test_dataset t/test_augment t/test_loader
TESTS += t/test_image t/test_dataset t/test_augment t/test_loader
t_test_image_SOURCES = t/test_image.c $(IMGWRITE) $(TESTLIB)
t_test_image_CFLAGS = $(TEST_CFLAGS)
t_test_dataset_SOURCES = t/test_dataset.c $(IMGWRITE) $(TESTLIB)
t_test_dataset_CFLAGS = $(TEST_CFLAGS)
t_test_augment_SOURCES = t/test_augment.c $(IMGWRITE) $(TESTLIB)
t_test_augment_CFLAGS = $(TEST_CFLAGS)
t_test_loader_SOURCES = t/test_loader.c $(IMGWRITE) $(TESTLIB)
t_test_loader_CFLAGS = $(TEST_CFLAGS)

EXTRA_DIST += data/flowers-mini scripts/make-flowers-mini scripts/get-flowers
