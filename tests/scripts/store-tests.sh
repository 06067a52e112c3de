#!/usr/bin/env bash
# The store tests (tests/php/stores.xml) on every engine the module supports: SQLite,
# MariaDB and PostgreSQL, the last two as private throwaway servers started here and
# stopped at the end (tests/scripts/start-databases.sh). With the extension built, the
# end-to-end drain against the sandbox runs too.
#
#   tests/scripts/store-tests.sh              # all three engines
#   TG_STORE_DRIVERS="sqlite pgsql" tests/scripts/store-tests.sh
#   TG_DB_DIR=/tmp/tg-db-0 ...                # reuse (and keep) servers started earlier
set -euo pipefail
cd "$(dirname "$0")/../.."

PHP="${PHP:-php}"
PHPUNIT="${PHPUNIT:-/usr/bin/phpunit}"
EXT="${TG_EXTENSION:-$PWD/target/debug/libtrading_grid.so}"
DRIVERS="${TG_STORE_DRIVERS:-sqlite mysql pgsql}"

php_args=()
if [ -f "$EXT" ] && ! "$PHP" -r 'exit(extension_loaded("trading_grid") ? 0 : 1);'; then
    php_args=(-d "extension=$EXT")
    export TG_EXTENSION="$EXT"
else
    echo "store-tests: $EXT not built; the end-to-end drain against the sandbox is skipped" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tg-stores.XXXXXX")"
chmod 755 "$work" # as root, PostgreSQL runs as `postgres` and must reach its directory below
need_servers=0
case " $DRIVERS " in *" mysql "*|*" pgsql "*) need_servers=1 ;; esac
own_servers=0
if [ -z "${TG_DB_DIR:-}" ]; then
    # Servers of our own, so a parallel run (or a developer's) is never touched or stopped.
    export TG_DB_DIR="$work/db"
    own_servers=1
fi
cleanup() {
    if [ "$own_servers" = 1 ]; then bash tests/scripts/start-databases.sh stop || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ "$need_servers" = 1 ]; then
    wanted=""
    case " $DRIVERS " in *" mysql "*) wanted="mysql" ;; esac
    case " $DRIVERS " in *" pgsql "*) wanted="${wanted:+$wanted }pgsql" ;; esac
    [ "$wanted" = "mysql pgsql" ] && wanted=""
    exports="$(TG_DATABASES="$wanted" bash tests/scripts/start-databases.sh start)"
    eval "$exports"
fi

status=0
for driver in $DRIVERS; do
    echo "== store tests on $driver"
    start=$(date +%s)
    if TG_STORE_DRIVER="$driver" TG_TEST_SQLITE_PATH="$work/stores.sqlite" \
        "$PHP" "${php_args[@]}" "$PHPUNIT" -c tests/php/stores.xml; then
        echo "== $driver passed in $(( $(date +%s) - start ))s"
    else
        echo "== $driver FAILED" >&2
        status=1
    fi
done
exit $status
