/* test_plugins.c — finding and loading plugin modules: the search order,
 * every way a module is refused, the current directory never searched, and
 * the strata program's `plugins` command and global options.
 *
 * The refused modules are built from t/plugins/ for `make check` only and
 * land in $STRATA_BUILDDIR/t/plugins/.libs/; each test copies the ones it
 * needs, under the names it needs, into its own temporary directories. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config/experiment.h"
#include "model/network.h"
#include "model/plugins.h"
#include "train/optimizer.h"
#include "run_strata.h"
#include "testlib.h"

/* ---- helpers ------------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    ck_assert_msg(in >= 0, "cannot open %s", from);
    ck_assert_msg(out >= 0, "cannot create %s", to);
    char buf[65536];
    ssize_t got;
    while ((got = read(in, buf, sizeof buf)) > 0)
        ck_assert_int_eq(write(out, buf, (size_t)got), got);
    close(in);
    close(out);
}

/* Copy a module into dir as NAME.so: "test:badabi" is a test module,
 * "layers:relu" an in-tree plugin. */
static void put(const char *dir, const char *module, const char *as)
{
    char from[4096], to[4096];
    if (!strncmp(module, "test:", 5))
        snprintf(from, sizeof from, "%s/t/plugins/.libs/%s.so", builddir(), module + 5);
    else if (!strncmp(module, "layers:", 7))
        snprintf(from, sizeof from, "%s/plugins/layers/.libs/%s.so", builddir(), module + 7);
    else
        snprintf(from, sizeof from, "%s/plugins/optimizers/.libs/%s.so", builddir(), strchr(module, ':') + 1);
    snprintf(to, sizeof to, "%s/%s.so", dir, as);
    copy_file(from, to);
}

/* Write text to dir/name. */
static void write_text_in(const char *dir, const char *name, const char *text)
{
    char *p = fx_path(dir, name);
    write_text(p, text);
    free(p);
}

/* The file a plugin found by plugins_find was loaded from. */
static const char *file_of(const plugin_registry *r, const strata_plugin *p)
{
    for (int i = 0; i < r->n; i++)
        if (r->loaded[i].desc == p)
            return r->loaded[i].file;
    return NULL;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void setup(void)
{
    unsetenv("STRATA_PLUGIN_PATH");
}

/* ---- search order -------------------------------------------------------- */

START_TEST(test_search_dirs)
{
    char want[4096];
    setenv("STRATA_PLUGIN_PATH", "/b::/c", 1); /* empty parts are skipped */
    plugin_registry r;
    plugins_init(&r, "/a");
    ck_assert_int_ge(r.n_dirs, 5);
    ck_assert_str_eq(r.dirs[0], "/a");
    ck_assert_str_eq(r.dirs[1], "/b");
    ck_assert_str_eq(r.dirs[2], "/c");
    snprintf(want, sizeof want, "%s/plugins/layers/.libs", builddir());
    ck_assert_str_eq(r.dirs[3], want); /* this test runs from the build tree */
    snprintf(want, sizeof want, "%s/plugins/optimizers/.libs", builddir());
    ck_assert_str_eq(r.dirs[4], want);
    for (int i = 0; i < r.n_dirs; i++)
        ck_assert_msg(strcmp(r.dirs[i], ".") && strcmp(r.dirs[i], ""), "the current directory is searched");
    plugins_free(&r);
}
END_TEST

/* --plugin-dir A (a good relu) before STRATA_PLUGIN_PATH B (a bad one). */
START_TEST(test_plugin_dir_first)
{
    char a[64], b[64], want[200];
    make_temp_dir(a, sizeof a, "strata-plugins");
    make_temp_dir(b, sizeof b, "strata-plugins");
    put(a, "layers:relu", "relu");
    put(b, "test:badabi", "relu");
    setenv("STRATA_PLUGIN_PATH", b, 1);
    plugin_registry r;
    strata_err err = {0};
    plugins_init(&r, a);
    const strata_plugin *p = plugins_find(&r, STRATA_PLUGIN_LAYER, "relu", &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    snprintf(want, sizeof want, "%s/relu.so", a);
    ck_assert_str_eq(file_of(&r, p), want);
    ck_assert_str_eq(p->name, "relu");
    ck_assert_int_eq(r.n, 1); /* B's module was never opened */
    plugins_free(&r);
    fx_rm_rf(a);
    fx_rm_rf(b);
}
END_TEST

/* The first directory holding NAME.so decides, even when its module is bad:
 * a broken module is reported, not silently skipped. */
START_TEST(test_earlier_dir_decides)
{
    char a[64], b[64], want[200];
    make_temp_dir(a, sizeof a, "strata-plugins");
    make_temp_dir(b, sizeof b, "strata-plugins");
    put(a, "test:badabi", "relu");
    put(b, "layers:relu", "relu");
    setenv("STRATA_PLUGIN_PATH", b, 1);
    plugin_registry r;
    strata_err err = {0};
    plugins_init(&r, a);
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_LAYER, "relu", &err));
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    snprintf(want, sizeof want, "%s/relu.so", a);
    assert_has(err.msg, want);
    assert_has(err.msg, "99");
    plugins_free(&r);
    fx_rm_rf(a);
    fx_rm_rf(b);
}
END_TEST

