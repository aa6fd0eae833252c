/* sweep_ranks.c — see sweep_ranks.h. The messages between rank 0 and a
 * group's leader (world ranks; the run's writes use run_forward.h's tags):
 *   SWEEP_ASK    leader -> 0: "STATUS", the exit status of the group's last
 *                point (-1: none yet); 0 answers with one of:
 *   SWEEP_POINT  "SWEEP_ID INDEX\0LABEL\0FILE\0YAML": train this point, the
 *                point's resolved experiment as YAML text
 *   SWEEP_RESUME "SWEEP_ID INDEX RUN_ID LAST END\0LABEL\0EXPERIMENT\0YAML":
 *                resume the point's interrupted run RUN_ID (LAST epochs
 *                recorded) up to epoch END from its checkpoint in
 *                results.dir, with the run's stored config as YAML text
 *   SWEEP_DONE   (empty): the sweep is over for this group
 * The leader passes each answer on to its group (dist_bcast). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/resume_run.h"
#include "cli/sweep_ranks.h"
#include "dist/dist.h"
#include "store/manage.h"
#include "train/run_forward.h"
#include "train/session.h"

enum { SWEEP_ASK = 1, SWEEP_POINT, SWEEP_DONE, SWEEP_RESUME };
enum { N_PARTS = 4 }; /* the fields of a point's message */

int sweep_ranks_groups(int world_size, int k, strata_err *err)
{
    int workers = world_size - 1;
    if (workers >= k && workers % k == 0)
        return workers / k;
    err_set(err, STRATA_ERR_CONFIG, "--ranks-per-point %d: mpirun started %d ranks, rank 0 schedules and the other %d "
            "must form groups of %d (start 1 + a multiple of %d ranks)", k, world_size, workers, k, k);
    return 0;
}

void sweep_ranks_split(int k)
{
    int r = dist_world_rank();
    dist_split(r == 0 ? 0 : 1 + (r - 1) / k);
}

/* ---- rank 0 --------------------------------------------------------------- */

static void send_done(sweep_sched *s, int leader)
{
    dist_send(leader, SWEEP_DONE, "", 0);
    s->groups_left--;
}

/* The parts (strings) as one message, each with its NUL. */
static void send_parts(int leader, int tag, const char *const *parts)
{
    size_t len = 0;
    for (int k = 0; k < N_PARTS; k++)
        len += strlen(parts[k]) + 1;
    char *msg = malloc(len), *at = msg;
    if (!msg) { /* the worker waits for an answer: end the job */
        fprintf(stderr, "strata: out of memory for a message to rank %d\n", leader);
        dist_abort(1);
    }
    for (int k = 0; k < N_PARTS; k++) {
        size_t n = strlen(parts[k]) + 1;
        memcpy(at, parts[k], n);
        at += n;
    }
    dist_send(leader, tag, msg, len);
    free(msg);
}

static void send_point(const sweep_sched *s, int leader, int i, strata_err *err)
{
    const sweep_point *p = &s->plan->points[i];
    ynode *tree = sweep_point_tree(s->root, p, err);
    char *yaml = tree ? ynode_emit(tree) : NULL;
    ynode_free(tree);
    if (!yaml) { /* the worker waits for an answer: end the job */
        fprintf(stderr, "strata: out of memory for point %d's message\n", i + 1);
        dist_abort(1);
    }
    char head[64];
    snprintf(head, sizeof head, "%lld %d", (long long)s->sweep_id, i);
    const char *parts[N_PARTS] = {head, p->label, s->file, yaml};
    send_parts(leader, SWEEP_POINT, parts);
    free(yaml);
}

/* The point's train.epochs (10 when absent, as a run's default). */
static long point_epochs(const sweep_sched *s, int i, strata_err *err)
{
    ynode *tree = sweep_point_tree(s->root, &s->plan->points[i], err);
    long epochs = 10;
    const ynode *ep = tree ? ynode_at(tree, "train.epochs") : NULL;
    if (ep)
        ynode_long(ep, &epochs);
    ynode_free(tree);
    return tree ? epochs : -1;
}

/* Does point i need training? Finished points are skipped and a run that
 * recorded all its epochs (killed before its status) is marked finished;
 * another run of the point (interrupted, failed) is resumed (ps->run_id
 * set). 1 yes, 0 no, -1 database error. */
static int needs_training(sweep_sched *s, results *db, int i, results_point *ps_out, strata_err *err)
{
    const char *label = s->plan->points[i].label;
    long long sweep = (long long)s->sweep_id;
    results_point ps;
    if (results_sweep_point(db, s->sweep_id, label, &ps, err))
        return -1;
    *ps_out = ps;
    if (!ps.run_id)
        return 1;
    if (!strcmp(ps.status, "finished")) {
        printf("sweep %lld: point %d (%s) finished as run %lld, skipped\n", sweep, i + 1, label, (long long)ps.run_id);
        return 0;
    }
    long epochs = point_epochs(s, i, err);
    if (epochs < 0)
        return -1;
    if (ps.epochs >= epochs) {
        if (results_run_status(db, ps.run_id, "finished", err))
            return -1;
        printf("sweep %lld: point %d (%s): run %lld had recorded all its epochs, marked finished\n", sweep, i + 1,
               label, (long long)ps.run_id);
        return 0;
    }
    return 1;
}

