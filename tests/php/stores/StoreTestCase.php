<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\Schema;
use PHPUnit\Framework\TestCase;

/**
 * Base for the store tests: a fresh set of tables (under a test prefix) in the database
 * TG_STORE_DRIVER names, and a clock the test moves by hand.
 */
abstract class StoreTestCase extends TestCase
{
    protected const PREFIX = 'tgtest_';

    private static ?\PDO $shared = null;
    private static bool $installed = false;

    protected \PDO $pdo;
    protected int $now = 1_800_000_000;

    public static function pdo(): \PDO
    {
        return self::$shared ??= TestDatabase::connect();
    }

    protected function setUp(): void
    {
        $this->pdo = self::pdo();
        if (!self::$installed) {
            Schema::uninstall($this->pdo, static::PREFIX);
            Schema::install($this->pdo, static::PREFIX);
            self::$installed = true;
        }
        foreach (Schema::TABLES as $table) {
            $this->pdo->exec('DELETE FROM ' . $this->quote(static::PREFIX . $table));
        }
    }

    protected function tearDown(): void
    {
        if ($this->pdo->inTransaction()) {
            $this->pdo->rollBack();
        }
    }

    /**
     * The shared sandbox, reset, for the tests that go end to end through the real
     * extension; the test is skipped (saying why) when the extension is not loaded.
     * Call before parent::setUp().
     */
    protected function resetSandbox(): \TradingGrid\Tests\Sandbox
    {
        if (!extension_loaded('trading_grid')) {
            $this->markTestSkipped('the trading_grid extension is not loaded');
        }
        $sandbox = \TradingGrid\Tests\Sandbox::shared();
        $sandbox->reset();
        return $sandbox;
    }

    /** The clock the stores read: $this->now, moved by the test. */
    protected function clock(): \Closure
    {
        return fn (): int => $this->now;
    }

    protected function quote(string $identifier): string
    {
        return $this->pdo->getAttribute(\PDO::ATTR_DRIVER_NAME) === 'mysql' ? "`$identifier`" : "\"$identifier\"";
    }

    protected function table(string $name): string
    {
        return $this->quote(static::PREFIX . $name);
    }

    protected function rowCount(string $table): int
    {
        return (int) $this->pdo->query('SELECT COUNT(*) FROM ' . $this->table($table))->fetchColumn();
    }

    /**
     * Runs a PHP script of this folder in another process and returns its exit code,
     * standard output and standard error.
     *
     * @param list<string> $args
     * @return array{0:int, 1:string, 2:string}
     */
    protected static function php(string $script, array $args = []): array
    {
        $proc = self::spawn($script, $args, $pipes);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($proc), (string) $out, (string) $err];
    }

    /**
     * @param list<string> $args
     * @param array<int, resource>|null $pipes
     * @return resource
     */
    protected static function spawn(string $script, array $args, ?array &$pipes)
    {
        // Children need no extension: they drain through a recording fake sender.
        $cmd = array_merge([PHP_BINARY, __DIR__ . '/' . $script], $args);
        $proc = proc_open(
            $cmd,
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes,
            null,
            TestDatabase::childEnv()
        );
        if (!is_resource($proc)) {
            throw new \RuntimeException("cannot start $script");
        }
        return $proc;
    }
}
