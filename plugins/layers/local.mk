# plugins/layers: one libtool module per layer (dlopened by the host),
# and the loss, which is part of libstrata.
core_libstrata_la_SOURCES += core/loss.c core/loss.h

pkglib_LTLIBRARIES += plugins/layers/conv2d.la
plugins_layers_conv2d_la_SOURCES = plugins/layers/conv2d.c plugins/layers/conv_dims.h \
	plugins/layers/conv_bias.c plugins/layers/conv_bias.h \
	plugins/layers/conv_direct.c plugins/layers/conv_direct.h \
	plugins/layers/conv_im2col.c plugins/layers/conv_im2col.h \
	plugins/layers/conv_smallc.c plugins/layers/conv_smallc.h \
	plugins/layers/conv_first_phase.c plugins/layers/conv_first_phase.h plugins/layers/conv_first_dw.c plugins/layers/conv_first_dw.h \
	plugins/layers/conv_winograd.c plugins/layers/conv_winograd.h \
	plugins/layers/conv_winograd_impl.h plugins/layers/conv_winograd_matrices.h \
	plugins/layers/conv_winograd_weights.c plugins/layers/conv_winograd_tiles.c \
	plugins/layers/parallel.c plugins/layers/parallel.h
plugins_layers_conv2d_la_CFLAGS = $(AM_CFLAGS) -O3 -fno-tree-loop-distribute-patterns -pthread $(OPENBLAS_CFLAGS)
plugins_layers_conv2d_la_LIBADD = $(OPENBLAS_LIBS) -lm
plugins_layers_conv2d_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/linear.la
plugins_layers_linear_la_SOURCES = plugins/layers/linear.c \
	plugins/layers/linear_avx512.c plugins/layers/linear_avx512.h \
	plugins/layers/parallel.c plugins/layers/parallel.h
plugins_layers_linear_la_CFLAGS = $(AM_CFLAGS) -O3 -pthread $(OPENBLAS_CFLAGS)
plugins_layers_linear_la_LIBADD = $(OPENBLAS_LIBS) -lm
plugins_layers_linear_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/relu.la
plugins_layers_relu_la_SOURCES = plugins/layers/relu.c plugins/layers/parallel.c plugins/layers/parallel.h \
	plugins/simd.h
plugins_layers_relu_la_CFLAGS = $(AM_CFLAGS) -pthread
plugins_layers_relu_la_LIBADD = -lm
plugins_layers_relu_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/maxpool.la
plugins_layers_maxpool_la_SOURCES = plugins/layers/maxpool.c plugins/layers/pool_shape.h \
	plugins/layers/parallel.c plugins/layers/parallel.h plugins/simd.h
plugins_layers_maxpool_la_CFLAGS = $(AM_CFLAGS) -pthread
plugins_layers_maxpool_la_LIBADD = -lm
plugins_layers_maxpool_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/avgpool.la
plugins_layers_avgpool_la_SOURCES = plugins/layers/avgpool.c plugins/layers/pool_shape.h
plugins_layers_avgpool_la_CFLAGS = $(AM_CFLAGS)
plugins_layers_avgpool_la_LIBADD = -lm
plugins_layers_avgpool_la_LDFLAGS = $(STRATA_MODULE_FLAGS)

pkglib_LTLIBRARIES += plugins/layers/adaptive_avgpool.la
plugins_layers_adaptive_avgpool_la_SOURCES = plugins/layers/adaptive_avgpool.c
plugins_layers_adaptive_avgpool_la_CFLAGS = $(AM_CFLAGS)
plugins_layers_adaptive_avgpool_la_LIBADD = -lm
plugins_layers_adaptive_avgpool_la_LDFLAGS = $(STRATA_MODULE_FLAGS)

pkglib_LTLIBRARIES += plugins/layers/flatten.la
plugins_layers_flatten_la_SOURCES = plugins/layers/flatten.c
plugins_layers_flatten_la_CFLAGS = $(AM_CFLAGS)
plugins_layers_flatten_la_LIBADD = -lm
plugins_layers_flatten_la_LDFLAGS = $(STRATA_MODULE_FLAGS)

pkglib_LTLIBRARIES += plugins/layers/dropout.la
plugins_layers_dropout_la_SOURCES = plugins/layers/dropout.c plugins/layers/parallel.c plugins/layers/parallel.h \
	plugins/simd.h
plugins_layers_dropout_la_CFLAGS = $(AM_CFLAGS) -pthread
plugins_layers_dropout_la_LIBADD = -lm
plugins_layers_dropout_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread

pkglib_LTLIBRARIES += plugins/layers/local_response_norm.la
plugins_layers_local_response_norm_la_SOURCES = plugins/layers/local_response_norm.c
plugins_layers_local_response_norm_la_CFLAGS = $(AM_CFLAGS)
plugins_layers_local_response_norm_la_LIBADD = -lm
plugins_layers_local_response_norm_la_LDFLAGS = $(STRATA_MODULE_FLAGS)

pkglib_LTLIBRARIES += plugins/layers/batchnorm2d.la
plugins_layers_batchnorm2d_la_SOURCES = plugins/layers/batchnorm2d.c
plugins_layers_batchnorm2d_la_CFLAGS = $(AM_CFLAGS)
plugins_layers_batchnorm2d_la_LIBADD = -lm
plugins_layers_batchnorm2d_la_LDFLAGS = $(STRATA_MODULE_FLAGS)
