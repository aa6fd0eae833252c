# core/results.mk: the SQLite results store and the safetensors format.
core_libstrata_la_SOURCES += core/results.c core/results.h \
	core/safetensors.c core/safetensors.h
