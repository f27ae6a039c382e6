# pg.sh - a PostgreSQL server of the test's own for the shell stages that
# need one (sync_test.sh, replicas_test.sh): initdb + pg_ctl as the postgres
# user when run as root, listening only on 127.0.0.1 on a free port, with
# its socket in its own directory; stopped by pg_stop.
# shellcheck shell=sh
# Source it after tests/procs.sh (free_port).  Sets PGBIN at once; pg_start
# sets PGDIR and PGPORT.
#
#   pg_available          PostgreSQL's server binaries are installed
#   pg_start              start it; 0 or 1 (not in a subshell: it sets PGDIR)
#   pg_log                initdb's and the server's logs, for a failure
#   pg_stop               stop it (immediate) and remove its files unless KEEP
#   pg_createdb NAME      create database NAME; prints its postgres:// URL
#   as_pg CMD ARGS...     run one of PGBIN's programs as the postgres user

PGDIR=""
PGPORT=""
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_pg() {
    pg_cmd=$1
    shift
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$PGBIN/$pg_cmd" "$@"
    else
        "$PGBIN/$pg_cmd" "$@"
    fi
}

pg_available() { [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ]; }

pg_start() {
    PGDIR=$(mktemp -d /tmp/gusto-test-pg.XXXXXX) || return 1
    [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
    PGPORT=$(free_port)
    if as_pg initdb -D "$PGDIR/data" -A trust -U postgres --no-sync -E UTF8 \
            >"$PGDIR/initdb.log" 2>&1 &&
        as_pg pg_ctl -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c fsync=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null 2>&1; then
        return 0
    fi
    return 1
}

pg_log() { cat "$PGDIR/initdb.log" "$PGDIR/server.log" 2>/dev/null; }

pg_stop() {
    if [ -n "$PGDIR" ] && [ -f "$PGDIR/data/postmaster.pid" ]; then
        as_pg pg_ctl -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1
    fi
    if [ -n "$PGDIR" ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$PGDIR"
    fi
}

pg_createdb() {
    as_pg createdb -h 127.0.0.1 -p "$PGPORT" -U postgres "$1" || return 1
    echo "postgres://postgres@127.0.0.1:$PGPORT/$1"
}
