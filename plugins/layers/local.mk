# plugins/layers: one libtool module per layer (dlopened by the host).
# conv2d, whose paths fill a folder, is in conv2d/conv2d.mk.

pkglib_LTLIBRARIES += plugins/layers/linear.la
plugins_layers_linear_la_SOURCES = plugins/layers/linear.c \
	plugins/layers/linear_kernel.c plugins/layers/linear_kernel.h \
	$(PLUGIN_PARALLEL) $(PLUGIN_SIMD)
plugins_layers_linear_la_CFLAGS = $(PLUGIN_CFLAGS) -O3 -pthread $(OPENBLAS_CFLAGS)
plugins_layers_linear_la_LIBADD = $(OPENBLAS_LIBS) -lm
plugins_layers_linear_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/relu.la
plugins_layers_relu_la_SOURCES = plugins/layers/relu.c $(PLUGIN_PARALLEL) \
	$(PLUGIN_SIMD)
plugins_layers_relu_la_CFLAGS = $(PLUGIN_CFLAGS) -pthread
plugins_layers_relu_la_LIBADD = -lm
plugins_layers_relu_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/maxpool.la
plugins_layers_maxpool_la_SOURCES = plugins/layers/maxpool.c plugins/common/pool_shape.h \
	$(PLUGIN_PARALLEL) $(PLUGIN_SIMD)
plugins_layers_maxpool_la_CFLAGS = $(PLUGIN_CFLAGS) -pthread
plugins_layers_maxpool_la_LIBADD = -lm
plugins_layers_maxpool_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/avgpool.la
plugins_layers_avgpool_la_SOURCES = plugins/layers/avgpool.c plugins/common/pool_shape.h
plugins_layers_avgpool_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_layers_avgpool_la_LIBADD = -lm
plugins_layers_avgpool_la_LDFLAGS = $(STRATA_MODULE_FLAGS)

pkglib_LTLIBRARIES += plugins/layers/adaptive_avgpool.la
plugins_layers_adaptive_avgpool_la_SOURCES = plugins/layers/adaptive_avgpool.c
plugins_layers_adaptive_avgpool_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_layers_adaptive_avgpool_la_LIBADD = -lm
plugins_layers_adaptive_avgpool_la_LDFLAGS = $(STRATA_MODULE_FLAGS)

pkglib_LTLIBRARIES += plugins/layers/flatten.la
plugins_layers_flatten_la_SOURCES = plugins/layers/flatten.c
plugins_layers_flatten_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_layers_flatten_la_LIBADD = -lm
plugins_layers_flatten_la_LDFLAGS = $(STRATA_MODULE_FLAGS)

pkglib_LTLIBRARIES += plugins/layers/dropout.la
plugins_layers_dropout_la_SOURCES = plugins/layers/dropout.c $(PLUGIN_PARALLEL) \
	$(PLUGIN_SIMD)
plugins_layers_dropout_la_CFLAGS = $(PLUGIN_CFLAGS) -pthread
plugins_layers_dropout_la_LIBADD = -lm
plugins_layers_dropout_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/local_response_norm.la
plugins_layers_local_response_norm_la_SOURCES = plugins/layers/local_response_norm.c
plugins_layers_local_response_norm_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_layers_local_response_norm_la_LIBADD = -lm
plugins_layers_local_response_norm_la_LDFLAGS = $(STRATA_MODULE_FLAGS)

pkglib_LTLIBRARIES += plugins/layers/batchnorm2d.la
plugins_layers_batchnorm2d_la_SOURCES = plugins/layers/batchnorm2d.c
plugins_layers_batchnorm2d_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_layers_batchnorm2d_la_LIBADD = -lm
plugins_layers_batchnorm2d_la_LDFLAGS = $(STRATA_MODULE_FLAGS)
