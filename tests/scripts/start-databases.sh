#!/usr/bin/env bash
# Private, throwaway MariaDB and PostgreSQL servers for the store tests.
#
#   eval "$(tests/scripts/start-databases.sh start)"   # start (or reuse) both, print env exports
#   tests/scripts/start-databases.sh env               # print the exports of running servers
#   tests/scripts/start-databases.sh stop              # stop both and delete their data
#
# Or source it and call tg_db_start / tg_db_stop (tg_db_start exports the variables).
#
# Both servers listen on unix sockets only, in a private directory ($TG_DB_DIR, default
# /tmp/tg-db-<uid>), so they never clash with a system server or with each other's ports.
# Nothing needs systemd: this works in a container where the packages are installed and
# no service runs. As root, PostgreSQL (which refuses to run as root) runs as the
# `postgres` system user on a data directory chown'd to it; MariaDB runs with --user=root.
# Durability is switched off (fsync, doublewrite, binlog): these databases are for tests.
#
# Exports: TG_TEST_MYSQL_DSN, TG_TEST_MYSQL_USER, TG_TEST_MYSQL_PASSWORD,
#          TG_TEST_PGSQL_DSN, TG_TEST_PGSQL_USER, TG_TEST_PGSQL_PASSWORD.
# TG_DATABASES=mysql or =pgsql limits what is started.

TG_DB_DIR="${TG_DB_DIR:-/tmp/tg-db-$(id -u)}"
TG_DB_NAME="tg_test"
TG_DB_USER="tg"
TG_DB_PASSWORD="tg-test-password"

tg_db__log() { echo "start-databases: $*" >&2; }

tg_db__find() {
    # First executable among the arguments, or the name found on PATH.
    local c
    for c in "$@"; do
        if [ -x "$c" ]; then echo "$c"; return 0; fi
        if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
    done
    return 1
}

tg_db__pg_bin() {
    # Debian keeps the server binaries (initdb, pg_ctl) off PATH, per major version.
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/psql" ]; then echo "$d"; return 0; fi
    done
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

# Runs a command as the PostgreSQL owner: ourselves, or `postgres` when we are root.
tg_db__as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

tg_db__mysql_running() {
    [ -S "$TG_DB_DIR/mysql/mysql.sock" ] && [ -f "$TG_DB_DIR/mysql/mysqld.pid" ] &&
        kill -0 "$(cat "$TG_DB_DIR/mysql/mysqld.pid" 2>/dev/null)" 2>/dev/null
}

tg_db__pgsql_running() {
    local bin
    bin="$(tg_db__pg_bin)" || return 1
    [ -f "$TG_DB_DIR/pgsql/data/postmaster.pid" ] &&
        tg_db__as_pg "$bin/pg_ctl" -D "$TG_DB_DIR/pgsql/data" status >/dev/null 2>&1
}

tg_db__start_mysql() {
    local dir="$TG_DB_DIR/mysql" mysqld install client user_opt=()
    if tg_db__mysql_running; then
        tg_db__log "MariaDB already running in $dir"
        return 0
    fi
    mysqld="$(tg_db__find /usr/sbin/mariadbd /usr/sbin/mysqld mariadbd mysqld)" || {
        tg_db__log "mariadbd not found (apt-get install mariadb-server)"; return 1; }
    install="$(tg_db__find mariadb-install-db mysql_install_db)" || {
        tg_db__log "mariadb-install-db not found"; return 1; }
    client="$(tg_db__find mariadb mysql)" || { tg_db__log "mariadb client not found"; return 1; }
    [ "$(id -u)" -eq 0 ] && user_opt=(--user=root)

    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/tmp"
    tg_db__log "initialising MariaDB in $dir"
    "$install" --no-defaults "${user_opt[@]}" --datadir="$dir/data" --auth-root-authentication-method=socket \
        --skip-test-db >"$dir/install.log" 2>&1 || {
        tg_db__log "mariadb-install-db failed:"; tail -n 20 "$dir/install.log" >&2; return 1; }

    "$mysqld" --no-defaults "${user_opt[@]}" --datadir="$dir/data" --tmpdir="$dir/tmp" \
        --socket="$dir/mysql.sock" --pid-file="$dir/mysqld.pid" --skip-networking \
        --log-error="$dir/error.log" --skip-log-bin --skip-name-resolve \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=32M --innodb-flush-log-at-trx-commit=0 \
        --innodb-doublewrite=0 --innodb-flush-method=nosync --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_general_ci --max-connections=200 >/dev/null 2>&1 &
    local i
    for i in $(seq 1 300); do
        if [ -S "$dir/mysql.sock" ] && "$client" --no-defaults -uroot --socket="$dir/mysql.sock" -e 'SELECT 1' >/dev/null 2>&1; then
            break
        fi
        sleep 0.1
    done
    if ! "$client" --no-defaults -uroot --socket="$dir/mysql.sock" -e 'SELECT 1' >/dev/null 2>&1; then
        tg_db__log "MariaDB did not come up:"; tail -n 20 "$dir/error.log" >&2; return 1
    fi
    "$client" --no-defaults -uroot --socket="$dir/mysql.sock" <<SQL || return 1
CREATE DATABASE IF NOT EXISTS $TG_DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE USER IF NOT EXISTS '$TG_DB_USER'@'localhost' IDENTIFIED BY '$TG_DB_PASSWORD';
GRANT ALL PRIVILEGES ON $TG_DB_NAME.* TO '$TG_DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
    tg_db__log "MariaDB ready on $dir/mysql.sock"
}

tg_db__start_pgsql() {
    local dir="$TG_DB_DIR/pgsql" bin
    bin="$(tg_db__pg_bin)" || { tg_db__log "PostgreSQL binaries not found (apt-get install postgresql)"; return 1; }
    if tg_db__pgsql_running; then
        tg_db__log "PostgreSQL already running in $dir"
        return 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/run"
    if [ "$(id -u)" -eq 0 ]; then
        chmod 755 "$TG_DB_DIR"
        chown -R postgres: "$dir"
        if ! tg_db__as_pg test -w "$dir/data"; then
            tg_db__log "user postgres cannot reach $dir (a parent directory is not searchable)"
            return 1
        fi
    fi
    chmod 700 "$dir/data"
    local pwfile="$dir/pw"
    printf '%s\n' "$TG_DB_PASSWORD" >"$pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$pwfile"
    tg_db__log "initialising PostgreSQL in $dir"
    tg_db__as_pg "$bin/initdb" --no-sync -D "$dir/data" -U "$TG_DB_USER" --pwfile="$pwfile" \
        --auth-local=scram-sha-256 --auth-host=reject -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        tg_db__as_pg "$bin/initdb" --no-sync -D "$dir/data" -U "$TG_DB_USER" --pwfile="$pwfile" \
            --auth-local=scram-sha-256 --auth-host=reject -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
        tg_db__log "initdb failed:"; tail -n 20 "$dir/initdb.log" >&2; return 1; }
    rm -f "$pwfile"
    tg_db__as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir/run' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB" \
        start >/dev/null || { tg_db__log "PostgreSQL did not start:"; tail -n 20 "$dir/server.log" >&2; return 1; }
    PGPASSWORD="$TG_DB_PASSWORD" "$bin/psql" -h "$dir/run" -U "$TG_DB_USER" -d postgres -qAt \
        -c "CREATE DATABASE $TG_DB_NAME" >/dev/null || { tg_db__log "cannot create database $TG_DB_NAME"; return 1; }
    tg_db__log "PostgreSQL ready in $dir/run"
}

