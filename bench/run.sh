#!/usr/bin/env bash
# `make bench`: builds release binaries, starts the sandbox (in memory, no faults, quiet),
# a private MariaDB (and PostgreSQL if present) for the outbox figures, runs every
# measurement and regenerates BENCHMARKS.md.
#
#   bench/run.sh            full run (~8 minutes on 2 cores), writes BENCHMARKS.md
#   bench/run.sh --smoke    tiny counts on the debug build, checks every script still
#                           works, writes nothing in the repository (< 30 s once built)
#
# Environment: PHP (default php), CARGO (default cargo), TG_BENCH_NO_DB=1 skips the
# MariaDB outbox run, TG_BENCH_PGSQL=1 adds PostgreSQL, TG_BENCH_KEEP=1 keeps the
# scratch directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PHP="${PHP:-php}"
CARGO="${CARGO:-cargo}"
SMOKE=0
for a in "$@"; do
    case "$a" in
        --smoke) SMOKE=1 ;;
        *) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
    esac
done

if [ "$SMOKE" = 1 ]; then
    PROFILE=debug
    # The workspace build (make test has done it) plus tg-bench, which nothing else builds.
    "$CARGO" build --workspace --quiet
else
    PROFILE=release
    "$CARGO" build --release --workspace
fi
export TG_BENCH_EXT="$ROOT/target/$PROFILE/libtrading_grid.so"
export TG_BENCH_SANDBOX_BIN="$ROOT/target/$PROFILE/tg-sandbox"
export TG_BENCH_BIN="$ROOT/target/$PROFILE/tg-bench"
for f in "$TG_BENCH_EXT" "$TG_BENCH_SANDBOX_BIN" "$TG_BENCH_BIN"; do
    [ -e "$f" ] || { echo "bench: $f was not built" >&2; exit 1; }
done

TG_BENCH_WORK="$(mktemp -d "${TMPDIR:-/tmp}/tg-bench.XXXXXX")"
export TG_BENCH_WORK
DB_STARTED=0
cleanup() {
    if [ "$DB_STARTED" = 1 ]; then
        TG_DB_DIR="$TG_BENCH_WORK/db" bash tests/scripts/start-databases.sh stop >/dev/null 2>&1 || true
    fi
    if [ "${TG_BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: scratch directory kept: $TG_BENCH_WORK" >&2
    else
        rm -rf "$TG_BENCH_WORK"
    fi
}
trap cleanup EXIT

# Private database servers (their own directory, so a concurrent `make test` keeps its own).
if [ "$SMOKE" = 0 ] && [ "${TG_BENCH_NO_DB:-0}" != 1 ] && [ -x tests/scripts/start-databases.sh ]; then
    DB_STARTED=1
    # MariaDB is what the figures need; PostgreSQL is added when TG_BENCH_PGSQL=1.
    dbs=mysql
    if [ "${TG_BENCH_PGSQL:-0}" = 1 ]; then dbs=""; chmod 755 "$TG_BENCH_WORK"; fi
    if exports="$(TG_DATABASES="$dbs" TG_DB_DIR="$TG_BENCH_WORK/db" bash tests/scripts/start-databases.sh start 2>"$TG_BENCH_WORK/db.log")"; then
        eval "$exports"
    else
        echo "bench: could not start the test databases (see below); their outbox rows will say so" >&2
        tail -n 5 "$TG_BENCH_WORK/db.log" >&2 || true
        eval "$exports" || true
    fi
fi

if [ "$SMOKE" = 1 ]; then
    "$PHP" bench/bench.php --smoke --out "$TG_BENCH_WORK/results.json"
    "$PHP" bench/render.php "$TG_BENCH_WORK/results.json" > "$TG_BENCH_WORK/BENCHMARKS.md"
    grep -q '^| ext ' "$TG_BENCH_WORK/BENCHMARKS.md" || { echo "bench smoke: the report has no extension row" >&2; exit 1; }
    echo "bench smoke: ok (every measurement ran; BENCHMARKS.md not touched)"
else
    "$PHP" bench/bench.php --out "$TG_BENCH_WORK/results.json"
    "$PHP" bench/render.php "$TG_BENCH_WORK/results.json" > "$TG_BENCH_WORK/BENCHMARKS.md"
    cp "$TG_BENCH_WORK/BENCHMARKS.md" BENCHMARKS.md
    mkdir -p bench/results
    cp "$TG_BENCH_WORK/results.json" bench/results/latest.json
    echo "bench: BENCHMARKS.md regenerated (raw figures in bench/results/latest.json)"
fi
