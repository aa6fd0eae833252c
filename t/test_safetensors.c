/* test_safetensors.c — the safetensors format (core/store/safetensors.c).
 * Files are also built byte by byte here from the format's description, so
 * the reader is checked independently of the writer. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/safetensors.h"
#include "testlib.h"

static char tmpdir[256];

static void setup(void)
{
    make_temp_dir(tmpdir, sizeof tmpdir, "strata-test-st");
}

static void teardown(void)
{
    fx_rm_rf(tmpdir);
}

/* tmpdir/name (see join_path). */
static const char *tmp_path(const char *name)
{
    return join_path(tmpdir, name);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

static uint8_t *read_bytes(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)size + 1);
    ck_assert_uint_eq(fread(p, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    *n = (size_t)size;
    return p;
}

/* A file from its parts: `hlen` as the u64 length prefix (little-endian,
 * byte by byte), the header text, then ndata bytes of data. */
static void build_file(const char *path, uint64_t hlen, const char *header,
                       const void *data, size_t ndata)
{
    size_t nh = strlen(header);
    uint8_t *buf = malloc(8 + nh + ndata + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(hlen >> (8 * i));
    memcpy(buf + 8, header, nh);
    if (ndata)
        memcpy(buf + 8 + nh, data, ndata);
    write_bytes(path, buf, 8 + nh + ndata);
    free(buf);
}

/* build_file with the right length prefix. */
static void build_ok_len(const char *path, const char *header,
                         const void *data, size_t ndata)
{
    build_file(path, strlen(header), header, data, ndata);
}

/* st_read (and st_read_meta, with the same message) must fail on path, with
 * a one-line message naming the file and containing `needle`. */
static void expect_refused(const char *path, const char *needle)
{
    st_file f;
    strata_err e = {0}, em = {0};
    ck_assert_msg(st_read_meta(path, &f, &em) == -1, "st_read_meta accepted (want '%s')", needle);
    ck_assert_int_eq(f.n_meta, 0);
    ck_assert_msg(st_read(path, &f, &e) == -1, "accepted (want '%s')",
                  needle);
    ck_assert_str_eq(em.msg, e.msg);
    ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
    ck_assert_msg(strstr(e.msg, path) != NULL, "'%s' lacks the path", e.msg);
    ck_assert_msg(strstr(e.msg, needle) != NULL, "'%s' lacks '%s'", e.msg,
                  needle);
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    ck_assert_int_eq(f.n, 0);
    ck_assert_ptr_null(f.t);
}

/* ---- a sample file --------------------------------------------------------- */

enum { NT = 4, NM = 4 };
static float w[6] = {-1.0f, 0.5f, -0.0f, 3.25f, 1e-30f, 123456.789f};
static float bias[4] = {0.1f, 0.2f, 0.3f, 0.4f};
static int64_t tracked = 123456789012LL;
static const char *meta_k[NM] = {"config", "unicode", "ctrl", "format"};
static const char *meta_v[NM] = {
    "model: vgg\nname: \"my run\"\n\tpath: C:\\dir\\x\n",
    "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80", "a\x01" "b\x1f" "c", "pt"};

/* Tensors deliberately not in name order. */
static void sample(st_file *f, st_tensor t[NT], char *keys[NM], char *vals[NM])
{
    memset(t, 0, sizeof(st_tensor) * NT);
    t[0] = (st_tensor){.name = "fc.bias", .dtype = ST_F32, .ndim = 1,
                       .shape = {4}, .nbytes = sizeof bias, .data = bias};
    t[1] = (st_tensor){.name = "conv1.weight", .dtype = ST_F32, .ndim = 4,
                       .shape = {2, 3, 1, 1}, .nbytes = sizeof w, .data = w};
    t[2] = (st_tensor){.name = "bn.num_batches_tracked", .dtype = ST_I64,
                       .ndim = 0, .nbytes = 8, .data = &tracked};
    t[3] = (st_tensor){.name = "empty", .dtype = ST_F32, .ndim = 2,
                       .shape = {0, 3}, .nbytes = 0, .data = NULL};
    for (int i = 0; i < NM; i++) {
        keys[i] = (char *)meta_k[i];
        vals[i] = (char *)meta_v[i];
    }
    *f = (st_file){.n = NT, .t = t, .n_meta = NM, .meta_keys = keys,
                   .meta_vals = vals};
}

static void write_sample(const char *path)
{
    st_file f;
    st_tensor t[NT];
    char *k[NM], *v[NM];
    sample(&f, t, k, v);
    strata_err e = {0};
    ck_assert_msg(st_write(path, &f, &e) == 0, "%s", e.msg);
}

START_TEST(test_roundtrip)
{
    const char *path = tmp_path("model.safetensors");
    st_file f;
    st_tensor t[NT];
    char *k[NM], *v[NM];
    sample(&f, t, k, v);
    strata_err e = {0};
    ck_assert_msg(st_write(path, &f, &e) == 0, "%s", e.msg);

    st_file g;
    ck_assert_msg(st_read(path, &g, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(g.n, NT);
    for (int i = 0; i < NT; i++) {
        const st_tensor *x = st_find(&g, t[i].name);
        ck_assert_msg(x != NULL, "%s missing", t[i].name);
        ck_assert_str_eq(x->name, t[i].name);
        ck_assert_int_eq(x->dtype, t[i].dtype);
        ck_assert_int_eq(x->ndim, t[i].ndim);
        for (int d = 0; d < t[i].ndim; d++)
            ck_assert_int_eq(x->shape[d], t[i].shape[d]);
        ck_assert_uint_eq(x->nbytes, t[i].nbytes);
        if (t[i].nbytes)
            ck_assert(memcmp(x->data, t[i].data, t[i].nbytes) == 0);
    }
    ck_assert_int_eq(*(const int64_t *)st_find(&g, "bn.num_batches_tracked")
                          ->data, 123456789012LL);
    ck_assert_int_eq(g.n_meta, NM);
    for (int i = 0; i < NM; i++)
        ck_assert_str_eq(st_meta(&g, meta_k[i]), meta_v[i]);
    ck_assert_ptr_null(st_find(&g, "nope"));
    ck_assert_ptr_null(st_meta(&g, "nope"));
    st_free(&g);
    ck_assert_int_eq(g.n, 0);
    ck_assert_ptr_null(g.t);

    /* the metadata alone: the same keys and values, no tensors */
    ck_assert_msg(st_read_meta(path, &g, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(g.n, 0);
    ck_assert_ptr_null(g.t);
    ck_assert_int_eq(g.n_meta, NM);
    for (int i = 0; i < NM; i++)
        ck_assert_str_eq(st_meta(&g, meta_k[i]), meta_v[i]);
    st_free(&g);
}
END_TEST

/* The bytes the writer produced follow the format, checked by hand. */
START_TEST(test_written_layout)
{
    const char *path = tmp_path("m.safetensors");
    write_sample(path);
    size_t n;
    uint8_t *b = read_bytes(path, &n);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)b[i] << (8 * i);
    ck_assert_uint_eq((8 + hlen) % 8, 0);
    size_t data_len = sizeof w + sizeof bias + 8;
    ck_assert_uint_eq(n, 8 + hlen + data_len);
    char *h = strndup((const char *)b + 8, hlen);
    ck_assert_int_eq(h[0], '{');
    size_t end = strlen(h);
    while (end && h[end - 1] == ' ')
        end--;
    ck_assert_int_eq(h[end - 1], '}');
    ck_assert_uint_lt(hlen - end, 8);
    /* Sorted by name. */
    const char *sorted[] = {"\"bn.num_batches_tracked\"", "\"conv1.weight\"",
                            "\"empty\"", "\"fc.bias\""};
    const char *prev = h;
    for (int i = 0; i < 4; i++) {
        const char *at = strstr(h, sorted[i]);
        ck_assert_msg(at && at > prev, "%s out of order", sorted[i]);
        prev = at;
    }
    ck_assert_ptr_nonnull(strstr(h, "\"dtype\":\"I64\""));
    ck_assert_ptr_nonnull(strstr(h, "\"shape\":[2,3,1,1]"));
    ck_assert_ptr_nonnull(strstr(h, "\"shape\":[]"));
    /* Escapes of the metadata. */
    ck_assert_ptr_nonnull(strstr(h, "\\n"));
    ck_assert_ptr_nonnull(strstr(h, "\\\"my run\\\""));
    ck_assert_ptr_nonnull(strstr(h, "C:\\\\dir"));
    ck_assert_ptr_nonnull(strstr(h, "a\\u0001b\\u001fc"));
    for (size_t i = 0; i < hlen; i++)
        ck_assert_msg(b[8 + i] >= 0x20, "raw control byte in the header");
    /* Data in name order: the I64 first, then conv1.weight, then fc.bias. */
    const uint8_t *data = b + 8 + hlen;
    int64_t t64;
    memcpy(&t64, data, 8);
    ck_assert_int_eq(t64, tracked);
    ck_assert(memcmp(data + 8, w, sizeof w) == 0);
    ck_assert(memcmp(data + 8 + sizeof w, bias, sizeof bias) == 0);
    free(h);
    free(b);
    /* Nothing left behind; rewriting replaces the file. */
    ck_assert_int_eq(access(tmp_path("m.safetensors.tmp"), F_OK), -1);
    write_sample(path);
    st_file g;
    strata_err e = {0};
    ck_assert_int_eq(st_read(path, &g, &e), 0);
    ck_assert_int_eq(g.n, NT);
    st_free(&g);
}
END_TEST

START_TEST(test_no_tensors_no_metadata)
{
    const char *path = tmp_path("empty.safetensors");
    st_file f = {0};
    strata_err e = {0};
    ck_assert_int_eq(st_write(path, &f, &e), 0);
    size_t n;
    uint8_t *b = read_bytes(path, &n);
    ck_assert_uint_eq(n, 16); /* "{}" padded to 8 */
    ck_assert(memcmp(b + 8, "{}      ", 8) == 0);
    free(b);
    st_file g;
    ck_assert_int_eq(st_read(path, &g, &e), 0);
    ck_assert_int_eq(g.n, 0);
    ck_assert_int_eq(g.n_meta, 0);
    st_free(&g);
}
END_TEST

/* A file made by hand per the spec: whitespace, escapes (\u with a
 * surrogate pair), metadata in the middle, data not in header order. */
START_TEST(test_handmade_file)
{
    const char *path = tmp_path("hand.safetensors");
    const char *header =
        "{ \"b\" : {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": "
        "[16, 24]},\n \"__metadata__\": {\"k\\u00e9y\": \"line1\\nline2 "
        "\\\"q\\\" \\ud83d\\ude00 \\/\\t\"},\r\n\t\"a\\u0041\": {\"shape\": "
        "[2, 1], \"data_offsets\": [0, 16], \"dtype\": \"I64\"}}   ";
    const uint8_t data[24] = {
        0x01, 0, 0, 0, 0, 0, 0, 0,                      /* I64 1 */
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* I64 -2 */
        0x00, 0x00, 0xc0, 0x3f,                         /* F32 1.5 */
        0x00, 0x00, 0x50, 0xc0};                        /* F32 -3.25 */
    build_ok_len(path, header, data, sizeof data);
    st_file f;
    strata_err e = {0};
    ck_assert_msg(st_read(path, &f, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(f.n, 2);
    const st_tensor *a = st_find(&f, "aA");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->dtype, ST_I64);
    ck_assert_int_eq(a->ndim, 2);
    ck_assert_int_eq(a->shape[0], 2);
    ck_assert_int_eq(a->shape[1], 1);
    ck_assert_int_eq(((int64_t *)a->data)[0], 1);
    ck_assert_int_eq(((int64_t *)a->data)[1], -2);
    const st_tensor *bt = st_find(&f, "b");
    ck_assert_ptr_nonnull(bt);
    ck_assert_int_eq(bt->dtype, ST_F32);
    ck_assert_uint_eq(bt->nbytes, 8);
    ck_assert(((float *)bt->data)[0] == 1.5f);
    ck_assert(((float *)bt->data)[1] == -3.25f);
    ck_assert_str_eq(st_meta(&f, "k\xc3\xa9y"),
                     "line1\nline2 \"q\" \xf0\x9f\x98\x80 /\t");
    st_free(&f);
}
END_TEST

/* Empty tensors may sit at the same offset as a non-empty one. */
START_TEST(test_empty_tensors_share_offsets)
{
    const char *path = tmp_path("e.safetensors");
    const float v[2] = {2.0f, -1.0f};
    const char *headers[] = {
        "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
        "\"f\":{\"dtype\":\"I64\",\"shape\":[2,0],\"data_offsets\":[8,8]}}",
        "{\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
        "\"f\":{\"dtype\":\"I64\",\"shape\":[2,0],\"data_offsets\":[8,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"};
    for (int i = 0; i < 2; i++) {
        build_ok_len(path, headers[i], v, sizeof v);
        st_file f;
        strata_err e = {0};
        ck_assert_msg(st_read(path, &f, &e) == 0, "%s", e.msg);
        ck_assert_int_eq(f.n, 3);
        ck_assert_uint_eq(st_find(&f, "e")->nbytes, 0);
        ck_assert_int_eq(st_find(&f, "f")->shape[0], 2);
        ck_assert(((float *)st_find(&f, "b")->data)[1] == -1.0f);
        st_free(&f);
    }
}
END_TEST

START_TEST(test_refuse_short_files)
{
    const char *path = tmp_path("s.safetensors");
    write_bytes(path, "", 0);
    expect_refused(path, "shorter than");
    write_bytes(path, "\x02\0\0\0\0\0\0", 7);
    expect_refused(path, "shorter than");
    /* Length prefix larger than the file. */
    build_file(path, 100, "{}", NULL, 0);
    expect_refused(path, "header length 100 is larger");
    /* Absurd length prefix. */
    build_file(path, (uint64_t)1 << 40, "{}", NULL, 0);
    expect_refused(path, "absurd");
    /* Zero-length header. */
    build_file(path, 0, "", NULL, 0);
    expect_refused(path, "must start with '{'");
    /* A missing file. */
    expect_refused(tmp_path("missing.safetensors"), "cannot open");
    /* A directory. */
    expect_refused(tmpdir, "not a regular file");
}
END_TEST

START_TEST(test_refuse_bad_json)
{
    static const struct {
        const char *header, *needle;
    } cases[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
         "expected ',' or '}'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}",
         "expected '\"'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}",
         "fraction"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
         "non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}",
         "leading zero"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],"
         "\"data_offsets\":[0,4]}}", "too large"},
        {"{\"a\\q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         "invalid escape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x",
         "trailing characters"},
        {"[1]", "must start with '{'"},
        {" {}", "must start with '{'"},
        {"{\"a", "unterminated string"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
         "\"extra\":1}}", "unknown key 'extra'"},
        {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],"
         "\"data_offsets\":[0,4]}}", "duplicate key 'dtype'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "lacks data_offsets"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "lacks dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",
         "2 elements"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,4]}}",
         "more than 2"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
         "\"data_offsets\":[0,4]}}", "more than 8"},
        {"{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
         "\"data_offsets\":[0,4]}}", "values must be strings"},
        {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\"a\":{\"dtype\":\"F32\","
         "\"shape\":[1],\"data_offsets\":[0,4]}}", "duplicate key in __metadata__"},
        {"{\"__metadata__\":{},\"__metadata__\":{},\"a\":{\"dtype\":\"F32\","
         "\"shape\":[1],\"data_offsets\":[0,4]}}", "__metadata__ appears twice"},
        {"{\"\\ud800x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         "surrogate"},
        {"{\"\\udc00\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         "lone low surrogate"},
        {"{\"\\u00zz\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         "hex digits"},
        {"{\"\\u0000\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         "\\u0000"},
        {"{\"a\nb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         "control character"},
        {"{\"a\" {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         "expected ':'"},
        {"{\"a\":{\"dtype\":F32,\"shape\":[1],\"data_offsets\":[0,4]}}",
         "expected '\"'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
         "found the end of the header"},
    };
    const char *path = tmp_path("bad.safetensors");
    const float one = 1.0f;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build_ok_len(path, cases[i].header, &one, 4);
        expect_refused(path, cases[i].needle);
    }
}
END_TEST

START_TEST(test_refuse_bad_tensors)
{
    const char *path = tmp_path("bad.safetensors");
    uint8_t data[32] = {0};
    /* Unsupported dtype, named with the tensor. */
    build_ok_len(path,
                 "{\"layer.w\":{\"dtype\":\"F16\",\"shape\":[2],"
                 "\"data_offsets\":[0,4]}}", data, 4);
    expect_refused(path, "tensor 'layer.w' has unsupported dtype 'F16'");
    /* Offsets that disagree with shape and dtype. */
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                 "\"data_offsets\":[0,4]}}", data, 4);
    expect_refused(path, "need 8 bytes");
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],"
                 "\"data_offsets\":[0,4]}}", data, 4);
    expect_refused(path, "need 8 bytes");
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                 "\"data_offsets\":[4,0]}}", data, 4);
    expect_refused(path, "end before they begin");
    /* Overlap. */
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                 data, 12);
    expect_refused(path, "overlaps");
    /* A gap between tensors, and bytes after the last one. */
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                 data, 12);
    expect_refused(path, "[4, 8) belong to no tensor");
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                 data, 8);
    expect_refused(path, "[4, 8) belong to no tensor");
    /* A tensor not starting at 0. */
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                 data, 8);
    expect_refused(path, "[0, 4) belong to no tensor");
    /* Truncated data. */
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                 data, 12);
    expect_refused(path, "truncated");
    /* Duplicate names. */
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                 data, 8);
    expect_refused(path, "'a' appears twice");
    /* A shape whose element count overflows. */
    build_ok_len(path,
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                 "\"data_offsets\":[0,4]}}", data, 4);
    expect_refused(path, "tensor 'a'");
}
END_TEST