/* STRATA_PLUGIN_PATH before the build tree, its directories in order. */
START_TEST(test_env_before_build_tree)
{
    char b[64], c[64], d[64], path[300], want[200];
    make_temp_dir(b, sizeof b, "strata-plugins");
    make_temp_dir(c, sizeof c, "strata-plugins");
    make_temp_dir(d, sizeof d, "strata-plugins");
    put(c, "layers:relu", "relu");
    put(d, "test:badabi", "relu");
    snprintf(path, sizeof path, "%s:%s:%s", b, c, d);
    setenv("STRATA_PLUGIN_PATH", path, 1);
    plugin_registry r;
    strata_err err = {0};
    plugins_init(&r, NULL);
    const strata_plugin *p = plugins_find(&r, STRATA_PLUGIN_LAYER, "relu", &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    snprintf(want, sizeof want, "%s/relu.so", c);
    ck_assert_str_eq(file_of(&r, p), want);
    plugins_free(&r);
    /* a bad module in the path hides the build tree's good one */
    setenv("STRATA_PLUGIN_PATH", d, 1);
    plugins_init(&r, NULL);
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_LAYER, "relu", &err));
    snprintf(want, sizeof want, "%s/relu.so", d);
    assert_has(err.msg, want);
    plugins_free(&r);
    fx_rm_rf(b);
    fx_rm_rf(c);
    fx_rm_rf(d);
}
END_TEST

START_TEST(test_build_tree_default)
{
    plugin_registry r;
    strata_err err = {0};
    char want[4096];
    plugins_init(&r, NULL);
    const strata_plugin *p = plugins_find(&r, STRATA_PLUGIN_OPTIMIZER, "sgd", &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    snprintf(want, sizeof want, "%s/plugins/optimizers/.libs/sgd.so", builddir());
    ck_assert_str_eq(file_of(&r, p), want);
    ck_assert_int_eq(p->kind, STRATA_PLUGIN_OPTIMIZER);
    /* asking twice loads once */
    ck_assert_ptr_eq(plugins_find(&r, STRATA_PLUGIN_OPTIMIZER, "sgd", &err), p);
    ck_assert_int_eq(r.n, 1);
    plugins_free(&r);
}
END_TEST

/* ---- refusals ------------------------------------------------------------ */

START_TEST(test_missing_plugin)
{
    char a[64], b[64];
    make_temp_dir(a, sizeof a, "strata-plugins");
    make_temp_dir(b, sizeof b, "strata-plugins");
    setenv("STRATA_PLUGIN_PATH", b, 1);
    plugin_registry r;
    strata_err err = {0};
    plugins_init(&r, a);
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_LAYER, "nosuchlayer", &err));
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    assert_has(err.msg, "'nosuchlayer'");
    assert_has(err.msg, "nosuchlayer.so");
    assert_has(err.msg, a);
    assert_has(err.msg, b);
    assert_has(err.msg, "layer");
    plugins_free(&r);
    fx_rm_rf(a);
    fx_rm_rf(b);
}
END_TEST

/* Each refused module: the file it is copied to, and what the message says. */
typedef struct refusal {
    const char *module, *as;
    const char *expect[2];
} refusal;

