/* connstore.c - stored connections: a SQLite file (mode 0600) holding, per
 * named connection, the environment, company and client id in clear, and
 * the client secret and tokens sealed with AES-256-GCM.  Also the
 * single-flight refresh that keeps N processes from locking each other out.
 *
 * Every field the client trusts (name, environment, base URL, company,
 * client id; scope and expiry for the tokens) is in the sealed blobs'
 * authenticated data (aad_for), so editing one without the key makes the
 * connection refuse to load, never redirects a call or a refresh.  Rows
 * sealed before that (the old AAD named only the connection and field) are
 * refused with a request to connect again rather than re-sealed: re-sealing
 * would authenticate whatever the file says now, including a base URL that
 * someone else edited, and nothing can tell the two apart.
 *
 * The store and key files are refused when they are symbolic links, not
 * owned by the effective user or group/world-writable (the key also when
 * group/world-readable, not a regular file or not exactly KEY_LEN bytes),
 * and are created with O_CREAT|O_EXCL at mode 0600 whatever the umask.
 *
 * Single flight: a refresh runs inside BEGIN IMMEDIATE on the store, so only
 * one process at a time can refresh a connection.  Inside the lock it
 * re-reads the row; when the generation moved, someone else refreshed and
 * their tokens are adopted without calling Gusto.  The new pair is committed
 * before the new access token is ever used; Gusto revokes the old refresh
 * token only on that first use, so a crash between the two leaves the old,
 * still valid refresh token in the store. */
#include "lib/internal.h"
#include "shared/movefile.h"
#include "shared/pctdecode.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS connections("
    " name TEXT PRIMARY KEY, environment TEXT NOT NULL, base_url TEXT NOT NULL,"
    " company_uuid TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '',"
    " expires_at INTEGER NOT NULL DEFAULT 0, refreshed_at INTEGER NOT NULL DEFAULT 0,"
    " refreshes INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0,"
    " secret BLOB, access BLOB, refresh BLOB);"
    /* Settings of the store itself: "default_connection" names the
     * connection used when none is named.  Not sealed: it only picks among
     * connections that are, each of which is checked when loaded. */
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)";

/* $XDG_CONFIG_HOME/DIR/connections.db, else ~/.config/DIR/connections.db. */
static void config_path(const char *dir, char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, cap, "%s/%s/connections.db", xdg, dir);
    else
        snprintf(out, cap, "%s/.config/%s/connections.db", home && *home ? home : ".", dir);
}

const char *gusto_store_default_path(void)
{
    static char path[1024];
    const char *env = getenv("GUSTO_STORE");
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else
        config_path("gusto-connect", path, sizeof path);
    return path;
}

gusto_code gusto_store_migrate(char *old_path, size_t cap, int *migrated, gusto_error *err)
{
    err_clear(err);
    if (migrated)
        *migrated = 0;
    if (old_path && cap)
        old_path[0] = 0;
    const char *env = getenv("GUSTO_STORE");
    if (env && *env)
        return GUSTO_OK; /* a store named outright is never moved */
    /* Until 0.x the default was ~/.config/gusto/, which is Gusto's own
     * CLI's configuration directory. */
    char old[1024], now[1024];
    config_path("gusto", old, sizeof old);
    snprintf(now, sizeof now, "%s", gusto_store_default_path());
    static const char *const files[] = {".key", "-wal", "-shm", "", NULL};
    int r = move_files_once(old, now, files);
    if (r < 0) {
        err_set(err, GUSTO_EINVAL, "cannot move the connection store from %s to %s: %s", old,
                now, strerror(errno));
        err_field(err, "store");
        err_hint(err, "move it by hand (with its .key file), or name it with GUSTO_STORE");
        return GUSTO_EINVAL;
    }
    if (r == 1) {
        if (migrated)
            *migrated = 1;
        if (old_path && cap)
            snprintf(old_path, cap, "%s", old);
    }
    return GUSTO_OK;
}

/* mkdir -p of path's directory, mode 0700. */
static void make_parent(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0700);
            *p = '/';
        }
    }
    mkdir(dir, 0700);
}

/* Refuse a file another user could have planted or can change: fd is open
 * on path (with O_NOFOLLOW).  private_read also refuses group/world read. */
static gusto_code check_file(int fd, const char *path, const char *what, bool private_read,
                             gusto_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return err_set(err, GUSTO_EINVAL, "cannot stat the %s %s: %s", what, path,
                       strerror(errno));
    const char *why = NULL;
    if (!S_ISREG(sb.st_mode))
        why = "is not a regular file";
    else if (sb.st_uid != geteuid())
        why = "is owned by another user";
    else if (sb.st_mode & 022)
        why = "is writable by group or others";
    else if (private_read && (sb.st_mode & 044))
        why = "is readable by group or others";
    if (!why)
        return GUSTO_OK;
    err_set(err, GUSTO_EINVAL, "refusing the %s %s: it %s, so someone else may have planted "
                               "or changed it", what, path, why);
    err_field(err, "store");
    err_hint(err, "remove it (or make it a regular file of yours, mode 0600) and connect "
                  "again, or choose another store with GUSTO_STORE");
    return GUSTO_EINVAL;
}