/* The next point to train from *next on: its index, plan->n when none is
 * left, -1 on a database error. */
static int next_point(sweep_sched *s, results *db, int *next, results_point *ps, strata_err *err)
{
    while (*next < s->plan->n) {
        int i = (*next)++, need = needs_training(s, db, i, ps, err);
        if (need)
            return need < 0 ? -1 : i;
    }
    return s->plan->n;
}

static int tag_new_run(results *db, int64_t run_id, void *ctx, strata_err *err)
{
    const sweep_sched *s = ctx;
    return results_tags_set_args(db, run_id, s->tags, s->n_tags, err);
}

/* Point i's interrupted run to the leader to resume (as `strata resume RUN
 * --epochs` the epochs left would, --tag options added); -1 (err set) when
 * it cannot be: the point is not sent. */
static int send_resume(sweep_sched *s, results *db, int leader, int i, const results_point *ps, strata_err *err)
{
    const char *label = s->plan->points[i].label;
    run_record rec = {0};
    int last = 0;
    ynode *root = NULL;
    long epochs = point_epochs(s, i, err);
    if (epochs < 0 || results_get_run(db, ps->run_id, &rec, err) || results_last_epoch(db, ps->run_id, &last, err))
        ;
    else if (resume_still_running(&rec))
        err_set(err, STRATA_ERR_CONFIG, "sweep %lld: point %d (%s): run %lld is still running (pid %lld)",
                (long long)s->sweep_id, i + 1, label, (long long)ps->run_id, (long long)rec.pid);
    else if ((root = resume_config(&rec, NULL, 0, last + (int)epochs - ps->epochs, err)) &&
             results_tags_set_args(db, ps->run_id, s->tags, s->n_tags, err)) {
        ynode_free(root);
        root = NULL;
    }
    char *yaml = root ? ynode_emit(root) : NULL;
    if (yaml) {
        char head[128];
        snprintf(head, sizeof head, "%lld %d %lld %d %d", (long long)s->sweep_id, i, (long long)ps->run_id, last,
                 last + (int)epochs - ps->epochs);
        const char *parts[N_PARTS] = {head, label, rec.experiment ? rec.experiment : "run", yaml};
        printf("sweep %lld: resuming run %lld (%s) at epoch %d\n", (long long)s->sweep_id, (long long)ps->run_id,
               label, ps->epochs + 1);
        fflush(stdout);
        send_parts(leader, SWEEP_RESUME, parts);
    } else if (root)
        err_set(err, STRATA_ERR_RUNTIME, "out of memory for point %d's message", i + 1);
    free(yaml);
    ynode_free(root);
    run_record_free(&rec);
    return yaml ? 0 : -1;
}

/* A leader asks for a point; its last point's status counts. A point
 * whose run cannot be resumed is said and counted, and the next one sent. */
static void answer_ask(sweep_sched *s, results *db, int leader, const char *msg, int *next, int *failures,
                       strata_err *err)
{
    int last = atoi(msg);
    if (last > 0 && *failures >= 0)
        (*failures)++;
    for (;;) {
        results_point ps = {0};
        int i = *failures < 0 || session_stopping() ? s->plan->n : next_point(s, db, next, &ps, err);
        if (i < 0)
            *failures = -1;
        fflush(stdout);
        if (i < 0 || i == s->plan->n) {
            send_done(s, leader);
            return;
        }
        if (!ps.run_id) {
            send_point(s, leader, i, err);
            return;
        }
        strata_err e = {0};
        if (!send_resume(s, db, leader, i, &ps, &e))
            return;
        cli_fail(&e);
        (*failures)++;
    }
}

int sweep_ranks_schedule(sweep_sched *s, results *db, strata_err *err)
{
    int next = 0, failures = 0;
    while (s->groups_left > 0) {
        int tag, from;
        size_t n;
        char *msg = dist_recv(DIST_ANY, &tag, &from, &n);
        strata_err e = {0};
        if (tag >= RUN_FORWARD_FIRST && tag <= RUN_FORWARD_LAST) {
            if (run_forward_apply(db, from, tag, msg, n, tag_new_run, s, &e))
                fprintf(stderr, "strata: %s\n", e.msg);
        } else if (tag == SWEEP_ASK)
            answer_ask(s, db, from, msg, &next, &failures, err);
        else
            fprintf(stderr, "strata: rank %d sent an unexpected message (tag %d); ignored\n", from, tag);
        free(msg);
    }
    for (; failures >= 0 && next < s->plan->n; next++) { /* stopped by a signal: the rest not finished */
        results_point ps;
        if (results_sweep_point(db, s->sweep_id, s->plan->points[next].label, &ps, err))
            return -1;
        failures += !ps.run_id || strcmp(ps.status, "finished");
    }
    return failures;
}