static const refusal refusals[] = {
    {"test:badabi", "badabi", {"plugin ABI version 99", "speaks version 4"}},
    {"test:abi3", "abi3", {"plugin ABI version 3", "speaks version 4"}},
    {"test:refuseabi", "refuseabi", {"refused ABI version 4", NULL}},
    {"test:noname", "noname", {"has no name", NULL}},
    {"test:unknownkind", "unknownkind", {"unknown kind", NULL}},
    {"test:noops", "noops", {"no operations table", NULL}},
    {"test:nobackward", "nobackward", {"lacks the required op 'backward'", NULL}},
    {"test:nosize", "nosize", {"struct_size 0", "STRATA_PLUGIN_DEFINE"}},
    {"test:noentry", "noentry", {"not a strata plugin", "no strata_plugin_entry symbol"}},
};
#define N_REFUSALS ((int)(sizeof refusals / sizeof refusals[0]))

/* Through plugins_load_file, and through plugins_find by name. */
START_TEST(test_refused_module)
{
    const refusal *c = &refusals[_i];
    char a[64], file[200];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, c->module, c->as);
    snprintf(file, sizeof file, "%s/%s.so", a, c->as);
    ck_assert_int_eq(STRATA_ABI_VERSION, 4); /* the messages above name version 4 */
    plugin_registry r;
    strata_err err = {0};
    const loaded_plugin *lp = NULL;
    plugins_init(&r, a);
    ck_assert_int_eq(plugins_load_file(&r, file, &lp, &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    ck_assert_msg(starts_with(err.msg, file), "%s", err.msg);
    for (int k = 0; k < 2 && c->expect[k]; k++)
        assert_has(err.msg, c->expect[k]);
    ck_assert_int_eq(r.n, 0);
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_LAYER, c->as, &err));
    assert_has(err.msg, file);
    assert_has(err.msg, c->expect[0]);
    plugins_free(&r);
    fx_rm_rf(a);
}
END_TEST

START_TEST(test_not_a_shared_object)
{
    char a[64], file[200];
    make_temp_dir(a, sizeof a, "strata-plugins");
    write_text_in(a, "x.so", "this is a text file, not an ELF object\n");
    snprintf(file, sizeof file, "%s/x.so", a);
    plugin_registry r;
    strata_err err = {0};
    const loaded_plugin *lp;
    plugins_init(&r, a);
    ck_assert_int_eq(plugins_load_file(&r, file, &lp, &err), -1);
    ck_assert_msg(starts_with(err.msg, file), "%s", err.msg);
    assert_has(err.msg, "not a loadable plugin");
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "several lines: %s", err.msg);
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_LAYER, "x", &err));
    assert_has(err.msg, file);
    /* a file that does not exist */
    ck_assert_int_eq(plugins_load_file(&r, "/nonexistent/y.so", &lp, &err), -1);
    assert_has(err.msg, "/nonexistent/y.so");
    plugins_free(&r);
    fx_rm_rf(a);
}
END_TEST

START_TEST(test_wrong_kind)
{
    char a[64];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, "test:wrongkind", "wrongkind");
    plugin_registry r;
    strata_err err = {0};
    plugins_init(&r, a);
    /* an in-tree layer asked for as an optimizer */
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_OPTIMIZER, "relu", &err));
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    assert_has(err.msg, "relu.so");
    assert_has(err.msg, "'relu' is a layer plugin");
    assert_has(err.msg, "optimizer");
    /* and an optimizer as a layer */
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_LAYER, "adam", &err));
    assert_has(err.msg, "'adam' is a");
    assert_has(err.msg, "optimizer plugin, not a");
    /* the test module: refused as an optimizer, then fine as a layer */
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_OPTIMIZER, "wrongkind", &err));
    assert_has(err.msg, "'wrongkind' is a layer plugin");
    const strata_plugin *p = plugins_find(&r, STRATA_PLUGIN_LAYER, "wrongkind", &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    ck_assert_str_eq(p->version, "0.1");
    plugins_free(&r);
    fx_rm_rf(a);
}
END_TEST

START_TEST(test_bad_names)
{
    static const char *const names[] = {"../layers/relu", "relu.so/x", "", "a b", "/abs"};
    plugin_registry r;
    plugins_init(&r, NULL);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        strata_err err = {0};
        ck_assert_msg(plugins_find(&r, STRATA_PLUGIN_LAYER, names[i], &err) == NULL, "'%s' accepted", names[i]);
        assert_has(err.msg, "is not a plugin name");
    }
    plugins_free(&r);
}
END_TEST

