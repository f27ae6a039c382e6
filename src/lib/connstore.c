/* connstore.c - stored connections: per named connection, the environment,
 * company and client id in clear, and the client secret and tokens sealed
 * with AES-256-GCM, in a SQLite file (mode 0600, the embedded default) or
 * in PostgreSQL (GUSTO_STORE=postgres://..., shared by many machines), both
 * through lib/sdb.  Also the single-flight refresh that keeps N processes on
 * M machines from locking each other out.
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
 * Single flight: a refresh runs inside a write transaction that holds the
 * row (BEGIN IMMEDIATE on a SQLite file, which holds the whole file;
 * SELECT ... FOR UPDATE on PostgreSQL, which holds the row across
 * machines), so only one process at a time can refresh a connection.
 * Inside the lock it re-reads the row; when the generation moved, someone
 * else refreshed and their tokens are adopted without calling Gusto.  The
 * new pair is committed before the new access token is ever used; Gusto
 * revokes the old refresh token only on that first use, so a crash between
 * the two leaves the old, still valid refresh token in the store.
 *
 * The key of a store on PostgreSQL comes only from the operator
 * (GUSTO_STORE_KEY or GUSTO_STORE_KEY_FILE): every machine sharing it needs
 * the same one, and it must not live in the database it protects. */
#include "lib/internal.h"
#include "lib/sdb.h"
#include "shared/configdir.h"
#include "shared/movefile.h"
#include "shared/pctdecode.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
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

/* The default store's path into out: $GUSTO_STORE, else the file in our
 * configuration directory.  Into the caller's buffer: the request paths
 * of several threads open stores at once. */
static void default_path(char *out, size_t cap)
{
    const char *env = getenv("GUSTO_STORE");
    if (env && *env)
        snprintf(out, cap, "%s", env);
    else
        config_file("gusto-connect", "connections.db", out, cap);
}

/* path, or the default store's path (into buf) when path is NULL. */
static const char *path_or_default(const char *path, char *buf, size_t cap)
{
    if (path)
        return path;
    default_path(buf, cap);
    return buf;
}

