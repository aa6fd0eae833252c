# core/store: the SQLite results store (results.c: schema, migrations and
# the writes; queries.c: the reads behind runs/show/compare/plot/sweep;
# results_sqlite.h: the connection, for the store alone), the safetensors
# format (its header's JSON in json.c) and the checkpoints written in it.
# Only this folder includes <sqlite3.h>.
core_libstrata_la_SOURCES += \
	core/store/results.c core/store/results.h core/store/results_sqlite.h \
	core/store/queries.c \
	core/store/params.c core/store/params.h \
	core/store/manage.c core/store/manage.h \
	core/store/report_queries.c core/store/report_queries.h \
	core/store/json.c core/store/json.h \
	core/store/safetensors.c core/store/safetensors.h \
	core/store/checkpoint.c core/store/checkpoint.h \
	core/store/evals.c core/store/evals.h
