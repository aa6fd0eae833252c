#!/bin/sh
# t/test_mpi.sh — data-parallel training under mpirun (built with MPI only;
# t/mpi.mk): the tiny conv net without batch norm (t/fixtures/tiny-mpi.yaml,
# with its dropout), 2 epochs of batch 16 on flowers-mini.
#   1. plain `strata run` and `mpirun -np 1`: the same epochs rows, bit for bit
#   2. -np 2 and -np 3 against one process: train_loss and val_loss within
#      1e-6 relative (measured: 2e-9), accuracies equal at epoch 1
#   3. the ranks' weights checksums agree every epoch (STRATA_DIST_DUMP);
#      one rank's weights changed (STRATA_DIST_CORRUPT_RANK) fails the run
#      on every rank, exit 1, one message, run 'failed'
#   4. errors: a configuration error prints one line, exit 2; rank 0's
#      database failing ends every rank (no hang), exit 1 (sweeps under
#      mpirun: t/test_mpi_sweep.sh)
#   5. a rank killed (SIGKILL) mid-run: mpirun ends the job within 30 s, the
#      run shows 'interrupted', `strata resume` continues it with 1 rank
#      and then with 2.
#   6. four photos cut in half (header intact: they fail to decode during
#      training, on whichever rank loads them): -np 1, 2 and 3 record the
#      same run_skipped rows, and (dropout keyed by the row in the whole
#      batch without the failed photos) losses within 1e-6 of each other.
#   7. the buckets overlap backward, counted, not timed (STRATA_DIST_DUMP):
#      with train.bucket_mb 0.001 the net's gradients (fc + conv2: 1253
#      floats, conv1: 224) make 2 buckets and the first one's allreduce has
#      started on every rank, every step, before conv1's backward began;
#      with one bucket (the default 25 MB) none has.
# Every mpirun under `timeout`, so a hang fails the suite instead of
# blocking it. CI runs as root: OpenMPI needs the two ALLOW variables.
set -u
OMPI_ALLOW_RUN_AS_ROOT=1; OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_btl=self,vader; OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OMPI_MCA_btl OMPI_MCA_rmaps_base_oversubscribe
STRATA="$STRATA_BUILDDIR/core/strata"
EXP="$STRATA_SRCDIR/t/fixtures/tiny-mpi.yaml"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-mpi.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 99
SETS="-s data.root=$STRATA_SRCDIR/data/flowers-mini -s results.dir=$TMP/r"
DB="$TMP/r/strata.db"
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
mpi() { np=$1; shift; timeout 120 mpirun --oversubscribe -np "$np" "$@"; }
rows() { sqlite3 "$DB" "select epoch, printf('%.17g %.17g %.17g %.17g', train_loss, train_acc, val_loss, val_acc) from epochs where run_id = $1 order by epoch"; }
# relative difference of column $2 of run $1 and run $3 at epoch $4, below $5?
close() {
    sqlite3 "$DB" "select abs(a.$2 - b.$2) <= $5 * abs(b.$2) from epochs a, epochs b where a.run_id = $1 and b.run_id = $3 and a.epoch = $4 and b.epoch = $4"
}
last_run() { sqlite3 "$DB" 'select max(id) from runs'; }

# 1. one process: plain and under mpirun -np 1
"$STRATA" run "$EXP" $SETS > out1 2>&1 || { cat out1; fail "plain run"; }
mpi 1 "$STRATA" run "$EXP" $SETS > out2 2>&1 || { cat out2; fail "mpirun -np 1"; }
[ "$(rows 1)" = "$(rows 2)" ] && [ -n "$(rows 1)" ] && ok "-np 1 equals the plain run bit for bit" ||
    fail "-np 1 differs from the plain run: $(rows 1) / $(rows 2)"
[ "$(sqlite3 "$DB" 'select ranks from runs where id = 2')" = 1 ] || fail "runs.ranks of -np 1"

