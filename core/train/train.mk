# core/train: the training step (trainer, memory plan, loss, optimizer
# host side, schedules), the one assembly of network + optimizer +
# trainer from an experiment (and the named seed streams), the session
# that runs epochs and the OpenBLAS kernel selection (the fork-join is
# plugins/common/parallel.c).
core_libstrata_la_SOURCES += \
	core/train/blas_select.c core/train/blas_select.h \
	core/train/loss.c core/train/loss.h \
	core/train/optimizer.c core/train/optimizer.h \
	core/train/schedule.c core/train/schedule.h \
	core/train/early_stop.c core/train/early_stop.h \
	core/train/memplan.c core/train/memplan.h \
	core/train/trainer.c core/train/trainer.h \
	core/train/assemble.c core/train/assemble.h \
	core/train/session.c core/train/session.h \
	core/train/run_forward.c core/train/run_forward.h \
	core/train/class_counts.c core/train/class_counts.h \
	core/train/evaluate.c core/train/evaluate.h \
	core/train/scaling_model.c core/train/scaling_model.h
