<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Extension;

use PHPUnit\Framework\TestCase;
use TradingGrid\Tests\Sandbox;

final class RuntimeTest extends TestCase
{
    public function testACallInAForkedChildWorksAfterTheParentUsedTheRuntime(): void
    {
        if (!function_exists('pcntl_fork')) {
            $this->fail('pcntl is required for this test (php8.2-cli ships it)');
        }
        $sandbox = Sandbox::shared();
        $client = $sandbox->client();
        $this->assertTrue($client->ping()['ok'], 'parent starts the runtime before forking');

        $file = tempnam(sys_get_temp_dir(), 'tgfork');
        $pid = pcntl_fork();
        if ($pid === 0) {
            // PHP-FPM's situation: a worker forked from a process whose runtime ran.
            try {
                $started = microtime(true);
                $ok = $client->ping()['ok'] && $sandbox->client()->ping()['ok'];
                file_put_contents($file, json_encode(['ok' => $ok, 'ms' => (microtime(true) - $started) * 1000]));
            } catch (\Throwable $e) {
                file_put_contents($file, json_encode(['ok' => false, 'error' => $e->getMessage()]));
            }
            posix_kill(posix_getpid(), SIGKILL); // leave without running PHPUnit's shutdown
        }
        $waited = 0;
        while (pcntl_waitpid($pid, $status, WNOHANG) === 0) {
            usleep(50000);
            if (++$waited > 300) {
                posix_kill($pid, SIGKILL);
                $this->fail('the forked child hung (runtime inherited across fork)');
            }
        }
        $result = json_decode((string) file_get_contents($file), true);
        unlink($file);
        $this->assertTrue($result['ok'] ?? false, json_encode($result));
        $this->assertTrue($client->ping()['ok'], 'the parent still works');
    }

    public function testARustPanicBecomesATradingGridException(): void
    {
        putenv('TRADING_GRID_TEST_HOOKS=1');
        try {
            \TradingGrid\testPanic('deliberate');
            $this->fail('testPanic must throw');
        } catch (\TradingGrid\Exception $e) {
            $this->assertStringContainsString('deliberate', $e->getMessage());
            $this->assertSame(__FILE__, $e->getFile(), 'the exception carries the caller\'s file');
        } finally {
            putenv('TRADING_GRID_TEST_HOOKS');
        }
        $this->assertSame(\TradingGrid\version(), \TradingGrid\version(), 'the extension still works');
    }

    public function testExceptionsAreOrdinaryPhpExceptions(): void
    {
        $e = new \TradingGrid\ValidationException('made in PHP', 7);
        $this->assertInstanceOf(\RuntimeException::class, $e);
        $this->assertInstanceOf(\TradingGrid\Exception::class, $e);
        $this->assertSame(__LINE__ - 3, $e->getLine());
        $this->assertSame('', $e->getField());
        $this->assertSame([], $e->getErrors());
    }

    public function testPhpinfoHasASectionAndNoSecret(): void
    {
        $client = Sandbox::shared()->client();
        $client->ping();
        ob_start();
        phpinfo(INFO_MODULES);
        $info = (string) ob_get_clean();
        $this->assertStringContainsString('trading_grid support => enabled', $info);
        $this->assertStringContainsString('version => ' . \TradingGrid\version(), $info);
        $this->assertStringNotContainsString(Sandbox::CLIENT_SECRET, $info);
        $this->assertStringNotContainsString(Sandbox::CLIENT_SECRET, print_r($client, true));
        $this->assertStringNotContainsString(Sandbox::CLIENT_SECRET, var_export($client, true));
    }

    public function testStubsMatchTheLoadedExtension(): void
    {
        $root = dirname(__DIR__, 3);
        $generated = shell_exec(escapeshellarg(PHP_BINARY) . ' -d extension=' . escapeshellarg((string) getenv('TG_EXTENSION'))
            . ' ' . escapeshellarg($root . '/tools/gen-stubs.php'));
        $this->assertIsString($generated);
        $this->assertSame(
            file_get_contents($root . '/trading_grid.stubs.php'),
            $generated,
            'trading_grid.stubs.php is out of date: run make stubs',
        );
    }
}