/* open() that explains a symbolic link. */
static int open_nofollow(const char *path, int flags, const char *what, gusto_error *err)
{
    int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ELOOP) {
        err_set(err, GUSTO_EINVAL, "refusing the %s %s: it is a symbolic link", what, path);
        err_field(err, "store");
        err_hint(err, "replace the link with a regular file of yours (mode 0600), or choose "
                      "another store with GUSTO_STORE");
    }
    return fd;
}

/* The sealing key: GUSTO_STORE_KEY (64 hex digits), else STORE.key beside
 * the store, created from the CSPRNG with mode 0600 on first use. */
static gusto_code load_key(const char *store, unsigned char key[KEY_LEN], gusto_error *err)
{
    const char *env = getenv("GUSTO_STORE_KEY");
    if (env && *env) {
        if (strlen(env) != 2 * KEY_LEN)
            goto badhex;
        for (int i = 0; i < KEY_LEN; i++) {
            int hi = hex_digit(env[2 * i]), lo = hex_digit(env[2 * i + 1]);
            if (hi < 0 || lo < 0)
                goto badhex;
            key[i] = (unsigned char)(hi << 4 | lo);
        }
        return GUSTO_OK;
    }
    char kpath[1100];
    snprintf(kpath, sizeof kpath, "%s.key", store);
    int fd = open_nofollow(kpath, O_RDONLY, "store key", err);
    if (fd < 0 && errno == ENOENT) {
        unsigned char fresh[KEY_LEN];
        if (RAND_bytes(fresh, KEY_LEN) != 1)
            return err_set(err, GUSTO_EINVAL, "cannot draw random bytes for the store key");
        fd = open_nofollow(kpath, O_WRONLY | O_CREAT | O_EXCL, "store key", err);
        if (fd >= 0) {
            bool ok = fchmod(fd, 0600) == 0 && write(fd, fresh, KEY_LEN) == KEY_LEN &&
                      fsync(fd) == 0;
            close(fd);
            OPENSSL_cleanse(fresh, sizeof fresh);
            if (!ok) {
                unlink(kpath);
                return err_set(err, GUSTO_EINVAL, "cannot write the store key %s", kpath);
            }
        }
        /* Whoever won the O_EXCL race wrote the key; read it back. */
        fd = open_nofollow(kpath, O_RDONLY, "store key", err);
    }
    if (fd < 0) {
        if (errno == ELOOP)
            return GUSTO_EINVAL;
        return err_set(err, GUSTO_EINVAL, "cannot read the store key %s: %s", kpath,
                       strerror(errno));
    }
    gusto_code rc = check_file(fd, kpath, "store key", true, err);
    struct stat sb;
    if (rc == GUSTO_OK && (fstat(fd, &sb) != 0 || sb.st_size != KEY_LEN)) {
        rc = err_set(err, GUSTO_EINVAL, "the store key %s is damaged (expected exactly %d "
                                        "bytes)", kpath, KEY_LEN);
        err_field(err, "store");
        err_hint(err, "restore the key file it was saved with, or remove the store and its "
                      "key and connect again");
    }
    ssize_t n = rc == GUSTO_OK ? read(fd, key, KEY_LEN) : -1;
    close(fd);
    if (rc == GUSTO_OK && n != KEY_LEN)
        rc = err_set(err, GUSTO_EINVAL, "cannot read the store key %s", kpath);
    return rc;
badhex:
    err_set(err, GUSTO_EINVAL, "GUSTO_STORE_KEY must be 64 hex digits");
    err_field(err, "GUSTO_STORE_KEY");
    return GUSTO_EINVAL;
}

/* nonce || ciphertext || tag; aad binds the blob to its connection+field. */
static unsigned char *seal(const unsigned char key[KEY_LEN], const char *aad, const char *plain,
                           int *outlen)
{
    int plen = (int)strlen(plain);
    unsigned char *out = malloc((size_t)plen + NONCE_LEN + TAG_LEN);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    bool ok = out && x && RAND_bytes(out, NONCE_LEN) == 1 &&
              EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, out) == 1 &&
              EVP_EncryptUpdate(x, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
              EVP_EncryptUpdate(x, out + NONCE_LEN, &len, (const unsigned char *)plain, plen) == 1 &&
              EVP_EncryptFinal_ex(x, out + NONCE_LEN + len, &fin) == 1 &&
              EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                                  out + NONCE_LEN + len + fin) == 1;
    EVP_CIPHER_CTX_free(x);
    if (!ok) {
        free(out);
        return NULL;
    }
    *outlen = NONCE_LEN + len + fin + TAG_LEN;
    return out;
}

