/* test_image.c — image_load / image_probe on generated fixtures of every
 * colour type, and on broken files. PNG pixels must match exactly, JPEG
 * pixels within a small tolerance (flat 8x8 blocks at quality 100). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/image.h"
#include "fixtures/imgwrite.h"
#include "testlib.h"

static char *dir;

static void setup(void)
{
    dir = fx_tmpdir();
    ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
    fx_rm_rf(dir);
    free(dir);
}

/* Load name from dir; assert success and the size. */
static image load_ok(const char *name, int w, int h)
{
    char *p = fx_path(dir, name);
    image im;
    strata_err e = {0};
    int rc = image_load(p, &im, &e);
    ck_assert_msg(rc == 0, "%s: %s", name, e.msg);
    ck_assert_int_eq(image_probe(p, &e), 0);
    ck_assert_int_eq(im.w, w);
    ck_assert_int_eq(im.h, h);
    free(p);
    return im;
}

/* Loading name must fail, with a message naming the file, and leave out empty. */
static void load_fails(const char *name, const char *reason_part)
{
    char *p = fx_path(dir, name);
    image im = {7, 7, (uint8_t *)p};
    strata_err e = {0};
    ck_assert_int_eq(image_load(p, &im, &e), -1);
    ck_assert_ptr_null(im.rgb);
    ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
    ck_assert_msg(strstr(e.msg, p) != NULL, "message names the path: %s", e.msg);
    ck_assert_msg(strstr(e.msg, "not a readable image") != NULL, "%s", e.msg);
    if (reason_part)
        ck_assert_msg(strstr(e.msg, reason_part) != NULL, "'%s' in: %s", reason_part, e.msg);
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    free(p);
}

static int probe(const char *name)
{
    char *p = fx_path(dir, name);
    strata_err e = {0};
    int rc = image_probe(p, &e);
    if (rc)
        ck_assert_msg(strstr(e.msg, p) != NULL, "%s", e.msg);
    free(p);
    return rc;
}

static void write_png(const char *name, int w, int h, int ct, int depth,
                      const uint8_t *data, const uint8_t *pal, int npal,
                      const uint8_t *trns, int ntrns)
{
    char *p = fx_path(dir, name);
    ck_assert_int_eq(fx_write_png(p, w, h, ct, depth, data, pal, npal, trns, ntrns), 0);
    free(p);
}

static void write_jpeg(const char *name, int w, int h, int comps, const uint8_t *data)
{
    char *p = fx_path(dir, name);
    ck_assert_int_eq(fx_write_jpeg(p, w, h, comps, data, 100), 0);
    free(p);
}

/* The reference RGB pattern of the PNG tests. */
static void pattern(int x, int y, uint8_t rgb[3])
{
    rgb[0] = (uint8_t)(x * 50);
    rgb[1] = (uint8_t)(y * 80 + 7);
    rgb[2] = (uint8_t)((x + y) * 20 + 3);
}

enum { W = 5, H = 3 };

static void check_pattern(image im)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t want[3];
            pattern(x, y, want);
            for (int c = 0; c < 3; c++)
                ck_assert_int_eq(im.rgb[(y * W + x) * 3 + c], want[c]);
        }
}

START_TEST(png_rgb_and_rgba)
{
    uint8_t rgb[W * H * 3], rgba[W * H * 4];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            pattern(x, y, rgb + (y * W + x) * 3);
            pattern(x, y, rgba + (y * W + x) * 4);
            rgba[(y * W + x) * 4 + 3] = (uint8_t)((x * 97 + y * 31) % 256); /* alpha dropped */
        }
    write_png("rgb.png", W, H, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0, NULL, 0);
    write_png("rgba.png", W, H, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, NULL, 0, NULL, 0);
    image a = load_ok("rgb.png", W, H), b = load_ok("rgba.png", W, H);
    check_pattern(a);
    check_pattern(b);
    image_free(&a);
    image_free(&b);
    ck_assert_ptr_null(a.rgb);
}
END_TEST

