#include "vgg/output.h"
#include "vgg/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

vgg_status vgg_output_open(vgg_output *o, const char *path, const char *what,
                           vgg_error *err) {
    memset(o, 0, sizeof *o);
    o->path = path;
    o->what = what;
    /* The temporary lives next to path so that rename() is atomic. */
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base)
        return vgg_fail(err, VGG_ERR_ARG, "%s: names a folder, not a file",
                        path);
    vgg_path_folder(path, o->dir, sizeof o->dir);
    if (snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp-XXXXXX", o->dir, base) >=
        (int)sizeof o->tmp)
        return vgg_fail(err, VGG_ERR_ARG, "%s: path too long", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0)
        return vgg_fail(err, VGG_ERR_IO,
                        "%s: cannot create a temporary file in %s (%s)", path,
                        o->dir, strerror(errno));
    (void)fchmod(fd, 0644); /* mkstemp's 0600 is needlessly private */
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        int e0 = errno;
        close(fd);
        unlink(o->tmp);
        return vgg_fail(err, VGG_ERR_IO,
                        "%s: cannot write the %s (%s); the previous file, if "
                        "any, is unchanged",
                        path, what, strerror(e0));
    }
    return VGG_OK;
}

int vgg_output_write(vgg_output *o, const void *p, size_t n) {
    if (o->error) return -1;
    if (fwrite(p, 1, n, o->f) == n) return 0;
    o->error = errno ? errno : EIO;
    return -1;
}

vgg_status vgg_output_close(vgg_output *o, vgg_error *err) {
    int e0 = o->error;
    const char *what = "write";
    if (!e0 && (fflush(o->f) || ferror(o->f))) e0 = errno ? errno : EIO;
    if (!e0 && fsync(fileno(o->f))) {
        e0 = errno;
        what = "sync";
    }
    if (fclose(o->f) && !e0) e0 = errno ? errno : EIO;
    o->f = NULL;
    if (!e0 && rename(o->tmp, o->path)) {
        e0 = errno;
        what = "rename the temporary file over";
    }
    if (e0) {
        unlink(o->tmp);
        return vgg_fail(err, VGG_ERR_IO,
                        "%s: cannot %s the %s (%s); the previous file, if "
                        "any, is unchanged",
                        o->path, what, o->what, strerror(e0));
    }
    /* Make the rename itself durable. Best effort: some filesystems refuse
     * to sync a folder, and the new file is already complete. */
    int dfd = open(o->dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return VGG_OK;
}

void vgg_output_abort(vgg_output *o) {
    if (o->f) fclose(o->f);
    o->f = NULL;
    unlink(o->tmp);
}
