/* plugins.c — see plugins.h */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stddef.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/isa.h"
#include "config/opts.h"
#include "model/plugins.h"

#ifndef STRATA_PLUGIN_INSTALL_DIR
#define STRATA_PLUGIN_INSTALL_DIR "/usr/local/lib/strata"
#endif
#ifndef STRATA_BUILD_DIR
#define STRATA_BUILD_DIR ""
#endif
#ifndef STRATA_BIN_INSTALL_DIR
#define STRATA_BIN_INSTALL_DIR "/usr/local/bin"
#endif

const char *plugins_kind_name(strata_plugin_kind k)
{
    return k == STRATA_PLUGIN_LAYER ? "layer" : k == STRATA_PLUGIN_OPTIMIZER ? "optimizer" : "unknown";
}

static void add_dir(plugin_registry *r, const char *d, size_t len)
{
    if (len == 0 || r->n_dirs == PLUGINS_MAX_DIRS)
        return;
    for (int i = 0; i < r->n_dirs; i++) /* the same folder twice: searched once */
        if (strlen(r->dirs[i]) == len && strncmp(r->dirs[i], d, len) == 0)
            return;
    r->dirs[r->n_dirs++] = strndup(d, len);
}

/* Is the running executable inside the build tree? (libtool puts the real
 * binary in .libs/ beside a wrapper script, both under the build dir.) */
static int running_from_build_tree(void)
{
    char exe[PATH_MAX], build[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0 || !STRATA_BUILD_DIR[0] || !realpath(STRATA_BUILD_DIR, build))
        return 0;
    exe[len] = '\0';
    size_t blen = strlen(build);
    return strncmp(exe, build, blen) == 0 && exe[blen] == '/';
}

/* The installed plugin directory relative to the installed program's
 * directory, from the configured ones: "../lib/strata" for PREFIX/bin and
 * PREFIX/lib/strata. */
static void plugin_dir_from_bin(char *rel, size_t size)
{
    const char *bin = STRATA_BIN_INSTALL_DIR, *lib = STRATA_PLUGIN_INSTALL_DIR;
    size_t k = 0; /* the longest common prefix of whole folders */
    for (size_t i = 0;; i++) {
        if ((bin[i] == '/' || !bin[i]) && (lib[i] == '/' || !lib[i]))
            k = i;
        if (!bin[i] || bin[i] != lib[i])
            break;
    }
    rel[0] = '\0';
    for (const char *c = bin + k; *c; c++)
        if (*c == '/' && c[1])
            snprintf(rel + strlen(rel), size - strlen(rel), "../");
    snprintf(rel + strlen(rel), size - strlen(rel), "%s", lib[k] ? lib + k + 1 : ".");
}

/* The installed layout beside the running program: its folder, then the
 * configured path from bin/ to the plugins (an installation moved, or made
 * with `make install prefix=DIR`, finds its own plugins). */
static int plugin_dir_beside_exe(char *out, size_t size)
{
    char exe[PATH_MAX], rel[PATH_MAX], dir[2 * PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    plugin_dir_from_bin(rel, sizeof rel);
    if (len <= 0)
        return 0;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    snprintf(dir, sizeof dir, "%s/%s", exe, rel);
    char *real = realpath(dir, NULL); /* absent: nothing to search there */
    int ok = real && strlen(real) < size;
    if (ok)
        strcpy(out, real);
    free(real);
    return ok;
}

static void host_log(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = strlen(msg);
    fprintf(stderr, "strata: %s%s", msg, len && msg[len - 1] == '\n' ? "" : "\n");
}

const strata_host *plugins_host(void)
{
    static strata_host h;
    if (!h.abi_version) {
        strata_host t = strata_host_table;
        t.log = host_log;
        t.isa = strata_isa();
        h = t;
    }
    return &h;
}

void plugins_init(plugin_registry *r, const char *plugin_dir)
{
    memset(r, 0, sizeof *r);
    if (plugin_dir)
        add_dir(r, plugin_dir, strlen(plugin_dir));
    const char *env = getenv("STRATA_PLUGIN_PATH");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        add_dir(r, env, len);
        env = colon ? colon + 1 : NULL;
    }
    char d[PATH_MAX];
    if (running_from_build_tree()) {
        static const char *const sub[] = {"/plugins/layers/.libs", "/plugins/optimizers/.libs"};
        for (int i = 0; i < 2; i++) {
            snprintf(d, sizeof d, "%s%s", STRATA_BUILD_DIR, sub[i]);
            add_dir(r, d, strlen(d));
        }
    } else if (plugin_dir_beside_exe(d, sizeof d)) {
        add_dir(r, d, strlen(d));
    }
    add_dir(r, STRATA_PLUGIN_INSTALL_DIR, strlen(STRATA_PLUGIN_INSTALL_DIR));
}