START_TEST(png_16bit_keeps_high_byte)
{
    uint8_t rgb16[W * H * 6], grey16[W * H * 2];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t v[3];
            pattern(x, y, v);
            for (int c = 0; c < 3; c++) {
                rgb16[(y * W + x) * 6 + 2 * c] = v[c];          /* high byte */
                rgb16[(y * W + x) * 6 + 2 * c + 1] = (uint8_t)(200 - c); /* low byte */
            }
            grey16[(y * W + x) * 2] = v[2];
            grey16[(y * W + x) * 2 + 1] = 255;
        }
    write_png("rgb16.png", W, H, PNG_COLOR_TYPE_RGB, 16, rgb16, NULL, 0, NULL, 0);
    write_png("grey16.png", W, H, PNG_COLOR_TYPE_GRAY, 16, grey16, NULL, 0, NULL, 0);
    image a = load_ok("rgb16.png", W, H), g = load_ok("grey16.png", W, H);
    check_pattern(a);
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++)
            ck_assert_int_eq(g.rgb[3 * i + c], grey16[2 * i]);
    image_free(&a);
    image_free(&g);
}
END_TEST

START_TEST(png_grey_and_grey_alpha)
{
    uint8_t g[W * H], ga[W * H * 2], g4[H * 3]; /* 4-bit: two pixels a byte */
    memset(g4, 0, sizeof g4);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = x * 40 + y * 3 + 1;
            g[y * W + x] = (uint8_t)v;
            ga[(y * W + x) * 2] = (uint8_t)v;
            ga[(y * W + x) * 2 + 1] = (uint8_t)(x * 60);
            int v4 = (x + 5 * y) % 16;
            g4[y * 3 + x / 2] |= (uint8_t)(x % 2 ? v4 : v4 << 4);
        }
    write_png("g.png", W, H, PNG_COLOR_TYPE_GRAY, 8, g, NULL, 0, NULL, 0);
    write_png("ga.png", W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, NULL, 0, NULL, 0);
    write_png("g4.png", W, H, PNG_COLOR_TYPE_GRAY, 4, g4, NULL, 0, NULL, 0);
    image a = load_ok("g.png", W, H), b = load_ok("ga.png", W, H), d = load_ok("g4.png", W, H);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                int i = (y * W + x) * 3 + c;
                ck_assert_int_eq(a.rgb[i], g[y * W + x]);
                ck_assert_int_eq(b.rgb[i], g[y * W + x]);
                ck_assert_int_eq(d.rgb[i], ((x + 5 * y) % 16) * 17); /* 4 -> 8 bit */
            }
    image_free(&a);
    image_free(&b);
    image_free(&d);
}
END_TEST

START_TEST(png_palette_with_and_without_trns)
{
    const uint8_t pal[4 * 3] = {255, 0, 0, 0, 128, 0, 10, 20, 250, 77, 77, 77};
    const uint8_t trns[4] = {0, 100, 255, 30};
    uint8_t idx[W * H];
    for (int i = 0; i < W * H; i++)
        idx[i] = (uint8_t)((i * 3 + 1) % 4);
    write_png("p.png", W, H, PNG_COLOR_TYPE_PALETTE, 8, idx, pal, 4, NULL, 0);
    write_png("pt.png", W, H, PNG_COLOR_TYPE_PALETTE, 8, idx, pal, 4, trns, 4);
    image a = load_ok("p.png", W, H), b = load_ok("pt.png", W, H);
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++) {
            ck_assert_int_eq(a.rgb[3 * i + c], pal[3 * idx[i] + c]);
            ck_assert_int_eq(b.rgb[3 * i + c], pal[3 * idx[i] + c]);
        }
    image_free(&a);
    image_free(&b);
}
END_TEST

/* 16x16 JPEGs of four flat 8x8 blocks: block (bx, by) has colour blk[by*2+bx]. */
enum { JW = 16 };