/* Was a bug (fixed): a module's descriptor name is never compared with its file name.
 * With A/foo.so a copy of relu.so and A/relu.so a copy of conv2d.so:
 *   - plugins_find(LAYER, "foo") returns the plugin named "relu", so a model
 *     with {type: foo} builds a ReLU layer;
 *   - `strata --plugin-dir A plugins` lists "relu  A/foo.so" and
 *     "conv2d  A/relu.so" and hides the build tree's conv2d, while
 *     {type: conv2d} still loads the build tree's conv2d.so.
 * Expected: a module NAME.so whose descriptor names another plugin is
 * refused, with a message naming both names. */
START_TEST(test_name_must_match_file)
{
    char a[64];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, "layers:relu", "foo");
    plugin_registry r;
    strata_err err = {0};
    plugins_init(&r, a);
    ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_LAYER, "foo", &err));
    assert_has(err.msg, "foo");
    assert_has(err.msg, "relu");
    plugins_free(&r);
    fx_rm_rf(a);
}
END_TEST

/* ---- the current directory ---------------------------------------------- */

START_TEST(test_cwd_not_searched)
{
    char a[64], want[4096];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, "test:badabi", "relu");
    put(a, "layers:relu", "onlyhere");
    ck_assert_int_eq(chdir(a), 0);
    static const char *const paths[] = {NULL, "", ":", "::"};
    for (int i = 0; i < 4; i++) {
        if (paths[i])
            setenv("STRATA_PLUGIN_PATH", paths[i], 1);
        plugin_registry r;
        strata_err err = {0};
        plugins_init(&r, NULL);
        const strata_plugin *p = plugins_find(&r, STRATA_PLUGIN_LAYER, "relu", &err);
        ck_assert_msg(p != NULL, "STRATA_PLUGIN_PATH '%s': %s", paths[i] ? paths[i] : "(unset)", err.msg);
        snprintf(want, sizeof want, "%s/plugins/layers/.libs/relu.so", builddir());
        ck_assert_str_eq(file_of(&r, p), want);
        ck_assert_ptr_null(plugins_find(&r, STRATA_PLUGIN_LAYER, "onlyhere", &err));
        assert_has(err.msg, "no layer plugin 'onlyhere'");
        plugins_free(&r);
    }
    /* the program too: no warning about ./relu.so, the good relu listed */
    const char *argv[] = {"plugins", NULL};
    strata_run run;
    ck_assert_int_eq(run_strata(argv, &run), 0);
    ck_assert_int_eq(run.status, 0);
    ck_assert_str_eq(run.err, "");
    ck_assert_ptr_null(strstr(run.out, "onlyhere"));
    ck_assert_ptr_null(strstr(run.out, a));
    run_strata_free(&run);
    ck_assert_int_eq(chdir("/"), 0);
    fx_rm_rf(a);
}
END_TEST

/* ---- scanning ------------------------------------------------------------ */

typedef struct scan_log {
    int good, bad;
    char names[64][64];
    char files[64][256];
    char bad_msgs[2048];
} scan_log;

static void on_good(const loaded_plugin *p, void *arg)
{
    scan_log *s = arg;
    ck_assert_int_lt(s->good, 64);
    snprintf(s->names[s->good], sizeof s->names[0], "%s", p->desc->name);
    snprintf(s->files[s->good], sizeof s->files[0], "%s", p->file);
    s->good++;
}

static void on_bad(const char *path, const char *msg, void *arg)
{
    scan_log *s = arg;
    size_t len = strlen(s->bad_msgs);
    snprintf(s->bad_msgs + len, sizeof s->bad_msgs - len, "%s|%s\n", path, msg);
    s->bad++;
}

/* Modules (*.so) in a directory. */
static int count_modules(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        n += len > 3 && !strcmp(e->d_name + len - 3, ".so");
    }
    closedir(d);
    return n;
}