void plugins_free(plugin_registry *r)
{
    for (int i = 0; i < r->n; i++) {
        /* Handles stay open: layer objects may outlive the registry. The
         * checked copy (desc is its first member) goes with the registry. */
        free(r->loaded[i].file);
        free((void *)r->loaded[i].desc);
    }
    free(r->loaded);
    for (int i = 0; i < r->n_dirs; i++)
        free(r->dirs[i]);
    memset(r, 0, sizeof *r);
}

/* ---- defaults for the optional ops (plugin.h names them) ----------------- */

static void no_destroy(void *self) {}
static int no_params(const void *layer) { return 0; }
static void no_param_desc(const void *layer, int i, strata_param_desc *d) {}
static void unit_geometry(const void *layer, int kernel[2], int stride[2])
{
    kernel[0] = kernel[1] = stride[0] = stride[1] = 1;
}
static int64_t no_macs(const void *layer) { return 0; }
static size_t no_bytes(const void *layer, int n) { return 0; }
static int same_threads(const void *layer, int backward, int n, int threads) { return threads; }
static void no_describe(const void *layer, char *buf, size_t size)
{
    if (size)
        buf[0] = 0;
}
static int no_slots(const void *opt) { return 0; }

/* The host's copy of a module's descriptor and ops: the ops the module's
 * struct_size covers, the rest NULL, then every NULL optional op replaced
 * by its default, so the host calls any op without checking. Never freed
 * (like the module's handle: layer objects may outlive the registry). */
typedef struct plugin_copy {
    strata_plugin desc;
    strata_layer_ops layer;
    strata_optimizer_ops optimizer;
} plugin_copy;

/* Copy the first `have` bytes of the module's table (at most sizeof dst). */
static void copy_ops(void *dst, size_t dst_size, const void *src, size_t have)
{
    memset(dst, 0, dst_size);
    memcpy(dst, src, have < dst_size ? have : dst_size);
}

#define MISSING(field) \
    err_set(err, STRATA_ERR_CONFIG, "%s: plugin '%s' lacks the required op '%s'", path, p->name, field)

static int normalise_layer(const char *path, const strata_plugin *p, strata_layer_ops *o, strata_err *err)
{
    if (p->layer->struct_size < offsetof(strata_layer_ops, create) + sizeof o->create)
        return err_set(err, STRATA_ERR_CONFIG, "%s: plugin '%s': its layer ops table has struct_size %zu (set it to "
                       "sizeof(strata_layer_ops), or use STRATA_PLUGIN_DEFINE)", path, p->name, p->layer->struct_size);
    copy_ops(o, sizeof *o, p->layer, p->layer->struct_size);
    o->struct_size = sizeof *o;
    if (!o->create)
        return MISSING("create");
    if (!o->forward)
        return MISSING("forward");
    if (!o->backward)
        return MISSING("backward");
    if (o->num_params && !o->param_desc)
        return MISSING("param_desc (it has num_params)");
    o->destroy = o->destroy ? o->destroy : no_destroy;
    if (!o->num_params) {
        o->num_params = no_params;
        o->param_desc = no_param_desc; /* never called: no parameters */
    }
    o->geometry = o->geometry ? o->geometry : unit_geometry;
    o->macs = o->macs ? o->macs : no_macs;
    o->saved_bytes = o->saved_bytes ? o->saved_bytes : no_bytes;
    o->scratch_bytes = o->scratch_bytes ? o->scratch_bytes : no_bytes;
    o->blas_threads = o->blas_threads ? o->blas_threads : same_threads;
    o->describe = o->describe ? o->describe : no_describe;
    return 0;
}

