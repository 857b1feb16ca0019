/* vgg_output: what each kind of path gets. New and regular files are
 * replaced atomically, links keep their link and update their target,
 * devices and FIFOs are written in place (a FIFO with no reader is an
 * error, not a hang), folders, sockets and block devices are refused;
 * vgg_output_check and vgg_input_open. Device nodes are made in the
 * scratch folder with mknod; where that is not permitted those cases say
 * so and pass. */
#define _XOPEN_SOURCE 700 /* mknod, S_IFBLK */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h> /* makedev */
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "vgg/output.h"

static char dir[512];

static const char *tmp(const char *name) {
    static char path[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static void spit(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(s, f);
    assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path) {
    static char buf[4096];
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Writes s to path through vgg_output; returns the status. */
static vgg_status put(const char *path, vgg_output_mode mode, const char *s,
                      vgg_error *err) {
    if (mode == VGG_OUTPUT_REPLACE && strlen(s) % 2) /* both ways */
        return vgg_output_save(path, s, strlen(s), "test file", err);
    vgg_output o;
    vgg_status st = vgg_output_open(&o, path, "test file", mode, err);
    if (st) return st;
    vgg_output_write(&o, s, strlen(s));
    return vgg_output_close(&o, err);
}

static int no_temporaries(void) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '\\.tmp-'", dir);
    return system(cmd) != 0;
}

static mode_t type_of(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return 0;
    return sb.st_mode & S_IFMT;
}

static int make_node(const char *path, mode_t type, int major, int minor) {
    unlink(path);
    if (mknod(path, type | 0600, makedev(major, minor)) == 0) return 1;
    print_message("  mknod %s: %s; case skipped\n", path, strerror(errno));
    return 0;
}

static void test_new_and_regular(void **state) {
    (void)state;
    vgg_error err = {0};
    const char *p = tmp("plain.bin");
    assert_int_equal(put(p, VGG_OUTPUT_REPLACE, "first", &err), VGG_OK);
    assert_string_equal(slurp(p), "first");
    struct stat a, b;
    assert_int_equal(stat(p, &a), 0);
    assert_int_equal(a.st_mode & 0777, 0644);
    chmod(p, 0600);
    assert_int_equal(put(p, VGG_OUTPUT_REPLACE, "second", &err), VGG_OK);
    assert_string_equal(slurp(p), "second");
    assert_int_equal(stat(p, &b), 0);
    assert_true(a.st_ino != b.st_ino);        /* renamed over, not rewritten */
    assert_int_equal(b.st_mode & 0777, 0600); /* the file's mode kept */
    /* abandoned: the previous file stays, no temporary left */
    vgg_output o;
    assert_int_equal(
        vgg_output_open(&o, p, "test file", VGG_OUTPUT_REPLACE, &err), VGG_OK);
    assert_int_equal(o.t.kind, VGG_OUTPUT_FILE);
    fputs("half", o.f);
    vgg_output_abort(&o);
    assert_string_equal(slurp(p), "second");
    assert_true(no_temporaries());
    /* a missing folder: nothing made */
    assert_int_equal(put(tmp("nowhere/x.bin"), VGG_OUTPUT_REPLACE, "x", &err),
                     VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "nowhere"));
    /* append: in place, same file */
    assert_int_equal(put(p, VGG_OUTPUT_APPEND, "+row", &err), VGG_OK);
    assert_string_equal(slurp(p), "second+row");
    assert_int_equal(stat(p, &a), 0);
    assert_int_equal(a.st_ino, b.st_ino);
}

static void test_symlinks(void **state) {
    (void)state;
    vgg_error err = {0};
    mkdir(tmp("run7"), 0755);
    spit(tmp("run7/model.bin"), "old");
    /* relative links are read from the link's folder */
    mkdir(tmp("links"), 0755);
    assert_int_equal(symlink("../run7/model.bin", tmp("links/latest.bin")), 0);
    assert_int_equal(symlink("links/latest.bin", tmp("top.bin")), 0);
    assert_int_equal(put(tmp("top.bin"), VGG_OUTPUT_REPLACE, "new", &err),
                     VGG_OK);
    assert_string_equal(slurp(tmp("run7/model.bin")), "new");
    assert_int_equal(type_of(tmp("top.bin")), S_IFLNK);
    assert_int_equal(type_of(tmp("links/latest.bin")), S_IFLNK);
    assert_int_equal(type_of(tmp("run7/model.bin")), S_IFREG);
    char l[256];
    ssize_t n = readlink(tmp("links/latest.bin"), l, sizeof l - 1);
    assert_true(n > 0);
    l[n] = 0;
    assert_string_equal(l, "../run7/model.bin");
    assert_true(no_temporaries());
    /* an absolute link, appended through */
    assert_int_equal(symlink(tmp("run7/model.bin"), tmp("abs.bin")), 0);
    assert_int_equal(put(tmp("abs.bin"), VGG_OUTPUT_APPEND, "+1", &err),
                     VGG_OK);
    assert_string_equal(slurp(tmp("run7/model.bin")), "new+1");
    assert_int_equal(type_of(tmp("abs.bin")), S_IFLNK);
    /* a dangling link: its target is created, the link kept */
    assert_int_equal(symlink("run7/next.bin", tmp("dangling.bin")), 0);
    assert_int_equal(put(tmp("dangling.bin"), VGG_OUTPUT_REPLACE, "made", &err),
                     VGG_OK);
    assert_string_equal(slurp(tmp("run7/next.bin")), "made");
    assert_int_equal(type_of(tmp("dangling.bin")), S_IFLNK);
    /* loops and chains past the limit are refused, touching nothing */
    assert_int_equal(symlink("loop-b", tmp("loop-a")), 0);
    assert_int_equal(symlink("loop-a", tmp("loop-b")), 0);
    assert_int_equal(put(tmp("loop-a"), VGG_OUTPUT_REPLACE, "x", &err),
                     VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "loop"));
    assert_int_equal(type_of(tmp("loop-a")), S_IFLNK);
    /* a chain of VGG_OUTPUT_MAX_LINKS dangling links is followed; one
     * more is refused */
    char name[64], next[64];
    for (int i = 0; i <= VGG_OUTPUT_MAX_LINKS; i++) {
        snprintf(name, sizeof name, "chain%d", i);
        snprintf(next, sizeof next, "chain%d", i + 1);
        assert_int_equal(symlink(next, tmp(name)), 0);
    }
    vgg_output_target t;
    assert_int_equal(vgg_output_resolve(tmp("chain1"), &t, &err), VGG_OK);
    assert_int_equal(t.links, VGG_OUTPUT_MAX_LINKS);
    assert_int_equal(t.kind, VGG_OUTPUT_NEW);
    assert_int_equal(vgg_output_resolve(tmp("chain0"), &t, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "symbolic links"));
}

