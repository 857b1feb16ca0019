/* Reading an image file of either format: the bytes say which decoder
 * (include/vgg/image.h). */
#include "vgg/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

vgg_image_format vgg_image_sniff(const uint8_t *data, size_t n) {
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (n >= 8 && memcmp(data, png, 8) == 0) return VGG_IMAGE_PNG;
    if (n >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return VGG_IMAGE_JPEG;
    return VGG_IMAGE_UNKNOWN;
}

vgg_status vgg_image_decode(const uint8_t *data, size_t n, const char *name,
                            vgg_image *img, vgg_error *err) {
    img->width = img->height = 0;
    img->rgb = NULL;
    vgg_status st;
    switch (vgg_image_sniff(data, n)) {
    case VGG_IMAGE_PNG:
        st = vgg_png_decode(data, n, name, 0, img, err);
        break;
    case VGG_IMAGE_JPEG:
        st = vgg_jpeg_decode(data, n, name, 0, img, err);
        break;
    default:
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: not a PNG or JPEG file (%zu bytes; its first "
                        "bytes are neither the PNG signature nor FF D8 FF)",
                        name, n);
    }
    if (st) return st;
    if (img->width < 2 || img->height < 2) {
        int w = img->width, h = img->height;
        vgg_image_free(img);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: image of %dx%d pixels; expected at least 2x2",
                        name, w, h);
    }
    return VGG_OK;
}

vgg_status vgg_file_read_all(const char *path, size_t max, uint8_t **data,
                             size_t *n, vgg_error *err) {
    *data = NULL;
    *n = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot open (%s%s)", path,
                        strerror(e),
                        e == ELOOP ? ": a symbolic-link loop" : "");
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return vgg_fail(err, VGG_ERR_IO, "%s: not a regular file", path);
    }
    if ((uintmax_t)sb.st_size > (uintmax_t)max) {
        close(fd);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: %lld bytes; files larger than %zu bytes are "
                        "refused",
                        path, (long long)sb.st_size, max);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: cannot allocate %zu bytes",
                        path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            free(buf);
            close(fd);
            return vgg_fail(err, VGG_ERR_IO, "%s: read %zu of %zu bytes (%s)",
                            path, got, size,
                            e ? strerror(e) : "file shrank while reading");
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *n = size;
    return VGG_OK;
}

vgg_status vgg_image_read(const char *path, vgg_image *img, vgg_error *err) {
    img->width = img->height = 0;
    img->rgb = NULL;
    uint8_t *data;
    size_t n;
    vgg_status st = vgg_file_read_all(path, VGG_IMAGE_MAX_FILE, &data, &n, err);
    if (st) return st;
    st = vgg_image_decode(data, n, path, img, err);
    free(data);
    return st;
}