/* Every proper prefix of a valid file is refused cleanly. */
START_TEST(test_every_truncation_refused)
{
    const char *path = tmp_path("full.safetensors");
    write_sample(path);
    size_t n;
    uint8_t *b = read_bytes(path, &n);
    const char *cut = tmp_path("cut.safetensors");
    for (size_t k = 0; k < n; k++) {
        write_bytes(cut, b, k);
        st_file f;
        strata_err e = {0};
        ck_assert_msg(st_read(cut, &f, &e) == -1, "prefix %zu accepted", k);
        ck_assert_ptr_nonnull(strstr(e.msg, cut));
        ck_assert_msg(st_read_meta(cut, &f, &e) == -1, "prefix %zu accepted by st_read_meta", k);
    }
    free(b);
}
END_TEST

START_TEST(test_write_errors)
{
    float x[2] = {1, 2};
    st_tensor t[2] = {
        {.name = "a", .dtype = ST_F32, .ndim = 1, .shape = {2}, .nbytes = 8,
         .data = x},
        {.name = "b", .dtype = ST_F32, .ndim = 1, .shape = {2}, .nbytes = 8,
         .data = x}};
    st_file f = {.n = 2, .t = t};
    strata_err e = {0};

    /* Under a regular file. */
    const char *plain = tmp_path("plain");
    write_bytes(plain, "x", 1);
    const char *bad = tmp_path("plain/m.safetensors");
    ck_assert_int_eq(st_write(bad, &f, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(e.msg, bad));

    const char *path = tmp_path("w.safetensors");
    t[1].name = "a";
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "'a' appears twice"));
    t[1].name = "__metadata__";
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "invalid name"));
    t[1].name = "";
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "invalid name"));
    t[1].name = "b";
    t[1].nbytes = 4;
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "does not match"));
    t[1].nbytes = 8;
    t[1].dtype = 7;
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "unknown dtype 7"));
    t[1].dtype = ST_F32;
    t[1].ndim = 9;
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "9 dimensions"));
    t[1].ndim = 1;
    t[1].data = NULL;
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "no data"));
    t[1].data = x;
    char *key = "k";
    char *val = NULL;
    f.n_meta = 1;
    f.meta_keys = &key;
    f.meta_vals = &val;
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "metadata entry 0"));
    f.n_meta = 0;
    f.n = -1;
    ck_assert_int_eq(st_write(path, &f, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "invalid tensor list"));
    /* None of the refused writes left a file behind. */
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(access(tmp_path("w.safetensors.tmp"), F_OK), -1);
    /* And the fixed list writes. */
    f.n = 2;
    ck_assert_int_eq(st_write(path, &f, &e), 0);
}
END_TEST

START_TEST(test_dtype_helpers)
{
    ck_assert_str_eq(st_dtype_name(ST_F32), "F32");
    ck_assert_str_eq(st_dtype_name(ST_I64), "I64");
    ck_assert_ptr_null(st_dtype_name(5));
    ck_assert_uint_eq(st_dtype_size(ST_F32), 4);
    ck_assert_uint_eq(st_dtype_size(ST_I64), 8);
    ck_assert_uint_eq(st_dtype_size(-1), 0);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("safetensors",
        {.name = "safetensors", .setup = setup, .teardown = teardown,
         .tests = TESTS(test_roundtrip, test_written_layout, test_no_tensors_no_metadata, test_handmade_file,
                        test_empty_tensors_share_offsets, test_refuse_short_files, test_refuse_bad_json,
                        test_refuse_bad_tensors, test_every_truncation_refused, test_write_errors,
                        test_dtype_helpers)});
}