tg_db_env() {
    if [ -z "${TG_DATABASES:-}" ] || [ "$TG_DATABASES" = mysql ]; then
        if tg_db__mysql_running; then
            echo "export TG_TEST_MYSQL_DSN='mysql:unix_socket=$TG_DB_DIR/mysql/mysql.sock;dbname=$TG_DB_NAME;charset=utf8mb4'"
            echo "export TG_TEST_MYSQL_USER='$TG_DB_USER'"
            echo "export TG_TEST_MYSQL_PASSWORD='$TG_DB_PASSWORD'"
        fi
    fi
    if [ -z "${TG_DATABASES:-}" ] || [ "$TG_DATABASES" = pgsql ]; then
        if tg_db__pgsql_running; then
            echo "export TG_TEST_PGSQL_DSN='pgsql:host=$TG_DB_DIR/pgsql/run;port=5432;dbname=$TG_DB_NAME'"
            echo "export TG_TEST_PGSQL_USER='$TG_DB_USER'"
            echo "export TG_TEST_PGSQL_PASSWORD='$TG_DB_PASSWORD'"
        fi
    fi
}

tg_db_start() {
    mkdir -p "$TG_DB_DIR"
    local rc=0
    if [ -z "${TG_DATABASES:-}" ]; then
        # Both at once: initialisation is most of the time and they do not share anything.
        tg_db__start_mysql &
        local mpid=$!
        tg_db__start_pgsql || rc=1
        wait "$mpid" || rc=1
    elif [ "$TG_DATABASES" = mysql ]; then
        tg_db__start_mysql || rc=1
    elif [ "$TG_DATABASES" = pgsql ]; then
        tg_db__start_pgsql || rc=1
    fi
    eval "$(tg_db_env)"
    return $rc
}

tg_db_stop() {
    local bin pid
    if [ -f "$TG_DB_DIR/pgsql/data/postmaster.pid" ] && bin="$(tg_db__pg_bin)"; then
        tg_db__as_pg "$bin/pg_ctl" -D "$TG_DB_DIR/pgsql/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ -f "$TG_DB_DIR/mysql/mysqld.pid" ]; then
        pid="$(cat "$TG_DB_DIR/mysql/mysqld.pid" 2>/dev/null)"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            local i
            for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$TG_DB_DIR"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -uo pipefail
    case "${1:-start}" in
        start) tg_db_start >&2; status=$?; tg_db_env; exit $status ;;
        env) tg_db_env ;;
        stop) tg_db_stop ;;
        *) echo "usage: $0 [start|env|stop]" >&2; exit 2 ;;
    esac
fi
