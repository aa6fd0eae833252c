/*
 * safetensors.h — read and write the safetensors checkpoint format.
 *
 * The format, as safetensors.torch.save_file writes it:
 *
 *   u64 N (little-endian)
 *   N bytes of JSON, padded with spaces so that 8 + N is a multiple of 8:
 *     {"__metadata__": {"key": "string value", ...},
 *      "tensor.name": {"dtype": "F32", "shape": [d0, d1, ...],
 *                      "data_offsets": [begin, end]}, ...}
 *   the data buffer: each tensor little-endian, row-major, at
 *   [begin, end) relative to the start of the buffer; the tensors cover the
 *   buffer exactly, without overlap (their order in the buffer is free).
 *
 * strata supports the dtypes F32 and I64 (BatchNorm's num_batches_tracked);
 * others are refused. Metadata values are strings. A 0-d tensor (shape [])
 * holds one element.
 *
 * Errors are values: 0 or -1, with *err (may be NULL) naming the file and
 * what is wrong (STRATA_ERR_RUNTIME for I/O and malformed files,
 * STRATA_ERR_CONFIG for a bad st_file handed to st_write).
 */
#ifndef STRATA_SAFETENSORS_H
#define STRATA_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "config/error.h"

enum { ST_F32 = 0, ST_I64 = 1 };
#define ST_MAX_DIMS 8
/* The largest JSON header accepted (the reference implementation's limit). */
#define ST_MAX_HEADER (100u << 20)

typedef struct st_tensor {
    char *name;
    int dtype; /* ST_F32, ST_I64 */
    int ndim;  /* 0 .. ST_MAX_DIMS */
    int64_t shape[ST_MAX_DIMS];
    size_t nbytes; /* product(shape) * element size */
    void *data;    /* nbytes, host byte order */
} st_tensor;

typedef struct st_file {
    int n;
    st_tensor *t;
    int n_meta;
    char **meta_keys;
    char **meta_vals;
} st_file;

/* Write atomically: to PATH.tmp, fflush + fsync, rename over PATH, fsync the
 * directory. Tensors are written sorted by name. f is not modified. */
int st_write(const char *path, const st_file *f, strata_err *err);
/* Read and validate the whole file; *out owns everything (st_free). Tensors
 * keep the order of the header. */
int st_read(const char *path, st_file *out, strata_err *err);
/* The same checks, but only the metadata is read (out->n is 0): for readers
 * of a file's metadata, which need not load every tensor. */
int st_read_meta(const char *path, st_file *out, strata_err *err);
/* The tensor / metadata value with that name, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key);
/* Free what st_read allocated (or an st_file built the same way with
 * malloc'd names, data, keys and values), and zero *f. */
void st_free(st_file *f);

/* "F32" / "I64", or NULL for an unknown dtype. */
const char *st_dtype_name(int dtype);
/* Bytes per element, or 0 for an unknown dtype. */
size_t st_dtype_size(int dtype);

#endif