START_TEST(test_scan)
{
    char a[64], dir[4096], want[200];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, "layers:relu", "relu"); /* shadows the build tree's relu */
    put(a, "test:badabi", "badabi");
    put(a, "test:noentry", "noentry");
    write_text_in(a, "x.so", "not a module\n");
    write_text_in(a, "README", "not a module either, and not named .so\n");
    plugin_registry r;
    plugins_init(&r, a);
    scan_log s = {0};
    int found = plugins_scan(&r, on_good, on_bad, &s);
    snprintf(dir, sizeof dir, "%s/plugins/layers/.libs", builddir());
    int in_tree = count_modules(dir);
    snprintf(dir, sizeof dir, "%s/plugins/optimizers/.libs", builddir());
    in_tree += count_modules(dir);
    ck_assert_int_eq(found, s.good);
    ck_assert_int_eq(s.good, in_tree); /* relu once, from a */
    ck_assert_int_eq(s.bad, 3);
    assert_has(s.bad_msgs, "badabi.so|");
    assert_has(s.bad_msgs, "noentry.so|");
    assert_has(s.bad_msgs, "x.so|");
    int relus = 0;
    snprintf(want, sizeof want, "%s/relu.so", a);
    for (int i = 0; i < s.good; i++)
        if (!strcmp(s.names[i], "relu")) {
            relus++;
            ck_assert_str_eq(s.files[i], want);
        }
    ck_assert_int_eq(relus, 1);
    plugins_free(&r);
    fx_rm_rf(a);
}
END_TEST

/* ---- a module from outside the tree, used by a model --------------------- */

START_TEST(test_third_party_layer)
{
    char a[64], yaml[4096];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, "test:wrongkind", "wrongkind");
    snprintf(yaml, sizeof yaml, "%s/t/yaml/thirdparty.yaml", srcdir());
    experiment x;
    plugin_registry r;
    network net;
    strata_err err = {0};
    ck_assert_msg(experiment_load(yaml, NULL, 0, &x, &err) == 0, "%s", err.msg);
    plugins_init(&r, a);
    ck_assert_msg(network_create(&net, &x.model, &r, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(net.layers[0].out.c, 3);
    ck_assert_int_eq(net.layers[0].out.h, 4);
    ck_assert_int_eq(net.layers[0].n_params, 0);
    network_free(&net);
    plugins_free(&r);
    experiment_free(&x);
    /* the program: with --plugin-dir it works, without it says what is missing */
    const char *with[] = {"--plugin-dir", a, "summary", yaml, NULL};
    strata_run run;
    ck_assert_int_eq(run_strata(with, &run), 0);
    ck_assert_msg(run.status == 0, "exit %d: %s", run.status, run.err);
    assert_has(run.out, "same ");
    assert_has(run.out, "wrongkind");
    assert_has(run.out, "parameters: 147\n"); /* 3x4x4 kept, then 48*3 + 3 */
    run_strata_free(&run);
    const char *without[] = {"summary", yaml, NULL};
    strata_refuses(without, 2, "no layer plugin 'wrongkind'");
    fx_rm_rf(a);
}
END_TEST

/* An optimizer with more state slots than STRATA_MAX_SLOTS loads, and is
 * refused, with the limit named, when the host creates it. */
START_TEST(test_too_many_slots)
{
    char a[64];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, "test:nineslots", "nineslots");
    plugin_registry r;
    optimizer opt;
    strata_err err = {0};
    ynode *opts = yaml_load_string("{}", "opt", &err);
    optimizer_cfg cfg = {"nineslots", opts, NULL};
    plugins_init(&r, a);
    ck_assert_int_eq(optimizer_create(&opt, &cfg, 1, &r, &err), -1);
    assert_has(err.msg, "declares 9 state slots; strata allows 0 to 8");
    optimizer_free(&opt);
    ynode_free(opts);
    plugins_free(&r);
    fx_rm_rf(a);
}
END_TEST

/* ---- the program ---------------------------------------------------------- */

