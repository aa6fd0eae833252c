# core/data: image decoding, image folders and splits, augmentation (its
# configuration and the transforms), the prefetching batch loader.
core_libstrata_la_SOURCES += \
	core/data/image.c core/data/image.h \
	core/data/dataset.c core/data/dataset.h \
	core/data/augment_config.c core/data/augment_config.h \
	core/data/augment.c core/data/augment.h \
	core/data/loader.c core/data/loader.h
