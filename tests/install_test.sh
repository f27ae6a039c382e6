#!/bin/sh
# install_test.sh - `make install` into a scratch prefix, then build the
# example program against the installed library through pkg-config and list
# the sandbox's employees with it: libgusto works on its own.
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

tmp=$(mktemp -d)
sb_pid=
trap '[ -n "$sb_pid" ] && kill $sb_pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
prefix="$tmp/prefix"

if make -s install PREFIX="$prefix" >"$tmp/install.log" 2>&1; then ok "make install"; else
    bad "make install"; cat "$tmp/install.log"; fi
for f in bin/gusto-connect bin/gusto-sandbox include/gusto.h lib/libgusto.a lib/libgusto.so \
         lib/pkgconfig/gusto.pc share/man/man1/gusto-connect.1 share/man/man1/gusto-sandbox.1 \
         share/bash-completion/completions/gusto-connect \
         share/zsh/vendor-completions/_gusto-connect \
         share/fish/vendor_completions.d/gusto-connect.fish; do
    [ -e "$prefix/$f" ] && ok "installed $f" || bad "installed $f"
done

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs gusto 2>&1) && ok "pkg-config knows gusto" ||
    bad "pkg-config knows gusto: $flags"
hv=$(sed -n 's/^#define GUSTO_VERSION "\(.*\)"/\1/p' include/gusto.h)
mv=$(pkg-config --modversion gusto 2>&1)
[ -n "$hv" ] && [ "$mv" = "$hv" ] && ok "pkg-config's version is gusto.h's ($mv)" ||
    bad "pkg-config's version '$mv' is gusto.h's '$hv'"
[ -e "$prefix/lib/libgusto.so.$hv" ] && ok "libgusto.so.$hv installed" ||
    bad "libgusto.so.$hv installed"
cv=$("$prefix/bin/gusto-connect" --version 2>&1)
case "$cv" in "gusto-connect $hv "*) ok "gusto-connect --version says $hv" ;;
    *) bad "gusto-connect --version says $hv: $cv" ;; esac
# shellcheck disable=SC2086
if cc -std=c11 -Wall -Wextra -Werror -o "$tmp/list_employees" examples/list_employees.c \
       $flags 2>"$tmp/cc.log"; then ok "example builds against the installed library"
else bad "example builds"; cat "$tmp/cc.log"; fi
nm -D "$prefix/lib/libgusto.so" | grep -q ' T gusto_employees_list' &&
    ok "libgusto.so exports gusto_employees_list" || bad "libgusto.so exports"
nm -D "$prefix/lib/libgusto.so" | grep -q ' T http_send' &&
    bad "libgusto.so hides internal symbols" || ok "libgusto.so hides internal symbols"

build/gusto-sandbox --port 0 --seed demo --token inst-token --rate-limit 0 >"$tmp/sb.out" 2>&1 &
sb_pid=$!
i=0
until grep -q '^listening on' "$tmp/sb.out" 2>/dev/null || [ $i -ge 100 ]; do
    i=$((i + 1)); sleep 0.05; done
base=$(sed -n 's/^listening on //p' "$tmp/sb.out")
out=$(GUSTO_ACCESS_TOKEN=inst-token LD_LIBRARY_PATH="$prefix/lib" \
      "$tmp/list_employees" "$base" 2>"$tmp/err")
n=$(printf '%s\n' "$out" | grep -c .)
[ "$n" -eq 50 ] && ok "example lists the 50 demo employees" ||
    bad "example lists the 50 demo employees (got $n: $(cat "$tmp/err"))"
grep -q '50 employees' "$tmp/err" && ok "example reports the count" || bad "example count"

# A program with a plain token links statically without SQLite and OpenSSL:
# the connection store is a credential provider it never references.
if cc -std=c11 -o "$tmp/le_static" examples/list_employees.c -I"$prefix/include" \
       "$prefix/lib/libgusto.a" -lcurl -ljansson -lyajl 2>"$tmp/static.log"; then
    ok "a plain-token program links against libgusto.a without -lsqlite3 -lcrypto"
else bad "a plain-token program links without -lsqlite3 -lcrypto"; cat "$tmp/static.log"; fi
n=$(GUSTO_ACCESS_TOKEN=inst-token "$tmp/le_static" "$base" 2>/dev/null | grep -c .)
[ "$n" -eq 50 ] && ok "and lists the 50 employees" || bad "the static program lists 50 (got $n)"
nm "$tmp/le_static" | grep -q ' sqlite3_open' &&
    bad "no SQLite inside the plain-token program" || ok "no SQLite inside the plain-token program"
# Control: a program that opens a stored connection does need them.
printf '#include <gusto.h>\nint main(void){gusto_error e; return gusto_client_new_stored(0,"x","y",&e)!=0;}\n' \
    >"$tmp/stored.c"
if cc -std=c11 -o "$tmp/stored" "$tmp/stored.c" -I"$prefix/include" "$prefix/lib/libgusto.a" \
       -lcurl -ljansson -lyajl 2>/dev/null; then
    bad "control: a stored-connection program needs SQLite to link"
else ok "control: a stored-connection program needs SQLite to link"; fi

# deploy/systemd's units, pointed at this install, pass systemd-analyze verify
# with nothing on stderr; control: the same unit with a misspelt key does not.
mkdir -p "$tmp/units"
for u in deploy/systemd/*; do
    sed "s|/usr/local/bin/gusto-connect|$prefix/bin/gusto-connect|" "$u" >"$tmp/units/${u##*/}"
done
if systemd-analyze verify "$tmp"/units/* >"$tmp/verify.log" 2>&1 && [ ! -s "$tmp/verify.log" ]
then ok "systemd-analyze verify accepts deploy/systemd's 3 units"
else bad "systemd-analyze verify accepts deploy/systemd's units: $(head -3 "$tmp/verify.log")"; fi
sed 's/^ExecStart=/ExecStrat=/' "$tmp/units/gusto-connect-sync.service" >"$tmp/units/broken.service"
if systemd-analyze verify "$tmp/units/broken.service" >"$tmp/verify.log" 2>&1 &&
   [ ! -s "$tmp/verify.log" ]; then bad "control: a misspelt ExecStart is refused"
else ok "control: a misspelt ExecStart is refused"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
