/* test_report.c — `strata report` and `strata plot -o F.svg / --confusion`
 * as a person sees them: the HTML and SVG are well-formed XML (checked by
 * a small checker here: balanced tags, quoted attributes, escaped text),
 * name every run and chart, load nothing from outside, and the numbers in
 * their <title>s equal the database's. The runs are a real tiny sweep.
 * Run 1 has an evaluation (`strata eval`), run 2 a resume. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "png_check.h"
#include "run_strata.h"
#include "testlib.h"
#include "testlib_db.h"

static char dir[4096], db[4200];

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc(n + 1);
    ck_assert_int_eq(fread(s, 1, n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* ---- a small XML well-formedness checker ------------------------------ */

static int entity_ok(const char *p)
{
    static const char *ok[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    for (int i = 0; i < 5; i++)
        if (!strncmp(p, ok[i], strlen(ok[i])))
            return 1;
    return 0;
}

/* NULL when s is well-formed, else a message naming the offset. */
static const char *xml_problem(const char *s, char *msg, int size)
{
    char stack[64][32];
    int depth = 0, roots = 0;
    const char *p = s;
    if (!strncmp(p, "<!DOCTYPE html>", 15))
        p += 15;
    for (; *p; p++) {
        if (*p == '&' && !entity_ok(p))
            return snprintf(msg, size, "unescaped & at %ld", (long)(p - s)), msg;
        if (*p == '>')
            return snprintf(msg, size, "stray > at %ld", (long)(p - s)), msg;
        if (*p != '<')
            continue;
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (len == 0 || len >= 32)
            return snprintf(msg, size, "bad tag at %ld", (long)(p - s)), msg;
        const char *q = name + len;
        while (*q && *q != '>' && !(q[0] == '/' && q[1] == '>')) { /* attributes: name="value" */
            q += strspn(q, " \n");
            if (*q == '>' || (q[0] == '/' && q[1] == '>'))
                break;
            size_t an = strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-:");
            if (an == 0 || q[an] != '=' || q[an + 1] != '"')
                return snprintf(msg, size, "unquoted attribute at %ld", (long)(q - s)), msg;
            for (q += an + 2; *q && *q != '"'; q++)
                if (*q == '<' || (*q == '&' && !entity_ok(q)))
                    return snprintf(msg, size, "bad attribute text at %ld", (long)(q - s)), msg;
            if (*q)
                q++;
        }
        if (!*q)
            return "unterminated tag";
        if (closing) {
            if (depth == 0 || strncmp(stack[depth - 1], name, len) || stack[depth - 1][len])
                return snprintf(msg, size, "</%.*s> closes nothing open at %ld", (int)len, name, (long)(p - s)), msg;
            depth--;
        } else if (*q == '>') {
            if (depth == 64)
                return "too deep";
            if (depth == 0)
                roots++;
            snprintf(stack[depth++], 32, "%.*s", (int)len, name);
        }
        p = *q == '>' ? q : q + 1;
    }
    if (depth)
        return snprintf(msg, size, "<%s> left open", stack[depth - 1]), msg;
    return roots == 1 ? NULL : "not exactly one root element";
}

static void assert_well_formed(const char *s, const char *what)
{
    char msg[256];
    const char *problem = xml_problem(s, msg, sizeof msg);
    ck_assert_msg(problem == NULL, "%s is not well-formed: %s", what, problem);
}

/* No resource from outside: no src= or href=, http only in xmlns. */
static void assert_self_contained(const char *s)
{
    ck_assert_ptr_null(strstr(s, "src="));
    ck_assert_ptr_null(strstr(s, "href="));
    ck_assert_ptr_null(strstr(s, "https:"));
    ck_assert_int_eq(count_substr(s, "http:"), count_substr(s, "xmlns=\"http:"));
}

/* Every "<title>METRIC ID NAME: epoch E, METRIC = V</title>" against the
 * database; returns how many were checked. */
static int check_point_titles(const char *s, sqlite3 *d)
{
    int checked = 0;
    for (const char *p = strstr(s, "<title>"); p; p = strstr(p + 1, "<title>")) {
        const char *c = strstr(p, ": epoch "), *end = strstr(p, "</title>");
        long long id;
        char metric[32];
        int epoch;
        double v;
        if (!c || c > end || sscanf(p + 7, "%31s %lld", metric, &id) != 2 || !strcmp(metric, "strata"))
            continue;
        ck_assert_int_eq(sscanf(c, ": epoch %d, %31[a-z_] = %lf", &epoch, metric, &v), 3);
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT %s FROM epochs WHERE run_id = %lld AND epoch = %d", metric, id, epoch);
        ck_assert_msg(q_double(d, sql) == v, "%s: %.17g in the page", sql, v);
        checked++;
    }
    return checked;
}

/* ---- the tiny sweep, once --------------------------------------------- */

/* The tiny experiment with extra YAML, written to path. */
static void write_tiny_experiment(const char *path, const char *extra)
{
    char *text = tiny_experiment(extra);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    free(text);
}

static void make_sweep(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    make_temp_dir(dir, sizeof dir, "test_report");
    char exp[4200];
    snprintf(exp, sizeof exp, "%s/exp.yaml", dir);
    snprintf(db, sizeof db, "%s/res/strata.db", dir);
    char extra[4600];
    snprintf(extra, sizeof extra, "name: \"tiny <&>\"\ntrain: {epochs: 3}\nresults: {dir: %s/res}\n"
                                  "sweep: {grid: {optimizer.lr: [0.01, 0.003]}}\n", dir);
    write_tiny_experiment(exp, extra);
    strata_ok("the tiny sweep", ARGS("sweep", exp));
    /* An evaluation of run 1, and run 2 resumed for a 4th epoch (the
     * report marks the resume after epoch 3). */
    strata_ok("eval", ARGS("eval", "1", "--db", db));
    strata_ok("resume", ARGS("resume", "2", "--epochs", "1", "--db", db));
    strata_ok("tag", ARGS("tag", "2", "arm=<b>", "--db", db));
    strata_ok("note", ARGS("note", "2", "resumed for a 4th epoch", "--db", db));
}

START_TEST(test_report_sweep)
{
    make_sweep();
    char out[4300];
    snprintf(out, sizeof out, "%s/r.html", dir);
    strata_ok("report", ARGS("report", "--sweep", "1", "-o", out, "--db", db));
    char *s = read_all(out);
    assert_well_formed(s, out);
    assert_self_contained(s);
    assert_has(s, "tiny &lt;&amp;&gt;[optimizer.lr=0.01]"); /* the names, escaped */
    assert_has(s, "tiny &lt;&amp;&gt;[optimizer.lr=0.003]");
    ck_assert_ptr_null(strstr(s, "tiny <&>"));
    assert_has(s, ">accuracy (train dashed, val solid)<");
    assert_has(s, ">loss (train dashed, val solid)<");
    assert_has(s, ">learning rate<");
    ck_assert_int_eq(count_substr(s, "<svg "), 4); /* three charts, one confusion matrix */
    assert_has(s, "<details>");
    sqlite3 *d = db_open_readonly(db);
    char cell[128];
    snprintf(cell, sizeof cell, "true daisy, predicted tulips: %lld",
             (long long)q_int(d, "SELECT n FROM eval_confusion WHERE true_class = 'daisy' AND pred_class = 'tulips'"));
    assert_has(s, cell);
    assert_has(s, "resumed after epoch 3");
    assert_has(s, "<th>tags and note</th>");
    assert_has(s, "<td>arm=&lt;b&gt;<br/>resumed for a 4th epoch</td>");
    assert_has(s, "<h1>strata report</h1>");
    /* Run 1's curves are drawn wider than run 2's, drawn over them: where
     * the two coincide run 1 shows as a border (five polylines a run: two
     * accuracy, two loss, one learning rate). */
    ck_assert_int_eq(count_substr(s, "stroke=\"#2166ac\" stroke-width=\"3.0\""), 5);
    ck_assert_int_eq(count_substr(s, "stroke=\"#e8710a\" stroke-width=\"2.0\""), 5);
    /* (3 + 4) epochs x (train_acc, val_acc, train_loss, val_loss, lr) */
    ck_assert_int_eq(check_point_titles(s, d), (3 + 4) * 5);
    char want[128];
    snprintf(want, sizeof want, "best epoch %lld, val_acc = ", (long long)q_int(d, "SELECT best_epoch FROM run_summary WHERE run_id = 1"));
    assert_has(s, want);
    sqlite3_close(d);
    free(s);
}
END_TEST

/* The PNG of eval 1's confusion matrix: the default size, each class name
 * legible at the left, and a shaded cell (blue, not white, grid or text)
 * for each class with predictions. */
static void check_confusion_png(sqlite3 *d, const char *path)
{
    int w, h;
    unsigned char *img = png_check_read(path, &w, &h);
    ck_assert_msg(img != NULL, "%s does not decode", path);
    ck_assert_int_eq(w, 800);
    ck_assert_int_eq(h, 500);
    long shaded = 0;
    for (long i = 0; i < (long)w * h; i++) {
        const unsigned char *p = img + i * 3;
        shaded += p[2] > p[0] + 20; /* white to blue: blue ahead of red */
    }
    int64_t classes = q_int(d, "SELECT count(DISTINCT true_class) FROM eval_confusion WHERE eval_id = 1");
    ck_assert_int_ge(classes, 2);
    ck_assert_msg(shaded > classes * 100, "%ld shaded pixels", shaded);
    sqlite3_stmt *st = db_prep(d, "SELECT DISTINCT true_class FROM eval_confusion WHERE eval_id = 1");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int x, y;
        ck_assert_msg(png_check_find_text(img, w, h, (plot_rect){0, 0, w / 2, h}, name, 1, PLOT_TEXT, &x, &y) == 0,
                      "class name '%s' not legible in %s", name, path);
    }
    sqlite3_finalize(st);
    free(img);
}