static bool open_blob(const unsigned char key[KEY_LEN], const char *aad,
                      const unsigned char *blob, int blen, char *out, size_t cap)
{
    if (!blob || blen < NONCE_LEN + TAG_LEN || (size_t)(blen - NONCE_LEN - TAG_LEN) >= cap)
        return false;
    int clen = blen - NONCE_LEN - TAG_LEN, len = 0, fin = 0;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    bool ok = x && EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, blob) == 1 &&
              EVP_DecryptUpdate(x, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
              EVP_DecryptUpdate(x, (unsigned char *)out, &len, blob + NONCE_LEN, clen) == 1 &&
              EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                                  (void *)(blob + NONCE_LEN + clen)) == 1 &&
              EVP_DecryptFinal_ex(x, (unsigned char *)out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(x);
    if (!ok)
        return false;
    out[len + fin] = 0;
    return true;
}

/* Open the store; only a save creates it (create=true).  Reading a store
 * that does not exist means nothing is connected.  The file is checked
 * (check_file) and created 0600 before SQLite sees it. */
static gusto_code store_open_mode(const char *path, sqlite3 **db, bool create,
                                  gusto_error *err)
{
    if (!path)
        path = gusto_store_default_path();
    *db = NULL;
    /* The default store still at its old place moves first, whoever opens
     * it (gusto_store_migrate() says so to a caller that wants to know). */
    if (strcmp(path, gusto_store_default_path()) == 0) {
        gusto_code mrc = gusto_store_migrate(NULL, 0, NULL, err);
        if (mrc != GUSTO_OK)
            return mrc;
    }
    int fd = open_nofollow(path, O_RDWR, "connection store", err);
    if (fd < 0 && errno == ENOENT) {
        if (!create) {
            err_set(err, GUSTO_EAUTH, "no Gusto connection is stored (no store at %s)", path);
            err_hint(err, "connect a company (store a connection), or give an access token");
            err_reason(err, "no_credentials");
            return GUSTO_EAUTH;
        }
        make_parent(path);
        fd = open_nofollow(path, O_RDWR | O_CREAT | O_EXCL, "connection store", err);
        if (fd >= 0 && fchmod(fd, 0600) != 0) {
            err_set(err, GUSTO_EINVAL, "cannot make the connection store %s mode 0600: %s",
                    path, strerror(errno));
            close(fd);
            return GUSTO_EINVAL;
        }
        if (fd < 0 && errno == EEXIST) /* another process created it first */
            fd = open_nofollow(path, O_RDWR, "connection store", err);
    }
    if (fd < 0) {
        if (errno == ELOOP)
            return GUSTO_EINVAL;
        err_set(err, GUSTO_EINVAL, "cannot open the connection store %s: %s", path,
                strerror(errno));
        err_field(err, "store");
        return GUSTO_EINVAL;
    }
    gusto_code crc = check_file(fd, path, "connection store", false, err);
    /* Group/world read is tightened (the secrets are sealed, the names are
     * not); a failed chmod is an error, not a shrug. */
    struct stat sb;
    if (crc == GUSTO_OK && fstat(fd, &sb) == 0 && (sb.st_mode & 077) &&
        fchmod(fd, 0600) != 0)
        crc = err_set(err, GUSTO_EINVAL, "cannot make the connection store %s mode 0600: %s",
                      path, strerror(errno));
    close(fd);
    if (crc != GUSTO_OK)
        return crc;
    /* SQLite gives the -wal and -shm files the database file's mode (0600,
     * made above): no umask() here, which would touch every thread. */
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
                                           SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(*db, 120000);
        rc = sqlite3_exec(*db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(*db, SCHEMA, NULL, NULL, NULL);
        sqlite3_stmt *probe = NULL;
        if (rc == SQLITE_OK && sqlite3_prepare_v2(*db, "SELECT keycheck FROM connections",
                                                  -1, &probe, NULL) != SQLITE_OK)
            rc = sqlite3_exec(*db, "ALTER TABLE connections ADD COLUMN keycheck BLOB", NULL,
                              NULL, NULL);
        sqlite3_finalize(probe);
    }
    if (rc != SQLITE_OK) {
        err_set(err, GUSTO_EINVAL, "cannot open the connection store %s: %s", path,
                *db ? sqlite3_errmsg(*db) : "out of memory");
        err_field(err, "store");
        sqlite3_close(*db);
        *db = NULL;
        return GUSTO_EINVAL;
    }
    return GUSTO_OK;
}

static gusto_code store_open(const char *path, sqlite3 **db, gusto_error *err)
{
    return store_open_mode(path, db, false, err);
}

/* The authenticated data of one sealed blob: a version, the blob's field,
 * and every trusted field of its row, each length-prefixed so no two rows
 * can spell the same text.  The tokens ("access", "refresh") also bind the
 * scope and expiry, which a refresh rewrites together with them; "secret"
 * and "keycheck" are sealed once, at save. */
#define AAD_MAX 2400
static void aad_for(char *out, size_t cap, const gusto_connection *c, const char *field)
{
    bool token = strcmp(field, "access") == 0 || strcmp(field, "refresh") == 0;
    int n = snprintf(out, cap, "gusto-connect:v2:%s;%zu:%s;%zu:%s;%zu:%s;%zu:%s;%zu:%s;", field,
                     strlen(c->name), c->name, strlen(c->environment), c->environment,
                     strlen(c->base_url), c->base_url, strlen(c->company_uuid),
                     c->company_uuid, strlen(c->client_id), c->client_id);
    if (token && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "%zu:%s;%lld;", strlen(c->scope), c->scope,
                 c->expires_at);
}

