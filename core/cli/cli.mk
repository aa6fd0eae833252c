# core/cli: the strata program — option parsing and one file per command.
core_strata_SOURCES += core/cli/main.c core/cli/cli.c core/cli/cli.h \
	core/cli/cmd_run.c core/cli/cmd_resume.c core/cli/resume_run.c core/cli/resume_run.h core/cli/cmd_predict.c \
	core/cli/predict_classes.c core/cli/predict_classes.h \
	core/cli/cmd_summary.c core/cli/cmd_plugins.c core/cli/cmd_sweep.c \
	core/cli/sweep_ranks.c core/cli/sweep_ranks.h \
	core/cli/cmd_runs.c core/cli/cmd_plot.c core/cli/cmd_bench.c \
	core/cli/bench_scaling.c core/cli/bench_scaling.h \
	core/cli/cmd_eval.c \
	core/cli/cmd_gradcheck.c \
	core/cli/cli_table.c core/cli/cmd_compare.c core/cli/cmd_tag.c core/cli/cmd_rm.c \
	core/cli/cmd_report.c