static int normalise_optimizer(const char *path, const strata_plugin *p, strata_optimizer_ops *o, strata_err *err)
{
    if (p->optimizer->struct_size < offsetof(strata_optimizer_ops, create) + sizeof o->create)
        return err_set(err, STRATA_ERR_CONFIG, "%s: plugin '%s': its optimizer ops table has struct_size %zu (set it "
                       "to sizeof(strata_optimizer_ops), or use STRATA_PLUGIN_DEFINE)", path, p->name,
                       p->optimizer->struct_size);
    copy_ops(o, sizeof *o, p->optimizer, p->optimizer->struct_size);
    o->struct_size = sizeof *o;
    if (!o->create)
        return MISSING("create");
    if (!o->update)
        return MISSING("update");
    if (o->num_slots && !o->slot_name)
        return MISSING("slot_name (it has num_slots)");
    o->destroy = o->destroy ? o->destroy : no_destroy;
    o->num_slots = o->num_slots ? o->num_slots : no_slots;
    return 0;
}

/* Check the module's descriptor and make the host's copy of it. */
static int check_desc(const char *path, const strata_plugin *p, plugin_copy *c, strata_err *err)
{
    if (!p)
        return err_set(err, STRATA_ERR_CONFIG, "%s: the plugin refused ABI version %d (built for another strata)",
                       path, STRATA_ABI_VERSION);
    if (p->abi_version != STRATA_ABI_VERSION)
        return err_set(err, STRATA_ERR_CONFIG, "%s: plugin ABI version %d, this strata speaks version %d; rebuild the plugin",
                       path, p->abi_version, STRATA_ABI_VERSION);
    if (!p->name || !p->name[0])
        return err_set(err, STRATA_ERR_CONFIG, "%s: plugin has no name", path);
    c->desc = *p;
    c->desc.layer = NULL;
    c->desc.optimizer = NULL;
    if (p->kind == STRATA_PLUGIN_LAYER && p->layer) {
        c->desc.layer = &c->layer;
        return normalise_layer(path, p, &c->layer, err);
    }
    if (p->kind == STRATA_PLUGIN_OPTIMIZER && p->optimizer) {
        c->desc.optimizer = &c->optimizer;
        return normalise_optimizer(path, p, &c->optimizer, err);
    }
    return err_set(err, STRATA_ERR_CONFIG, "%s: plugin '%s' has an unknown kind or no operations table",
                   path, p->name);
}

static int allow_unsafe;
void plugins_allow_unsafe(int yes) { allow_unsafe = yes; }

/* A module is code run in this process: only a regular file (a FIFO would
 * hang dlopen), and, unless allowed, neither it nor its folder writable by
 * anyone but its owner. */
static int check_module_file(const char *path, strata_err *err)
{
    struct stat st, dst;
    if (stat(path, &st) != 0)
        return err_set(err, STRATA_ERR_CONFIG, "%s: cannot read it", path);
    if (!S_ISREG(st.st_mode))
        return err_set(err, STRATA_ERR_CONFIG, "%s: not a regular file (a FIFO, socket, device or folder)", path);
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
    if (allow_unsafe)
        return 0;
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return err_set(err, STRATA_ERR_CONFIG, "%s: writable by others than its owner (mode %04o); refused "
                       "(chmod go-w it, or --allow-unsafe-plugins)", path, (unsigned)(st.st_mode & 07777));
    if (stat(dir, &dst) == 0 && (dst.st_mode & (S_IWGRP | S_IWOTH)) && !(dst.st_mode & S_ISVTX))
        return err_set(err, STRATA_ERR_CONFIG, "%s: its folder %s is writable by others than its owner (mode "
                       "%04o); refused (chmod go-w it, or --allow-unsafe-plugins)", path, dir,
                       (unsigned)(dst.st_mode & 07777));
    return 0;
}

int plugins_load_file(plugin_registry *r, const char *path, const loaded_plugin **out, strata_err *err)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->loaded[i].file, path) == 0) {
            *out = &r->loaded[i];
            return 0;
        }
    if (check_module_file(path, err))
        return -1;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return err_set(err, STRATA_ERR_CONFIG, "%s: not a loadable plugin: %s", path, dlerror());
    strata_plugin_entry_fn entry;
    *(void **)&entry = dlsym(h, STRATA_PLUGIN_ENTRY_NAME);
    if (!entry) {
        dlclose(h);
        return err_set(err, STRATA_ERR_CONFIG, "%s: not a strata plugin (no %s symbol)", path, STRATA_PLUGIN_ENTRY_NAME);
    }
    const strata_plugin *p = entry(STRATA_ABI_VERSION);
    plugin_copy *c = calloc(1, sizeof *c);
    int bad = c ? check_desc(path, p, c, err) : err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    if (bad) {
        free(c);
        dlclose(h);
        return -1;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->loaded = realloc(r->loaded, r->cap * sizeof *r->loaded);
    }
    loaded_plugin *lp = &r->loaded[r->n++];
    lp->file = strdup(path);
    lp->handle = h;
    lp->desc = &c->desc;
    *out = lp;
    return 0;
}