# 2. and 3. two and three ranks
for np in 2 3; do
    STRATA_DIST_DUMP=1 mpi $np "$STRATA" run "$EXP" $SETS > out$np 2> err$np || { cat out$np err$np; fail "mpirun -np $np"; }
    id=$(last_run)
    for e in 1 2; do
        for col in train_loss val_loss; do
            [ "$(close $id $col 1 $e 1e-6)" = 1 ] || fail "-np $np: $col at epoch $e not within 1e-6 of one process"
        done
    done
    [ "$(sqlite3 "$DB" "select a.train_acc = b.train_acc and a.val_acc = b.val_acc from epochs a, epochs b
          where a.run_id = $id and b.run_id = 1 and a.epoch = 1 and b.epoch = 1")" = 1 ] || fail "-np $np: accuracy at epoch 1"
    [ "$(sqlite3 "$DB" "select ranks || ' ' || (length(hosts) > 0) || ' ' || status from runs where id = $id")" = "$np 1 finished" ] ||
        fail "-np $np: runs.ranks/hosts/status: $(sqlite3 "$DB" "select ranks, hosts, status from runs where id = $id")"
    "$STRATA" show $id --db "$DB" | grep -q "^data-parallel over $np MPI ranks on " || fail "-np $np: strata show"
    n=$(grep -c "epoch 1 weights checksum" err$np)
    distinct=$(grep "weights checksum" err$np | sed 's/.*epoch \([0-9]*\) weights checksum/\1/' | sort -u | wc -l)
    [ "$n" = $np ] && [ "$distinct" = 2 ] && ok "-np $np: within 1e-6, same weights on every rank" ||
        fail "-np $np: checksums: $(grep checksum err$np)"
    [ "$(grep -c '^epoch ' out$np)" = 2 ] || fail "-np $np: expected 2 epoch lines (rank 0 only): $(cat out$np)"
done

STRATA_DIST_CORRUPT_RANK=1 mpi 2 "$STRATA" run "$EXP" $SETS > outc 2> errc
rc=$?
id=$(last_run)
[ $rc = 1 ] && [ "$(grep -c "weights differ" errc)" = 1 ] && [ "$(sqlite3 "$DB" "select status from runs where id = $id")" = failed ] &&
    ok "different weights on rank 1: the run fails" || { cat outc errc; fail "corrupt rank: exit $rc"; }

# 4. errors
mpi 2 "$STRATA" run "$EXP" $SETS -s train.batch_size=0 > oute 2> erre
rc=$?
[ $rc = 2 ] && [ "$(grep -c 'batch_size' erre)" = 1 ] && ok "configuration error: one line, exit 2" ||
    { cat erre; fail "configuration error under mpirun: exit $rc"; }
: > afile # results.dir a file: rank 0 cannot open the database
mpi 2 "$STRATA" run "$EXP" $SETS -s results.dir="$TMP/afile" > outd 2> errd
rc=$?
[ $rc = 1 ] && [ "$(grep -c '^strata: ' errd)" = 1 ] && ok "rank 0's database error ends both ranks, exit 1" ||
    { cat errd; fail "database error under mpirun: exit $rc"; }

# 5. a rank killed
mpi 2 "$STRATA" run "$EXP" $SETS -s train.epochs=1000 --name killed > outk 2> errk &
job=$!
id=""
for i in $(seq 1 300); do
    id=$(sqlite3 "$DB" "select r.id from runs r where r.name = 'killed' and (select count(*) from epochs e where e.run_id = r.id) >= 2" 2>/dev/null)
    [ -n "$id" ] && break
    sleep 0.2
done
mpirun_pid=$(pgrep -f "^mpirun.*train.epochs=1000")
rank0=$(sqlite3 "$DB" "select pid from runs where id = $id")
victim=""
for p in $(pgrep -P "$mpirun_pid"); do [ "$p" != "$rank0" ] && victim=$p; done
start=$(date +%s)
[ -n "$victim" ] && kill -9 "$victim" || fail "no rank to kill (mpirun $mpirun_pid, rank 0 $rank0)"
wait $job
took=$(( $(date +%s) - start ))
[ $took -le 30 ] && ok "killed rank: the job ended in ${took} s" || fail "killed rank: the job took $took s"
grep -q "^strata: rank 0: SIGTERM from mpirun (a rank died, or the job was stopped) during epoch [0-9]*; run $id .*continue with: strata resume $id --epochs [0-9]* --db $DB\$" errk &&
    ok "rank 0 says what happened and how to continue" || { cat errk; fail "killed rank: no line from rank 0"; }
