# core/data.mk — the data pipeline: image decoding, image folders and splits,
# augmentation, the prefetching batch loader.
core_libstrata_la_SOURCES += \
	core/image.c core/image.h \
	core/dataset.c core/dataset.h \
	core/augment.c core/augment.h \
	core/loader.c core/loader.h
