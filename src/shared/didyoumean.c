/* didyoumean.c - the closest known word to an unknown one by edit distance
 * (Levenshtein, with a swap of two neighbours counting as one edit, as git
 * counts it), with a threshold that grows with the word's length. */
#include "shared/didyoumean.h"

#include <string.h>

#define DYM_MAX 256

size_t dym_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > DYM_MAX || lb > DYM_MAX)
        return cap + 1;
    if ((la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    /* Three rows: the one before the previous is for transpositions. */
    size_t r0[DYM_MAX + 1], r1[DYM_MAX + 1], r2[DYM_MAX + 1];
    size_t *pp = r0, *prev = r1, *row = r2, prev_best = 0;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t best = i;
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1; /* "kyes" for "keys": one edit */
            row[j] = v;
            if (v < best)
                best = v;
        }
        if (best > cap && prev_best > cap)
            return cap + 1; /* every path through the last two rows is too long */
        prev_best = best;
        size_t *t = pp;
        pp = prev;
        prev = row;
        row = t;
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}

long dym_closest(const char *word, const char *const *words, size_t n)
{
    size_t len = strlen(word);
    if (!len)
        return -1;
    size_t cap = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    long best = -1;
    size_t best_d = cap + 1;
    for (size_t i = 0; i < n; i++) {
        size_t d = dym_distance(word, words[i], cap);
        if (d < best_d) {
            best_d = d;
            best = (long)i;
        }
    }
    return best;
}