const char *gusto_store_default_path(void)
{
    static _Thread_local char path[1024];
    default_path(path, sizeof path);
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
    config_file("gusto", "connections.db", old, sizeof old);
    default_path(now, sizeof now);
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
    if (private_read) /* a key: removing it loses every connection sealed with it */
        err_hint(err, "if it is yours, make it a regular file of yours with mode 0600 (chmod "
                      "600 %.200s); do not remove it, the connections sealed with it open "
                      "with nothing else", path);
    else
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

/* The sealing key: GUSTO_STORE_KEY (64 hex digits), else the file named by
 * GUSTO_STORE_KEY_FILE, else (a SQLite store only) STORE.key beside the
 * store, created from the CSPRNG with mode 0600 on first use.  A store on
 * PostgreSQL is shared by machines that must all hold the same key, so its
 * key is never made here: it comes from the operator. */
static bool hex_key(const char *text, size_t len, unsigned char key[KEY_LEN])
{
    if (len != 2 * KEY_LEN)
        return false;
    for (int i = 0; i < KEY_LEN; i++) {
        int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* Read the key file fd (open on kpath, checked like the store).  named:
 * the operator's GUSTO_STORE_KEY_FILE, which may also hold 64 hex digits
 * and a newline (what `openssl rand -hex 32` writes); the file beside a
 * store holds exactly KEY_LEN bytes. */
static gusto_code read_key_file(int fd, const char *kpath, bool named,
                                unsigned char key[KEY_LEN], gusto_error *err)
{
    gusto_code rc = check_file(fd, kpath, "store key", true, err);
    unsigned char buf[2 * KEY_LEN + 3];
    ssize_t n = rc == GUSTO_OK ? read(fd, buf, sizeof buf) : -1;
    close(fd);
    if (rc != GUSTO_OK)
        return rc;
    size_t len = n > 0 ? (size_t)n : 0;
    if (named)
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            len--;
    if (len == KEY_LEN)
        memcpy(key, buf, KEY_LEN);
    else if (!named || !hex_key((const char *)buf, len, key))
        rc = err_set(err, GUSTO_EINVAL, "the store key %s is damaged (expected exactly %d "
                                        "bytes%s)", kpath, KEY_LEN,
                     named ? ", or 64 hex digits" : "");
    OPENSSL_cleanse(buf, sizeof buf);
    if (rc != GUSTO_OK) {
        err_field(err, named ? "GUSTO_STORE_KEY_FILE" : "store");
        err_hint(err, named ? "write the key with `openssl rand -hex 32 > FILE` (mode 0600)"
                            : "restore the key file it was saved with, or remove the store "
                              "and its key and connect again");
    }
    return rc;
}

static gusto_code load_key(const char *store, unsigned char key[KEY_LEN], gusto_error *err)
{
    const char *env = getenv("GUSTO_STORE_KEY");
    if (env && *env) {
        if (hex_key(env, strlen(env), key))
            return GUSTO_OK;
        err_set(err, GUSTO_EINVAL, "GUSTO_STORE_KEY must be 64 hex digits");
        err_field(err, "GUSTO_STORE_KEY");
        return GUSTO_EINVAL;
    }
    const char *named = getenv("GUSTO_STORE_KEY_FILE");
    if (named && *named) {
        int fd = open_nofollow(named, O_RDONLY, "store key", err);
        if (fd < 0 && errno == ELOOP)
            return GUSTO_EINVAL;
        if (fd < 0) {
            err_set(err, GUSTO_EINVAL, "cannot read the store key %s (GUSTO_STORE_KEY_FILE): "
                                       "%s", named, strerror(errno));
            err_field(err, "GUSTO_STORE_KEY_FILE");
            err_hint(err, "a named key file is never created: write one with `openssl rand "
                          "-hex 32 > FILE` (mode 0600), the same on every machine");
            return GUSTO_EINVAL;
        }
        return read_key_file(fd, named, true, key, err);
    }
    if (sdb_is_postgres(store)) {
        err_set(err, GUSTO_EINVAL, "a connection store on PostgreSQL takes its key from "
                                   "GUSTO_STORE_KEY or GUSTO_STORE_KEY_FILE, and neither is set");
        err_field(err, "store_key");
        err_hint(err, "make one with `openssl rand -hex 32`, keep it out of the database, and "
                      "give the same key to every machine that shares the store");
        return GUSTO_EINVAL;
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
    return read_key_file(fd, kpath, false, key, err);
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

/* ---- opening a store ------------------------------------------------------ */

static const char SCHEMA_SQLITE[] =
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

/* The same tables on PostgreSQL, where they sit beside serve's (api_keys,
 * grants, idempotency, sync_queue, webhook_*) and the mirror's (gusto_*). */
static const char SCHEMA_PG[] =
    "CREATE TABLE IF NOT EXISTS connections("
    " name TEXT PRIMARY KEY, environment TEXT NOT NULL, base_url TEXT NOT NULL,"
    " company_uuid TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '',"
    " expires_at BIGINT NOT NULL DEFAULT 0, refreshed_at BIGINT NOT NULL DEFAULT 0,"
    " refreshes BIGINT NOT NULL DEFAULT 0, generation BIGINT NOT NULL DEFAULT 0,"
    " secret BYTEA, access BYTEA, refresh BYTEA, keycheck BYTEA);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)";

static const char PROBE[] = "SELECT keycheck FROM connections LIMIT 0";

/* ---- idle PostgreSQL sessions, kept for the next open ----------------------
 * A PostgreSQL session costs a TCP connection and an authentication (SCRAM:
 * thousands of hash rounds on both sides) each time a store is opened, and
 * serve opens one per request that builds a client.  So each process keeps
 * up to POOL_MAX idle sessions, per URL: taken by one thread at a time,
 * checked with a round trip when taken (the server may have closed it),
 * and closed at exit.  A child after fork() never uses or closes its
 * parent's. */
#define POOL_MAX 8
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *url;
    struct sdb *db;
    pid_t pid;
} pool[POOL_MAX];
static int pool_n;

static struct sdb *pool_take(const char *url)
{
    struct sdb *db = NULL;
    pid_t me = getpid();
    pthread_mutex_lock(&pool_mu);
    for (int i = pool_n - 1; i >= 0 && !db; i--) {
        if (pool[i].pid != me || strcmp(pool[i].url, url) != 0)
            continue;
        db = pool[i].db;
        free(pool[i].url);
        pool[i] = pool[--pool_n];
    }
    pthread_mutex_unlock(&pool_mu);
    if (db && sdb_script(db, "SELECT 1") != 0) {
        sdb_close(db);
        db = NULL;
    }
    return db;
}

/* Close a store opened by store_open[_mode](path): a PostgreSQL session goes
 * back to the pool (out of any transaction), a SQLite handle is closed. */
static void store_close(const char *path, struct sdb *db)
{
    if (!db)
        return;
    char dflt[1024];
    path = path_or_default(path, dflt, sizeof dflt);
    char *url = sdb_kind(db) == SDB_POSTGRES ? strdup(path) : NULL;
    if (url) {
        sdb_rollback(db);
        pthread_mutex_lock(&pool_mu);
        if (pool_n < POOL_MAX) {
            pool[pool_n].url = url;
            pool[pool_n].db = db;
            pool[pool_n].pid = getpid();
            pool_n++;
            db = NULL;
            url = NULL;
        }
        pthread_mutex_unlock(&pool_mu);
    }
    free(url);
    sdb_close(db);
}

/* At exit (or when the library is unloaded): say goodbye to the server
 * rather than leave it a dropped connection to log. */
__attribute__((destructor)) static void pool_drain(void)
{
    pthread_mutex_lock(&pool_mu);
    for (int i = 0; i < pool_n; i++) {
        if (pool[i].pid == getpid())
            sdb_close(pool[i].db);
        free(pool[i].url);
    }
    pool_n = 0;
    pthread_mutex_unlock(&pool_mu);
}

/* A store on PostgreSQL: connect, and create the tables once (processes
 * starting together: one creates under the advisory lock, the others find
 * them).  A refresh waits at most 120 s for another's row lock, as a
 * SQLite store's busy timeout does. */
static gusto_code open_pg(const char *url, struct sdb **out, gusto_error *err)
{
    char shown[512], msg[600];
    sdb_redact(url, shown, sizeof shown);
    struct sdb *db = sdb_open(url, false, msg, sizeof msg);
    if (!db) {
        err_set(err, GUSTO_ENETWORK, "cannot reach the connection store %s: %s", shown, msg);
        err_field(err, "store");
        err_hint(err, "check the postgres:// URL in GUSTO_STORE and that the server is up; "
                      "give a password through PGPASSWORD or ~/.pgpass, not the URL");
        return GUSTO_ENETWORK;
    }
    int rc = sdb_script(db, "SET lock_timeout = '120s'");
    if (rc == 0 && sdb_exec(db, PROBE, 0, NULL, NULL, NULL, NULL) != 0) {
        rc = sdb_begin(db);
        if (rc == 0)
            rc = sdb_script(db, "SELECT pg_advisory_xact_lock(727100640)");
        if (rc == 0)
            rc = sdb_script(db, SCHEMA_PG);
        if (rc == 0)
            rc = sdb_commit(db);
        if (rc)
            sdb_rollback(db);
    }
    if (rc) {
        err_set(err, GUSTO_EINVAL, "cannot open the connection store %s: %s", shown,
                sdb_error(db));
        err_field(err, "store");
        sdb_close(db);
        return GUSTO_EINVAL;
    }
    *out = db;
    return GUSTO_OK;
}

/* Open the store; only a save creates a SQLite one (create=true).  Reading
 * a file that does not exist means nothing is connected.  The file is
 * checked (check_file) and created 0600 before SQLite sees it. */
static gusto_code store_open_mode(const char *path, struct sdb **db, bool create,
                                  gusto_error *err)
{
    char dflt[1024];
    default_path(dflt, sizeof dflt);
    if (!path)
        path = dflt;
    *db = NULL;
    if (sdb_is_postgres(path))
        return (*db = pool_take(path)) ? GUSTO_OK : open_pg(path, db, err);
    /* The default store still at its old place moves first, whoever opens
     * it (gusto_store_migrate() says so to a caller that wants to know). */
    if (strcmp(path, dflt) == 0) {
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
        make_parent_dirs(path);
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
     * made above): no umask() here, which would touch every thread.  A
     * commit is durable before it returns (synchronous=FULL): a refreshed
     * pair must survive a power cut once its access token is used. */
    char msg[600];
    *db = sdb_open(path, false, msg, sizeof msg);
    int rc = *db ? 0 : -1;
    if (rc == 0)
        rc = sdb_script(*db, "PRAGMA busy_timeout=120000; PRAGMA synchronous=FULL");
    if (rc == 0)
        rc = sdb_script(*db, SCHEMA_SQLITE);
    /* Stores made before the key check was added gain its column. */
    if (rc == 0 && sdb_exec(*db, PROBE, 0, NULL, NULL, NULL, NULL) != 0)
        rc = sdb_script(*db, "ALTER TABLE connections ADD COLUMN keycheck BLOB");
    if (rc != 0) {
        err_set(err, GUSTO_EINVAL, "cannot open the connection store %s: %s", path,
                *db ? sdb_error(*db) : msg);
        err_field(err, "store");
        sdb_close(*db);
        *db = NULL;
        return GUSTO_EINVAL;
    }
    return GUSTO_OK;
}

static gusto_code store_open(const char *path, struct sdb **db, gusto_error *err)
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

/* ---- rows ----------------------------------------------------------------- */

#define CONN_COLS "name, environment, base_url, company_uuid, client_id, scope, expires_at," \
                  " refreshed_at, refreshes, generation, secret, access, refresh, keycheck"
enum { COL_SECRET = 10, NCOLS = 14 };
enum { B_SECRET, B_ACCESS, B_REFRESH, B_KEYCHECK, NBLOBS };

/* One row as read: its clear fields, its generation and its sealed blobs
 * (copied out of the result; NULL when the column is). */
struct row {
    gusto_connection info;
    long long generation;
    unsigned char *blob[NBLOBS];
    int blen[NBLOBS];
    int rows; /* how many the statement returned */
    bool oom;
};

static void row_clear(struct row *r)
{
    for (int i = 0; i < NBLOBS; i++)
        free(r->blob[i]);
    memset(r, 0, sizeof *r);
}

static long long num(const char *v)
{
    return v ? strtoll(v, NULL, 10) : 0;
}

/* sdb row callback: the first row into a struct row, the others counted. */
static int take_row(void *ud, int ncols, const char *const *v, const int *lens)
{
    struct row *r = ud;
    if (r->rows++ > 0 || ncols < NCOLS)
        return 0;
    gusto_connection *c = &r->info;
#define TXT(i) (v[i] ? v[i] : "")
    snprintf(c->name, sizeof c->name, "%s", TXT(0));
    snprintf(c->environment, sizeof c->environment, "%s", TXT(1));
    snprintf(c->base_url, sizeof c->base_url, "%s", TXT(2));
    snprintf(c->company_uuid, sizeof c->company_uuid, "%s", TXT(3));
    snprintf(c->client_id, sizeof c->client_id, "%s", TXT(4));
    snprintf(c->scope, sizeof c->scope, "%s", TXT(5));
#undef TXT
    c->expires_at = num(v[6]);
    c->refreshed_at = num(v[7]);
    c->refreshes = (unsigned long)num(v[8]);
    r->generation = num(v[9]);
    for (int i = 0; i < NBLOBS; i++) {
        const char *b = v[COL_SECRET + i];
        int len = lens[COL_SECRET + i];
        if (!b || len < 0)
            continue;
        r->blob[i] = malloc(len ? (size_t)len : 1);
        if (!r->blob[i]) {
            r->oom = true;
            continue;
        }
        memcpy(r->blob[i], b, (size_t)len);
        r->blen[i] = len;
    }
    return 0;
}

static int take_text(void *ud, int ncols, const char *const *v)
{
    char *out = ud; /* 64 bytes: a connection name */
    if (ncols > 0 && v[0])
        snprintf(out, 64, "%s", v[0]);
    return 1;
}

/* The default connection's name into out (64 bytes; "" when none is set). */
static void read_default(struct sdb *db, char out[64])
{
    static const char sql[] = "SELECT value FROM meta WHERE key='default_connection'";
    out[0] = 0;
    sdb_exec(db, sql, 0, NULL, take_text, out, NULL);
}

struct names {
    char *out;
    size_t cap, len;
    int n;
};

static int add_name(void *ud, int ncols, const char *const *v)
{
    struct names *nm = ud;
    if (ncols < 1 || nm->len + 8 >= nm->cap)
        return 1;
    int w = snprintf(nm->out + nm->len, nm->cap - nm->len, nm->n++ < 8 ? "%s%s" : "%s...",
                     nm->len ? ", " : "", v[0] ? v[0] : "");
    if (w < 0 || (size_t)w >= nm->cap - nm->len || nm->n > 8)
        return 1;
    nm->len += (size_t)w;
    return 0;
}

/* "a, b, c" (the first few names, in order) into out. */
static void list_names(struct sdb *db, char *out, size_t cap)
{
    static const char sql[] = "SELECT name FROM connections ORDER BY name";
    struct names nm = {out, cap, 0, 0};
    out[0] = 0;
    sdb_exec(db, sql, 0, NULL, add_name, &nm, NULL);
}

/* Find the row for name into *r (row_clear() it); name NULL: the default
 * connection when one is set and stored, else the only row.  lock: inside
 * a transaction, hold the row until it ends (FOR UPDATE on PostgreSQL; a
 * SQLite store's BEGIN IMMEDIATE already holds the whole file). */
static gusto_code find_row(struct sdb *db, const char *name, bool lock, struct row *r,
                           gusto_error *err)
{
    static const char BY_NAME[] = "SELECT " CONN_COLS " FROM connections WHERE name=$1";
    static const char BY_NAME_LOCKED[] =
        "SELECT " CONN_COLS " FROM connections WHERE name=$1 FOR UPDATE";
    static const char ANY_TWO[] = "SELECT " CONN_COLS " FROM connections ORDER BY name LIMIT 2";
    const char *by_name = lock && sdb_kind(db) == SDB_POSTGRES ? BY_NAME_LOCKED : BY_NAME;
    memset(r, 0, sizeof *r);
    int rc = 0;
    if (!name) {
        char dflt[64];
        read_default(db, dflt);
        const char *p[] = {dflt};
        if (dflt[0]) {
            rc = sdb_exec_bin(db, by_name, 1, p, NULL, take_row, r, NULL);
            if (rc == 0 && r->rows == 1 && !r->oom)
                return GUSTO_OK;
            row_clear(r); /* the default was removed: as if none were set */
        }
    }
    const char *p[] = {name};
    if (rc == 0)
        rc = name ? sdb_exec_bin(db, by_name, 1, p, NULL, take_row, r, NULL)
                  : sdb_exec_bin(db, ANY_TWO, 0, NULL, NULL, take_row, r, NULL);
    if (rc != 0 || r->oom) {
        gusto_code code = r->oom ? GUSTO_ENOMEM : GUSTO_EINVAL;
        row_clear(r);
        return err_set(err, code, "connection store: %s",
                       code == GUSTO_ENOMEM ? "out of memory" : sdb_error(db));
    }
    if (r->rows == 0) {
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
    if (!name && r->rows > 1) {
        row_clear(r);
        char names[400];
        list_names(db, names, sizeof names);
        err_set(err, GUSTO_EINVAL, "several connections are stored (%s) and none is the "
                                   "default; choose one", names);
        err_field(err, "connection");
        err_hint(err, "name the connection to use, or make one the default");
        err_reason(err, "connection_ambiguous");
        return GUSTO_EINVAL;
    }
    return GUSTO_OK;
}

/* One store, one key: a row sealed under another key than the other
 * connections' could be read only by this machine.  Checks the key check
 * of one connection other than `except` (NULL: any); GUSTO_OK when it
 * opens, or when there is none. */
struct keycheck {
    unsigned char *blob;
    int len;
    bool seen;
};

static int take_keycheck(void *ud, int ncols, const char *const *v, const int *lens)
{
    struct keycheck *k = ud;
    k->seen = ncols > 0 && v[0] && lens[0] >= 0;
    if (k->seen && (k->blob = malloc(lens[0] ? (size_t)lens[0] : 1)) != NULL) {
        memcpy(k->blob, v[0], (size_t)lens[0]);
        k->len = lens[0];
    }
    return 1;
}

static gusto_code same_key_as_store(struct sdb *db, const unsigned char key[KEY_LEN],
                                    const char *except, gusto_error *err)
{
    static const char sql[] = "SELECT keycheck FROM connections WHERE keycheck IS NOT NULL"
                              " AND name <> $1 ORDER BY name LIMIT 1";
    struct keycheck k = {0};
    const char *p[] = {except ? except : ""};
    if (sdb_exec_bin(db, sql, 1, p, NULL, take_keycheck, &k, NULL) != 0)
        return err_set(err, GUSTO_EINVAL, "connection store: %s", sdb_error(db));
    char probe[8];
    bool ok = !k.seen || open_blob(key, "gusto-connect:keycheck", k.blob, k.len, probe,
                                   sizeof probe);
    free(k.blob);
    if (ok)
        return GUSTO_OK;
    err_set(err, GUSTO_EAUTH, "this key is not the one the store's other connections were "
                              "sealed with; a connection saved with it could be read only "
                              "where this key is");
    err_field(err, "store_key");
    err_hint(err, "use the store's key here (GUSTO_STORE_KEY or GUSTO_STORE_KEY_FILE, the same "
                  "on every machine that shares it)");
    return GUSTO_EAUTH;
}

/* What a save needs: its key and the store open for writing (a SQLite
 * file made, with its directory), checked against the key of the store's
 * connections other than `name` (NULL: all).  On failure nothing is open
 * and the key is wiped. */
static gusto_code open_to_write(const char *path, const char *name, unsigned char key[KEY_LEN],
                                struct sdb **db, gusto_error *err)
{
    *db = NULL;
    if (!sdb_is_postgres(path))
        make_parent_dirs(path);
    gusto_code rc = load_key(path, key, err);
    if (rc == GUSTO_OK)
        rc = store_open_mode(path, db, true, err);
    if (rc == GUSTO_OK)
        rc = same_key_as_store(*db, key, name, err);
    if (rc != GUSTO_OK) {
        store_close(path, *db);
        *db = NULL;
        OPENSSL_cleanse(key, KEY_LEN);
    }
    return rc;
}

gusto_code gusto_store_check(const char *store_path, gusto_error *err)
{
    err_clear(err);
    char dflt[1024];
    store_path = path_or_default(store_path, dflt, sizeof dflt);
    unsigned char key[KEY_LEN];
    struct sdb *db;
    gusto_code rc = open_to_write(store_path, NULL, key, &db, err);
    if (rc == GUSTO_OK) {
        store_close(store_path, db);
        OPENSSL_cleanse(key, sizeof key);
    }
    return rc;
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
    char dflt[1024];
    store_path = path_or_default(store_path, dflt, sizeof dflt);
    unsigned char key[KEY_LEN];
    struct sdb *db;
    gusto_code rc = open_to_write(store_path, conn->name, key, &db, err);
    if (rc != GUSTO_OK)
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
    static const char sql[] =
        "INSERT INTO connections(name, environment, base_url, company_uuid, client_id, scope,"
        " expires_at, refreshed_at, refreshes, generation, secret, access, refresh, keycheck)"
        " VALUES($1,$2,$3,$4,$5,$6,$7,0,0,1,$8,$9,$10,$11)"
        " ON CONFLICT(name) DO UPDATE SET environment=$2, base_url=$3, company_uuid=$4,"
        " client_id=$5, scope=$6, expires_at=$7, generation=connections.generation+1,"
        " secret=$8, access=$9, refresh=$10, keycheck=$11";
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", tokens->expires_at);
    if (!s || !a || !r || !k) {
        rc = err_set(err, GUSTO_ENOMEM, "cannot save the connection");
    } else {
        const char *p[] = {conn->name, conn->environment, conn->base_url, conn->company_uuid,
                           conn->client_id, tokens->scope, exp, (const char *)s,
                           (const char *)a, (const char *)r, (const char *)k};
        const int lens[] = {-1, -1, -1, -1, -1, -1, -1, ls, la, lr, lk};
        if (sdb_exec_bin(db, sql, 11, p, lens, NULL, NULL, NULL) != 0)
            rc = err_set(err, GUSTO_EINVAL, "cannot save the connection: %s", sdb_error(db));
    }
    free(s);
    free(a);
    free(r);
    free(k);
    store_close(store_path, db);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

gusto_code gusto_connection_get(const char *store_path, const char *name,
                                gusto_connection *out, gusto_error *err)
{
    err_clear(err);
    struct sdb *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    struct row r = {0};
    rc = find_row(db, name, false, &r, err);
    if (rc == GUSTO_OK)
        *out = r.info;
    row_clear(&r);
    store_close(store_path, db);
    return rc;
}

struct lister {
    int (*each)(void *ud, const gusto_connection *conn);
    void *ud;
    bool stopped;
};

static int list_row(void *ud, int ncols, const char *const *v, const int *lens)
{
    struct lister *l = ud;
    struct row r = {0};
    take_row(&r, ncols, v, lens);
    int stop = l->each(l->ud, &r.info);
    row_clear(&r);
    if (stop)
        l->stopped = true;
    return stop;
}

gusto_code gusto_connection_list(const char *store_path,
                                 int (*each)(void *ud, const gusto_connection *conn),
                                 void *ud, gusto_error *err)
{
    err_clear(err);
    struct sdb *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    static const char sql[] = "SELECT " CONN_COLS " FROM connections ORDER BY name";
    struct lister l = {each, ud, false};
    if (sdb_exec_bin(db, sql, 0, NULL, NULL, list_row, &l, NULL) != 0)
        rc = err_set(err, GUSTO_EINVAL, "connection store: %s", sdb_error(db));
    else if (l.stopped)
        rc = GUSTO_ECANCELED;
    store_close(store_path, db);
    return rc;
}

gusto_code gusto_connection_remove(const char *store_path, const char *name, gusto_error *err)
{
    err_clear(err);
    struct sdb *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    static const char del[] = "DELETE FROM connections WHERE name=$1";
    /* A removed default is no longer the default. */
    static const char undefault[] =
        "DELETE FROM meta WHERE key='default_connection' AND value=$1";
    const char *p[] = {name ? name : ""};
    long changes = 0;
    if (sdb_begin(db) != 0 || sdb_exec(db, del, 1, p, NULL, NULL, &changes) != 0) {
        rc = err_set(err, GUSTO_EINVAL, "connection store: %s", sdb_error(db));
    } else if (changes == 0) {
        err_set(err, GUSTO_ENOTFOUND, "no stored connection named \"%.60s\"", p[0]);
        rc = GUSTO_ENOTFOUND;
    } else if (sdb_exec(db, undefault, 1, p, NULL, NULL, NULL) != 0 || sdb_commit(db) != 0) {
        rc = err_set(err, GUSTO_EINVAL, "connection store: %s", sdb_error(db));
    }
    sdb_rollback(db);
    store_close(store_path, db);
    return rc;
}

gusto_code gusto_connstore_set_default(const char *store_path, const char *name,
                                       gusto_error *err)
{
    err_clear(err);
    struct sdb *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    bool set = name && *name;
    if (set) {
        struct row r;
        rc = find_row(db, name, false, &r, err);
        row_clear(&r);
    }
    static const char put[] = "INSERT INTO meta(key, value) VALUES('default_connection', $1)"
                              " ON CONFLICT(key) DO UPDATE SET value=excluded.value";
    static const char clear[] = "DELETE FROM meta WHERE key='default_connection'";
    const char *p[] = {name};
    if (rc == GUSTO_OK && sdb_exec(db, set ? put : clear, set ? 1 : 0, p, NULL, NULL, NULL) != 0)
        rc = err_set(err, GUSTO_EINVAL, "connection store: %s", sdb_error(db));
    store_close(store_path, db);
    return rc;
}

gusto_code gusto_connstore_get_default(const char *store_path, char *name, size_t cap,
                                       gusto_error *err)
{
    err_clear(err);
    if (!name || cap == 0)
        return err_set(err, GUSTO_EINVAL, "gusto_connstore_get_default: no buffer");
    name[0] = 0;
    struct sdb *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    char dflt[64];
    read_default(db, dflt);
    struct row r = {0};
    /* A default whose connection is gone is none. */
    if (dflt[0] && find_row(db, dflt, false, &r, NULL) == GUSTO_OK)
        snprintf(name, cap, "%s", dflt);
    row_clear(&r);
    store_close(store_path, db);
    return GUSTO_OK;
}

/* Decrypt the three secrets of row r.  GUSTO_OK, or GUSTO_EAUTH with err
 * saying whether the key is wrong, the row was modified, or it was sealed
 * by an older version. */
static gusto_code unseal_row(const unsigned char key[KEY_LEN], const struct row *r,
                             char *secret, size_t scap, char *access, size_t acap,
                             char *refresh, size_t rcap, gusto_error *err)
{
    const gusto_connection *info = &r->info;
    char aad[AAD_MAX];
    aad_for(aad, sizeof aad, info, "secret");
    bool ok = open_blob(key, aad, r->blob[B_SECRET], r->blen[B_SECRET], secret, scap);
    aad_for(aad, sizeof aad, info, "access");
    ok = ok && open_blob(key, aad, r->blob[B_ACCESS], r->blen[B_ACCESS], access, acap);
    aad_for(aad, sizeof aad, info, "refresh");
    ok = ok && open_blob(key, aad, r->blob[B_REFRESH], r->blen[B_REFRESH], refresh, rcap);
    if (ok)
        return GUSTO_OK;
    char probe[8];
    if (open_blob(key, "gusto-connect:keycheck", r->blob[B_KEYCHECK], r->blen[B_KEYCHECK],
                  probe, sizeof probe)) {
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
    if (open_blob(key, aad, r->blob[B_SECRET], r->blen[B_SECRET], secret, scap)) {
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
    struct sdb *db; /* the store opened by gusto_client_new_stored(), kept for
                       the first read only (one connection, not two) */
};

static void stored_free(void *ud)
{
    struct stored *st = ud;
    if (!st)
        return;
    OPENSSL_cleanse(st->access, sizeof st->access);
    store_close(st->store_path, st->db);
    free(st->store_path);
    free(st);
}

/* Read and unseal the provider's row from db; check that the client's
 * base URL is still the row's.  *gen: the row's generation. */
static gusto_code read_row(struct sdb *db, const unsigned char *key, const struct stored *sp,
                           gusto_client *c, bool lock, gusto_connection *info, char *secret,
                           char *access, char *refresh, size_t cap, long long *gen,
                           gusto_error *err)
{
    struct row r;
    gusto_code rc = find_row(db, sp->name, lock, &r, err);
    if (rc == GUSTO_OK) {
        *info = r.info;
        rc = unseal_row(key, &r, secret, cap, access, cap, refresh, cap, err);
        *gen = r.generation;
    }
    row_clear(&r);
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
static gusto_code refresh_row(struct sdb *db, const unsigned char *key, struct stored *sp,
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
    static const char sql[] =
        "UPDATE connections SET access=$1, refresh=$2, expires_at=$3, scope=$4,"
        " refreshed_at=$5, refreshes=refreshes+1, generation=generation+1 WHERE name=$6";
    char exp[24], now[24];
    snprintf(exp, sizeof exp, "%lld", t.expires_at);
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    const char *p[] = {(const char *)a, (const char *)r, exp, bound.scope, now, info->name};
    const int lens[] = {la, lr, -1, -1, -1, -1};
    long changes = 0;
    bool ok = a && r && sdb_exec_bin(db, sql, 6, p, lens, NULL, NULL, &changes) == 0 &&
              changes == 1;
    free(a);
    free(r);
    /* Commit before the new access token is ever used. */
    ok = ok && sdb_commit(db) == 0;
    if (ok)
        adopt(sp, t.access_token, t.expires_at, gen + 1);
    else
        rc = err_set(err, GUSTO_EINVAL, "refreshed, but could not save the new tokens: %s",
                     sdb_error(db)[0] ? sdb_error(db) : "the connection was removed meanwhile");
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
    struct sdb *db = sp->db;
    sp->db = NULL;
    if (!db && (rc = store_open(sp->store_path, &db, err)) != GUSTO_OK) {
        OPENSSL_cleanse(key, sizeof key);
        return rc;
    }
    enum { CAP = 512 };
    char secret[CAP] = "", access[CAP] = "", refresh[CAP] = "";
    gusto_connection info;
    long long gen = 0, now = (long long)time(NULL);
    bool done = false;
    if (!force) {
        rc = read_row(db, key, sp, c, false, &info, secret, access, refresh, CAP, &gen, err);
        if (rc == GUSTO_OK && info.expires_at - 60 > now) {
            adopt(sp, access, info.expires_at, gen);
            done = true;
        }
    }
    if (rc == GUSTO_OK && !done) {
        if (sdb_begin(db) != 0) {
            rc = err_set(err, GUSTO_EINVAL, "the connection store is locked: %s",
                         sdb_error(db));
        } else {
            rc = read_row(db, key, sp, c, true, &info, secret, access, refresh, CAP, &gen,
                          err);
            bool someone_else = sp->loaded && gen != sp->generation;
            bool fresh = !force && info.expires_at - 60 > now;
            if (rc == GUSTO_OK && (someone_else || fresh)) {
                adopt(sp, access, info.expires_at, gen); /* no HTTP */
                sdb_commit(db);
            } else if (rc == GUSTO_OK) {
                rc = refresh_row(db, key, sp, c, &info, secret, refresh, gen, err);
            }
        }
    }
    sdb_rollback(db); /* when still in the transaction (an error) */
    store_close(sp->store_path, db);
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
    char dflt[1024];
    store_path = path_or_default(store_path, dflt, sizeof dflt);
    struct sdb *db;
    if (store_open(store_path, &db, err) != GUSTO_OK)
        return NULL;
    struct row r;
    gusto_code frc = find_row(db, name, false, &r, err);
    gusto_connection info = r.info;
    row_clear(&r);
    if (frc != GUSTO_OK) {
        store_close(store_path, db);
        return NULL;
    }
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
        store_close(store_path, db);
        return NULL;
    }
    struct stored *sp = calloc(1, sizeof *sp);
    if (!sp || !(sp->store_path = strdup(store_path))) {
        free(sp);
        store_close(store_path, db);
        err_set(err, GUSTO_ENOMEM, "out of memory");
        return NULL;
    }
    sp->db = db;
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
    char dflt[1024];
    store_path = path_or_default(store_path, dflt, sizeof dflt);
    struct sdb *db;
    gusto_code rc = store_open(store_path, &db, err);
    if (rc != GUSTO_OK)
        return rc;
    unsigned char key[KEY_LEN];
    if ((rc = load_key(store_path, key, err)) != GUSTO_OK) {
        store_close(store_path, db);
        return rc;
    }
    struct row r;
    gusto_connection info;
    char secret[512] = "", access[512] = "", refresh[512] = "";
    rc = find_row(db, name, false, &r, err);
    if (rc == GUSTO_OK) {
        info = r.info;
        rc = unseal_row(key, &r, secret, sizeof secret, access, sizeof access, refresh,
                        sizeof refresh, err);
    }
    row_clear(&r);
    /* The store is not held during the call: a revocation needs no lock. */
    store_close(store_path, db);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(refresh, sizeof refresh);
    if (rc == GUSTO_OK)
        rc = gusto_oauth_revoke(info.base_url, info.client_id, secret, access, err);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(access, sizeof access);
    return rc;
}