/* The AAD of rows saved before every field was bound (see the top). */
static void aad_legacy(char *out, size_t cap, const char *name, const char *field)
{
    snprintf(out, cap, "gusto-connect:%s:%s", name, field);
}

gusto_code gusto_connection_save(const char *store_path, const gusto_connection *conn,
                                 const char *client_secret, const gusto_tokens *tokens,
                                 gusto_error *err)
{
    err_clear(err);
    if (!conn || !*conn->name || !tokens || !client_secret) {
        err_set(err, GUSTO_EINVAL, "a connection needs a name, a client secret and tokens");
        return GUSTO_EINVAL;
    }
    if (!store_path)
        store_path = gusto_store_default_path();
    make_parent(store_path);
    unsigned char key[KEY_LEN];
    gusto_code rc = load_key(store_path, key, err);
    if (rc != GUSTO_OK)
        return rc;
    sqlite3 *db;
    if ((rc = store_open_mode(store_path, &db, true, err)) != GUSTO_OK)
        return rc;
    gusto_connection bound = *conn;
    snprintf(bound.scope, sizeof bound.scope, "%s", tokens->scope);
    bound.expires_at = tokens->expires_at;
    char aad[AAD_MAX];
    int ls = 0, la = 0, lr = 0, lk = 0;
    aad_for(aad, sizeof aad, &bound, "secret");
    unsigned char *s = seal(key, aad, client_secret, &ls);
    aad_for(aad, sizeof aad, &bound, "access");
    unsigned char *a = seal(key, aad, tokens->access_token, &la);
    aad_for(aad, sizeof aad, &bound, "refresh");
    unsigned char *r = seal(key, aad, tokens->refresh_token, &lr);
    /* Sealed with no row data: opens iff the key is right, so a row that
     * fails to open with it was modified (not read with a wrong key). */
    unsigned char *k = seal(key, "gusto-connect:keycheck", "", &lk);
    sqlite3_stmt *st = NULL;
    const char *sql =
        "INSERT INTO connections(name, environment, base_url, company_uuid, client_id, scope,"
        " expires_at, refreshed_at, refreshes, generation, secret, access, refresh, keycheck)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,0,0,1,?8,?9,?10,?11)"
        " ON CONFLICT(name) DO UPDATE SET environment=?2, base_url=?3, company_uuid=?4,"
        " client_id=?5, scope=?6, expires_at=?7, generation=generation+1, secret=?8,"
        " access=?9, refresh=?10, keycheck=?11";
    if (!s || !a || !r || !k || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = err_set(err, GUSTO_ENOMEM, "cannot save the connection");
    } else {
        sqlite3_bind_text(st, 1, conn->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, conn->environment, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, conn->base_url, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, conn->company_uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, conn->client_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, tokens->scope, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, tokens->expires_at);
        sqlite3_bind_blob(st, 8, s, ls, SQLITE_STATIC);
        sqlite3_bind_blob(st, 9, a, la, SQLITE_STATIC);
        sqlite3_bind_blob(st, 10, r, lr, SQLITE_STATIC);
        sqlite3_bind_blob(st, 11, k, lk, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = err_set(err, GUSTO_EINVAL, "cannot save the connection: %s",
                         sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    free(s);
    free(a);
    free(r);
    free(k);
    sqlite3_close(db);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static void row_to_conn(sqlite3_stmt *st, gusto_connection *c)
{
    memset(c, 0, sizeof *c);
#define COL(i) ((const char *)sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "")
    snprintf(c->name, sizeof c->name, "%s", COL(0));
    snprintf(c->environment, sizeof c->environment, "%s", COL(1));
    snprintf(c->base_url, sizeof c->base_url, "%s", COL(2));
    snprintf(c->company_uuid, sizeof c->company_uuid, "%s", COL(3));
    snprintf(c->client_id, sizeof c->client_id, "%s", COL(4));
    snprintf(c->scope, sizeof c->scope, "%s", COL(5));
#undef COL
    c->expires_at = sqlite3_column_int64(st, 6);
    c->refreshed_at = sqlite3_column_int64(st, 7);
    c->refreshes = (unsigned long)sqlite3_column_int64(st, 8);
}

#define CONN_COLS "name, environment, base_url, company_uuid, client_id, scope, expires_at," \
                  " refreshed_at, refreshes, generation, secret, access, refresh, keycheck"

/* The default connection's name into out ("" when none is set). */
static void read_default(sqlite3 *db, char *out, size_t cap)
{
    out[0] = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='default_connection'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* "a, b, c" (the first few names, in order) into out. */
static void list_names(sqlite3 *db, char *out, size_t cap)
{
    out[0] = 0;
    sqlite3_stmt *st = NULL;
    size_t len = 0;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT name FROM connections ORDER BY name", -1, &st, NULL) ==
        SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW && len + 8 < cap) {
            const char *nm = (const char *)sqlite3_column_text(st, 0);
            int w = snprintf(out + len, cap - len, n++ < 8 ? "%s%s" : "%s...",
                             len ? ", " : "", nm ? nm : "");
            if (w < 0 || (size_t)w >= cap - len || n > 8)
                break;
            len += (size_t)w;
        }
    sqlite3_finalize(st);
}

/* Find the row for name; name NULL: the default connection when one is
 * set and stored, else the only row. */
static gusto_code find_row(sqlite3 *db, const char *name, sqlite3_stmt **out, gusto_error *err)
{
    sqlite3_stmt *st = NULL;
    char dflt[64];
    if (!name) {
        read_default(db, dflt, sizeof dflt);
        if (dflt[0] && sqlite3_prepare_v2(db, "SELECT " CONN_COLS " FROM connections WHERE "
                                              "name=?", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, dflt, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW) {
                *out = st;
                return GUSTO_OK;
            }
        }
        sqlite3_finalize(st); /* the default was removed: as if none were set */
        st = NULL;
    }
    const char *sql = name ? "SELECT " CONN_COLS " FROM connections WHERE name=?"
                           : "SELECT " CONN_COLS " FROM connections LIMIT 2";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(err, GUSTO_EINVAL, "connection store: %s", sqlite3_errmsg(db));
    if (name)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (name) {
            err_set(err, GUSTO_ENOTFOUND, "no stored connection named \"%.60s\"", name);
            err_hint(err, "connect a company under that name, or list the stored connections");
            err_reason(err, "connection_unknown");
            return GUSTO_ENOTFOUND;
        }
        err_set(err, GUSTO_EAUTH, "no Gusto connection is stored and no token was given");
        err_hint(err, "connect a company (store a connection), or give an access token");
        err_reason(err, "no_credentials");
        return GUSTO_EAUTH;
    }
    if (!name) {
        sqlite3_stmt *probe = st;
        if (sqlite3_step(probe) == SQLITE_ROW) {
            sqlite3_finalize(st);
            char names[400];
            list_names(db, names, sizeof names);
            err_set(err, GUSTO_EINVAL, "several connections are stored (%s) and none is the "
                                       "default; choose one", names);
            err_field(err, "connection");
            err_hint(err, "name the connection to use, or make one the default");
            err_reason(err, "connection_ambiguous");
            return GUSTO_EINVAL;
        }
        sqlite3_reset(st);
        sqlite3_step(st);
    }
    *out = st;
    return GUSTO_OK;
}

gusto_code gusto_connection_get(const char *store_path, const char *name,
                                gusto_connection *out, gusto_error *err)
{
    err_clear(err);
    sqlite3 *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = find_row(db, name, &st, err);
    if (rc == GUSTO_OK)
        row_to_conn(st, out);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

gusto_code gusto_connection_list(const char *store_path,
                                 int (*each)(void *ud, const gusto_connection *conn),
                                 void *ud, gusto_error *err)
{
    err_clear(err);
    sqlite3 *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT " CONN_COLS " FROM connections ORDER BY name", -1, &st,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            gusto_connection c;
            row_to_conn(st, &c);
            if (each(ud, &c)) {
                rc = GUSTO_ECANCELED;
                break;
            }
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

gusto_code gusto_connection_remove(const char *store_path, const char *name, gusto_error *err)
{
    err_clear(err);
    sqlite3 *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "DELETE FROM connections WHERE name=?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
        if (sqlite3_changes(db) == 0) {
            err_set(err, GUSTO_ENOTFOUND, "no stored connection named \"%.60s\"",
                    name ? name : "");
            rc = GUSTO_ENOTFOUND;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    /* A removed default is no longer the default. */
    if (rc == GUSTO_OK &&
        sqlite3_prepare_v2(db, "DELETE FROM meta WHERE key='default_connection' AND value=?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

gusto_code gusto_connstore_set_default(const char *store_path, const char *name,
                                       gusto_error *err)
{
    err_clear(err);
    sqlite3 *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    if (name && *name) {
        rc = find_row(db, name, &st, err);
        sqlite3_finalize(st);
        st = NULL;
    }
    const char *sql = name && *name
                          ? "INSERT OR REPLACE INTO meta(key, value) VALUES('default_connection', ?)"
                          : "DELETE FROM meta WHERE key='default_connection'";
    if (rc == GUSTO_OK) {
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            rc = err_set(err, GUSTO_EINVAL, "connection store: %s", sqlite3_errmsg(db));
        else {
            if (name && *name)
                sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = err_set(err, GUSTO_EINVAL, "connection store: %s", sqlite3_errmsg(db));
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

gusto_code gusto_connstore_get_default(const char *store_path, char *name, size_t cap,
                                       gusto_error *err)
{
    err_clear(err);
    if (!name || cap == 0)
        return err_set(err, GUSTO_EINVAL, "gusto_connstore_get_default: no buffer");
    name[0] = 0;
    sqlite3 *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    char dflt[64];
    read_default(db, dflt, sizeof dflt);
    sqlite3_stmt *st = NULL;
    /* A default whose connection is gone is none. */
    if (dflt[0] && find_row(db, dflt, &st, NULL) == GUSTO_OK)
        snprintf(name, cap, "%s", dflt);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return GUSTO_OK;
}

/* Decrypt the three secrets of the current row of st (info: its fields).
 * GUSTO_OK, or GUSTO_EAUTH with err saying whether the key is wrong, the
 * row was modified, or it was sealed by an older version. */
static gusto_code unseal_row(const unsigned char key[KEY_LEN], sqlite3_stmt *st,
                             const gusto_connection *info, char *secret, size_t scap,
                             char *access, size_t acap, char *refresh, size_t rcap,
                             gusto_error *err)
{
    char aad[AAD_MAX];
    aad_for(aad, sizeof aad, info, "secret");
    bool ok = open_blob(key, aad, sqlite3_column_blob(st, 10), sqlite3_column_bytes(st, 10),
                        secret, scap);
    aad_for(aad, sizeof aad, info, "access");
    ok = ok && open_blob(key, aad, sqlite3_column_blob(st, 11), sqlite3_column_bytes(st, 11),
                         access, acap);
    aad_for(aad, sizeof aad, info, "refresh");
    ok = ok && open_blob(key, aad, sqlite3_column_blob(st, 12), sqlite3_column_bytes(st, 12),
                         refresh, rcap);
    if (ok)
        return GUSTO_OK;
    char probe[8];
    if (open_blob(key, "gusto-connect:keycheck", sqlite3_column_blob(st, 13),
                  sqlite3_column_bytes(st, 13), probe, sizeof probe)) {
        err_set(err, GUSTO_EAUTH,
                "the connection store was modified: a field of connection \"%s\" (name, "
                "environment, base URL, company, client id, scope or expiry) no longer "
                "matches what was sealed; refusing to use it", info->name);
        err_field(err, "store");
        err_hint(err, "someone with write access to the store may be trying to redirect your "
                      "tokens; remove the connection and connect again");
        return GUSTO_EAUTH;
    }
    aad_legacy(aad, sizeof aad, info->name, "secret");
    if (open_blob(key, aad, sqlite3_column_blob(st, 10), sqlite3_column_bytes(st, 10), secret,
                  scap)) {
        OPENSSL_cleanse(secret, scap);
        err_set(err, GUSTO_EAUTH,
                "the stored connection \"%s\" was saved by an older gusto-connect, whose "
                "seal does not cover its base URL, company and client id", info->name);
        err_field(err, "store");
        err_hint(err, "connect again to re-save it (it is not re-sealed automatically: "
                      "that would also approve any field edited since)");
        return GUSTO_EAUTH;
    }
    err_set(err, GUSTO_EAUTH, "the stored connection \"%s\" cannot be decrypted with this "
                              "key", info->name);
    err_hint(err, "use the GUSTO_STORE_KEY or key file it was saved with, or connect the "
                  "company again");
    err_reason(err, "store_key");
    return GUSTO_EAUTH;
}

/* ---- the stored connection as a credential provider --------------------- */

/* What the provider keeps between calls: where the row is, the generation
 * it last read (a newer one means another process refreshed), and the
 * token it handed out. */
struct stored {
    char *store_path;
    char name[64];
    char base_url[256];      /* the row's, as the client was configured from it */
    bool base_from_store;    /* the client's base URL came from this row */
    long long generation;
    bool loaded;
    char access[512];
    long long expires_at;
};

static void stored_free(void *ud)
{
    struct stored *st = ud;
    if (!st)
        return;
    OPENSSL_cleanse(st->access, sizeof st->access);
    free(st->store_path);
    free(st);
}

/* Read and unseal the provider's row from db; check that the client's
 * base URL is still the row's.  *gen: the row's generation. */
static gusto_code read_row(sqlite3 *db, const unsigned char *key, const struct stored *sp,
                           gusto_client *c, gusto_connection *info, char *secret,
                           char *access, char *refresh, size_t cap, long long *gen,
                           gusto_error *err)
{
    sqlite3_stmt *st = NULL;
    gusto_code rc = find_row(db, sp->name, &st, err);
    if (rc == GUSTO_OK) {
        row_to_conn(st, info);
        rc = unseal_row(key, st, info, secret, cap, access, cap, refresh, cap, err);
        *gen = sqlite3_column_int64(st, 9);
    }
    sqlite3_finalize(st);
    /* The client was configured from an earlier read of the row: the base
     * URL it holds must be the one just authenticated, or the file changed
     * in between. */
    if (rc == GUSTO_OK && sp->base_from_store) {
        const char *cb = gusto_client_base_url(c);
        size_t bl = strlen(info->base_url);
        while (bl > 0 && info->base_url[bl - 1] == '/')
            bl--;
        if (strlen(cb) != bl || strncmp(cb, info->base_url, bl) != 0) {
            rc = err_set(err, GUSTO_EAUTH, "the connection store was modified while it was "
                                           "read (connection \"%s\"); refusing to use it",
                         info->name);
            err_field(err, "store");
            err_hint(err, "someone with write access to the store may be trying to redirect "
                          "your tokens; remove the connection and connect again");
        }
    }
    return rc;
}

static void adopt(struct stored *sp, const char *access, long long expires_at, long long gen)
{
    snprintf(sp->access, sizeof sp->access, "%s", access);
    sp->expires_at = expires_at;
    sp->generation = gen;
    sp->loaded = true;
}

/* Refresh the row through the client's handle and commit the new pair
 * (inside the caller's write transaction) before it is handed out. */
static gusto_code refresh_row(sqlite3 *db, const unsigned char *key, struct stored *sp,
                              gusto_client *c, const gusto_connection *info,
                              const char *secret, const char *refresh, long long gen,
                              gusto_error *err)
{
    gusto_tokens t;
    if (c->trace)
        c->trace(c->trace_ud, "* refreshing the access token (single flight)");
    gusto_code rc = gusto_client_oauth_refresh(c, info->client_id, secret, refresh, &t, err);
    if (rc != GUSTO_OK) {
        if (err && rc == GUSTO_EAUTH && !err->reason[0])
            err_reason(err, "reconnect");
        return rc;
    }
    char aad[AAD_MAX];
    int la = 0, lr = 0;
    gusto_connection bound = *info; /* the scope and expiry being written */
    snprintf(bound.scope, sizeof bound.scope, "%s", t.scope[0] ? t.scope : info->scope);
    bound.expires_at = t.expires_at;
    aad_for(aad, sizeof aad, &bound, "access");
    unsigned char *a = seal(key, aad, t.access_token, &la);
    aad_for(aad, sizeof aad, &bound, "refresh");
    unsigned char *r = seal(key, aad, t.refresh_token[0] ? t.refresh_token : refresh, &lr);
    sqlite3_stmt *up = NULL;
    const char *sql =
        "UPDATE connections SET access=?, refresh=?, expires_at=?, scope=?,"
        " refreshed_at=?, refreshes=refreshes+1, generation=generation+1 WHERE name=?";
    bool ok = a && r && sqlite3_prepare_v2(db, sql, -1, &up, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_blob(up, 1, a, la, SQLITE_STATIC);
        sqlite3_bind_blob(up, 2, r, lr, SQLITE_STATIC);
        sqlite3_bind_int64(up, 3, t.expires_at);
        sqlite3_bind_text(up, 4, bound.scope, -1, SQLITE_STATIC);
        sqlite3_bind_int64(up, 5, (long long)time(NULL));
        sqlite3_bind_text(up, 6, info->name, -1, SQLITE_STATIC);
        ok = sqlite3_step(up) == SQLITE_DONE;
    }
    sqlite3_finalize(up);
    free(a);
    free(r);
    /* Commit before the new access token is ever used. */
    ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (ok)
        adopt(sp, t.access_token, t.expires_at, gen + 1);
    else
        rc = err_set(err, GUSTO_EINVAL, "refreshed, but could not save the new tokens: %s",
                     sqlite3_errmsg(db));
    OPENSSL_cleanse(&t, sizeof t);
    return rc;
}

/* A token for the provider: the row's when it is fresh (read without the
 * write lock), else, under the write lock (one refresher across threads
 * and processes), the one another process just wrote or a refresh.
 * force: the last token was refused, so the row's is only taken when its
 * generation moved on since we read it. */
static gusto_code stored_sync(struct stored *sp, gusto_client *c, bool force, gusto_error *err)
{
    unsigned char key[KEY_LEN];
    gusto_code rc = load_key(sp->store_path, key, err);
    if (rc != GUSTO_OK)
        return rc;
    sqlite3 *db;
    if ((rc = store_open(sp->store_path, &db, err)) != GUSTO_OK) {
        OPENSSL_cleanse(key, sizeof key);
        return rc;
    }
    enum { CAP = 512 };
    char secret[CAP] = "", access[CAP] = "", refresh[CAP] = "";
    gusto_connection info;
    long long gen = 0, now = (long long)time(NULL);
    bool done = false;
    if (!force) {
        rc = read_row(db, key, sp, c, &info, secret, access, refresh, CAP, &gen, err);
        if (rc == GUSTO_OK && info.expires_at - 60 > now) {
            adopt(sp, access, info.expires_at, gen);
            done = true;
        }
    }
    if (rc == GUSTO_OK && !done) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            rc = err_set(err, GUSTO_EINVAL, "the connection store is locked: %s",
                         sqlite3_errmsg(db));
        } else {
            rc = read_row(db, key, sp, c, &info, secret, access, refresh, CAP, &gen, err);
            bool someone_else = sp->loaded && gen != sp->generation;
            bool fresh = !force && info.expires_at - 60 > now;
            if (rc == GUSTO_OK && (someone_else || fresh)) {
                adopt(sp, access, info.expires_at, gen); /* no HTTP */
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            } else if (rc == GUSTO_OK) {
                rc = refresh_row(db, key, sp, c, &info, secret, refresh, gen, err);
            }
        }
    }
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(access, sizeof access);
    OPENSSL_cleanse(refresh, sizeof refresh);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static gusto_code stored_get(void *ud, gusto_client *c, char *buf, size_t cap,
                             long long *expires_at, gusto_error *err)
{
    struct stored *sp = ud;
    gusto_code rc = GUSTO_OK;
    if (!sp->loaded || sp->expires_at - 60 <= (long long)time(NULL))
        rc = stored_sync(sp, c, false, err);
    if (rc != GUSTO_OK)
        return rc;
    if (strlen(sp->access) >= cap)
        return err_set(err, GUSTO_EINVAL, "the stored access token is too long");
    snprintf(buf, cap, "%s", sp->access);
    *expires_at = sp->expires_at;
    return GUSTO_OK;
}

static gusto_code stored_refused(void *ud, gusto_client *c, gusto_error *err)
{
    return stored_sync(ud, c, true, err);
}

/* Do two base URLs name the same place?  Case-insensitive, ignoring
 * trailing slashes (a base URL has no query; paths are compared). */
static bool same_base(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    while (na > 0 && a[na - 1] == '/')
        na--;
    while (nb > 0 && b[nb - 1] == '/')
        nb--;
    return na == nb && strncasecmp(a, b, na) == 0;
}

gusto_client *gusto_client_new_stored(const gusto_options *opts, const char *store_path,
                                      const char *name, gusto_error *err)
{
    err_clear(err);
    gusto_options o = {0};
    if (opts)
        o = *opts; /* the caller's version says which fields it set */
    if (opts && opts->version >= 2 && opts->credentials) {
        err_set(err, GUSTO_EINVAL, "gusto_client_new_stored() brings its own credentials; "
                                   "leave opts->credentials NULL");
        err_field(err, "credentials");
        return NULL;
    }
    if (!store_path)
        store_path = gusto_store_default_path();
    gusto_connection info;
    if (gusto_connection_get(store_path, name, &info, err) != GUSTO_OK)
        return NULL;
    /* A connection's tokens go to the environment it was made in and
     * nowhere else: a base_url naming another is refused before anything
     * is read or sent. */
    if (o.base_url && *o.base_url && !same_base(o.base_url, info.base_url)) {
        err_set(err, GUSTO_EINVAL, "connection \"%s\" belongs to Gusto %s (%s), not to "
                "%.200s; its token is sent only to its own environment", info.name,
                info.environment, info.base_url, o.base_url);
        err_field(err, "base_url");
        err_hint(err, "leave the base URL unset (the connection knows its environment), "
                      "or choose a connection made for %.120s", o.base_url);
        err_reason(err, "environment_mismatch");
        return NULL;
    }
    struct stored *sp = calloc(1, sizeof *sp);
    if (!sp || !(sp->store_path = strdup(store_path))) {
        free(sp);
        err_set(err, GUSTO_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(sp->name, sizeof sp->name, "%s", info.name);
    snprintf(sp->base_url, sizeof sp->base_url, "%s", info.base_url);
    sp->base_from_store = !(o.base_url && *o.base_url);
    if (sp->base_from_store)
        o.base_url = sp->base_url;
    if (!(o.company_uuid && *o.company_uuid))
        o.company_uuid = info.company_uuid;
    gusto_credentials cred = {.get = stored_get, .refused = stored_refused,
                              .free = stored_free, .userdata = sp};
    o.version = GUSTO_OPTIONS_VERSION;
    o.credentials = &cred;
    o.access_token = NULL;
    gusto_client *c = gusto_client_new(&o, err); /* owns sp from here */
    if (!c)
        return NULL;
    /* Read (and check) the row now, as opening a connection always has:
     * a wrong key or an edited row fails here, before any request. */
    if (cred_fetch(c, false, err) != GUSTO_OK) {
        gusto_client_free(c);
        return NULL;
    }
    return c;
}

gusto_code gusto_connection_revoke(const char *store_path, const char *name, gusto_error *err)
{
    err_clear(err);
    if (!store_path)
        store_path = gusto_store_default_path();
    sqlite3 *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    unsigned char key[KEY_LEN];
    if ((rc = load_key(store_path, key, err)) != GUSTO_OK) {
        sqlite3_close(db);
        return rc;
    }
    sqlite3_stmt *st = NULL;
    gusto_connection info;
    char secret[512] = "", access[512] = "", refresh[512] = "";
    rc = find_row(db, name, &st, err);
    if (rc == GUSTO_OK) {
        row_to_conn(st, &info);
        rc = unseal_row(key, st, &info, secret, sizeof secret, access, sizeof access, refresh,
                        sizeof refresh, err);
    }
    /* The store is not held during the call: a revocation needs no lock. */
    sqlite3_finalize(st);
    sqlite3_close(db);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(refresh, sizeof refresh);
    if (rc == GUSTO_OK)
        rc = gusto_oauth_revoke(info.base_url, info.client_id, secret, access, err);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(access, sizeof access);
    return rc;
}
