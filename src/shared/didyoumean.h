/* didyoumean.h - "did you mean": the closest of a list of known words to an
 * unknown one by edit distance, for suggestions in error messages.  No
 * allocation beyond the call, no state; safe from any thread. */
#ifndef GUSTO_SHARED_DIDYOUMEAN_H
#define GUSTO_SHARED_DIDYOUMEAN_H

#include <stddef.h>

/* The edit distance between a and b (insert, delete, substitute, or swap
 * two neighbours: optimal string alignment) (bytes, case-sensitive: fold
 * first if case should not count), or `cap` + 1 once it exceeds cap.
 * Words longer than 256 bytes count as too far (cap + 1). */
size_t dym_distance(const char *a, const char *b, size_t cap);

/* The index in words[0..n) of the word closest to `word`, when it is close
 * enough to be what was meant: at most 1 edit for words up to 4 bytes, 2 up
 * to 8, 3 beyond.  The first of equally close words wins.  -1 when none is
 * (or word is empty). */
long dym_closest(const char *word, const char *const *words, size_t n);

#endif
