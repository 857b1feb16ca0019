/* Image-folder trees (include/vgg/imagefolder.h): scan the class folders,
 * list the files in a fixed order (class, then file name), then decode
 * them all in one OpenMP loop, each straight into its slot of the split's
 * pixel buffer, and compact the slots of skipped files away. */
#include "vgg/imagefolder.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "imagefolder_cache.h"
#include "vgg/image.h"
#include "vgg/rng.h"

typedef struct names {
    char **v;
    int n, cap;
} names;

static void names_free(names *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int names_add(names *l, const char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(s);
    if (!l->v[l->n]) return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int join(char *out, size_t n, const char *a, const char *b) {
    return snprintf(out, n, "%s/%s", a, b) < (int)n ? 0 : -1;
}

static int is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The entries of dir but "." and "..", sorted; with dirs_only the
 * sub-folders not starting with '.', else every other entry, with the
 * sub-folders counted in *subdirs. */
static vgg_status list_dir(const char *dir, int dirs_only, names *out,
                           int *subdirs, vgg_error *err) {
    DIR *d = opendir(dir);
    if (!d)
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot open the folder (%s)", dir,
                        strerror(errno));
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        if (join(path, sizeof path, dir, nm)) {
            closedir(d);
            return vgg_fail(err, VGG_ERR_ARG, "%s/%s: path too long", dir, nm);
        }
        int sub = is_dir(path);
        if (dirs_only ? (!sub || nm[0] == '.') : sub) {
            if (!dirs_only && subdirs) (*subdirs)++;
            continue;
        }
        if (names_add(out, nm)) {
            closedir(d);
            return vgg_fail(err, VGG_ERR_NOMEM, "%s: out of memory", dir);
        }
    }
    closedir(d);
    if (out->n > 1) qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
    return VGG_OK;
}

static vgg_status list_classes(const char *dir, names *cls, vgg_error *err) {
    vgg_status st = list_dir(dir, 1, cls, NULL, err);
    if (st) return st;
    if (cls->n == 0)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: no class folders; expected one sub-folder per "
                        "class holding its images",
                        dir);
    if (cls->n == 1)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: one class folder ('%s'); a classifier needs at "
                        "least 2 classes",
                        dir, cls->v[0]);
    if (cls->n > VGG_MAX_CLASSES)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: %d class folders; at most %d are supported", dir,
                        cls->n, VGG_MAX_CLASSES);
    for (int c = 0; c < cls->n; c++)
        if (strlen(cls->v[c]) >= VGG_CLASS_NAME_MAX)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s/%s: class folder name of %zu bytes; at most "
                            "%d expected",
                            dir, cls->v[c], strlen(cls->v[c]),
                            VGG_CLASS_NAME_MAX - 1);
    return VGG_OK;
}

/* One file to decode. */
typedef struct job {
    char *path;
    int label, split; /* split 0: training, 1: test */
    int slot;         /* index in its split's buffer */
} job;

typedef struct jobs {
    job *v;
    int n, cap;
    int count[2];
} jobs;

static void jobs_free(jobs *j) {
    for (int i = 0; i < j->n; i++) free(j->v[i].path);
    free(j->v);
    memset(j, 0, sizeof *j);
}

static int jobs_add(jobs *j, const char *dir, const char *cls, const char *file,
                    int label, int split) {
    if (j->n == j->cap) {
        int cap = j->cap ? 2 * j->cap : 256;
        job *v = realloc(j->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        j->v = v;
        j->cap = cap;
    }
    size_t len = strlen(dir) + strlen(cls) + strlen(file) + 3;
    char *p = malloc(len);
    if (!p) return -1;
    snprintf(p, len, "%s/%s/%s", dir, cls, file);
    j->v[j->n++] = (job){p, label, split, j->count[split]++};
    return 0;
}

/* The files of every class folder of dir (a split folder, or the tree for
 * one split), sorted; files[c] for class c. */
static vgg_status list_files(const char *dir, const names *cls, names *files,
                             vgg_folder_report *rep, vgg_error *err) {
    char path[4096];
    for (int c = 0; c < cls->n; c++) {
        if (join(path, sizeof path, dir, cls->v[c]))
            return vgg_fail(err, VGG_ERR_ARG, "%s/%s: path too long", dir,
                            cls->v[c]);
        vgg_status st = list_dir(path, 0, &files[c], &rep->skipped, err);
        if (st) return st;
        if (files[c].n == 0)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: empty class folder; every class needs "
                            "images (remove the folder or add images)",
                            path);
        rep->files += files[c].n;
    }
    return VGG_OK;
}