/* One run: every parameter is listed, but a list's items only inside the
 * list's own entry (model.layers=[...], no model.layers.0.type=...); the
 * evaluation's numbers to 4 decimals, in full on hover (title). */
START_TEST(test_report_one_run)
{
    make_sweep();
    char out[4300];
    snprintf(out, sizeof out, "%s/one.html", dir);
    char intro[4300];
    snprintf(intro, sizeof intro, "%s/intro.txt", dir);
    FILE *f = fopen(intro, "w");
    fputs("First paragraph,\nits second line & more.\n\n\nSecond <paragraph>.\n", f);
    fclose(f);
    strata_ok("report", ARGS("report", "1", "-o", out, "--db", db, "--title", "Tiny & small", "--intro", intro));
    char *s = read_all(out);
    assert_has(s, "<title>Tiny &amp; small</title>");
    assert_has(s, "<h1>Tiny &amp; small</h1>\n<p class=\"intro\">First paragraph,\nits second line &amp; more.</p>\n"
                  "<p class=\"intro\">Second &lt;paragraph&gt;.</p>\n");
    ck_assert_ptr_null(strstr(s, "<th>tags and note</th>")); /* run 1 has none */
    assert_well_formed(s, out);
    /* a long value (the layer list) collapsed, its key in the summary */
    const char *summary = strstr(s, "<details><summary>"); /* the runs table's, first on the page */
    ck_assert_msg(summary && strstr(summary, "model.layers") < strstr(summary, "</summary>"),
                  "model.layers not collapsed under its key in the runs table");
    assert_has(summary, "<br/>model.layers=[{");
    ck_assert_ptr_nonnull(strstr(summary, "&quot;out_features&quot;:5}]</details>")); /* whole, not cut */
    assert_has(s, "optimizer.lr=0.01");
    ck_assert_msg(!strstr(s, "model.layers.0.type="), "list items listed besides their list");
    sqlite3 *d = db_open_readonly(db);
    double acc = q_double(d, "SELECT acc FROM evals WHERE run_id = 1");
    char want[128];
    snprintf(want, sizeof want, "\">%.4f</td>", acc);
    assert_has(s, want);
    int digits = 1; /* the full value: its shortest round-trip form */
    do
        snprintf(want, sizeof want, "title=\"%.*g\"", digits, acc);
    while (strtod(want + 7, NULL) != acc && ++digits <= 17);
    assert_has(s, want);
    sqlite3_close(d);
    free(s);
}
END_TEST

