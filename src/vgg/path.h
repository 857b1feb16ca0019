/* File-name helpers shared by the writers (checkpoints, logs) and the
 * programs. */
#ifndef VGG_PATH_H
#define VGG_PATH_H

#include <stddef.h>

/* The folder path lies in, into dir (n bytes): "." for a bare name, "/"
 * for a file at the root, else everything before the last '/'. */
void vgg_path_folder(const char *path, char *dir, size_t n);

#endif
