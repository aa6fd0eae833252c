/* safetensors.c — the safetensors checkpoint format; see safetensors.h. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/json.h"
#include "store/safetensors.h"

static const char *const dtype_names[] = {"F32", "I64"};
static const size_t dtype_sizes[] = {4, 8};

const char *st_dtype_name(int dtype)
{
    return dtype == ST_F32 || dtype == ST_I64 ? dtype_names[dtype] : NULL;
}

size_t st_dtype_size(int dtype)
{
    return dtype == ST_F32 || dtype == ST_I64 ? dtype_sizes[dtype] : 0;
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

const char *st_meta(const st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_vals[i];
    return NULL;
}

void st_free(st_file *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->t[i].name);
        free(f->t[i].data);
    }
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->t);
    free(f->meta_keys);
    free(f->meta_vals);
    memset(f, 0, sizeof *f);
}

/* ---- byte order ---------------------------------------------------------- */

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Reverse the bytes of each of the n/size elements of p (size 4 or 8). */
static void swap_bytes(void *p, size_t nbytes, size_t size)
{
    uint8_t *b = p;
    for (size_t i = 0; i + size <= nbytes; i += size)
        for (size_t j = 0; j < size / 2; j++) {
            uint8_t t = b[i + j];
            b[i + j] = b[i + size - 1 - j];
            b[i + size - 1 - j] = t;
        }
}

/* Number of elements of a shape, or -1 when it overflows `limit`. */
static int64_t shape_count(const int64_t *shape, int ndim, int64_t limit)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return -1;
        if (shape[i] != 0 && n > limit / shape[i])
            return -1;
        n *= shape[i];
    }
    return n;
}

/* ======================================================================== */
/* Writing                                                                  */
/* ======================================================================== */

/* Check what st_write is handed: names, dtypes, shapes, sizes. */
static int check_for_write(const char *path, const st_file *f,
                           strata_err *err)
{
    if (f->n < 0 || f->n_meta < 0 || (f->n && !f->t))
        return err_set(err, STRATA_ERR_CONFIG,
                       "%s: invalid tensor list (n = %d, n_meta = %d)", path,
                       f->n, f->n_meta);
    for (int i = 0; i < f->n; i++) {
        const st_tensor *t = &f->t[i];
        if (!t->name || !*t->name || strcmp(t->name, "__metadata__") == 0)
            return err_set(err, STRATA_ERR_CONFIG,
                           "%s: tensor %d has an invalid name '%s' (expected "
                           "a non-empty name other than __metadata__)",
                           path, i, t->name ? t->name : "(null)");
        if (!st_dtype_name(t->dtype))
            return err_set(err, STRATA_ERR_CONFIG,
                           "%s: tensor '%s' has unknown dtype %d (expected "
                           "ST_F32 or ST_I64)", path, t->name, t->dtype);
        if (t->ndim < 0 || t->ndim > ST_MAX_DIMS)
            return err_set(err, STRATA_ERR_CONFIG,
                           "%s: tensor '%s' has %d dimensions (expected 0 to "
                           "%d)", path, t->name, t->ndim, ST_MAX_DIMS);
        size_t es = st_dtype_size(t->dtype);
        int64_t count = shape_count(t->shape, t->ndim,
                                    (int64_t)(SIZE_MAX / 8 / es));
        if (count < 0 || (size_t)count * es != t->nbytes)
            return err_set(err, STRATA_ERR_CONFIG,
                           "%s: tensor '%s' has %zu bytes, which does not "
                           "match its shape and dtype", path, t->name,
                           t->nbytes);
        if (t->nbytes && !t->data)
            return err_set(err, STRATA_ERR_CONFIG,
                           "%s: tensor '%s' has no data", path, t->name);
        for (int j = 0; j < i; j++)
            if (strcmp(f->t[j].name, t->name) == 0)
                return err_set(err, STRATA_ERR_CONFIG,
                               "%s: tensor name '%s' appears twice", path,
                               t->name);
    }
    for (int i = 0; i < f->n_meta; i++)
        if (!f->meta_keys[i] || !f->meta_vals[i])
            return err_set(err, STRATA_ERR_CONFIG,
                           "%s: metadata entry %d has a NULL key or value",
                           path, i);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const st_tensor *const *)a)->name,
                  (*(const st_tensor *const *)b)->name);
}

/* The JSON header for the tensors in `order`, padded with spaces so that
 * 8 + length is a multiple of 8. */