void sweep_ranks_release(sweep_sched *s)
{
    while (s->groups_left > 0) {
        int tag, from;
        size_t n;
        free(dist_recv(DIST_ANY, &tag, &from, &n));
        if (tag == SWEEP_ASK)
            send_done(s, from);
    }
}

/* ---- a worker ------------------------------------------------------------- */

typedef struct point_msg {
    long long sweep_id;
    int index;
    const char *label, *file, *yaml;
} point_msg;

/* The message's N_PARTS strings (pointing into it); -1 when malformed. */
static int split_parts(const char *msg, size_t n, const char **parts)
{
    const char *at = msg, *end = msg + n;
    for (int k = 0; k < N_PARTS; k++) {
        const char *nul = at < end ? memchr(at, 0, (size_t)(end - at)) : NULL;
        if (!nul)
            return -1;
        parts[k] = at;
        at = nul + 1;
    }
    return 0;
}

static int parse_point(const char *msg, size_t n, point_msg *p)
{
    const char *parts[N_PARTS];
    if (split_parts(msg, n, parts))
        return -1;
    p->label = parts[1];
    p->file = parts[2];
    p->yaml = parts[3];
    return sscanf(parts[0], "%lld %d", &p->sweep_id, &p->index) == 2 ? 0 : -1;
}

/* Every rank of the group: train the point; the exit status (0 finished). */
static int train_point(const char *msg, size_t n)
{
    point_msg p;
    strata_err err = {0};
    session s;
    memset(&s, 0, sizeof s);
    if (parse_point(msg, n, &p)) {
        fprintf(stderr, "strata: rank %d: a malformed point from rank 0\n", dist_world_rank());
        return 1;
    }
    ynode *tree = yaml_load_string(p.yaml, p.file, &err);
    int rc = tree ? session_prepare_tree(&s, tree, p.file, cli_plugin_dir, &err) : -1;
    if (!session_agree(&s, rc, &err)) {
        char name[512];
        snprintf(name, sizeof name, "%s[%s]", s.x.name, p.label);
        s.sweep_id = p.sweep_id;
        s.sweep_point = p.label;
        s.forward = dist_rank() == 0;
        rc = session_begin_run(&s, name, &err);
        if (!rc && dist_rank() == 0) {
            int first = dist_world_rank(), last = first + dist_size() - 1; /* a group's ranks are consecutive */
            if (first == last)
                printf("sweep %lld: run %lld %s on rank %d\n", p.sweep_id, (long long)s.run_id, name, first);
            else
                printf("sweep %lld: run %lld %s on ranks %d-%d\n", p.sweep_id, (long long)s.run_id, name, first, last);
            fflush(stdout);
        }
        if (!rc)
            rc = session_run_epochs(&s, 1, s.x.train.epochs, &err);
    } else
        rc = -1;
    int status = rc == 0 ? 0 : s.peer_failed ? err.status : cli_fail(&err);
    session_free(&s);
    return status;
}

/* Every rank of the group: resume the point's interrupted run; the exit
 * status (0 finished). */
static int resume_point(const char *msg, size_t n)
{
    const char *parts[N_PARTS];
    long long sweep_id, run_id;
    int index, last, end;
    strata_err err = {0};
    session s;
    memset(&s, 0, sizeof s);
    if (split_parts(msg, n, parts) ||
        sscanf(parts[0], "%lld %d %lld %d %d", &sweep_id, &index, &run_id, &last, &end) != 5) {
        fprintf(stderr, "strata: rank %d: a malformed resume from rank 0\n", dist_world_rank());
        return 1;
    }
    ynode *root = yaml_load_string(parts[3], "the run's config from rank 0", &err);
    resume_job j = {.run_id = run_id, .last = last, .end = end, .finish_stopped = 1, .forward = dist_rank() == 0};
    int rc = resume_train(&s, root, parts[2], &j, &err);
    int status = rc == 0 ? 0 : s.peer_failed ? err.status : cli_fail(&err);
    session_free(&s);
    return status;
}

int sweep_ranks_work(void)
{
    int last = -1;
    for (;;) {
        char *msg = NULL;
        int64_t len = 0, tag = SWEEP_DONE;
        if (dist_rank() == 0) {
            char ask[16];
            int rtag, from;
            size_t n;
            snprintf(ask, sizeof ask, "%d", last);
            dist_send(0, SWEEP_ASK, ask, strlen(ask) + 1);
            msg = dist_recv(0, &rtag, &from, &n);
            tag = rtag;
            len = tag == SWEEP_POINT || tag == SWEEP_RESUME ? (int64_t)n : 0;
        }
        int64_t head[2] = {len, tag};
        dist_bcast(head, sizeof head);
        len = head[0];
        tag = head[1];
        if (!len) {
            free(msg);
            return 0;
        }
        if (dist_rank() != 0 && !(msg = calloc((size_t)len + 1, 1))) {
            fprintf(stderr, "strata: rank %d: out of memory\n", dist_world_rank());
            dist_abort(1);
        }
        dist_bcast(msg, (size_t)len);
        last = tag == SWEEP_RESUME ? resume_point(msg, (size_t)len) : train_point(msg, (size_t)len);
        free(msg);
    }
}