/* Takes files round-robin over the classes until limit (0: all) are
 * taken: the first file of each class, then the second, ... */
static vgg_status add_split(jobs *j, const char *dir, const names *cls,
                            const names *files, const int *const *order,
                            const int *nsel, int split, int limit,
                            vgg_error *err) {
    int taken = 0, more = 1;
    int most = 0;
    for (int c = 0; c < cls->n; c++)
        if (nsel[c] > most) most = nsel[c];
    if (limit <= 0) { /* all: class, then name order */
        for (int c = 0; c < cls->n; c++)
            for (int i = 0; i < nsel[c]; i++) {
                int f = order ? order[c][i] : i;
                if (jobs_add(j, dir, cls->v[c], files[c].v[f], c, split))
                    return vgg_fail(err, VGG_ERR_NOMEM, "out of memory");
            }
        return VGG_OK;
    }
    for (int i = 0; i < most && more; i++)
        for (int c = 0; c < cls->n && more; c++) {
            if (i >= nsel[c]) continue;
            int f = order ? order[c][i] : i;
            if (jobs_add(j, dir, cls->v[c], files[c].v[f], c, split))
                return vgg_fail(err, VGG_ERR_NOMEM, "out of memory");
            more = ++taken < limit;
        }
    return VGG_OK;
}

static int has_image_ext(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return 0;
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".jpe", ".jfif"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t n = strlen(ext[i]);
        if (strlen(dot) != n) continue;
        size_t k = 0;
        while (k < n && tolower((unsigned char)dot[k]) == ext[i][k]) k++;
        if (k == n) return 1;
    }
    return 0;
}

enum { JOB_OK = 0, JOB_SKIPPED, JOB_BAD, JOB_NOT_RUN };

/* Decodes one file into px (3 x side x side). */
static int decode_one(const char *path, int side, uint8_t *px, int *resized,
                      char **msg) {
    vgg_error err = {0};
    uint8_t *data = NULL;
    size_t n = 0;
    vgg_status st =
        vgg_file_read_all(path, VGG_IMAGE_MAX_FILE, &data, &n, &err);
    if (st) {
        *msg = strdup(err.msg);
        return JOB_BAD;
    }
    if (vgg_image_sniff(data, n) == VGG_IMAGE_UNKNOWN) {
        free(data);
        if (!has_image_ext(path)) return JOB_SKIPPED;
        char buf[4096 + 128];
        snprintf(buf, sizeof buf,
                 "%s: named as an image but is not a PNG or JPEG file (its "
                 "first bytes are neither signature)",
                 path);
        *msg = strdup(buf);
        return JOB_BAD;
    }
    vgg_image img = {0};
    st = vgg_image_decode(data, n, path, &img, &err);
    free(data);
    if (!st) {
        *resized = img.width != side || img.height != side;
        st = vgg_image_to_planar(px, &img, side, &err);
        if (st) {
            vgg_image_free(&img);
            size_t len = strlen(path) + strlen(err.msg) + 3;
            *msg = malloc(len);
            if (*msg) snprintf(*msg, len, "%s: %s", path, err.msg);
            return JOB_BAD;
        }
    }
    vgg_image_free(&img);
    if (st) {
        *msg = strdup(err.msg);
        return JOB_BAD;
    }
    return JOB_OK;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Decodes every job; returns the index of the first bad one, or -1. */
static int decode_all(const jobs *j, uint8_t *const bufs[2], size_t bytes,
                      int side, const vgg_folder_options *opt,
                      unsigned char *state, char **msgs, int *resized) {
    int done = 0, last = 0, stop = 0, nres = 0;
    const int total = j->n, step = total / 200 > 0 ? total / 200 : 1;
#pragma omp parallel for schedule(dynamic, 8) reduction(+ : nres)
    for (int i = 0; i < total; i++) {
        int halt;
#pragma omp atomic read
        halt = stop;
        if (halt) continue;
        const job *jb = &j->v[i];
        int r = 0;
        state[i] = (unsigned char)decode_one(
            jb->path, side, bufs[jb->split] + (size_t)jb->slot * bytes, &r,
            &msgs[i]);
        nres += r;
        if (state[i] == JOB_BAD && !opt->skip_bad) {
#pragma omp atomic write
            stop = 1;
        }
        int d;
#pragma omp atomic capture
        d = ++done;
#ifdef _OPENMP
        int master = omp_get_thread_num() == 0;
#else
        int master = 1;
#endif
        if (master && opt->progress && d - last >= step && d < total) {
            last = d;
            opt->progress(opt->user, d, total);
        }
    }
    *resized = nres;
    int first = -1;
    for (int i = 0; i < total; i++)
        if (state[i] == JOB_BAD) {
            first = i;
            break;
        }
    if (opt->progress && first < 0) opt->progress(opt->user, total, total);
    return first;
}

/* Removes the slots of files that were not kept. */
static void compact(vgg_dataset *ds, const jobs *j, int split,
                    const unsigned char *state, size_t bytes) {
    int n = 0;
    for (int i = 0; i < j->n; i++) {
        const job *jb = &j->v[i];
        if (jb->split != split || state[i] != JOB_OK) continue;
        if (n != jb->slot)
            memmove(ds->pixels + (size_t)n * bytes,
                    ds->pixels + (size_t)jb->slot * bytes, bytes);
        ds->labels[n++] = (uint8_t)jb->label;
    }
    ds->n = n;
}

static vgg_status check_split(const vgg_dataset *ds, const char *where,
                              const char *split, vgg_error *err) {
    int count[VGG_MAX_CLASSES] = {0};
    for (int i = 0; i < ds->n; i++) count[ds->labels[i]]++;
    for (int c = 0; c < ds->num_classes; c++)
        if (count[c] == 0)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: class '%s' has no usable images in the %s "
                            "split",
                            where, ds->class_names[c], split);
    return VGG_OK;
}

