# core/store: the SQLite results store, the safetensors format and the
# checkpoints written in it.
core_libstrata_la_SOURCES += \
	core/store/results.c core/store/results.h \
	core/store/safetensors.c core/store/safetensors.h \
	core/store/checkpoint.c core/store/checkpoint.h
