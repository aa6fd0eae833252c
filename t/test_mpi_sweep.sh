#!/bin/sh
# t/test_mpi_sweep.sh — `strata sweep` under mpirun (built with MPI only;
# t/mpi.mk): a 4-point grid (optimizer.lr x train.seed) of the tiny MPI
# experiment (t/fixtures/tiny-mpi.yaml), 1 epoch per point.
#   1. -np 3 (rank 0 schedules, 2 workers): 4 finished runs whose epochs,
#      epoch_classes, run_params and samples equal a sweep of one process
#      bit for bit; tags on every run; only rank 0 opened the database: each
#      rank runs in its own folder with a relative results.dir, and only rank
#      0's has strata.db (the workers' hold just the checkpoints they wrote)
#   2. re-running it skips all 4 points and trains nothing
#   3. -np 5 --ranks-per-point 2: 4 finished runs of 2 ranks each, losses
#      within 1e-6 relative of one process, accuracies equal
#   4. a grid whose lr of 1e30 diverges: those 2 points are marked failed
#      (stop_reason says why), the other 2 finish, exit 1
#   5. errors, one line and exit 2: -np 4 with --ranks-per-point 2, --jobs
#      under mpirun, --ranks-per-point without mpirun, an experiment without
#      a sweep section under mpirun
#   6. a worker killed (SIGKILL) once its point recorded epoch 2: the job
#      ends, the runs are left interrupted; re-running the sweep resumes each
#      point from its checkpoint under its run id, epochs equal to a sweep
#      of one process never interrupted, a run_resumes row each
# Every mpirun under `timeout`, so a hang fails the suite. About 20 s.
set -u
OMPI_ALLOW_RUN_AS_ROOT=1; OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_btl=self,vader; OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OMPI_MCA_btl OMPI_MCA_rmaps_base_oversubscribe
STRATA="$STRATA_BUILDDIR/core/strata"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-mpi-sweep.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 99
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# exp NAME LRS: a sweep over optimizer.lr LRS and train.seed [1, 2]
exp() {
    cat > "$TMP/$1.yaml" <<END
include: $STRATA_SRCDIR/t/fixtures/tiny-mpi.yaml
data: {root: $STRATA_SRCDIR/data/flowers-mini}
train: {epochs: 1}
results: {dir: r}
sweep:
  grid: {optimizer.lr: $2, train.seed: [1, 2]}
END
}
exp grid "[0.01, 0.02]"
exp diverge "[0.01, 1.0e+30]"
EXP="$TMP/grid.yaml"
# mpi NP ARGS...: strata under mpirun, rank 0 in main/, rank R in wR/
mpi() {
    np=$1; shift
    timeout 120 mpirun --oversubscribe -np "$np" sh -c \
        'd=w$OMPI_COMM_WORLD_RANK; [ "$OMPI_COMM_WORLD_RANK" = 0 ] && d=main; mkdir -p "$d" && cd "$d" && exec "$0" "$@"' \
        "$STRATA" "$@"
}
DB="$TMP/main/r/strata.db"
ONE="$TMP/one/r/strata.db"
# a sweep's rows by point (both databases), without the run ids
rows() { sqlite3 "$1" "select r.sweep_point, e.epoch, printf('%.17g %.17g %.17g %.17g %.17g', e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.lr)
                       from epochs e join runs r on r.id = e.run_id where r.sweep_id = $2 order by 1, 2"; }
classes() { sqlite3 "$1" "select r.sweep_point, c.epoch, c.class, c.n, c.correct from epoch_classes c join runs r on r.id = c.run_id
                          where r.sweep_id = $2 order by 1, 2, 3"; }
params() { sqlite3 "$1" "select r.sweep_point, p.key, p.value from run_params p join runs r on r.id = p.run_id where r.sweep_id = $2 order by 1, 2"; }
samples() { sqlite3 "$1" "select r.sweep_point, s.split, s.path, s.label from run_samples s join runs r on r.id = s.run_id where r.sweep_id = $2 order by 1, 2, 3"; }
count() { sqlite3 "$DB" "$1"; }

# the reference: one process
mkdir one && (cd one && "$STRATA" sweep "$EXP" > out 2>&1) || { cat one/out; fail "sweep of one process"; }

# 1. three ranks
mpi 3 sweep "$EXP" --tag via=mpi > out1 2> err1 || { cat out1 err1; fail "mpirun -np 3 sweep: exit $?"; }
[ "$(count "select count(*) from runs where status = 'finished' and sweep_id = 1")" = 4 ] && ok "-np 3: 4 finished runs" ||
    fail "-np 3: runs: $(count 'select id, status from runs')"
[ -n "$(rows "$ONE" 1)" ] && [ "$(rows "$DB" 1)" = "$(rows "$ONE" 1)" ] && ok "-np 3: epochs equal one process bit for bit" ||
    fail "-np 3: epochs differ: $(rows "$DB" 1) / $(rows "$ONE" 1)"
[ -n "$(classes "$ONE" 1)" ] && [ "$(classes "$DB" 1)" = "$(classes "$ONE" 1)" ] || fail "-np 3: epoch_classes differ"
[ "$(params "$DB" 1)" = "$(params "$ONE" 1)" ] || fail "-np 3: run_params differ: $(params "$DB" 1 | diff - "$(params "$ONE" 1)")"
[ "$(samples "$DB" 1)" = "$(samples "$ONE" 1)" ] || fail "-np 3: run_samples differ"
[ "$(count "select count(*) from run_tags where key = 'via' and value = 'mpi'")" = 4 ] || fail "-np 3: tags"
[ "$(count "select count(distinct pid) from runs where sweep_id = 1")" = 1 ] || fail "-np 3: runs recorded by several processes"
ls main/r/strata.db > /dev/null && ! ls w1/r/strata.db* w2/r/strata.db* 2> /dev/null &&
    [ "$(ls w1/r/checkpoints/*/last.safetensors w2/r/checkpoints/*/last.safetensors | wc -l)" = 4 ] &&
    ok "only rank 0 opened the database; the workers wrote the checkpoints" ||
    fail "database or checkpoints in the wrong place: $(find main w1 w2 -name 'strata.db*' -o -name last.safetensors)"
[ "$(grep -c '^epoch ' out1)" = 4 ] || fail "-np 3: expected 4 epoch lines: $(cat out1)"

# 2. again: everything skipped
mpi 3 sweep "$EXP" --tag via=mpi > out2 2> err2 || { cat out2 err2; fail "re-running: exit $?"; }
[ "$(grep -c 'finished as run .*, skipped' out2)" = 4 ] && ! grep -q '^epoch ' out2 &&
    [ "$(count 'select count(*) from runs')" = 4 ] && ok "re-running skips the 4 finished points" || { cat out2; fail "re-running"; }

# 3. two ranks per point
mpi 5 sweep "$EXP" --ranks-per-point 2 --new > out3 2> err3 || { cat out3 err3; fail "-np 5 --ranks-per-point 2: exit $?"; }
[ "$(count "select count(*) from runs where sweep_id = 2 and status = 'finished' and ranks = 2")" = 4 ] ||
    fail "--ranks-per-point 2: runs: $(count 'select id, sweep_id, status, ranks from runs')"
close=$(sqlite3 "$DB" "attach '$ONE' as one; select count(*) from epochs a join runs ra on ra.id = a.run_id,
          one.epochs b join one.runs rb on rb.id = b.run_id
        where ra.sweep_id = 2 and rb.sweep_id = 1 and ra.sweep_point = rb.sweep_point and a.epoch = b.epoch
          and abs(a.train_loss - b.train_loss) <= 1e-6 * abs(b.train_loss) and abs(a.val_loss - b.val_loss) <= 1e-6 * abs(b.val_loss)
          and a.train_acc = b.train_acc and a.val_acc = b.val_acc")
[ "$close" = 4 ] && ok "--ranks-per-point 2: 4 points within 1e-6 of one process" || fail "--ranks-per-point 2: $close of 4 points close"

# 4. a failing point
mpi 3 sweep "$TMP/diverge.yaml" > out4 2> err4
rc=$?
[ $rc = 1 ] && [ "$(count "select count(*) from runs r join sweeps s on s.id = r.sweep_id where s.file like '%diverge.yaml'
                          and r.status = 'failed' and r.stop_reason like 'failed at epoch 1:%diverged%'")" = 2 ] &&
    [ "$(count "select count(*) from runs r join sweeps s on s.id = r.sweep_id where s.file like '%diverge.yaml' and r.status = 'finished'")" = 2 ] &&
    grep -q '2 points did not finish' err4 && ok "diverging points marked failed, the others finished, exit 1" ||
    { cat out4 err4; fail "failing points: exit $rc"; }

# 5. errors
mpi 4 sweep "$EXP" --ranks-per-point 2 > out5 2> err5
rc=$?
[ $rc = 2 ] && [ "$(grep -c '^strata' err5)" = 1 ] && grep -q 'ranks-per-point 2: mpirun started 4 ranks' err5 &&
    ok "-np 4 --ranks-per-point 2: one line, exit 2" || { cat err5; fail "-np 4 --ranks-per-point 2: exit $rc"; }
mpi 3 sweep "$EXP" --jobs 2 > out5 2> err5
rc=$?
[ $rc = 2 ] && [ "$(grep -c '^strata' err5)" = 1 ] && grep -q 'jobs: not with mpirun' err5 && ok "--jobs under mpirun: exit 2" ||
    { cat err5; fail "--jobs under mpirun: exit $rc"; }
"$STRATA" sweep "$EXP" --ranks-per-point 2 > out5 2> err5
rc=$?
[ $rc = 2 ] && grep -q 'only under mpirun' err5 && ok "--ranks-per-point without mpirun: exit 2" || { cat err5; fail "--ranks-per-point alone: exit $rc"; }
mpi 3 sweep "$STRATA_SRCDIR/t/fixtures/tiny-mpi.yaml" -s data.root="$STRATA_SRCDIR/data/flowers-mini" > out5 2> err5
rc=$?
[ $rc = 2 ] && [ "$(grep -c '^strata' err5)" = 1 ] && grep -q 'no sweep section' err5 && ok "no sweep section under mpirun: one line, exit 2" ||
    { cat err5; fail "no sweep section under mpirun: exit $rc"; }

# 6. a worker killed (SIGKILL) after its point recorded epoch 2, then the
# other (an epoch takes a few ms: alive, it would run dozens more before
# mpirun ends the job): the runs are left interrupted; the sweep again
# (train.epochs, 1000 while killed, lowered in the file to 2 more than the
# most recorded: that keeps the sweep's identity; results.dir shared by the
# ranks, as documented) resumes each point's run from its checkpoint under
# the same run id: epochs equal to a sweep of one process of that many
# epochs never interrupted, and a run_resumes row
kill_exp() { # NAME EPOCHS DIR: a 2-point sweep over optimizer.lr
    cat > "$TMP/$1.yaml" <<END
include: $STRATA_SRCDIR/t/fixtures/tiny-mpi.yaml
data: {root: $STRATA_SRCDIR/data/flowers-mini}
train: {epochs: $2}
results: {dir: $3}
sweep:
  grid: {optimizer.lr: [0.01, 0.02]}
END
}
kill_exp kill 1000 "$TMP/shared"
KDB="$TMP/shared/strata.db"
mpi 3 sweep "$TMP/kill.yaml" > out6 2> err6 &
job=$!
run2=""
for i in $(seq 1 300); do # the first run to record epoch 2
    run2=$(sqlite3 "$KDB" "select run_id from epochs where epoch = 2 limit 1" 2> /dev/null)
    [ -n "$run2" ] && break
    sleep 0.1
done
rank=$(sed -n "s/^sweep 1: run $run2 .* on rank \([0-9]*\)$/\1/p" out6)
victim="" other=""
for p in $(pgrep -f "kill.yaml"); do
    case "$(readlink "/proc/$p/cwd")" in
    "$TMP/w$rank") victim=$p ;;
    "$TMP"/w[12]) other=$p ;;
    esac
done
start=$(date +%s)
[ -n "$rank" ] && [ -n "$victim" ] && kill -9 "$victim" && kill -9 $other 2> /dev/null || fail "no worker to kill (rank '$rank')"
wait $job
rc=$?
took=$(( $(date +%s) - start ))
[ $rc != 0 ] && [ $took -le 30 ] && ok "a worker killed: the job ended in $took s, exit $rc" || fail "killed worker: exit $rc after $took s"
killed=$(sqlite3 "$KDB" "select id from runs order by id")
n_int=0
for i in $(seq 1 50); do # rank 0 may outlive mpirun by a moment
    "$STRATA" runs --db "$KDB" > runs6 2>&1
    n_int=0
    for id in $killed; do
        grep -q "^ *$id .*interrupted" runs6 && n_int=$((n_int + 1))
    done
    [ $n_int = 2 ] && break
    sleep 0.2
done
[ $n_int = 2 ] && ok "its 2 runs show interrupted" || { cat runs6; fail "killed runs: $killed"; }
before=$(sqlite3 "$KDB" "select id, sweep_point from runs order by id")
epochs=$(sqlite3 "$KDB" "select max(epoch) + 2 from epochs")
sed -i "s/^train: {epochs: 1000}/train: {epochs: $epochs}/" kill.yaml
kill_exp kill1 "$epochs" "$TMP/one4"
(mkdir one4 && cd one4 && "$STRATA" sweep "$TMP/kill1.yaml" > out 2>&1) || { cat one4/out; fail "the reference sweep"; }
# A point whose checkpoints are gone cannot be resumed: one line, that point
# counted failed, the other resumed and finished, exit 1; the run's epochs
# untouched. (The checkpoints come back for the next sweep, which resumes
# it: 3 "resuming" lines in all.)
first=$(echo $killed | cut -d' ' -f1)
run_rows() { sqlite3 "$KDB" "select epoch, train_loss, val_loss from epochs where run_id = $1 order by epoch"; }
rows_first=$(run_rows "$first")
mv "$TMP/shared/checkpoints/$first" "$TMP/ckpt-aside"
mpi 3 sweep "$TMP/kill.yaml" > out8 2> err8
rc=$?
mv "$TMP/ckpt-aside" "$TMP/shared/checkpoints/$first"
[ $rc = 1 ] && [ "$(grep -c "^strata: " err8)" -ge 1 ] && grep -q "checkpoint" err8 &&
    [ "$(run_rows "$first")" = "$rows_first" ] &&
    ok "a point without its checkpoints: exit 1, one message, its epochs untouched" ||
    { cat out8 err8; fail "missing checkpoints: exit $rc"; }
mpi 3 sweep "$TMP/kill.yaml" > out7 2> err7 || { cat out7 err7; fail "the sweep after the kill: exit $?"; }
kept=$(sqlite3 "$KDB" "select id, sweep_point from runs where status = 'finished' order by id")
[ "$kept" = "$before" ] && [ "$(cat out8 out7 | grep -c '^sweep 1: resuming run ')" = 3 ] && ! grep -q 'starts over' out7 &&
    ok "the sweep again: both points resumed under their run ids, finished" ||
    { cat out7 err7; fail "after the kill: $(sqlite3 "$KDB" 'select id, sweep_point, status from runs') (before: $before)"; }
[ -n "$(rows "$TMP/one4/strata.db" 1)" ] && [ "$(rows "$KDB" 1)" = "$(rows "$TMP/one4/strata.db" 1)" ] &&
    [ "$(classes "$KDB" 1)" = "$(classes "$TMP/one4/strata.db" 1)" ] &&
    ok "the resumed points' epochs equal an uninterrupted sweep of one process" ||
    fail "resumed epochs differ: $(rows "$KDB" 1) / $(rows "$TMP/one4/strata.db" 1)"
[ "$(sqlite3 "$KDB" "select count(distinct run_id) from run_resumes where run_id in ($(echo $killed | tr ' ' ','))")" = 2 ] &&
    ok "run_resumes has a row for each resumed run" || fail "run_resumes: $(sqlite3 "$KDB" 'select * from run_resumes')"

[ $failures = 0 ] || { echo "$failures failures"; exit 1; }
