/* The safetensors container: see safetensors.h. */
#include "safetensors.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vgg/output.h"

vgg_status vgg_st_write(const char *path, const char *what, json_t *metadata,
                        const vgg_st_entry *e, int n, uint64_t max_header,
                        vgg_error *err) {
    json_t *root = json_object();
    int bad = !root || !metadata ||
              json_object_set_new(root, "__metadata__", metadata);
    if (!root) json_decref(metadata);
    uint64_t off = 0;
    for (int i = 0; i < n && !bad; i++) {
        json_t *shape = json_array();
        for (int d = 0; shape && d < e[i].ndim; d++)
            bad |= json_array_append_new(shape, json_integer(e[i].shape[d]));
        json_t *o = json_pack("{s:s, s:o, s:[I,I]}", "dtype", e[i].dtype,
                              "shape", shape, "data_offsets", (json_int_t)off,
                              (json_int_t)(off + e[i].bytes));
        bad |= !o || json_object_set_new(root, e[i].name, o);
        off += e[i].bytes;
    }
    char *hdr = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!hdr)
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: cannot build the header",
                        path);
    size_t hlen = strlen(hdr), padded = (hlen + 7) & ~(size_t)7;
    if (padded > max_header) {
        free(hdr);
        return vgg_fail(err, VGG_ERR_ARG,
                        "%s: header would be %zu bytes; at most %" PRIu64
                        " allowed",
                        path, padded, max_header);
    }
    vgg_output out;
    vgg_status ost = vgg_output_open(&out, path, what, VGG_OUTPUT_REPLACE, err);
    if (ost) {
        free(hdr);
        return ost;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    static const char spaces[8] = "        ";
    int wbad = vgg_output_write(&out, len8, 8) ||
               vgg_output_write(&out, hdr, hlen) ||
               vgg_output_write(&out, spaces, padded - hlen);
    for (int i = 0; i < n && !wbad; i++)
        wbad = vgg_output_write(&out, e[i].data, e[i].bytes);
    free(hdr);
    return vgg_output_close(&out, err);
}

void vgg_st_close(vgg_st_file *s) {
    if (s->f) fclose(s->f);
    json_decref(s->root);
    memset(s, 0, sizeof *s);
}

vgg_status vgg_st_open(vgg_st_file *s, const char *path, uint64_t max_header,
                       vgg_error *err) {
    memset(s, 0, sizeof *s);
    /* a regular file only, opened without waiting on a FIFO */
    vgg_status ost = vgg_input_open(path, &s->f, err);
    if (ost) return ost;
    struct stat sb;
    if (fstat(fileno(s->f), &sb)) {
        vgg_st_close(s);
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot stat (%s)", path,
                        strerror(errno));
    }
    s->file_bytes = (uint64_t)sb.st_size;
    uint8_t len8[8];
    if (s->file_bytes < 8 || fread(len8, 1, 8, s->f) != 8) {
        uint64_t fb = s->file_bytes;
        vgg_st_close(s);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: %" PRIu64 " bytes; a checkpoint starts with an "
                        "8-byte header length",
                        path, fb);
    }
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)len8[i] << (8 * i);
    s->header_bytes = n;
    if (n < 2 || n > max_header) {
        vgg_st_close(s);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: header length %" PRIu64 " bytes; expected 2 to "
                        "%" PRIu64 " (not a safetensors checkpoint?)",
                        path, n, max_header);
    }
    if (n > s->file_bytes - 8) {
        uint64_t fb = s->file_bytes;
        vgg_st_close(s);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: header length %" PRIu64 " bytes runs past the "
                        "end of the file (%" PRIu64
                        " bytes, so at most %" PRIu64
                        " available); the file is truncated or not a "
                        "checkpoint",
                        path, n, fb, fb - 8);
    }
    s->data_bytes = s->file_bytes - 8 - n;
    char *buf = malloc((size_t)n);
    if (!buf) {
        vgg_st_close(s);
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "%s: cannot allocate %" PRIu64 " bytes for the header",
                        path, n);
    }
    if (fread(buf, 1, (size_t)n, s->f) != (size_t)n) {
        free(buf);
        vgg_st_close(s);
        return vgg_fail(err, VGG_ERR_IO, "%s: short read in the header", path);
    }
    json_error_t je;
    s->root = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!s->root) {
        vgg_st_close(s);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: header is not valid JSON (byte %d of the header: "
                        "%s)",
                        path, je.position, je.text);
    }
    return VGG_OK;
}

vgg_status vgg_st_read_data(vgg_st_file *s, const char *path, void *buf,
                            vgg_error *err) {
    if (fseek(s->f, (long)(8 + s->header_bytes), SEEK_SET) ||
        fread(buf, 1, (size_t)s->data_bytes, s->f) != (size_t)s->data_bytes)
        return vgg_fail(err, VGG_ERR_IO,
                        "%s: short read in the data section (%" PRIu64
                        " bytes expected)",
                        path, s->data_bytes);
    return VGG_OK;
}

static int by_begin(const void *a, const void *b) {
    const vgg_st_span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

vgg_status vgg_st_check_tiling(const char *path, vgg_st_span *spans, int n,
                               uint64_t data_bytes, vgg_error *err) {
    qsort(spans, (size_t)n, sizeof *spans, by_begin);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        const vgg_st_span *e = &spans[i];
        if (e->begin < at)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: tensors %s [%" PRIu64 ", %" PRIu64
                            ") and %s [%" PRIu64 ", %" PRIu64 ") overlap",
                            path, spans[i - 1].name, spans[i - 1].begin,
                            spans[i - 1].end, e->name, e->begin, e->end);
        if (e->begin > at)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: data bytes [%" PRIu64 ", %" PRIu64
                            ") belong to no tensor (before %s)",
                            path, at, e->begin, e->name);
        at = e->end;
    }
    if (at != data_bytes)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: tensors cover %" PRIu64 " bytes; the data "
                        "section has %" PRIu64,
                        path, at, data_bytes);
    return VGG_OK;
}