/* `strata plugins`: one line per in-tree module: name, kind, version, file. */
START_TEST(test_plugins_command)
{
    const char *argv[] = {"plugins", NULL};
    strata_run run;
    ck_assert_int_eq(run_strata(argv, &run), 0);
    ck_assert_msg(run.status == 0, "exit %d: %s", run.status, run.err);
    ck_assert_str_eq(run.err, "");
    ck_assert(starts_with(run.out, "name "));
    static const char *const kinds[] = {"layers", "optimizers"};
    plugin_registry r;
    plugins_init(&r, NULL);
    int listed = 0;
    for (int k = 0; k < 2; k++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/plugins/%s/.libs", builddir(), kinds[k]);
        DIR *d = opendir(dir);
        ck_assert_ptr_nonnull(d);
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len < 4 || strcmp(e->d_name + len - 3, ".so"))
                continue;
            char name[256], file[8192], row[8300];
            snprintf(name, sizeof name, "%.*s", (int)(len - 3), e->d_name);
            snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
            strata_err err = {0};
            const strata_plugin *p =
                plugins_find(&r, k == 0 ? STRATA_PLUGIN_LAYER : STRATA_PLUGIN_OPTIMIZER, name, &err);
            ck_assert_msg(p != NULL, "%s", err.msg);
            /* the row for this module */
            snprintf(row, sizeof row, "\n%s ", name);
            const char *line = strstr(run.out, row);
            ck_assert_msg(line != NULL, "%s not listed:\n%s", name, run.out);
            const char *end = strchr(line + 1, '\n');
            char text[8192];
            snprintf(text, sizeof text, "%.*s", (int)(end - line - 1), line + 1);
            snprintf(row, sizeof row, " %s ", k == 0 ? "layer" : "optimizer");
            assert_has(text, row);
            snprintf(row, sizeof row, " %s ", p->version);
            assert_has(text, row);
            snprintf(row, sizeof row, " %s", file);
            assert_has(text, row);
            listed++;
        }
        closedir(d);
    }
    ck_assert_int_ge(listed, 10); /* 10 layers and 3 optimizers today */
    ck_assert_int_eq(count_lines(run.out), listed + 2); /* + the header and "searched: ..." */
    char searched[8192] = "searched:";
    for (int i = 0; i < r.n_dirs; i++)
        snprintf(searched + strlen(searched), sizeof searched - strlen(searched), "%s%s", i ? ":" : " ", r.dirs[i]);
    assert_has(run.out, searched);
    plugins_free(&r);
    run_strata_free(&run);
}
END_TEST

START_TEST(test_plugins_command_bad_module)
{
    char a[64], want[300];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, "test:badabi", "badabi");
    put(a, "layers:relu", "relu");
    char eq[200];
    snprintf(eq, sizeof eq, "--plugin-dir=%s", a);
    const char *forms[2][4] = {{"--plugin-dir", a, "plugins", NULL}, {eq, "plugins", NULL}};
    for (int f = 0; f < 2; f++) {
        strata_run run;
        ck_assert_int_eq(run_strata(forms[f], &run), 0);
        ck_assert_msg(run.status == 0, "exit %d: %s", run.status, run.err);
        ck_assert_int_eq(count_lines(run.err), 1);
        snprintf(want, sizeof want, "strata: warning: %s/badabi.so: plugin ABI version 99", a);
        ck_assert_msg(starts_with(run.err, want), "%s", run.err);
        snprintf(want, sizeof want, " %s/relu.so\n", a); /* the relu listed is a's */
        assert_has(run.out, want);
        ck_assert_ptr_null(strstr(run.out, "plugins/layers/.libs/relu.so"));
        run_strata_free(&run);
    }
    fx_rm_rf(a);
}
END_TEST

/* Modules writable by others (the file or its folder) are refused unless
 * --allow-unsafe-plugins; a FIFO named x.so is skipped with a warning, not
 * opened (dlopen would wait on it forever). */
START_TEST(test_unsafe_and_special_modules)
{
    char a[64], want[400];
    make_temp_dir(a, sizeof a, "strata-plugins");
    put(a, "layers:relu", "relu");
    char *relu = fx_path(a, "relu.so"), *fifo = fx_path(a, "x.so");
    ck_assert_int_eq(chmod(relu, 0664), 0);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    const char *plain[] = {"--plugin-dir", a, "plugins", NULL};
    const char *unsafe[] = {"--allow-unsafe-plugins", "--plugin-dir", a, "plugins", NULL};
    strata_run run;
    ck_assert_int_eq(run_strata(plain, &run), 0);
    ck_assert_msg(run.status == 0, "exit %d: %s", run.status, run.err);
    snprintf(want, sizeof want, "strata: warning: %s: writable by others than its owner (mode 0664)", relu);
    assert_has(run.err, want);
    snprintf(want, sizeof want, "strata: warning: %s: not a regular file", fifo);
    assert_has(run.err, want);
    ck_assert_ptr_null(strstr(run.out, relu)); /* the build tree's relu is listed instead */
    run_strata_free(&run);
    ck_assert_int_eq(run_strata(unsafe, &run), 0);
    snprintf(want, sizeof want, " %s\n", relu);
    assert_has(run.out, want);
    run_strata_free(&run);
    ck_assert_int_eq(chmod(relu, 0644), 0); /* the file is fine, its folder is not */
    ck_assert_int_eq(chmod(a, 0777), 0);
    ck_assert_int_eq(run_strata(plain, &run), 0);
    snprintf(want, sizeof want, "%s: its folder %s is writable by others than its owner (mode 0777)", relu, a);
    assert_has(run.err, want);
    run_strata_free(&run);
    free(relu);
    free(fifo);
    fx_rm_rf(a);
}
END_TEST

