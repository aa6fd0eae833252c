/* dataset.h — an image-folder data set, with torchvision ImageFolder's rules.
 *
 *   root/<class>/[sub-folders/]NAME.{jpg,jpeg,png}  (extension case-insensitive)
 *
 * Classes are the sub-folders of root sorted by name (strcmp, like Python's
 * sorted); label i is classes[i]. A class's files are found recursively
 * (symlinks followed, as ImageFolder's os.walk(followlinks=True), but each
 * real folder walked once: a folder reached again through a symlink, in
 * this class or an earlier one, is skipped with a warning) and sorted
 * by (folder path, file name). Other files are ignored silently; a file with
 * an image extension that image_probe refuses is skipped with one warning
 * line on stderr and listed in `skipped`; a FIFO, socket or device is
 * skipped with a warning.
 */
#ifndef STRATA_DATASET_H
#define STRATA_DATASET_H

#include <stdint.h>
#include "config/error.h"

typedef struct dataset {
    int num_classes;
    char **classes;   /* num_classes names, sorted */
    int n;
    char **paths;     /* n paths "root/class/file", class by class */
    int *labels;      /* n labels in [0, num_classes) */
    int num_skipped;
    char **skipped;   /* paths refused by image_probe */
    long max_pixels;  /* the pixel limit its images were probed with */
} dataset;

/* Scan root. Errors (STRATA_ERR_CONFIG, one line naming the path): root
 * missing or not a directory, no class folder, a class folder without images. */
int dataset_scan(const char *root, dataset *out, strata_err *err);
/* The same with data.max_pixels (<= 0: IMAGE_DEFAULT_MAX_PIXELS): a larger
 * image is skipped like an unreadable one; the loader decodes with it too. */
int dataset_scan_max(const char *root, long max_pixels, dataset *out, strata_err *err);

/* Stratified split: for each class, k = floor(val_fraction * n_class) files
 * go to val, the rest to train. Which ones: the class's files (in dataset
 * order) are shuffled by Fisher-Yates driven by splitmix64 (strata_rng_next)
 * seeded once with split_seed and run through the classes in label order
 * (j = floor(u * (i+1)), u a 53-bit uniform in [0,1), for i = n-1 .. 1);
 * the first k shuffled files go to val. Both outputs keep the dataset order
 * and the class list; their `skipped` lists are empty.
 * val_fraction must be in [0, 1) (STRATA_ERR_CONFIG otherwise). */
int dataset_split(const dataset *all, double val_fraction, uint64_t split_seed,
                  dataset *train, dataset *val, strata_err *err);

/* The image files (by extension, not probed) under dir, walked as a class
 * folder is: recursively, each real folder once, sorted by (folder path,
 * file name). *paths (n of them) and its strings are malloc'd: free with
 * dataset_free_list. Errors: out of memory only. */
int dataset_list_images(const char *dir, char ***paths, int *n, strata_err *err);
/* The class names a scan of root gives: its sub-folders, sorted (an
 * unreadable root gives none). Free with dataset_free_list. */
int dataset_list_classes(const char *root, char ***names, int *n, strata_err *err);
void dataset_free_list(char **list, int n);

/* Free everything *d owns and zero it. Safe on a zeroed dataset. */
void dataset_free(dataset *d);

#endif