static void test_refused(void **state) {
    (void)state;
    vgg_error err = {0};
    mkdir(tmp("adir"), 0755);
    assert_int_equal(put(tmp("adir"), VGG_OUTPUT_REPLACE, "x", &err),
                     VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "is a folder"));
    assert_int_equal(put(tmp("adir"), VGG_OUTPUT_APPEND, "x", &err),
                     VGG_ERR_ARG);
    assert_int_equal(type_of(tmp("adir")), S_IFDIR);
    /* a link to a folder: refused, naming the target */
    assert_int_equal(symlink("adir", tmp("dirlink")), 0);
    assert_int_equal(put(tmp("dirlink"), VGG_OUTPUT_REPLACE, "x", &err),
                     VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "dirlink (a link to "));
    assert_non_null(strstr(err.msg, "/adir): is a folder"));
    assert_int_equal(
        vgg_output_check(tmp("adir"), VGG_OUTPUT_REPLACE, NULL, 0, &err),
        VGG_ERR_ARG);
    /* a unix socket */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", tmp("sock"));
    if (strlen(tmp("sock")) < sizeof sa.sun_path &&
        bind(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
        assert_int_equal(put(tmp("sock"), VGG_OUTPUT_REPLACE, "x", &err),
                         VGG_ERR_ARG);
        assert_non_null(strstr(err.msg, "is a socket"));
        assert_int_equal(type_of(tmp("sock")), S_IFSOCK);
    }
    close(s);
    if (make_node(tmp("blk"), S_IFBLK, 7, 0)) {
        assert_int_equal(put(tmp("blk"), VGG_OUTPUT_REPLACE, "x", &err),
                         VGG_ERR_ARG);
        assert_non_null(strstr(err.msg, "is a block device"));
        assert_int_equal(type_of(tmp("blk")), S_IFBLK);
    }
    assert_true(no_temporaries());
}