static int valid_name(const char *name)
{
    if (!name[0] || strlen(name) > 64)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return 0;
    return 1;
}

const strata_plugin *plugins_find(plugin_registry *r, strata_plugin_kind kind, const char *name, strata_err *err)
{
    if (!valid_name(name)) {
        err_set(err, STRATA_ERR_CONFIG, "'%s' is not a plugin name (letters, digits, _ and -)", name);
        return NULL;
    }
    for (int d = 0; d < r->n_dirs; d++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s.so", r->dirs[d], name);
        if (stat(path, &st) != 0)
            continue;
        const loaded_plugin *lp;
        if (plugins_load_file(r, path, &lp, err))
            return NULL;
        if (strcmp(lp->desc->name, name) != 0) {
            err_set(err, STRATA_ERR_CONFIG, "%s: the module calls itself '%s', not '%s' (a module NAME.so must "
                    "declare the name NAME)", path, lp->desc->name, name);
            return NULL;
        }
        if (lp->desc->kind != kind) {
            const char *k = plugins_kind_name(lp->desc->kind);
            err_set(err, STRATA_ERR_CONFIG, "%s: '%s' is %s %s plugin, not a %s", path, name,
                    (k[0] == 'o' || k[0] == 'u') ? "an" : "a", k, plugins_kind_name(kind));
            return NULL;
        }
        return lp->desc;
    }
    char dirs[1024] = "";
    for (int d = 0; d < r->n_dirs; d++) {
        size_t len = strlen(dirs);
        snprintf(dirs + len, sizeof dirs - len, "%s%s", d ? ":" : "", r->dirs[d]);
    }
    err_set(err, STRATA_ERR_CONFIG, "no %s plugin '%s' (looked for %s.so in %s; see 'strata plugins')",
            plugins_kind_name(kind), name, name, dirs);
    return NULL;
}

static int ends_with_so(const char *s)
{
    size_t n = strlen(s);
    return n > 3 && strcmp(s + n - 3, ".so") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.so names of one directory (caller frees). */
static int list_modules(const char *dir, char ***names)
{
    DIR *d = opendir(dir);
    int n = 0, cap = 0;
    *names = NULL;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with_so(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            *names = realloc(*names, cap * sizeof **names);
        }
        (*names)[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(*names, n, sizeof **names, cmp_str);
    return n;
}

static int seen_name(plugin_registry *r, const char *name, int upto)
{
    for (int i = 0; i < upto; i++)
        if (strcmp(r->loaded[i].desc->name, name) == 0)
            return 1;
    return 0;
}

/* Load one file found by the scan; 1 when it is good and not shadowed. */
static int scan_one(plugin_registry *r, const char *dir, const char *file, const loaded_plugin **out,
                    void (*bad)(const char *path, const char *msg, void *arg), void *arg)
{
    char path[PATH_MAX], stem[256];
    strata_err err = {0};
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(stem, sizeof stem, "%.*s", (int)strlen(file) - 3, file);
    int before = r->n;
    if (plugins_load_file(r, path, out, &err)) {
        if (bad)
            bad(path, err.msg, arg);
        return 0;
    }
    if (strcmp(stem, (*out)->desc->name) != 0) {
        if (bad) {
            char msg[PATH_MAX + 300];
            snprintf(msg, sizeof msg, "%s: the module calls itself '%s', not '%s'", path, (*out)->desc->name, stem);
            bad(path, msg, arg);
        }
        return 0;
    }
    int idx = (int)(*out - r->loaded);
    return !seen_name(r, (*out)->desc->name, idx < before ? idx : before); /* else shadowed by an earlier dir */
}

int plugins_scan(plugin_registry *r, void (*fn)(const loaded_plugin *p, void *arg),
                 void (*bad)(const char *path, const char *msg, void *arg), void *arg)
{
    int found = 0;
    for (int d = 0; d < r->n_dirs; d++) {
        char **names;
        int n = list_modules(r->dirs[d], &names);
        for (int i = 0; i < n; i++) {
            const loaded_plugin *lp;
            if (scan_one(r, r->dirs[d], names[i], &lp, bad, arg)) {
                fn(lp, arg);
                found++;
            }
            free(names[i]);
        }
        free(names);
    }
    return found;
}