/* Runs of two databases on one page: the second database holds one
 * 2-epoch run "other". Each run is named with its database, each database
 * gets its own charts, and the points are the right database's numbers. */
START_TEST(test_report_two_databases)
{
    make_sweep();
    char exp[4300], db2[4300], ref1[4400], ref2[4400], out[4300];
    snprintf(exp, sizeof exp, "%s/other.yaml", dir);
    snprintf(db2, sizeof db2, "%s/res2/strata.db", dir);
    char extra[4600];
    snprintf(extra, sizeof extra, "name: other\ntrain: {epochs: 2}\nresults: {dir: %s/res2}\n", dir);
    write_tiny_experiment(exp, extra);
    strata_ok("the other database's run", ARGS("run", exp));
    snprintf(ref1, sizeof ref1, "%s:1", db);
    snprintf(ref2, sizeof ref2, "%s:other", db2);
    snprintf(out, sizeof out, "%s/two.html", dir);
    strata_ok("report of two databases", ARGS("report", ref1, ref2, "-o", out));
    char *s = read_all(out);
    assert_well_formed(s, out);
    assert_has(s, "2 runs from 2 databases: ");
    assert_has(s, "<th>database</th>");
    char want[4500];
    snprintf(want, sizeof want, "<h2>Curves of sweep 1 in %s</h2>", db);
    assert_has(s, want);
    snprintf(want, sizeof want, "<h2>Curves of %s</h2>", db2);
    assert_has(s, want);
    ck_assert_int_eq(count_substr(s, "<h2>Curves"), 2);
    sqlite3 *d2 = db_open_readonly(db2);
    snprintf(want, sizeof want, "val_acc 1 other: epoch 2, val_acc = ");
    const char *p = strstr(s, want);
    ck_assert_msg(p != NULL, "no point of run 1 'other' in the page");
    ck_assert(strtod(p + strlen(want), NULL) == q_double(d2, "SELECT val_acc FROM epochs WHERE run_id = 1 AND epoch = 2"));
    sqlite3_close(d2);
    free(s);
    /* The same file however it is spelt is one database. */
    snprintf(ref2, sizeof ref2, "%s/res/../res/strata.db:2", dir);
    strata_ok("report of one database spelt twice", ARGS("report", "--db", db, "1", ref2, "-o", out));
    s = read_all(out);
    assert_has(s, "2 runs from ");
    ck_assert_ptr_null(strstr(s, "databases"));
    ck_assert_int_eq(count_substr(s, "<h2>Curves"), 1);
    free(s);
}
END_TEST

