/* Output files: one way to open and write a path (include/vgg/output.h). */
#include "vgg/output.h"
#include "vgg/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *vgg_file_kind_name(mode_t mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "an unknown kind of file";
}

/* " (a link to TARGET)" when path was a link, else "". */
static const char *via(const vgg_output_target *t, char *buf, size_t n) {
    if (!t->links) return "";
    snprintf(buf, n, " (a link to %s)", t->path);
    return buf;
}

/* Follows the links from path to the name that is not a link (or does not
 * exist) into t->path; *through_proc says whether one was in /proc. */
static vgg_status follow_links(const char *path, vgg_output_target *t,
                               int *through_proc, vgg_error *err) {
    char cur[VGG_OUTPUT_PATH_MAX], link[VGG_OUTPUT_PATH_MAX];
    if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
        return vgg_fail(err, VGG_ERR_ARG, "%s: path too long", path);
    int proc = 0;
    for (t->links = 0;; t->links++) {
        struct stat sb;
        proc |= strncmp(cur, "/proc/", 6) == 0;
        if (lstat(cur, &sb) != 0) {
            if (errno == ENOENT) break; /* a new file (a dangling link's) */
            if (!t->links)
                return vgg_fail(err, VGG_ERR_IO, "%s: cannot look up (%s)",
                                path, strerror(errno));
            return vgg_fail(err, VGG_ERR_IO, "%s: cannot look up %s (%s)", path,
                            cur, strerror(errno));
        }
        if (!S_ISLNK(sb.st_mode)) break;
        if (t->links == VGG_OUTPUT_MAX_LINKS)
            return vgg_fail(err, VGG_ERR_IO,
                            "%s: more than %d symbolic links to follow (a "
                            "loop?)",
                            path, VGG_OUTPUT_MAX_LINKS);
        ssize_t k = readlink(cur, link, sizeof link - 1);
        if (k < 0)
            return vgg_fail(err, VGG_ERR_IO, "%s: cannot read the link %s (%s)",
                            path, cur, strerror(errno));
        link[k] = 0;
        if (link[0] == '/') {
            memcpy(cur, link, (size_t)k + 1);
        } else { /* relative to the link's own folder */
            char dir[VGG_OUTPUT_PATH_MAX];
            vgg_path_folder(cur, dir, sizeof dir);
            const int here = strcmp(dir, ".") == 0; /* no "./" prefix */
            if (snprintf(cur, sizeof cur, "%s%s%s", here ? "" : dir,
                         here ? "" : "/", link) >= (int)sizeof cur)
                return vgg_fail(err, VGG_ERR_ARG,
                                "%s: the link's target is too long", path);
        }
    }
    memcpy(t->path, cur, sizeof cur);
    *through_proc = proc;
    return VGG_OK;
}

vgg_status vgg_output_resolve(const char *path, vgg_output_target *t,
                              vgg_error *err) {
    memset(t, 0, sizeof *t);
    t->fd = -1;
    char buf[VGG_OUTPUT_PATH_MAX + 32];
    struct stat sb;
    if (!*path) return vgg_fail(err, VGG_ERR_ARG, "an empty file name");
    int found = stat(path, &sb) == 0, e = errno;
    if (found && (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode))) {
        /* written by the name given: /dev/stdout's links lead to names
         * such as pipe:[1234] that only the kernel can follow */
        t->kind = S_ISCHR(sb.st_mode) ? VGG_OUTPUT_DEVICE : VGG_OUTPUT_FIFO;
        t->st = sb;
        snprintf(t->path, sizeof t->path, "%s", path);
        vgg_path_folder(path, t->dir, sizeof t->dir);
        return VGG_OK;
    }
    if (!found && e == ELOOP)
        return vgg_fail(err, VGG_ERR_IO,
                        "%s: too many levels of symbolic links (a loop?)",
                        path);
    int proc = 0;
    vgg_status st = follow_links(path, t, &proc, err);
    if (st) return st;
    vgg_path_folder(t->path, t->dir, sizeof t->dir);
    if (stat(t->path, &sb) != 0) {
        if (errno != ENOENT)
            return vgg_fail(err, VGG_ERR_IO, "%s%s: cannot look up (%s)", path,
                            via(t, buf, sizeof buf), strerror(errno));
        const char *slash = strrchr(t->path, '/');
        if (!*(slash ? slash + 1 : t->path))
            return vgg_fail(err, VGG_ERR_ARG, "%s: names a folder, not a file",
                            path);
        t->kind = VGG_OUTPUT_NEW;
        return VGG_OK;
    }
    t->st = sb;
    if (S_ISREG(sb.st_mode)) {
        t->kind = VGG_OUTPUT_FILE;
        if (proc) { /* /dev/stdout into a file: a file this process has
                     * open, written by the name given, in place */
            t->kind = VGG_OUTPUT_OPEN;
            snprintf(t->path, sizeof t->path, "%s", path);
        }
        return VGG_OK;
    }
    return vgg_fail(err, VGG_ERR_ARG,
                    "%s%s: is %s; expected a file name, a character device "
                    "such as /dev/null, or a FIFO",
                    path, via(t, buf, sizeof buf),
                    vgg_file_kind_name(sb.st_mode));
}