/* Builds the job list: two split folders, or one tree split by
 * val_split. */
static vgg_status scan(const vgg_folder_options *opt, names *cls, jobs *j,
                       vgg_folder_report *rep, vgg_error *err) {
    char tr[4096], te[4096];
    if (join(tr, sizeof tr, opt->dir, "train") ||
        join(te, sizeof te, opt->dir, "test"))
        return vgg_fail(err, VGG_ERR_ARG, "--data %s: path too long", opt->dir);
    struct stat sb;
    if (stat(opt->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return vgg_fail(err, VGG_ERR_IO,
                        "--data %s: cannot open the folder "
                        "(%s)",
                        opt->dir,
                        errno && stat(opt->dir, &sb) != 0 ? strerror(errno)
                                                          : "not a folder");
    vgg_status st = VGG_OK;
    names *files = NULL;
    int **order = NULL, *nsel[2] = {NULL, NULL};
    rep->two_splits = is_dir(tr) && is_dir(te);
    if (rep->two_splits) {
        if (opt->val_split > 0)
            return vgg_fail(err, VGG_ERR_ARG,
                            "--val-split %g: %s has train/ and test/ "
                            "folders already; drop --val-split",
                            opt->val_split, opt->dir);
        names other = {0};
        if ((st = list_classes(tr, cls, err)) ||
            (st = list_classes(te, &other, err))) {
            names_free(&other);
            return st;
        }
        for (int a = 0, b = 0; !st && (a < cls->n || b < other.n);) {
            int c = a == cls->n    ? 1
                    : b == other.n ? -1
                                   : strcmp(cls->v[a], other.v[b]);
            if (c < 0)
                st = vgg_fail(err, VGG_ERR_FORMAT,
                              "%s: class '%s' has no folder in %s; both "
                              "splits need the same classes",
                              te, cls->v[a], te);
            else if (c > 0)
                st = vgg_fail(err, VGG_ERR_FORMAT,
                              "%s: class '%s' has no folder in %s; both "
                              "splits need the same classes",
                              tr, other.v[b], tr);
            a++, b++;
        }
        names_free(&other);
        if (st) return st;
        const char *dirs[2] = {tr, te};
        const int limits[2] = {opt->limit_train, opt->limit_test};
        for (int s = opt->test_only; s < 2 && !st; s++) {
            files = calloc((size_t)cls->n, sizeof *files);
            nsel[0] = calloc((size_t)cls->n, sizeof *nsel[0]);
            if (!files || !nsel[0])
                st = vgg_fail(err, VGG_ERR_NOMEM, "out of memory");
            if (!st) st = list_files(dirs[s], cls, files, rep, err);
            for (int c = 0; !st && c < cls->n; c++) nsel[0][c] = files[c].n;
            if (!st)
                st = add_split(j, dirs[s], cls, files, NULL, nsel[0], s,
                               limits[s], err);
            for (int c = 0; files && c < cls->n; c++) names_free(&files[c]);
            free(files);
            free(nsel[0]);
            files = NULL;
            nsel[0] = NULL;
        }
        return st;
    }
    if (!(opt->val_split > 0 && opt->val_split < 1))
        return vgg_fail(err, VGG_ERR_ARG,
                        "--data %s: no train/ and test/ folders; for a tree "
                        "of class folders alone, give --val-split F (the "
                        "test fraction, 0 < F < 1)",
                        opt->dir);
    if ((st = list_classes(opt->dir, cls, err))) return st;
    files = calloc((size_t)cls->n, sizeof *files);
    order = calloc((size_t)cls->n, sizeof *order);
    nsel[0] = calloc((size_t)cls->n, sizeof *nsel[0]);
    nsel[1] = calloc((size_t)cls->n, sizeof *nsel[1]);
    if (!files || !order || !nsel[0] || !nsel[1])
        st = vgg_fail(err, VGG_ERR_NOMEM, "out of memory");
    if (!st) st = list_files(opt->dir, cls, files, rep, err);
    /* Per class: shuffle the file indices with the seed, the first
     * round(F * n) go to the test split; both splits then in name order. */
    vgg_rng rng;
    vgg_rng_seed(&rng, opt->seed, 0x76616c /* "val" */);
    for (int c = 0; !st && c < cls->n; c++) {
        int n = files[c].n;
        int nt = (int)(opt->val_split * n + 0.5);
        if (nt < 1) nt = 1;
        if (nt > n - 1) nt = n - 1;
        if (n < 2) {
            st = vgg_fail(err, VGG_ERR_FORMAT,
                          "%s/%s: one file; --val-split needs at least 2 "
                          "images in every class",
                          opt->dir, cls->v[c]);
            break;
        }
        int *idx = malloc((size_t)n * sizeof *idx);
        unsigned char *is_test = calloc((size_t)n, 1);
        order[c] = malloc((size_t)n * sizeof *order[c]);
        if (!idx || !is_test || !order[c]) {
            free(idx);
            free(is_test);
            st = vgg_fail(err, VGG_ERR_NOMEM, "out of memory");
            break;
        }
        for (int i = 0; i < n; i++) idx[i] = i;
        vgg_rng_shuffle(&rng, idx, n);
        for (int i = 0; i < nt; i++) is_test[idx[i]] = 1;
        int k = 0;
        for (int i = 0; i < n; i++)
            if (!is_test[i]) order[c][k++] = i;
        nsel[0][c] = k;
        for (int i = 0; i < n; i++)
            if (is_test[i]) order[c][k++] = i;
        nsel[1][c] = n - nsel[0][c];
        free(idx);
        free(is_test);
    }
    if (!st && !opt->test_only)
        st = add_split(j, opt->dir, cls, files, (const int *const *)order,
                       nsel[0], 0, opt->limit_train, err);
    if (!st) {
        /* the test files follow the training ones in order[c] */
        for (int c = 0; c < cls->n; c++) order[c] += nsel[0][c];
        st = add_split(j, opt->dir, cls, files, (const int *const *)order,
                       nsel[1], 1, opt->limit_test, err);
        for (int c = 0; c < cls->n; c++) order[c] -= nsel[0][c];
    }
    for (int c = 0; files && c < cls->n; c++) {
        names_free(&files[c]);
        if (order) free(order[c]);
    }
    free(files);
    free(order);
    free(nsel[0]);
    free(nsel[1]);
    return st;
}

/* The cache key of this file list and these settings; -1: no cache. */
static int cache_key(const vgg_folder_options *opt, int side, const names *cls,
                     const jobs *j, uint64_t *key) {
    folder_cache_item *it = malloc((size_t)(j->n ? j->n : 1) * sizeof *it);
    if (!it) return -1;
    for (int i = 0; i < j->n; i++)
        it[i] = (folder_cache_item){j->v[i].path, j->v[i].label, j->v[i].split};
    const uint64_t settings[] = {(uint64_t)side,
                                 (uint64_t)(opt->val_split * 1e9 + 0.5),
                                 opt->seed,
                                 (uint64_t)opt->skip_bad,
                                 (uint64_t)opt->limit_train,
                                 (uint64_t)opt->limit_test,
                                 (uint64_t)opt->test_only};
    int rc = folder_cache_key(it, j->n, (const char *const *)cls->v, cls->n,
                              settings, 7, key);
    free(it);
    return rc;
}

vgg_status vgg_folder_load(vgg_dataset *train, vgg_dataset *test,
                           const vgg_folder_options *opt,
                           vgg_folder_report *report, vgg_error *err) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    vgg_folder_report rep;
    memset(&rep, 0, sizeof rep);
    const int side = opt->side > 0 ? opt->side : VGG_CIFAR_SIDE;
    if (side < 8 || side > 1024)
        return vgg_fail(err, VGG_ERR_ARG,
                        "image side %d: expected 8 to 1024 pixels", side);
    names cls = {0};
    jobs j = {0};
    vgg_status st = scan(opt, &cls, &j, &rep, err);
    const size_t bytes = 3 * (size_t)side * side;
    unsigned char *state = NULL;
    char **msgs = NULL;
    vgg_dataset *sets[2] = {train, test};
    for (int s = 0; !st && s < 2; s++) {
        size_t n = (size_t)(j.count[s] ? j.count[s] : 1);
        sets[s]->pixels = malloc(n * bytes);
        sets[s]->labels = malloc(n);
        if (!sets[s]->pixels || !sets[s]->labels)
            st = vgg_fail(err, VGG_ERR_NOMEM,
                          "%s: cannot allocate %d images of %dx%d", opt->dir,
                          j.count[s], side, side);
    }
    if (!st) {
        state = malloc((size_t)j.n + 1);
        msgs = calloc((size_t)j.n + 1, sizeof *msgs);
        if (!state || !msgs) st = vgg_fail(err, VGG_ERR_NOMEM, "out of memory");
    }
    /* a cache that holds exactly this file list is read instead */
    uint64_t key = 0;
    int keyed = 0, hit = 0, decoded_skips = 0;
    if (!st && opt->cache) {
        rep.cache = VGG_FOLDER_CACHE_MISSED;
        keyed = cache_key(opt, side, &cls, &j, &key) == 0;
        folder_cache_data d = {{train->labels, test->labels},
                               {train->pixels, test->pixels},
                               {j.count[0], j.count[1]},
                               {0, 0},
                               0,
                               0,
                               0};
        double t0 = now();
        if (keyed && folder_cache_read(opt->cache, key, side, &d) == 0) {
            hit = 1;
            train->n = d.n[0];
            test->n = d.n[1];
            rep.skipped += d.skipped;
            rep.bad = d.bad;
            rep.resized = d.resized;
            rep.images = d.n[0] + d.n[1];
            rep.seconds = now() - t0;
            rep.cache = VGG_FOLDER_CACHE_READ;
        }
    }
    if (!st && !hit) {
        memset(state, JOB_NOT_RUN, (size_t)j.n);
        double t0 = now();
        uint8_t *bufs[2] = {train->pixels, test->pixels};
        int first =
            decode_all(&j, bufs, bytes, side, opt, state, msgs, &rep.resized);
        rep.seconds = now() - t0;
        for (int i = 0; i < j.n; i++) {
            decoded_skips += state[i] == JOB_SKIPPED;
            rep.skipped += state[i] == JOB_SKIPPED;
            rep.images += state[i] == JOB_OK;
            rep.bad += state[i] == JOB_BAD;
        }
        if (first >= 0 && !opt->skip_bad)
            st = vgg_fail(err, VGG_ERR_FORMAT,
                          "%s (pass --skip-bad-images to skip such files)",
                          msgs[first] ? msgs[first] : j.v[first].path);
        for (int i = 0; !st && opt->on_bad && i < j.n; i++)
            if (state[i] == JOB_BAD)
                opt->on_bad(opt->user, msgs[i] ? msgs[i] : j.v[i].path);
    }
    const char *split_dir[2] = {"train", "test"};
    for (int s = 0; !st && s < 2; s++) {
        vgg_dataset *ds = sets[s];
        ds->side = side;
        ds->num_classes = cls.n;
        for (int c = 0; c < cls.n; c++)
            memcpy(ds->class_names[c], cls.v[c], strlen(cls.v[c]) + 1);
        if (!hit) compact(ds, &j, s, state, bytes);
        if (s == 0 && opt->test_only) continue;
        char where[4096];
        snprintf(where, sizeof where, "%s%s%s", opt->dir,
                 rep.two_splits ? "/" : "", rep.two_splits ? split_dir[s] : "");
        st = check_split(ds, where, s ? "test" : "training", err);
    }
    if (!st && keyed && !hit) {
        folder_cache_data d = {{train->labels, test->labels},
                               {train->pixels, test->pixels},
                               {train->n, test->n},
                               {train->n, test->n},
                               decoded_skips,
                               rep.bad,
                               rep.resized};
        vgg_error cerr = {0};
        if (folder_cache_write(opt->cache, key, side, &d, &cerr) == VGG_OK)
            rep.cache = VGG_FOLDER_CACHE_WRITTEN;
        else
            snprintf(rep.cache_error, sizeof rep.cache_error, "%s", cerr.msg);
    }
    for (int i = 0; msgs && i < j.n; i++) free(msgs[i]);
    free(msgs);
    free(state);
    jobs_free(&j);
    names_free(&cls);
    if (st) {
        vgg_dataset_free(train);
        vgg_dataset_free(test);
    }
    if (report) *report = rep;
    return st;
}
