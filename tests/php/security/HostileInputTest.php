<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Security;

use PHPUnit\Framework\TestCase;
use TradingGrid\Tests\Sandbox;

/**
 * Every function and public method of the extension, found by reflection, called with
 * generated hostile arguments (wrong types, missing and extra arguments and keys, 1–16 MB
 * strings, 10k-deep nesting, reference cycles, invalid UTF-8, NAN/INF, extreme ints,
 * objects, closures, resources) in child PHP processes, so that a crash or a hang is
 * caught and reported with the call that caused it.
 *
 * TG_HOSTILE_CALLS (default 3000) sets the number of calls, TG_HOSTILE_SEED the seed
 * (default fixed, so a failure reproduces), TG_HOSTILE_BATCH the calls per child.
 * Network calls go to a private tg-sandbox or to a closed loopback port.
 */
final class HostileInputTest extends TestCase
{
    private const CHILD = __DIR__ . '/../fixtures/hostile-child.php';
    /** A call that makes no progress for this long is a hang. */
    private const STALL_SECONDS = 30.0;

    private float $stallSeconds = self::STALL_SECONDS;

    private static ?Sandbox $sandbox = null;
    private static int $closedPort = 0;

    public static function setUpBeforeClass(): void
    {
        self::$sandbox = Sandbox::start();
        // A loopback port nothing listens on: bind, read the port, close.
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        self::assertNotFalse($server, $errstr);
        $name = (string) stream_socket_get_name($server, false);
        self::$closedPort = (int) substr($name, strrpos($name, ':') + 1);
        fclose($server);
    }

    public static function tearDownAfterClass(): void
    {
        self::$sandbox?->stop();
        self::$sandbox = null;
    }

