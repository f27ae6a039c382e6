/* configdir.h - where gusto-connect keeps its own files: the default
 * configuration directory ($XDG_CONFIG_HOME/DIR/FILE, else
 * ~/.config/DIR/FILE), and making a file's directories (mode 0700).
 * Shared by libgusto's connection store, the sync mirror, the moves out of
 * Gusto's own CLI's directories, and serve's audit log. */
#ifndef GUSTO_SHARED_CONFIGDIR_H
#define GUSTO_SHARED_CONFIGDIR_H

#include <stddef.h>

/* dir: "gusto-connect" (or "gusto", Gusto's own CLI's, for the move away
 * from it); file: a name in it.  A missing HOME reads as ".". */
void config_file(const char *dir, const char *file, char *out, size_t cap);

/* mkdir -p of path's directory (not of path itself), each new one mode
 * 0700.  0, or -1 with errno set. */
int make_parent_dirs(const char *path);

#endif