static void test_devices(void **state) {
    (void)state;
    vgg_error err = {0};
    if (make_node(tmp("null"), S_IFCHR, 1, 3)) {
        for (int m = 0; m < 2; m++)
            assert_int_equal(put(tmp("null"), (vgg_output_mode)m, "gone", &err),
                             VGG_OK);
        assert_int_equal(type_of(tmp("null")), S_IFCHR);
        /* a link to the device: written through, both kept */
        assert_int_equal(symlink("null", tmp("nulllink")), 0);
        assert_int_equal(put(tmp("nulllink"), VGG_OUTPUT_REPLACE, "x", &err),
                         VGG_OK);
        assert_int_equal(type_of(tmp("nulllink")), S_IFLNK);
        assert_int_equal(type_of(tmp("null")), S_IFCHR);
        vgg_output_target t;
        assert_int_equal(
            vgg_output_check(tmp("null"), VGG_OUTPUT_REPLACE, &t, 1, &err),
            VGG_OK);
        assert_int_equal(t.kind, VGG_OUTPUT_DEVICE);
        assert_int_equal(t.fd, -1);
        assert_false(vgg_output_same_file(&t, tmp("null")));
    }
    if (make_node(tmp("full"), S_IFCHR, 1, 7)) {
        assert_int_equal(put(tmp("full"), VGG_OUTPUT_REPLACE, "x", &err),
                         VGG_ERR_IO);
        assert_non_null(strstr(err.msg, "No space left"));
        assert_int_equal(type_of(tmp("full")), S_IFCHR);
    }
    assert_true(no_temporaries());
}