static void fill_blocks(uint8_t *data, int comps, const uint8_t blk[4][4])
{
    for (int y = 0; y < JW; y++)
        for (int x = 0; x < JW; x++)
            memcpy(data + (y * JW + x) * comps, blk[(y / 8) * 2 + x / 8], comps);
}

static void check_blocks(image im, uint8_t want[4][3], int tol)
{
    for (int y = 0; y < JW; y++)
        for (int x = 0; x < JW; x++)
            for (int c = 0; c < 3; c++) {
                int got = im.rgb[(y * JW + x) * 3 + c], exp = want[(y / 8) * 2 + x / 8][c];
                ck_assert_msg(abs(got - exp) <= tol, "(%d,%d,%d): %d, expected %d", x, y, c, got, exp);
            }
}

START_TEST(jpeg_rgb_grey_cmyk)
{
    const uint8_t rgb[4][4] = {{250, 10, 10}, {20, 200, 40}, {30, 60, 220}, {128, 128, 128}};
    const uint8_t grey[4][4] = {{0}, {90}, {180}, {255}};
    /* CMYK samples as stored (Adobe-inverted: ink = 255 - stored). */
    const uint8_t cmyk[4][4] = {{200, 100, 30, 230}, {255, 255, 255, 255},
                                {0, 128, 255, 128}, {50, 220, 140, 90}};
    uint8_t d3[JW * JW * 3], d1[JW * JW], d4[JW * JW * 4];
    fill_blocks(d3, 3, rgb);
    fill_blocks(d1, 1, grey);
    fill_blocks(d4, 4, cmyk);
    write_jpeg("rgb.jpg", JW, JW, 3, d3);
    write_jpeg("grey.jpg", JW, JW, 1, d1);
    write_jpeg("cmyk.jpg", JW, JW, 4, d4);
    uint8_t want_rgb[4][3], want_grey[4][3], want_cmyk[4][3];
    for (int b = 0; b < 4; b++)
        for (int c = 0; c < 3; c++) {
            want_rgb[b][c] = rgb[b][c];
            want_grey[b][c] = grey[b][0];
            /* R = (255 - C)(255 - K)/255 with C = 255 - stored C, K likewise */
            want_cmyk[b][c] = (uint8_t)((cmyk[b][c] * cmyk[b][3] + 127) / 255);
        }
    image a = load_ok("rgb.jpg", JW, JW), g = load_ok("grey.jpg", JW, JW),
          k = load_ok("cmyk.jpg", JW, JW);
    check_blocks(a, want_rgb, 3);
    check_blocks(g, want_grey, 1);
    check_blocks(k, want_cmyk, 2);
    image_free(&a);
    image_free(&g);
    image_free(&k);
}
END_TEST

START_TEST(format_by_content_not_extension)
{
    uint8_t rgb[W * H * 3];
    for (int i = 0; i < W * H; i++)
        pattern(i % W, i / W, rgb + 3 * i);
    write_png("really_png.jpg", W, H, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0, NULL, 0);
    uint8_t g[JW * JW];
    memset(g, 99, sizeof g);
    write_jpeg("really_jpeg.png", JW, JW, 1, g);
    image a = load_ok("really_png.jpg", W, H), b = load_ok("really_jpeg.png", JW, JW);
    check_pattern(a);
    ck_assert_int_le(abs(b.rgb[0] - 99), 1);
    image_free(&a);
    image_free(&b);
}
END_TEST

/* A 64x64 noisy RGB JPEG, so that half of it lies well inside the scan data. */
static void write_noisy_jpeg(const char *name)
{
    enum { N = 64 };
    uint8_t d[N * N * 3];
    uint64_t s = 12345;
    for (int i = 0; i < N * N * 3; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        d[i] = (uint8_t)(s >> 56);
    }
    write_jpeg(name, N, N, 3, d);
}