    /**
     * @param array<string,string> $env
     * @return array{exit:int,signal:?int,stdout:string,stderr:string,stalled:bool}
     */
    private function runChild(array $env, ?string $progress = null, float $limit = 600.0): array
    {
        $ext = (string) (getenv('TG_EXTENSION') ?: dirname(__DIR__, 3) . '/target/debug/libtrading_grid.so');
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=' . $ext, '-d', 'memory_limit=4G', '-d', 'display_errors=stderr',
            '-d', 'zend.assertions=1', self::CHILD];
        $env += [
            'TG_HOSTILE_BASE_URL' => self::$sandbox->baseUrl,
            'TG_HOSTILE_CLOSED' => (string) self::$closedPort,
            'PATH' => (string) getenv('PATH'),
        ];
        if (getenv('TRADING_GRID_TEST_HOOKS') === '1') {
            $env['TRADING_GRID_TEST_HOOKS'] = '1';
        }
        $out = tempnam(sys_get_temp_dir(), 'tgho');
        $err = tempnam(sys_get_temp_dir(), 'tghe');
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $out, 'w'], 2 => ['file', $err, 'w']], $pipes, null, $env);
        $this->assertIsResource($proc, 'cannot start the child PHP process');
        $lastSize = -1;
        $lastChange = microtime(true);
        $started = microtime(true);
        $stalled = false;
        while (true) {
            $status = proc_get_status($proc);
            if (!$status['running']) {
                break;
            }
            clearstatcache();
            $size = $progress !== null && is_file($progress) ? filesize($progress) : 0;
            if ($size !== $lastSize) {
                $lastSize = $size;
                $lastChange = microtime(true);
            }
            $noProgress = $progress !== null && microtime(true) - $lastChange > $this->stallSeconds;
            if ($noProgress || microtime(true) - $started > $limit) {
                $stalled = true;
                proc_terminate($proc, 9);
                usleep(100_000);
                $status = proc_get_status($proc);
                break;
            }
            usleep(20_000);
        }
        proc_close($proc);
        $result = [
            'exit' => (int) $status['exitcode'],
            'signal' => $status['signaled'] ? (int) $status['termsig'] : null,
            'stdout' => (string) file_get_contents($out),
            'stderr' => (string) file_get_contents($err),
            'stalled' => $stalled,
        ];
        unlink($out);
        unlink($err);
        return $result;
    }

    /**
     * Runs calls 0..$total-1 in children of $batch calls each.
     *
     * @param array<string,string> $env
     * @return array{outcomes:array<string,int>,findings:list<array<string,mixed>>,crashes:list<string>,slowest:list<string>,warnings:int,done:int}
     */
    private function hostileRun(int $total, int $batch, string $seed, array $env = []): array
    {
        $outcomes = [];
        $findings = [];
        $crashes = [];
        $slowest = [];
        $warnings = 0;
        $done = 0;
        $next = 0;
        while ($next < $total) {
            $count = min($batch, $total - $next);
            $progress = tempnam(sys_get_temp_dir(), 'tghp');
            $r = $this->runChild([
                'TG_HOSTILE_MODE' => 'calls', 'TG_HOSTILE_SEED' => $seed,
                'TG_HOSTILE_FROM' => (string) $next, 'TG_HOSTILE_COUNT' => (string) $count,
                'TG_HOSTILE_PROGRESS' => $progress,
            ] + $env, $progress);
            $lines = file($progress, FILE_IGNORE_NEW_LINES) ?: [];
            unlink($progress);
            $summary = json_decode(trim($r['stdout']), true);
            if ($r['exit'] === 0 && $r['signal'] === null && !$r['stalled'] && is_array($summary)) {
                foreach ($summary['outcomes'] as $k => $n) {
                    $outcomes[$k] = ($outcomes[$k] ?? 0) + $n;
                }
                $findings = array_merge($findings, $summary['findings']);
                $slowest = array_merge($slowest, $summary['slowest']);
                $warnings += $summary['warnings'];
                $done += $count;
                $next += $count;
                continue;
            }
            // The child died or hung: find the call that began and never ended.
            // The calls it finished still count.
            $begun = null;
            $ended = [];
            foreach ($lines as $line) {
                if (str_starts_with($line, 'B ')) {
                    $begun = $line;
                } elseif (str_starts_with($line, 'E ')) {
                    [, $i, $outcome] = explode(' ', $line, 3) + [2 => ''];
                    $ended[(int) $i] = true;
                    $key = explode(':', $outcome, 2)[0];
                    $outcomes[$key] = ($outcomes[$key] ?? 0) + 1;
                    if (in_array($key, ['UNEXPECTED', 'PANIC', 'RETURN-TYPE'], true) && $begun !== null) {
                        $findings[] = ['call' => (int) $i, 'desc' => substr($begun, strlen("B $i ")), 'outcome' => $outcome];
                    }
                }
            }
            $index = $begun !== null ? (int) explode(' ', $begun, 3)[1] : $next;
            $crashes[] = sprintf('call %d (seed %s): %s — %s; stderr: %s', $index, $seed,
                $begun !== null ? substr($begun, strlen("B $index ")) : '(before the first call)',
                $r['stalled'] ? 'HUNG (no progress for ' . $this->stallSeconds . ' s)' : ($r['signal'] !== null ? 'killed by signal ' . $r['signal'] : 'exit code ' . $r['exit']),
                substr(trim($r['stderr']), -400));
            $done += count($ended);
            $next = $index + 1; // go on after the offending call
        }
        ksort($outcomes);
        rsort($slowest, SORT_NATURAL);
        return ['outcomes' => $outcomes, 'findings' => $findings, 'crashes' => $crashes, 'slowest' => $slowest,
            'warnings' => $warnings, 'done' => $done];
    }

    /**
     * Adds figures to the JSON file named by TG_HOSTILE_REPORT (make chaos renders it
     * into RELIABILITY.md).
     *
     * @param array<string,int|float|string> $figures
     */
    private static function report(array $figures): void
    {
        $file = getenv('TG_HOSTILE_REPORT');
        if (!$file) {
            return;
        }
        $old = is_file($file) ? json_decode((string) file_get_contents($file), true) : [];
        file_put_contents($file, json_encode((is_array($old) ? $old : []) + $figures, JSON_PRETTY_PRINT) . "\n");
    }

    public function testEveryEntryPointSurvivesHostileCalls(): void
    {
        $total = (int) (getenv('TG_HOSTILE_CALLS') ?: 3000);
        $batch = max(1, (int) (getenv('TG_HOSTILE_BATCH') ?: 1000));
        $seed = (string) (getenv('TG_HOSTILE_SEED') ?: '20261125');
        $started = microtime(true);
        ['outcomes' => $outcomes, 'findings' => $findings, 'crashes' => $crashes, 'slowest' => $slowest,
            'warnings' => $warnings, 'done' => $done] = $this->hostileRun($total, $batch, $seed);
        fwrite(STDERR, sprintf("\n[hostile] %d calls in %.1f s (seed %s): %s; %d engine warnings/deprecations; %d crashes/hangs; slowest: %s\n",
            $done + count($crashes), microtime(true) - $started, $seed, json_encode($outcomes), $warnings, count($crashes),
            $slowest[0] ?? '-'));
        self::report(['calls' => $done + count($crashes), 'seconds' => round(microtime(true) - $started, 1), 'seed' => $seed,
            'crashes or hangs' => count($crashes), 'unexpected throwables' => count($findings),
            'engine warnings' => $warnings] + array_map('intval', $outcomes));

        $this->assertSame([], $crashes, "calls that crashed or hung the PHP process:\n" . implode("\n", $crashes));
        $this->assertSame([], $findings, "calls that threw something other than TypeError, ArgumentCountError, ValueError or a TradingGrid\\Exception (or panicked, or broke a declared return type):\n"
            . json_encode($findings, JSON_PRETTY_PRINT | JSON_INVALID_UTF8_SUBSTITUTE));
        $this->assertSame($total, array_sum($outcomes) + count($crashes));
        // The generator reaches the extension's code, not only the engine's type checks.
        $this->assertGreaterThan($total / 20, $outcomes['returned'] ?? 0);
        $this->assertGreaterThan($total / 20, $outcomes['ValidationException'] ?? 0);
        $this->assertGreaterThan(0, $outcomes['TransportException'] ?? 0, 'the closed port was called');
        $this->assertGreaterThan(0, $outcomes['AuthException'] ?? 0, 'the wrong secret was refused');
    }

    public function testTheHarnessNamesTheCallThatCrashedOrHungAndGoesOn(): void
    {
        $this->stallSeconds = 1.5;
        $r = $this->hostileRun(12, 12, '7', ['TG_HOSTILE_SELFTEST_CRASH' => '3', 'TG_HOSTILE_SELFTEST_HANG' => '8', 'TG_HOSTILE_HUGE' => '0']);
        $this->assertCount(2, $r['crashes'], implode("\n", $r['crashes']));
        $this->assertMatchesRegularExpression('/^call 3 \(seed 7\): .+ — killed by signal 11;/', $r['crashes'][0]);
        $this->assertMatchesRegularExpression('/^call 8 \(seed 7\): .+ — HUNG \(no progress for 1.5 s\);/', $r['crashes'][1]);
        $this->assertSame(10, array_sum($r['outcomes']), 'the calls after each crash ran in a new child');
    }

    public function testMemoryDoesNotGrowOverRepeatedBatches(): void
    {
        $r = $this->runChild([
            'TG_HOSTILE_MODE' => 'memory', 'TG_HOSTILE_COUNT' => '300', 'TG_HOSTILE_HUGE' => '0',
            'TG_HOSTILE_SEED' => (string) (getenv('TG_HOSTILE_SEED') ?: '20261125'),
        ], null, 300.0);
        $this->assertSame(0, $r['exit'], $r['stderr']);
        $summary = json_decode(trim($r['stdout']), true);
        $this->assertIsArray($summary, $r['stdout'] . $r['stderr']);
        $report = [];
        foreach ($summary['phases'] as $name => $p) {
            $mem = $p['memAfter'] - $p['memBefore'];
            $rss = $p['rssAfter'] - $p['rssBefore'];
            $report[] = sprintf('%s: PHP heap %+d KiB, RSS %+d KiB', $name, intdiv($mem, 1024), intdiv($rss, 1024));
            // Three more rounds of the same work after two warm-up rounds: PHP's heap is
            // back where it was (a leaked exception or array would show here) and the
            // process (Rust allocations included) has grown by allocator noise at most.
            $this->assertLessThan(64 * 1024, $mem, "$name: the PHP heap grew by $mem bytes");
            $this->assertLessThan(2 * 1024 * 1024, $rss, "$name: RSS grew by $rss bytes");
        }
        fwrite(STDERR, "\n[hostile memory] " . implode('; ', $report) . "\n");
        self::report(['memory over repeated batches' => implode('; ', $report)]);
    }

    public function testObjectStatesTheGeneratorDoesNotReach(): void
    {
        $r = $this->runChild(['TG_HOSTILE_MODE' => 'special', 'TG_HOSTILE_HUGE' => '0'], null, 120.0);
        $this->assertNull($r['signal'], 'the child crashed: ' . $r['stderr']);
        $this->assertSame(0, $r['exit'], $r['stderr']);
        $cases = json_decode(trim($r['stdout']), true);
        $this->assertIsArray($cases, $r['stdout']);
        $expect = [
            // An object made without its constructor is refused, never dereferenced.
            'client-without-constructor' => \Exception::class,
            'mapper-without-constructor' => \Exception::class,
            'unserialize-client' => \Exception::class,
            'unserialize-mapper' => \Exception::class,
            'serialize-client' => \Exception::class,
            'clone-client' => \Error::class,
            'clone-mapper' => \Error::class,
            'new-webhook' => \Exception::class,
            'reconstruct-with-bad-options-then-use' => \TradingGrid\TransportException::class,
            'getter-on-object-property' => 'returned',
            'getter-on-reference-property' => 'returned',
            'getter-on-unset-property' => 'returned',
            'getter-on-resource-property' => 'returned',
            'getter-called-on-foreign-object' => \ReflectionException::class,
            'getter-closure-bound-to-foreign-object' => \Error::class,
            'deep-10k-payload' => \TradingGrid\ValidationException::class,
            'reference-cycle-payload' => \TradingGrid\ValidationException::class,
            'foreach-by-reference-leftover' => 'returned',
            'send-batch-with-references-and-objects' => 'returned',
            // ext-php-rs's own array iterators panic on a string key that is not UTF-8.
            'non-utf8-key-in-payload' => \TradingGrid\ValidationException::class,
            'non-utf8-key-in-batch' => 'returned',
            'non-utf8-key-in-webhook-types' => \TradingGrid\TransportException::class, // accepted, then the closed port
            'non-string-webhook-type' => \TradingGrid\ValidationException::class,
            // The engine takes messages as C strings.
            'nul-byte-echoed-in-message' => \TradingGrid\ValidationException::class,
            // Header values: refused when the client is built, not as a retryable transport error later.
            'control-characters-in-tenant' => \TradingGrid\ValidationException::class,
            // "." and ".." are resolved by URL parsers: /partners/.. is /tgx/v1/.
            'dot-segment-id' => \TradingGrid\ValidationException::class,
            'dot-segment-in-payload' => \TradingGrid\ValidationException::class,
        ];
        foreach ($expect as $name => $outcome) {
            $this->assertArrayHasKey($name, $cases);
            $this->assertSame($outcome, $cases[$name]['outcome'], "$name: " . json_encode($cases[$name]));
        }
        $this->assertStringContainsString('nested deeper than 64 levels', $cases['deep-10k-payload']['message']);
        $this->assertStringContainsString('nested deeper than 64 levels', $cases['reference-cycle-payload']['message']);
        $this->assertSame('string(8)"accepted"', $cases['foreach-by-reference-leftover']['value']);
        $this->assertStringContainsString('not allowed', $cases['serialize-client']['message']);
        $this->assertSame('(payload): has a key that is not valid UTF-8', $cases['non-utf8-key-in-payload']['message']);
        $this->assertStringContainsString('types[1]: must be an event type name', $cases['non-string-webhook-type']['message']);
        $this->assertStringStartsWith("op: unknown operation 'partner.upsert\\0'", $cases['nul-byte-echoed-in-message']['message']);
        $this->assertSame('tenant: must not contain control characters', $cases['control-characters-in-tenant']['message']);
        $this->assertStringContainsString('must not be . or ..', $cases['dot-segment-id']['message']);
        $this->assertStringContainsString('must not be . or ..', $cases['dot-segment-in-payload']['message']);
        $this->assertStringContainsString('"ops[0].payload"', $cases['non-utf8-key-in-batch']['value'], 'a validation result naming the op, not a panic');
    }
}
