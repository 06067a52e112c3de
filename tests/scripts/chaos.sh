#!/usr/bin/env bash
# The reliability suite (make chaos) and its short version (make test).
#
#   tests/scripts/chaos.sh           # full: 10,000 ops per delivery scenario on MariaDB and
#                                    # SQLite, webhooks under abuse, 100,000 hostile calls,
#                                    # the security tests; rewrites RELIABILITY.md
#   tests/scripts/chaos.sh --short   # a few hundred ops on SQLite, no report (make test)
#
# TG_CHAOS_OPS, TG_CHAOS_WORKERS and TG_HOSTILE_CALLS override the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."

PHP="${PHP:-php}"
EXT="${TG_EXTENSION:-$PWD/target/debug/libtrading_grid.so}"
export TG_EXTENSION="$EXT"
short=0
[ "${1:-}" = "--short" ] && short=1

work="$(mktemp -d "${TMPDIR:-/tmp}/tg-chaos.XXXXXX")"
chmod 755 "$work"
export TG_DB_DIR="$work/db"
cleanup() {
    bash tests/scripts/start-databases.sh stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

run() { "$PHP" -d "extension=$EXT" "$@"; }

if [ "$short" = 1 ]; then
    TG_STORE_DRIVER=sqlite TG_TEST_SQLITE_PATH="$work/chaos.sqlite" \
        run tests/chaos/run.php --ops "${TG_CHAOS_OPS:-400}" --workers "${TG_CHAOS_WORKERS:-4}"
    exit 0
fi

out="target/chaos"
mkdir -p "$out"
rm -f "$out"/*.json "$out"/security.xml "$out"/proptest.log
ops="${TG_CHAOS_OPS:-10000}"
workers="${TG_CHAOS_WORKERS:-4}"
eval "$(TG_DATABASES=mysql bash tests/scripts/start-databases.sh start)"

echo "== delivery scenarios on MariaDB: $ops ops, $workers workers"
TG_STORE_DRIVER=mysql run tests/chaos/run.php --ops "$ops" --workers "$workers" --json "$out/mysql.json"
echo "== delivery scenarios on SQLite: $ops ops, $workers workers"
TG_STORE_DRIVER=sqlite TG_TEST_SQLITE_PATH="$work/chaos.sqlite" \
    run tests/chaos/run.php --ops "$ops" --workers "$workers" --scenarios chaos,crash --json "$out/sqlite.json"

echo "== hostile input and security"
TG_HOSTILE_CALLS="${TG_HOSTILE_CALLS:-100000}" TG_HOSTILE_REPORT="$out/hostile.json" \
    run /usr/bin/phpunit -c tests/php/security.xml --log-junit "$out/security.xml"

echo "== fuzz / property tests"
PROPTEST_CASES="${PROPTEST_CASES:-5000}" cargo test -p tg-core --test 'prop_*' 2>&1 | tee "$out/proptest.log" | grep -E "^test result|passed|failed" || true

run tests/chaos/report.php "$out" > RELIABILITY.md
echo "RELIABILITY.md written"