/* Write the first n bytes of src (n < 0: all, then byte at flip_at xor 0xff). */
static void derive(const char *src, const char *dst, long n, long flip_at)
{
    char *ps = fx_path(dir, src), *pd = fx_path(dir, dst);
    uint8_t *b;
    size_t len;
    ck_assert_int_eq(fx_read(ps, &b, &len), 0);
    if (flip_at >= 0)
        b[flip_at] ^= 0xff;
    ck_assert_int_eq(fx_write(pd, b, n >= 0 ? (size_t)n : len), 0);
    free(b);
    free(ps);
    free(pd);
}

static long file_size(const char *name)
{
    char *p = fx_path(dir, name);
    uint8_t *b;
    size_t len;
    ck_assert_int_eq(fx_read(p, &b, &len), 0);
    free(b);
    free(p);
    return (long)len;
}

START_TEST(truncated_jpeg)
{
    write_noisy_jpeg("ok.jpg");
    long n = file_size("ok.jpg");
    derive("ok.jpg", "half.jpg", n / 2, -1);
    derive("ok.jpg", "head.jpg", 20, -1);
    ck_assert_int_eq(probe("half.jpg"), 0); /* header intact: probe passes ... */
    load_fails("half.jpg", "truncated");   /* ... but decoding refuses */
    ck_assert_int_eq(probe("head.jpg"), -1);
    load_fails("head.jpg", NULL);
}
END_TEST

START_TEST(corrupt_and_truncated_png)
{
    enum { N = 32 };
    uint8_t rgb[N * N * 3];
    for (int i = 0; i < N * N * 3; i++)
        rgb[i] = (uint8_t)(i * 7);
    write_png("ok.png", N, N, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0, NULL, 0);
    char *p = fx_path(dir, "ok.png");
    uint8_t *b;
    size_t len;
    ck_assert_int_eq(fx_read(p, &b, &len), 0);
    long idat = -1;
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(b + i, "IDAT", 4) == 0) {
            idat = (long)i;
            break;
        }
    free(b);
    free(p);
    ck_assert_int_gt(idat, 0);
    derive("ok.png", "crc.png", -1, idat + 10); /* a byte of the compressed data */
    derive("ok.png", "half.png", (long)len / 2, -1);
    derive("ok.png", "sig.png", 8, -1);
    derive("ok.png", "badhdr.png", -1, 16);     /* width field, breaks the IHDR CRC */
    load_fails("crc.png", NULL);
    load_fails("half.png", NULL);
    ck_assert_int_eq(probe("sig.png"), -1);
    load_fails("sig.png", NULL);
    ck_assert_int_eq(probe("badhdr.png"), -1);
    load_fails("badhdr.png", NULL);
}
END_TEST

START_TEST(empty_missing_and_non_images)
{
    char *p = fx_path(dir, "empty.jpg");
    ck_assert_int_eq(fx_write(p, "", 0), 0);
    free(p);
    p = fx_path(dir, "notes.png");
    ck_assert_int_eq(fx_write(p, "hello, world\n", 13), 0);
    free(p);
    p = fx_path(dir, "fake.jpg");
    ck_assert_int_eq(fx_write(p, "\xff\xd8\xff\xe0garbage", 11), 0);
    free(p);
    load_fails("empty.jpg", "empty file");
    load_fails("notes.png", "neither JPEG nor PNG");
    load_fails("missing.jpg", "No such file");
    load_fails("fake.jpg", NULL);
    ck_assert_int_eq(probe("empty.jpg"), -1);
    ck_assert_int_eq(probe("notes.png"), -1);
    ck_assert_int_eq(probe("missing.jpg"), -1);
    ck_assert_int_eq(probe("fake.jpg"), -1);
    image_free(NULL); /* harmless */
}
END_TEST

/* Patch the size in a file's header: the JPEG SOF0 frame (height, width)
 * or the PNG IHDR (width, height, then its CRC). */
