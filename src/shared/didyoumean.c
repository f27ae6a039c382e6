/* didyoumean.c - the closest known word to an unknown one by Levenshtein
 * distance, with a threshold that grows with the word's length. */
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
    size_t row[DYM_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0], best = i;
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t v = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best)
                best = v;
        }
        if (best > cap)
            return cap + 1; /* every path is already too long */
    }
    return row[lb] > cap ? cap + 1 : row[lb];
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