static void test_fifo(void **state) {
    (void)state;
    vgg_error err = {0};
    const char *p = tmp("fifo");
    assert_int_equal(mkfifo(p, 0644), 0);
    /* nobody reads: an error at once, not a hang */
    assert_int_equal(put(p, VGG_OUTPUT_REPLACE, "x", &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "no process is reading"));
    assert_int_equal(vgg_output_check(p, VGG_OUTPUT_APPEND, NULL, 1, &err),
                     VGG_ERR_IO);
    /* with a reader: the bytes arrive, the FIFO stays a FIFO */
    int r = open(p, O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    vgg_output_target t;
    assert_int_equal(vgg_output_check(p, VGG_OUTPUT_REPLACE, &t, 1, &err),
                     VGG_OK);
    assert_int_equal(t.kind, VGG_OUTPUT_FIFO);
    assert_true(t.fd >= 0);
    assert_int_equal(put(p, VGG_OUTPUT_REPLACE, "hello ", &err), VGG_OK);
    assert_int_equal(put(p, VGG_OUTPUT_APPEND, "world", &err), VGG_OK);
    char buf[64] = "";
    ssize_t n = read(r, buf, sizeof buf - 1);
    assert_int_equal(n, 11);
    buf[n] = 0;
    assert_string_equal(buf, "hello world");
    /* the held write end: no end of stream between writes */
    assert_int_equal(read(r, buf, 1), -1);
    assert_int_equal(errno, EAGAIN);
    vgg_output_release(&t);
    assert_int_equal(t.fd, -1);
    assert_int_equal(read(r, buf, 1), 0); /* now the end */
    close(r);
    assert_int_equal(type_of(p), S_IFIFO);
}

static void test_check(void **state) {
    (void)state;
    vgg_error err = {0};
    vgg_output_target t;
    assert_int_equal(
        vgg_output_check(tmp("fresh.bin"), VGG_OUTPUT_REPLACE, &t, 0, &err),
        VGG_OK);
    assert_int_equal(t.kind, VGG_OUTPUT_NEW);
    assert_int_equal(vgg_output_check(tmp("missing/fresh.bin"),
                                      VGG_OUTPUT_REPLACE, NULL, 0, &err),
                     VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "No such file"));
    spit(tmp("afile"), "x");
    assert_int_equal(
        vgg_output_check(tmp("afile/x.bin"), VGG_OUTPUT_REPLACE, NULL, 0, &err),
        VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "Not a directory"));
    assert_int_equal(
        vgg_output_check(tmp("afile"), VGG_OUTPUT_APPEND, &t, 0, &err), VGG_OK);
    assert_int_equal(t.kind, VGG_OUTPUT_FILE);
    assert_true(vgg_output_same_file(&t, tmp("afile")));
    assert_int_equal(symlink("afile", tmp("afile-link")), 0);
    assert_true(vgg_output_same_file(&t, tmp("afile-link")));
    assert_false(vgg_output_same_file(&t, tmp("fresh.bin")));
    /* no write permission; root passes access() whatever the bits */
    mkdir(tmp("ro"), 0555);
    chmod(tmp("ro"), 0555);
    vgg_status st =
        vgg_output_check(tmp("ro/x.bin"), VGG_OUTPUT_REPLACE, NULL, 0, &err);
    if (geteuid() == 0)
        assert_int_equal(st, VGG_OK);
    else {
        assert_int_equal(st, VGG_ERR_IO);
        assert_non_null(strstr(err.msg, "Permission denied"));
    }
    assert_int_equal(vgg_output_check("", VGG_OUTPUT_REPLACE, NULL, 0, &err),
                     VGG_ERR_ARG);
}

/* A regular file reached through /proc (what /dev/stdout is when the
 * output is redirected to a file) is this process's open file: appended
 * to in place, never replaced. */
static void test_proc_link(void **state) {
    (void)state;
    vgg_error err = {0};
    const char *p = tmp("redirected.txt");
    spit(p, "before ");
    int fd = open(p, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    struct stat a, b;
    assert_int_equal(stat(p, &a), 0);
    if (type_of(link) != S_IFLNK) {
        print_message("  %s is not a link here; case skipped\n", link);
        close(fd);
        return;
    }
    assert_int_equal(put(link, VGG_OUTPUT_REPLACE, "after", &err), VGG_OK);
    close(fd);
    assert_int_equal(stat(p, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_string_equal(slurp(p), "before after");
}

static void test_input_open(void **state) {
    (void)state;
    vgg_error err = {0};
    FILE *f;
    spit(tmp("in.bin"), "data");
    assert_int_equal(vgg_input_open(tmp("in.bin"), &f, &err), VGG_OK);
    char buf[8] = "";
    assert_int_equal(fread(buf, 1, 4, f), 4);
    assert_string_equal(buf, "data");
    fclose(f);
    /* a FIFO with no writer: refused at once, not waited on */
    assert_int_equal(mkfifo(tmp("in-fifo"), 0644), 0);
    assert_int_equal(vgg_input_open(tmp("in-fifo"), &f, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "not a regular file (a FIFO)"));
    assert_null(f);
    mkdir(tmp("in-dir"), 0755);
    assert_int_equal(vgg_input_open(tmp("in-dir"), &f, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "a folder"));
    if (make_node(tmp("zero"), S_IFCHR, 1, 5)) {
        assert_int_equal(vgg_input_open(tmp("zero"), &f, &err), VGG_ERR_IO);
        assert_non_null(strstr(err.msg, "a character device"));
    }
    assert_int_equal(vgg_input_open(tmp("no-such"), &f, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "No such file"));
}

int main(void) {
    const char *d = tu_tmpdir("output");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_regular),
        cmocka_unit_test(test_symlinks),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_proc_link),
        cmocka_unit_test(test_input_open),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    /* the device nodes must not outlive the test */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
