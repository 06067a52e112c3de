<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

/**
 * Connections to the database the store tests run against, chosen by TG_STORE_DRIVER
 * (sqlite, the default; mysql; pgsql). MySQL and PostgreSQL come from
 * tests/scripts/start-databases.sh (TG_TEST_MYSQL_DSN, TG_TEST_PGSQL_DSN, ...).
 * Connections are opened the way Drupal opens them, so the stores are tested under the
 * same SQL modes and flags they meet in a site.
 */
final class TestDatabase
{
    public static function driver(): string
    {
        $driver = getenv('TG_STORE_DRIVER') ?: 'sqlite';
        if (!in_array($driver, ['sqlite', 'mysql', 'pgsql'], true)) {
            throw new \RuntimeException("TG_STORE_DRIVER must be sqlite, mysql or pgsql, got '$driver'");
        }
        return $driver;
    }

    /**
     * The SQLite file: TG_TEST_SQLITE_PATH, or a file of this process's own (removed when
     * it exits) so two test runs on one machine never share tables. Child processes get
     * the path through childEnv().
     */
    public static function sqlitePath(): string
    {
        $path = getenv('TG_TEST_SQLITE_PATH');
        if (!$path) {
            $path = sys_get_temp_dir() . '/tg-stores-' . getmypid() . '-' . bin2hex(random_bytes(4)) . '.sqlite';
            putenv("TG_TEST_SQLITE_PATH=$path");
            register_shutdown_function(static function () use ($path): void {
                foreach (['', '-wal', '-shm', '-journal'] as $suffix) {
                    @unlink($path . $suffix);
                }
            });
        }
        return $path;
    }

    public static function connect(?string $driver = null): \PDO
    {
        $driver ??= self::driver();
        if ($driver === 'sqlite') {
            $pdo = new \PDO('sqlite:' . self::sqlitePath(), null, null, [
                \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
                \PDO::ATTR_TIMEOUT => 60,
            ]);
            $pdo->exec('PRAGMA foreign_keys = OFF');
            // Write-ahead log without an fsync per commit: what a busy SQLite site should run
            // with, and several times faster for the multi-process tests. The stores do not
            // depend on it (they pass with the default rollback journal too, only slower).
            $pdo->exec('PRAGMA journal_mode = WAL');
            $pdo->exec('PRAGMA synchronous = NORMAL');
            return $pdo;
        }
        $env = strtoupper($driver);
        $dsn = getenv("TG_TEST_{$env}_DSN");
        if (!$dsn) {
            throw new \RuntimeException(
                "TG_TEST_{$env}_DSN is not set: run tests/scripts/store-tests.sh, or "
                . 'eval "$(tests/scripts/start-databases.sh start)" first'
            );
        }
        $user = getenv("TG_TEST_{$env}_USER") ?: null;
        $password = getenv("TG_TEST_{$env}_PASSWORD") ?: null;
        if ($driver === 'mysql') {
            // Drupal's MySQL driver: emulated prepares, FOUND_ROWS, ANSI + strict SQL mode.
            $pdo = new \PDO($dsn, $user, $password, [
                \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
                \PDO::ATTR_EMULATE_PREPARES => true,
                \PDO::MYSQL_ATTR_FOUND_ROWS => true,
                \PDO::MYSQL_ATTR_MULTI_STATEMENTS => false,
            ]);
            $pdo->exec("SET sql_mode = 'ANSI,TRADITIONAL,ONLY_FULL_GROUP_BY'");
            $pdo->exec("SET NAMES utf8mb4");
            return $pdo;
        }
        return new \PDO($dsn, $user, $password, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
    }

    /** Environment for a child process that must reach the same database. */
    public static function childEnv(): array
    {
        $env = getenv();
        $env['TG_STORE_DRIVER'] = self::driver();
        $env['TG_TEST_SQLITE_PATH'] = self::sqlitePath();
        return $env;
    }
}
