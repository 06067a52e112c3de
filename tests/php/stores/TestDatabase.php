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

    public static function sqlitePath(): string
    {
        return getenv('TG_TEST_SQLITE_PATH') ?: sys_get_temp_dir() . '/tg-stores-' . getmyuid() . '.sqlite';
    }

    public static function connect(?string $driver = null): \PDO
    {
        $driver ??= self::driver();
        if ($driver === 'sqlite') {
            $pdo = new \PDO('sqlite:' . self::sqlitePath(), null, null, [
                \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
                \PDO::ATTR_TIMEOUT => 60,
            ]);
            // As Drupal's SQLite driver does.
            $pdo->exec('PRAGMA foreign_keys = OFF');
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