static int build_header(const st_file *f, const st_tensor *const *order,
                        sbuf *h)
{
    sb_puts(h, "{");
    if (f->n_meta) {
        sb_puts(h, "\"__metadata__\":{");
        for (int i = 0; i < f->n_meta; i++) {
            if (i)
                sb_puts(h, ",");
            sb_json_string(h, f->meta_keys[i]);
            sb_puts(h, ":");
            sb_json_string(h, f->meta_vals[i]);
        }
        sb_puts(h, "}");
    }
    uint64_t offset = 0;
    for (int k = 0; k < f->n; k++) {
        const st_tensor *t = order[k];
        if (k || f->n_meta)
            sb_puts(h, ",");
        sb_json_string(h, t->name);
        sb_puts(h, ":{\"dtype\":\"");
        sb_puts(h, st_dtype_name(t->dtype));
        sb_puts(h, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d)
                sb_puts(h, ",");
            sb_printf_u64(h, (uint64_t)t->shape[d]);
        }
        sb_puts(h, "],\"data_offsets\":[");
        sb_printf_u64(h, offset);
        sb_puts(h, ",");
        offset += t->nbytes;
        sb_printf_u64(h, offset);
        sb_puts(h, "]}");
    }
    sb_puts(h, "}");
    while ((8 + h->len) % 8)
        sb_puts(h, " ");
    return h->failed ? -1 : 0;
}

/* Write nbytes of elements of `size` bytes, little-endian. */
static int write_le(FILE *fp, const void *data, size_t nbytes, size_t size)
{
    if (host_is_le())
        return nbytes == 0 || fwrite(data, 1, nbytes, fp) == nbytes ? 0 : -1; /* fwrite(NULL, 1, 0) is undefined */
    uint8_t chunk[4096];
    for (size_t off = 0; off < nbytes; off += sizeof chunk) {
        size_t n = nbytes - off < sizeof chunk ? nbytes - off : sizeof chunk;
        memcpy(chunk, (const uint8_t *)data + off, n);
        swap_bytes(chunk, n, size);
        if (fwrite(chunk, 1, n, fp) != n)
            return -1;
    }
    return 0;
}

static int write_body(FILE *fp, const st_file *f,
                      const st_tensor *const *order,
                      const sbuf *h)
{
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)h->len >> (8 * i));
    if (fwrite(len, 1, 8, fp) != 8 || fwrite(h->p, 1, h->len, fp) != h->len)
        return -1;
    for (int k = 0; k < f->n; k++) {
        const st_tensor *t = order[k];
        if (write_le(fp, t->data, t->nbytes, st_dtype_size(t->dtype)))
            return -1;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
        return -1;
    return 0;
}

/* fsync the directory holding path, so the rename is durable. */
static int sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : strdup(".");
    if (!dir)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int st_write(const char *path, const st_file *f, strata_err *err)
{
    if (check_for_write(path, f, err))
        return -1;
    const st_tensor **order = malloc(sizeof *order * ((size_t)f->n + 1));
    sbuf h = {0};
    char *tmp = malloc(strlen(path) + 5);
    int rc = -1;
    if (!order || !tmp) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory", path);
        goto out;
    }
    for (int i = 0; i < f->n; i++)
        order[i] = &f->t[i];
    qsort(order, (size_t)f->n, sizeof *order, by_name);
    if (build_header(f, order, &h)) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory", path);
        goto out;
    }
    sprintf(tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot create %s: %s", path,
                tmp, strerror(errno));
        goto out;
    }
    int bad = write_body(fp, f, order, &h);
    int saved = errno;
    if (fclose(fp) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad || rename(tmp, path) != 0) {
        if (!bad)
            saved = errno;
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot write: %s", path,
                strerror(saved));
        unlink(tmp);
        goto out;
    }
    if (sync_parent_dir(path) != 0) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot sync its directory: %s",
                path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(order);
    free(h.p);
    free(tmp);
    return rc;
}

/* ======================================================================== */
/* Reading (the JSON reader is in json.c)                                    */
/* ======================================================================== */

/* ---- the header ---------------------------------------------------------- */

/* What the header says about one tensor. */
typedef struct entry {
    char *name;
    int dtype, ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t begin, end;
} entry;

typedef struct header {
    int n, cap;
    entry *e;
    int n_meta, cap_meta;
    char **keys, **vals;
    int has_meta;
} header;

static void header_free(header *h)
{
    for (int i = 0; i < h->n; i++)
        free(h->e[i].name);
    for (int i = 0; i < h->n_meta; i++) {
        free(h->keys[i]);
        free(h->vals[i]);
    }
    free(h->e);
    free(h->keys);
    free(h->vals);
}