static uint32_t crc32_png(const uint8_t *b, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static void set_size(const char *name, unsigned w, unsigned h)
{
    char *p = fx_path(dir, name);
    uint8_t *b;
    size_t n;
    ck_assert_int_eq(fx_read(p, &b, &n), 0);
    if (b[0] == 0xff) {
        size_t i = 2;
        while (i + 9 < n && !(b[i] == 0xff && b[i + 1] == 0xc0))
            i++;
        ck_assert_uint_lt(i + 9, n);
        b[i + 5] = (uint8_t)(h >> 8), b[i + 6] = (uint8_t)h;
        b[i + 7] = (uint8_t)(w >> 8), b[i + 8] = (uint8_t)w;
    } else {
        uint8_t *ihdr = b + 12; /* "IHDR", 13 bytes, CRC */
        for (int k = 0; k < 4; k++) {
            ihdr[4 + k] = (uint8_t)(w >> (24 - 8 * k));
            ihdr[8 + k] = (uint8_t)(h >> (24 - 8 * k));
        }
        uint32_t c = crc32_png(ihdr, 17);
        for (int k = 0; k < 4; k++)
            ihdr[17 + k] = (uint8_t)(c >> (24 - 8 * k));
    }
    ck_assert_int_eq(fx_write(p, b, n), 0);
    free(b);
    free(p);
}

/* A 1.4 KB JPEG declaring 13000x13000 decoded to 2.5 GB: now refused from
 * its header by the pixel limit (default 40 M), and a PNG likewise. */
START_TEST(pixel_bombs_refused_from_header)
{
    uint8_t px[8 * 8 * 3] = {0};
    char *p = fx_path(dir, "bomb.jpg");
    ck_assert_int_eq(fx_write_jpeg(p, 8, 8, 3, px, 90), 0);
    free(p);
    p = fx_path(dir, "bomb.png");
    ck_assert_int_eq(fx_write_png_rgb(p, 8, 8, px), 0);
    free(p);
    set_size("bomb.jpg", 13000, 13000);
    set_size("bomb.png", 20000, 9000);
    load_fails("bomb.jpg", "13000x13000 is 169000000 pixels, over data.max_pixels = 40000000");
    load_fails("bomb.png", "20000x9000 is 180000000 pixels, over data.max_pixels = 40000000");
    ck_assert_int_eq(probe("bomb.jpg"), -1);
    ck_assert_int_eq(probe("bomb.png"), -1);
}
END_TEST

/* The limit is width x height <= max_pixels, exactly. */
START_TEST(max_pixels_is_inclusive)
{
    uint8_t px[8 * 4 * 3] = {0};
    char *p = fx_path(dir, "small.png");
    ck_assert_int_eq(fx_write_png_rgb(p, 8, 4, px), 0);
    image im;
    strata_err e = {0};
    ck_assert_msg(image_load_max(p, 32, &im, &e) == 0, "%s", e.msg);
    image_free(&im);
    ck_assert_int_eq(image_load_max(p, 31, &im, &e), -1);
    assert_has(e.msg, "8x4 is 32 pixels, over data.max_pixels = 31");
    ck_assert_int_eq(image_probe_max(p, 31, &e), -1);
    free(p);
}
END_TEST

/* A FIFO blocked the open; a directory: refused at once. */
START_TEST(not_regular_files_refused)
{
    char *p = fx_path(dir, "pipe.png");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    free(p);
    load_fails("pipe.png", "not a regular file");
    ck_assert_int_eq(probe("pipe.png"), -1);
    strata_err e = {0};
    ck_assert_int_eq(image_probe(dir, &e), -1);
    assert_has(e.msg, "not a regular file");
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("image",
        {.name = "decode", .setup = setup, .teardown = teardown,
         .tests = TESTS(png_rgb_and_rgba, png_16bit_keeps_high_byte, png_grey_and_grey_alpha,
                        png_palette_with_and_without_trns, jpeg_rgb_grey_cmyk,
                        format_by_content_not_extension, truncated_jpeg, corrupt_and_truncated_png,
                        empty_missing_and_non_images, pixel_bombs_refused_from_header,
                        max_pixels_is_inclusive, not_regular_files_refused)});
}
