/* movefile.c - a store's files moved once to a new default location,
 * without ever replacing a file there (see movefile.h). */
#include "shared/movefile.h"
#include "shared/configdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* rename(2) that refuses to replace: link + unlink, which fails with
 * EEXIST when `to` exists (another process moved it first). */
static int move_noreplace(const char *from, const char *to)
{
    if (link(from, to) == 0)
        return unlink(from);
    if (errno != EPERM && errno != ENOTSUP)
        return -1;
    /* A file system without hard links: rename, after a last look. */
    struct stat sb;
    if (lstat(to, &sb) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

int move_files_once(const char *from, const char *to, const char *const suffixes[])
{
    struct stat sb;
    if (!from || !to || !*from || !*to || strcmp(from, to) == 0)
        return 0;
    if (lstat(to, &sb) == 0 || lstat(from, &sb) != 0)
        return 0;
    if (make_parent_dirs(to) != 0)
        return -1;
    bool main_file = false;
    for (size_t i = 0; suffixes[i]; i++) {
        if (!suffixes[i][0]) {
            main_file = true;
            continue;
        }
        char a[1100], b[1100];
        snprintf(a, sizeof a, "%s%s", from, suffixes[i]);
        snprintf(b, sizeof b, "%s%s", to, suffixes[i]);
        if (lstat(a, &sb) != 0)
            continue;
        if (move_noreplace(a, b) != 0 && errno != EEXIST)
            return -1;
    }
    if (!main_file)
        return 0;
    if (move_noreplace(from, to) != 0)
        return errno == EEXIST ? 0 : -1;
    return 1;
}