START_TEST(test_plugins_json)
{
    const char *argv[] = {"plugins", "--json", NULL};
    strata_run run;
    ck_assert_int_eq(run_strata(argv, &run), 0);
    ck_assert_int_eq(run.status, 0);
    ck_assert(starts_with(run.out, "["));
    ck_assert_str_eq(run.out + strlen(run.out) - 2, "]\n");
    assert_has(run.out, "{\"name\": \"conv2d\", \"kind\": \"layer\", \"version\": ");
    assert_has(run.out, "{\"name\": \"adam\", \"kind\": \"optimizer\", \"version\": ");
    run_strata_free(&run);
    strata_refuses(ARGS("plugins", "--frob"), 2, "'--frob'");
}
END_TEST

typedef struct cli_case {
    const char *argv[4];
    int status;
    const char *out, *err; /* prefixes of stdout / stderr ("" : empty) */
} cli_case;

static const cli_case cli_cases[] = {
    {{"--help"}, 0, "usage: strata ", ""},
    {{"-h"}, 0, "usage: strata ", ""},
    {{"summary", "--help"}, 0, "usage: strata summary ", ""},
    {{"plugins", "--help"}, 0, "usage: strata [--plugin-dir DIR] plugins", ""},
    {{"--version"}, 0, "strata ", ""},
    {{"frobnicate"}, 2, "", "strata: unknown command 'frobnicate'"},
    {{"--frobnicate", "plugins"}, 2, "", "strata: unknown option '--frobnicate'"},
    {{NULL}, 2, "", "usage: strata "},
};
#define N_CLI ((int)(sizeof cli_cases / sizeof cli_cases[0]))

START_TEST(test_cli)
{
    const cli_case *c = &cli_cases[_i];
    strata_run run;
    ck_assert_int_eq(run_strata(c->argv, &run), 0);
    ck_assert_msg(run.status == c->status, "%s: exit %d", c->argv[0] ? c->argv[0] : "(none)", run.status);
    if (c->out[0])
        ck_assert_msg(starts_with(run.out, c->out), "stdout: %s", run.out);
    else
        ck_assert_str_eq(run.out, "");
    if (c->err[0])
        ck_assert_msg(starts_with(run.err, c->err), "stderr: %s", run.err);
    else
        ck_assert_str_eq(run.err, "");
    if (c->status == 2 && c->argv[0])
        ck_assert_int_eq(count_lines(run.err), 1);
    run_strata_free(&run);
}
END_TEST

START_TEST(test_version_names_abi)
{
    const char *argv[] = {"--version", NULL};
    strata_run run;
    char want[64];
    ck_assert_int_eq(run_strata(argv, &run), 0);
    snprintf(want, sizeof want, "plugin ABI %d)", STRATA_ABI_VERSION);
    assert_has(run.out, want);
    ck_assert_int_eq(count_lines(run.out), 1);
    run_strata_free(&run);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("plugins",
        {.name = "search order", .setup = setup,
         .tests = TESTS(test_search_dirs, test_plugin_dir_first, test_earlier_dir_decides,
                        test_env_before_build_tree, test_build_tree_default, test_cwd_not_searched,
                        test_name_must_match_file, test_scan)},
        {.name = "refusals", .setup = setup,
         .tests = TESTS(test_missing_plugin, test_not_a_shared_object, test_wrong_kind, test_bad_names,
                        test_third_party_layer, test_too_many_slots),
         .loops = LOOPS({test_refused_module, N_REFUSALS})},
        {.name = "program", .setup = setup,
         .tests = TESTS(test_plugins_command, test_plugins_command_bad_module, test_unsafe_and_special_modules,
                        test_plugins_json,
                        test_version_names_abi),
         .loops = LOOPS({test_cli, N_CLI})});
}