START_TEST(test_plot_svg_and_confusion)
{
    make_sweep();
    char out[4300];
    snprintf(out, sizeof out, "%s/p.svg", dir);
    strata_ok("plot svg", ARGS("plot", "1", "2", "--metric", "train_acc,val_acc", "-o", out, "--db", db));
    char *s = read_all(out);
    assert_well_formed(s, out);
    assert_self_contained(s);
    sqlite3 *d = db_open_readonly(db);
    int n = 0;
    for (const char *p = strstr(s, ": epoch "); p; p = strstr(p + 1, ": epoch ")) {
        int epoch;
        char metric[32];
        double v;
        ck_assert_int_eq(sscanf(p, ": epoch %d, %31[a-z_] = %lf", &epoch, metric, &v), 3);
        const char *start = p;
        while (start > s && start[-1] != '>')
            start--;
        long long id = atoll(start);
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT %s FROM epochs WHERE run_id = %lld AND epoch = %d", metric, id, epoch);
        ck_assert_msg(q_double(d, sql) == v, "%s: %.17g in the SVG", sql, v);
        n++;
    }
    ck_assert_int_eq(n, 2 * (3 + 4));
    free(s);
    snprintf(out, sizeof out, "%s/c.svg", dir);
    strata_ok("confusion svg", ARGS("plot", "1", "--confusion", "-o", out, "--db", db));
    s = read_all(out);
    assert_well_formed(s, out);
    char cell[128];
    snprintf(cell, sizeof cell, "true roses, predicted daisy: %lld",
             (long long)q_int(d, "SELECT n FROM eval_confusion WHERE true_class = 'roses' AND pred_class = 'daisy'"));
    assert_has(s, cell);
    free(s);
    snprintf(out, sizeof out, "%s/c.png", dir);
    strata_ok("confusion png", ARGS("plot", "1", "--confusion", "--eval", "1", "-o", out, "--db", db));
    check_confusion_png(d, out);
    sqlite3_close(d);
}
END_TEST