/* Room for one more tensor entry. */
static int add_entry_slot(header *h)
{
    if (h->n < h->cap)
        return 0;
    int cap = h->cap ? h->cap * 2 : 16;
    entry *e = realloc(h->e, sizeof(entry) * (size_t)cap);
    if (!e)
        return -1;
    h->e = e;
    h->cap = cap;
    return 0;
}

/* Room for one more metadata pair. */
static int add_meta_slot(header *h)
{
    if (h->n_meta < h->cap_meta)
        return 0;
    int cap = h->cap_meta ? h->cap_meta * 2 : 8;
    char **k = realloc(h->keys, sizeof(char *) * (size_t)cap);
    if (!k)
        return -1;
    h->keys = k;
    char **v = realloc(h->vals, sizeof(char *) * (size_t)cap);
    if (!v)
        return -1;
    h->vals = v;
    h->cap_meta = cap;
    return 0;
}

/* {"key": "value", ...} */
static int parse_metadata(jreader *j, header *h)
{
    if (h->has_meta)
        return jfail(j, "__metadata__ appears twice");
    h->has_meta = 1;
    if (jexpect(j, '{'))
        return -1;
    if (jempty(j, '}'))
        return 0;
    int more;
    do {
        char *k = NULL, *v = NULL;
        if (jstring(j, &k))
            return -1;
        for (int i = 0; i < h->n_meta; i++)
            if (strcmp(h->keys[i], k) == 0) {
                free(k);
                return jfail(j, "duplicate key in __metadata__");
            }
        if (jexpect(j, ':')) {
            free(k);
            return -1;
        }
        jskip_ws(j);
        if (j->p < j->end && *j->p != '"') {
            free(k);
            return jfail(j, "__metadata__ values must be strings");
        }
        if (jstring(j, &v)) {
            free(k);
            return -1;
        }
        if (add_meta_slot(h)) {
            free(k);
            free(v);
            return err_set(j->err, STRATA_ERR_RUNTIME, "%s: out of memory",
                           j->path);
        }
        h->keys[h->n_meta] = k;
        h->vals[h->n_meta++] = v;
    } while ((more = jnext(j, '}')) == 1);
    return more;
}

/* {"dtype": "F32", "shape": [...], "data_offsets": [b, e]} for tensor e. */
static int parse_tensor(jreader *j, entry *e)
{
    char msg[512];
    int seen[3] = {0, 0, 0};
    if (jexpect(j, '{'))
        return -1;
    if (jempty(j, '}'))
        goto missing;
    int more;
    do {
        char *key;
        if (jstring(j, &key))
            return -1;
        if (jexpect(j, ':')) {
            free(key);
            return -1;
        }
        int which = strcmp(key, "dtype") == 0          ? 0
                    : strcmp(key, "shape") == 0        ? 1
                    : strcmp(key, "data_offsets") == 0 ? 2
                                                       : -1;
        if (which < 0 || seen[which]) {
            snprintf(msg, sizeof msg, "%s key '%.64s' in tensor '%.200s' "
                     "(expected dtype, shape and data_offsets once each)",
                     which < 0 ? "unknown" : "duplicate", key, e->name);
            free(key);
            return jfail(j, msg);
        }
        free(key);
        seen[which] = 1;
        if (which == 0) {
            char *dt;
            if (jstring(j, &dt))
                return -1;
            e->dtype = strcmp(dt, "F32") == 0   ? ST_F32
                       : strcmp(dt, "I64") == 0 ? ST_I64
                                                : -1;
            if (e->dtype < 0) {
                err_set(j->err, STRATA_ERR_RUNTIME,
                        "%s: tensor '%s' has unsupported dtype '%s' "
                        "(expected F32 or I64)", j->path, e->name, dt);
                free(dt);
                return -1;
            }
            free(dt);
        } else if (which == 1) {
            if (juint_array(j, e->shape, ST_MAX_DIMS, &e->ndim, "shape"))
                return -1;
        } else {
            int64_t off[2];
            int n;
            if (juint_array(j, off, 2, &n, "data_offsets"))
                return -1;
            if (n != 2)
                return jfail(j, "data_offsets must have 2 elements");
            e->begin = off[0];
            e->end = off[1];
        }
    } while ((more = jnext(j, '}')) == 1);
    if (more < 0)
        return -1;
    if (seen[0] && seen[1] && seen[2])
        return 0;
missing:
    return err_set(j->err, STRATA_ERR_RUNTIME,
                   "%s: tensor '%s' lacks %s in the header", j->path, e->name,
                   !seen[0] ? "dtype" : !seen[1] ? "shape" : "data_offsets");
}

/* The whole header: one object of tensors and (optionally) __metadata__,
 * followed only by whitespace. */
