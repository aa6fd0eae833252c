# plugins/optimizers: one libtool module per optimizer (no libstrata link).
pkglib_LTLIBRARIES += plugins/optimizers/sgd.la
plugins_optimizers_sgd_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_optimizers_sgd_la_SOURCES = plugins/optimizers/sgd.c
plugins_optimizers_sgd_la_LDFLAGS = $(STRATA_MODULE_FLAGS)
plugins_optimizers_sgd_la_LIBADD = -lm

pkglib_LTLIBRARIES += plugins/optimizers/adam.la
plugins_optimizers_adam_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_optimizers_adam_la_SOURCES = plugins/optimizers/adam.c plugins/optimizers/adam_update.h $(PLUGIN_SIMD)
plugins_optimizers_adam_la_LDFLAGS = $(STRATA_MODULE_FLAGS)
plugins_optimizers_adam_la_LIBADD = -lm

pkglib_LTLIBRARIES += plugins/optimizers/adamw.la
plugins_optimizers_adamw_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_optimizers_adamw_la_SOURCES = plugins/optimizers/adamw.c plugins/optimizers/adam_update.h $(PLUGIN_SIMD)
plugins_optimizers_adamw_la_LDFLAGS = $(STRATA_MODULE_FLAGS)
plugins_optimizers_adamw_la_LIBADD = -lm