START_TEST(test_errors)
{
    make_sweep();
    char out[4300];
    snprintf(out, sizeof out, "%s/e.out", dir);
    strata_refuses(ARGS("report", "1", "--db", db), 2, "-o");
    strata_refuses(ARGS("report", "-o", out, "--db", db), 2, "RUN");
    strata_refuses(ARGS("report", "--sweep", "x", "-o", out, "--db", db), 2, "--sweep");
    strata_refuses(ARGS("report", "--sweep", "7", "-o", out, "--db", db), 2, "no runs");
    strata_refuses(ARGS("report", "999", "-o", out, "--db", db), 2, "999");
    char ref[4400];
    snprintf(ref, sizeof ref, "%s/nope/x.db:1", dir);
    strata_refuses(ARGS("report", ref, "-o", out, "--db", db), 2, "nope/x.db: No such file");
    snprintf(ref, sizeof ref, "%s:99", db);
    strata_refuses(ARGS("report", "1", ref, "-o", out, "--db", db), 2, "'99'");
    snprintf(ref, sizeof ref, "%s/res:1", dir);
    strata_refuses(ARGS("report", ref, "-o", out, "--db", db), 2, "not a regular file");
    strata_refuses(ARGS("report", "a:b", "-o", out, "--db", db), 2, "'a:b'");
    snprintf(ref, sizeof ref, "%s/no-intro.txt", dir);
    strata_refuses(ARGS("report", "1", "-o", out, "--db", db, "--intro", ref), 2, "no-intro.txt: --intro: cannot read");
    strata_refuses(ARGS("plot", "2", "--confusion", "-o", out, "--db", db), 2, "no evaluation");
    strata_refuses(ARGS("plot", "2", "--confusion", "--eval", "1", "-o", out, "--db", db), 2, "--eval 1");
    strata_refuses(ARGS("plot", "1", "--eval", "1", "-o", out, "--db", db), 2, "--confusion");
    strata_refuses(ARGS("plot", "1", "--metric", "val_acc,nope", "-o", out, "--db", db), 2, "nope");
    strata_refuses(ARGS("plot", "999", "-o", out, "--db", db), 2, "999");
    ck_assert_int_ne(access(out, F_OK), 0);
}
END_TEST

int main(void)
{
    int rc = RUN_TEST_CASES("report", {.name = "report", .timeout = 300,
                                       .tests = TESTS(test_report_sweep, test_report_one_run, test_report_two_databases,
                                                    test_plot_svg_and_confusion, test_errors)});
    return rc;
}
