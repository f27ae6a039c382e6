/* movefile.h - move a SQLite file and its companions (-wal, -shm, a key
 * file) from an old default location to a new one, once, never replacing
 * anything: shared by libgusto's connection store and the sync mirror when
 * their default directories moved out of Gusto's own CLI's. */
#ifndef GUSTO_SHARED_MOVEFILE_H
#define GUSTO_SHARED_MOVEFILE_H

#include <stdbool.h>

/* Move `from` to `to` with each of suffixes[] (NULL-terminated; "" is the
 * file itself, moved last so that its arrival marks the move as done),
 * creating to's directory (mode 0700).  Nothing happens when `to` exists or
 * `from` does not.  A companion missing at `from` is skipped; one already
 * at its new name is not replaced.  Returns 1 when the file was moved, 0
 * when there was nothing to do, -1 on an error (errno set; what moved
 * stays moved, and a later call finishes the rest). */
int move_files_once(const char *from, const char *to, const char *const suffixes[]);

#endif