void vgg_output_release(vgg_output_target *t) {
    if (t && t->fd >= 0) close(t->fd);
    if (t) t->fd = -1;
}

/* Opens a device or FIFO for writing without blocking, then clears
 * O_NONBLOCK so that the writes wait as a pipe's writer should. */
static int open_in_place(const char *path, const vgg_output_target *t,
                         vgg_error *err) {
    int flags = O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    if (t->kind == VGG_OUTPUT_OPEN) flags |= O_APPEND;
    int fd = open(path, flags);
    if (fd < 0) {
        if (errno == ENXIO && t->kind == VGG_OUTPUT_FIFO)
            vgg_fail(err, VGG_ERR_IO,
                     "%s: no process is reading the FIFO; start its reader "
                     "first (for example cat %s > copy)",
                     path, path);
        else
            vgg_fail(err, VGG_ERR_IO, "%s: cannot open %s for writing (%s)",
                     path, vgg_file_kind_name(t->st.st_mode), strerror(errno));
        return -1;
    }
    /* the name may have been replaced since it was looked at: writing a
     * regular file in place would overwrite it without truncating */
    struct stat sb;
    if (fstat(fd, &sb) != 0 ||
        (sb.st_mode & S_IFMT) != (t->st.st_mode & S_IFMT)) {
        vgg_fail(err, VGG_ERR_IO, "%s: changed from %s to %s while opening",
                 path, vgg_file_kind_name(t->st.st_mode),
                 vgg_file_kind_name(sb.st_mode));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        vgg_fail(err, VGG_ERR_IO, "%s: cannot make writes blocking (%s)", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

vgg_status vgg_output_check(const char *path, vgg_output_mode mode,
                            vgg_output_target *t, int hold, vgg_error *err) {
    vgg_output_target local;
    if (!t) t = &local;
    vgg_status st = vgg_output_resolve(path, t, err);
    if (st) return st;
    char buf[VGG_OUTPUT_PATH_MAX + 32];
    if (t->kind == VGG_OUTPUT_FIFO || t->kind == VGG_OUTPUT_DEVICE ||
        t->kind == VGG_OUTPUT_OPEN) {
        if (access(t->path, W_OK) != 0)
            return vgg_fail(err, VGG_ERR_IO, "%s: cannot write to %s (%s)",
                            path, vgg_file_kind_name(t->st.st_mode),
                            strerror(errno));
        if (hold && t->kind == VGG_OUTPUT_FIFO) {
            t->fd = open_in_place(t->path, t, err);
            if (t->fd < 0) return VGG_ERR_IO;
        }
        return VGG_OK;
    }
    struct stat sb;
    if (stat(t->dir, &sb) != 0)
        return vgg_fail(err, VGG_ERR_IO, "%s%s: folder %s: %s", path,
                        via(t, buf, sizeof buf), t->dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return vgg_fail(err, VGG_ERR_IO, "%s%s: %s is %s, not a folder", path,
                        via(t, buf, sizeof buf), t->dir,
                        vgg_file_kind_name(sb.st_mode));
    if (mode == VGG_OUTPUT_APPEND && t->kind == VGG_OUTPUT_FILE) {
        if (access(t->path, W_OK) != 0)
            return vgg_fail(err, VGG_ERR_IO,
                            "%s%s: cannot write to the file "
                            "(%s)",
                            path, via(t, buf, sizeof buf), strerror(errno));
    } else if (access(t->dir, W_OK | X_OK) != 0) {
        return vgg_fail(err, VGG_ERR_IO, "%s%s: cannot write in folder %s (%s)",
                        path, via(t, buf, sizeof buf), t->dir, strerror(errno));
    }
    return VGG_OK;
}

int vgg_output_same_file(const vgg_output_target *t, const char *other) {
    struct stat sb;
    if (t->kind == VGG_OUTPUT_NEW || t->kind == VGG_OUTPUT_DEVICE ||
        stat(other, &sb) != 0)
        return 0;
    return sb.st_dev == t->st.st_dev && sb.st_ino == t->st.st_ino;
}

vgg_status vgg_output_open(vgg_output *o, const char *path, const char *what,
                           vgg_output_mode mode, vgg_error *err) {
    memset(o, 0, sizeof *o);
    o->path = path;
    o->what = what;
    o->mode = mode;
    vgg_status st = vgg_output_resolve(path, &o->t, err);
    if (st) return st;
    if (o->t.kind != VGG_OUTPUT_NEW && o->t.kind != VGG_OUTPUT_FILE) {
        int fd = open_in_place(o->t.path, &o->t, err);
        if (fd < 0) return VGG_ERR_IO;
        o->f = fdopen(fd, "wb");
        if (!o->f) {
            close(fd);
            return vgg_fail(err, VGG_ERR_IO, "%s: cannot write the %s (%s)",
                            path, what, strerror(errno));
        }
        return VGG_OK;
    }
    if (mode == VGG_OUTPUT_APPEND) {
        /* "a+": appends, and lets the caller look at what is there */
        o->f = fopen(o->t.path, "a+");
        if (!o->f)
            return vgg_fail(err, VGG_ERR_IO, "%s: cannot open the %s (%s)",
                            path, what, strerror(errno));
        return VGG_OK;
    }
    /* The temporary lives next to the target so that rename() is atomic. */
    const char *slash = strrchr(o->t.path, '/');
    const char *base = slash ? slash + 1 : o->t.path;
    if (snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp-XXXXXX", o->t.dir, base) >=
        (int)sizeof o->tmp)
        return vgg_fail(err, VGG_ERR_ARG, "%s: path too long", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e0 = errno;
        o->tmp[0] = 0;
        return vgg_fail(err, VGG_ERR_IO,
                        "%s: cannot create a temporary file in %s (%s)", path,
                        o->t.dir, strerror(e0));
    }
    /* a replaced file keeps its permissions; mkstemp's 0600 is needlessly
     * private for a new one */
    (void)fchmod(fd,
                 o->t.kind == VGG_OUTPUT_FILE ? o->t.st.st_mode & 07777 : 0644);
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        int e0 = errno;
        close(fd);
        unlink(o->tmp);
        o->tmp[0] = 0;
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
    if (!e0 && o->tmp[0] && fsync(fileno(o->f))) {
        e0 = errno;
        what = "sync";
    }
    if (fclose(o->f) && !e0) e0 = errno ? errno : EIO;
    o->f = NULL;
    if (!o->tmp[0]) { /* written in place */
        if (!e0) return VGG_OK;
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot write the %s (%s)%s",
                        o->path, o->what, strerror(e0),
                        e0 == EPIPE ? "; the FIFO's reader went away" : "");
    }
    if (!e0 && rename(o->tmp, o->t.path)) {
        e0 = errno;
        what = "rename the temporary file over";
    }
    if (e0) {
        unlink(o->tmp);
        o->tmp[0] = 0;
        return vgg_fail(err, VGG_ERR_IO,
                        "%s: cannot %s the %s (%s); the previous file, if "
                        "any, is unchanged",
                        o->path, what, o->what, strerror(e0));
    }
    o->tmp[0] = 0;
    /* Make the rename itself durable. Best effort: some filesystems refuse
     * to sync a folder, and the new file is already complete. */
    int dfd = open(o->t.dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return VGG_OK;
}

void vgg_output_abort(vgg_output *o) {
    if (o->f) fclose(o->f);
    o->f = NULL;
    if (o->tmp[0]) unlink(o->tmp);
    o->tmp[0] = 0;
}

vgg_status vgg_output_save(const char *path, const void *data, size_t n,
                           const char *what, vgg_error *err) {
    vgg_output o;
    vgg_status st = vgg_output_open(&o, path, what, VGG_OUTPUT_REPLACE, err);
    if (st) return st;
    vgg_output_write(&o, data, n);
    return vgg_output_close(&o, err);
}

vgg_status vgg_input_open(const char *path, FILE **f, vgg_error *err) {
    *f = NULL;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer; the type is known only once it is open (no race with a
     * stat before). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot open (%s)", path,
                        strerror(errno));
    struct stat sb;
    memset(&sb, 0, sizeof sb);
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int isdir = S_ISDIR(sb.st_mode);
        close(fd);
        return vgg_fail(err, VGG_ERR_IO, "%s: not a regular file (%s)%s", path,
                        vgg_file_kind_name(sb.st_mode),
                        isdir ? "" : "; give a file, not a device or a pipe");
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *f = fdopen(fd, "rb");
    if (!*f) {
        int e = errno;
        close(fd);
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot open (%s)", path,
                        strerror(e));
    }
    return VGG_OK;
}