status=""
for i in $(seq 1 50); do
    status=$("$STRATA" runs --db "$DB" --json 2>/dev/null | grep -o "\"id\": *$id,[^}]*" | grep -o '"status": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"')
    [ "$status" = interrupted ] && break
    sleep 0.2
done
[ "$status" = interrupted ] && ok "the killed run shows interrupted" || fail "killed run: status '$status'"
done_epochs=$(sqlite3 "$DB" "select count(*) from epochs where run_id = $id")
"$STRATA" resume $id --epochs 1 --db "$DB" > outr1 2>&1 || { cat outr1; fail "resume with 1 process"; }
mpi 2 "$STRATA" resume $id --epochs 1 --db "$DB" > outr2 2>&1 || { cat outr2; fail "resume with 2 ranks"; }
[ "$(sqlite3 "$DB" "select count(*) || ' ' || max(epoch) from epochs where run_id = $id")" = "$((done_epochs + 2)) $((done_epochs + 2))" ] &&
    [ "$(sqlite3 "$DB" "select ranks || ' ' || status from runs where id = $id")" = "2 finished" ] &&
    ok "resumed with 1, then 2 ranks" || fail "resume: $(sqlite3 "$DB" "select epoch from epochs where run_id = $id"; sqlite3 "$DB" "select ranks, status from runs where id = $id")"

# 6. photos that fail to decode
cp -R "$STRATA_SRCDIR/data/flowers-mini" mini || exit 99
for f in $(ls mini/*/*.jpg | sed -n '1p;60p;120p;180p'); do
    size=$(wc -c < "$f")
    head -c $((size / 2)) "$f" > cut && mv cut "$f" || exit 99
done
skipped() { sqlite3 "$DB" "select path || ' | ' || reason from run_skipped where run_id = $1 order by path"; }
for np in 1 2 3; do
    mpi $np "$STRATA" run "$EXP" $SETS -s data.root="$TMP/mini" > outs$np 2> errs$np || { cat errs$np; fail "corrupt photos, -np $np"; }
    eval "skip$np=$(last_run)"
done
n=$(sqlite3 "$DB" "select count(*) from run_skipped where run_id = $skip1 and reason like 'failed to decode%'")
[ "$n" = 4 ] || fail "corrupt photos: $n failures recorded with one rank, expected 4: $(skipped $skip1)"
for np in 2 3; do
    eval "id=\$skip$np"
    [ "$(skipped $id)" = "$(skipped $skip1)" ] && ok "corrupt photos, -np $np: the same run_skipped rows as one rank" ||
        fail "corrupt photos, -np $np: run_skipped differs: $(skipped $id) / $(skipped $skip1)"
    same=1
    for e in 1 2; do
        for col in train_loss val_loss; do
            [ "$(close $id $col $skip1 $e 1e-6)" = 1 ] || same=0
        done
    done
    [ $same = 1 ] && ok "corrupt photos, -np $np: losses within 1e-6 of one rank" ||
        fail "corrupt photos, -np $np: losses differ from one rank: $(rows $id) / $(rows $skip1)"
done

# 7. the overlap of the gradient buckets with backward
for case in "0.001 2 1" "25 1 0"; do
    set -- $case
    STRATA_DIST_DUMP=1 mpi 2 "$STRATA" run "$EXP" $SETS -s train.epochs=1 -s train.bucket_mb=$1 > outo 2> erro ||
        { cat erro; fail "bucket_mb $1: the run failed"; }
    want="epoch 1: $2 gradient buckets, $3 to $3 started per step before the lowest layer's backward"
    [ "$(grep -c "of 2: $want" erro)" = 2 ] && ok "bucket_mb $1: $2 buckets, $3 started before the last backward" ||
        fail "bucket_mb $1: expected '$want' from both ranks: $(grep buckets erro)"
done

[ $failures = 0 ] || { echo "$failures failures"; exit 1; }