static int parse_header(jreader *j, header *h)
{
    if (j->p >= j->end || *j->p != '{')
        return jfail(j, "the header must start with '{'");
    j->p++;
    if (!jempty(j, '}')) {
        int more;
        do {
            char *name;
            if (jstring(j, &name))
                return -1;
            if (jexpect(j, ':')) {
                free(name);
                return -1;
            }
            if (strcmp(name, "__metadata__") == 0) {
                free(name);
                if (parse_metadata(j, h))
                    return -1;
                continue;
            }
            if (add_entry_slot(h)) {
                free(name);
                return err_set(j->err, STRATA_ERR_RUNTIME,
                               "%s: out of memory", j->path);
            }
            entry *e = &h->e[h->n++];
            memset(e, 0, sizeof *e);
            e->name = name;
            if (parse_tensor(j, e))
                return -1;
        } while ((more = jnext(j, '}')) == 1);
        if (more < 0)
            return -1;
    }
    jskip_ws(j);
    if (j->p != j->end)
        return jfail(j, "trailing characters after the header object");
    return 0;
}

/* ---- validating the entries against the data ---------------------------- */

static int entry_by_name(const void *a, const void *b)
{
    return strcmp((*(const entry *const *)a)->name,
                  (*(const entry *const *)b)->name);
}
static int entry_by_begin(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a;
    const entry *y = *(const entry *const *)b;
    /* Ties: empty tensors first, so they do not look like overlaps. */
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end ? 1 : 0;
}

/* One entry's offsets agree with its dtype and shape and lie in the data. */
static int check_entry(const char *path, const entry *e, int64_t buflen,
                       strata_err *err)
{
    int64_t es = (int64_t)st_dtype_size(e->dtype);
    int64_t count = shape_count(e->shape, e->ndim, INT64_MAX / 8);
    if (e->end < e->begin)
        return err_set(err, STRATA_ERR_RUNTIME,
                       "%s: tensor '%s' has data_offsets [%" PRId64
                       ", %" PRId64 "] that end before they begin",
                       path, e->name, e->begin, e->end);
    if (count < 0 || count * es != e->end - e->begin)
        return err_set(err, STRATA_ERR_RUNTIME,
                       "%s: tensor '%s' has data_offsets [%" PRId64
                       ", %" PRId64 "] (%" PRId64 " bytes) but its shape "
                       "and dtype %s need %" PRId64 " bytes",
                       path, e->name, e->begin, e->end, e->end - e->begin,
                       st_dtype_name(e->dtype),
                       count < 0 ? INT64_MAX : count * es);
    if (e->end > buflen)
        return err_set(err, STRATA_ERR_RUNTIME,
                       "%s: truncated: tensor '%s' ends at byte %" PRId64
                       " of the data but the file holds only %" PRId64
                       " bytes of data", path, e->name, e->end, buflen);
    return 0;
}

/* Every entry is valid, names are unique, and the entries cover
 * [0, buflen) exactly, without overlap. */
static int check_entries(const char *path, const header *h, int64_t buflen,
                         strata_err *err)
{
    for (int i = 0; i < h->n; i++)
        if (check_entry(path, &h->e[i], buflen, err))
            return -1;
    const entry **idx = malloc(sizeof *idx * ((size_t)h->n + 1));
    if (!idx)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory", path);
    for (int i = 0; i < h->n; i++)
        idx[i] = &h->e[i];
    int rc = 0;
    qsort(idx, (size_t)h->n, sizeof *idx, entry_by_name);
    for (int i = 1; i < h->n && !rc; i++)
        if (strcmp(idx[i]->name, idx[i - 1]->name) == 0)
            rc = err_set(err, STRATA_ERR_RUNTIME,
                         "%s: tensor name '%s' appears twice in the header",
                         path, idx[i]->name);
    qsort(idx, (size_t)h->n, sizeof *idx, entry_by_begin);
    int64_t at = 0;
    for (int i = 0; i < h->n && !rc; i++) {
        const entry *e = idx[i];
        if (e->begin < at)
            rc = err_set(err, STRATA_ERR_RUNTIME,
                         "%s: tensor '%s' at data_offsets [%" PRId64
                         ", %" PRId64 "] overlaps another tensor",
                         path, e->name, e->begin, e->end);
        else if (e->begin > at)
            rc = err_set(err, STRATA_ERR_RUNTIME,
                         "%s: data bytes [%" PRId64 ", %" PRId64
                         ") belong to no tensor", path, at, e->begin);
        at = e->end;
    }
    if (!rc && at != buflen)
        rc = err_set(err, STRATA_ERR_RUNTIME,
                     "%s: data bytes [%" PRId64 ", %" PRId64
                     ") belong to no tensor", path, at, buflen);
    free(idx);
    return rc;
}

