/* curl_once.c - the floor of bench item 1(d): a C program that makes one
 * GET with libcurl and does nothing else.  What it costs is what any client
 * built on Debian's libcurl pays before doing its own work. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

int main(int argc, char **argv)
{
    const char *token = getenv("GUSTO_ACCESS_TOKEN");
    char auth[512];
    if (argc != 2 || !token ||
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token) >= (int)sizeof auth) {
        fputs("usage: GUSTO_ACCESS_TOKEN=T curl_once URL\n", stderr);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    long status = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (h && hdr) {
        curl_easy_setopt(h, CURLOPT_URL, argv[1]);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return rc == CURLE_OK && status == 200 ? 0 : 1;
}