/* ---- st_read --------------------------------------------------------------- */

static int read_exact(int fd, void *buf, size_t n, off_t at)
{
    uint8_t *p = buf;
    errno = 0;
    while (n) {
        ssize_t k = pread(fd, p, n, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
        at += k;
    }
    return 0;
}

/* Move the parsed header's metadata into *out. */
static void take_meta(header *h, st_file *out)
{
    out->n_meta = h->n_meta;
    out->meta_keys = h->keys;
    out->meta_vals = h->vals;
    h->n_meta = 0;
    h->keys = h->vals = NULL;
}

/* Move the parsed header's tensors into *out and read each one's bytes. */
static int load_tensors(const char *path, int fd, int64_t data_start,
                        header *h, st_file *out, strata_err *err)
{
    out->t = calloc((size_t)h->n + 1, sizeof *out->t);
    if (!out->t)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory", path);
    for (int i = 0; i < h->n; i++) {
        entry *e = &h->e[i];
        st_tensor *t = &out->t[out->n++];
        t->name = e->name;
        e->name = NULL;
        t->dtype = e->dtype;
        t->ndim = e->ndim;
        memcpy(t->shape, e->shape, sizeof t->shape);
        t->nbytes = (size_t)(e->end - e->begin);
        t->data = malloc(t->nbytes ? t->nbytes : 1);
        if (!t->data)
            return err_set(err, STRATA_ERR_RUNTIME,
                           "%s: out of memory for tensor '%s' (%zu bytes)",
                           path, t->name, t->nbytes);
        if (read_exact(fd, t->data, t->nbytes, (off_t)(data_start + e->begin)))
            return err_set(err, STRATA_ERR_RUNTIME,
                           "%s: cannot read tensor '%s': %s", path, t->name,
                           errno ? strerror(errno) : "unexpected end of file");
        if (!host_is_le())
            swap_bytes(t->data, t->nbytes, st_dtype_size(t->dtype));
    }
    return 0;
}

/* Read the length prefix and the JSON header of the open file. */
static int read_header(const char *path, int fd, int64_t size, header *h,
                       int64_t *data_start, strata_err *err)
{
    uint8_t len8[8];
    if (size < 8)
        return err_set(err, STRATA_ERR_RUNTIME,
                       "%s: not a safetensors file: %" PRId64 " bytes, "
                       "shorter than the 8-byte header length", path, size);
    if (read_exact(fd, len8, 8, 0))
        return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot read: %s", path,
                       strerror(errno));
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n |= (uint64_t)len8[i] << (8 * i);
    if (n > ST_MAX_HEADER)
        return err_set(err, STRATA_ERR_RUNTIME,
                       "%s: header length %" PRIu64 " is absurd (more than "
                       "%u bytes); not a safetensors file?", path, n,
                       ST_MAX_HEADER);
    if ((int64_t)n > size - 8)
        return err_set(err, STRATA_ERR_RUNTIME,
                       "%s: header length %" PRIu64 " is larger than the "
                       "%" PRId64 " bytes that follow it", path, n, size - 8);
    char *text = malloc(n ? n : 1);
    if (!text)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory", path);
    if (read_exact(fd, text, n, 8)) {
        free(text);
        return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot read: %s", path,
                       strerror(errno));
    }
    jreader j = {text, text, text + n, path, err};
    int rc = parse_header(&j, h);
    free(text);
    *data_start = 8 + (int64_t)n;
    return rc;
}

/* st_read, or with tensors 0 st_read_meta. */
static int read_file(const char *path, st_file *out, int tensors, strata_err *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot open: %s", path,
                       strerror(errno));
    struct stat sb;
    header h = {0};
    int64_t data_start = 0;
    int rc = -1;
    if (fstat(fd, &sb) != 0) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot stat: %s", path,
                strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: not a regular file", path);
        goto out;
    }
    if (read_header(path, fd, (int64_t)sb.st_size, &h, &data_start, err) ||
        check_entries(path, &h, (int64_t)sb.st_size - data_start, err) ||
        (tensors && load_tensors(path, fd, data_start, &h, out, err)))
        goto out;
    take_meta(&h, out);
    rc = 0;
out:
    header_free(&h);
    close(fd);
    if (rc)
        st_free(out);
    return rc;
}

int st_read(const char *path, st_file *out, strata_err *err) { return read_file(path, out, 1, err); }
int st_read_meta(const char *path, st_file *out, strata_err *err) { return read_file(path, out, 0, err); }
