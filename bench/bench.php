<?php
/**
 * The benchmark driver (bench/run.sh calls it): starts the sandbox and the latency tap,
 * runs every measurement as its own process, and writes all results as one JSON file.
 *
 *   php bench/bench.php --out FILE [--smoke]
 *   php bench/bench.php --delivery-only [--conc 32] [--rounds 3] [--ops 20000]
 *       (just the delivery rounds at the given concurrency, with the paired ratios on
 *       stderr: for trying a change to the client quickly; writes no report)
 *
 * Environment (run.sh sets it): TG_BENCH_EXT (the extension .so), TG_BENCH_SANDBOX_BIN,
 * TG_BENCH_BIN (tg-bench), TG_BENCH_WORK (a scratch directory); the TG_TEST_*_DSN
 * variables of tests/scripts/start-databases.sh for the MariaDB/PostgreSQL outbox runs.
 */

declare(strict_types=1);

namespace TradingGrid\Bench;

require __DIR__ . '/lib.php';

$o = options($argv);
$smoke = isset($o['smoke']);
$out = $o['out'] ?? (env('TG_BENCH_WORK') . '/results.json');
$work = env('TG_BENCH_WORK');
$ext = env('TG_BENCH_EXT');
$php = PHP_BINARY;
$phpExt = [$php, '-d', "extension=$ext"];
$tgBench = env('TG_BENCH_BIN');
$log = "$work/bench.log";

$cfg = $smoke
    ? ['ops' => 300, 'warmup' => 32, 'conc' => [1, 8, 32], 'rounds' => 1, 'rounds32' => 1, 'latencyOps' => 150,
        'outbox' => 300, 'inbound' => 400, 'inboundStored' => 120, 'block' => 100, 'growth' => 2000, 'forks' => 2, 'rssPairs' => 1]
    : ['ops' => 20000, 'warmup' => 256, 'conc' => [1, 8, 32, 64], 'rounds' => 3, 'rounds32' => 5, 'latencyOps' => 5000,
        'outbox' => 2000, 'inbound' => 6000, 'inboundStored' => 1200, 'block' => 500, 'growth' => 100000, 'forks' => 7, 'rssPairs' => 5];

$deliveryOnly = isset($o['delivery-only']);
if ($deliveryOnly) {
    $cfg['conc'] = [(int) ($o['conc'] ?? 32)];
    $cfg['rounds'] = $cfg['rounds32'] = (int) ($o['rounds'] ?? 3);
    $cfg['ops'] = (int) ($o['ops'] ?? $cfg['ops']);
}

const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret-0123456789';
const TENANT = 'GC51278300AS';

function say(string $msg): void
{
    fwrite(STDERR, '[bench ' . date('H:i:s') . "] $msg\n");
}

/**
 * Starts a long-running helper and waits for its "listening on URL" line.
 * @return array{proc: resource, pipes: array, pid: int, url: string}
 */
function startServer(array $cmd, string $log): array
{
    $pipes = [];
    $proc = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $log, 'a']], $pipes);
    if (!is_resource($proc)) {
        throw new \RuntimeException('cannot start ' . $cmd[0]);
    }
    $line = (string) fgets($pipes[1]);
    if (!preg_match('~listening on (http://\S+)~', $line, $m)) {
        proc_terminate($proc);
        throw new \RuntimeException("$cmd[0] did not report its address: '$line' (see $log)");
    }
    return ['proc' => $proc, 'pipes' => $pipes, 'pid' => proc_get_status($proc)['pid'], 'url' => rtrim($m[1], '/')];
}

/** Read/write byte counters of a process (/proc/PID/io). @return array{0:int,1:int}|null */
function ioOf(int $pid): ?array
{
    $io = @file_get_contents("/proc/$pid/io");
    if ($io === false || !preg_match('/^rchar: (\d+)$/m', $io, $r) || !preg_match('/^wchar: (\d+)$/m', $io, $w)) {
        return null;
    }
    return [(int) $r[1], (int) $w[1]];
}

/**
 * Runs one measurement process and returns its JSON line, plus the sandbox's CPU over the
 * run. With $sample, /proc/PID/io is read every 2 ms to find when the process first and
 * last wrote to its socket (the wire phase, against time spent converting in PHP).
 */
function run(array $cmd, array $env, string $log, bool $sample = false): array
{
    global $sandbox;
    admin('POST', '/_sandbox/reset');
    $sb0 = cpuOf($sandbox['pid']);
    $pipes = [];
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $log, 'a']],
        $pipes, ROOT, $env + getenv());
    if (!is_resource($proc)) {
        throw new \RuntimeException('cannot run ' . implode(' ', $cmd));
    }
    $pid = proc_get_status($proc)['pid'];
    $stdout = '';
    $samples = [];
    stream_set_blocking($pipes[1], false);
    while (true) {
        $r = [$pipes[1]];
        $w = $x = null;
        if (stream_select($r, $w, $x, 0, $sample ? 2000 : 200000) > 0) {
            $chunk = fread($pipes[1], 65536);
            if ($chunk === '' || $chunk === false) {
                if (feof($pipes[1])) {
                    break;
                }
            } else {
                $stdout .= $chunk;
            }
        }
        if ($sample && ($io = ioOf($pid)) !== null) {
            $samples[] = [microtime(true), $io[1]];
        }
    }
    fclose($pipes[1]);
    $code = proc_close($proc);
    $sbCpu = cpuOf($sandbox['pid']) - $sb0;
    $lines = array_values(array_filter(explode("\n", trim($stdout))));
    $res = $lines ? json_decode(end($lines), true) : null;
    if ($code !== 0 || !is_array($res)) {
        throw new \RuntimeException('failed (' . $code . '): ' . implode(' ', $cmd) . " — see $log");
    }
    $res['sandboxCpuSeconds'] = $sbCpu;
    if ($sample && isset($res['measureStart'], $res['measureEnd'])) {
        $in = array_values(array_filter($samples, fn ($s) => $s[0] >= $res['measureStart'] && $s[0] <= $res['measureEnd']));
        if (count($in) > 2) {
            $w0 = $in[0][1];
            $first = null;
            $last = null;
            $prev = $w0;
            foreach ($in as [$t, $wchar]) {
                if ($first === null && $wchar > $w0 + 4096) {
                    $first = $t;
                }
                if ($wchar !== $prev) {
                    $last = $t;
                    $prev = $wchar;
                }
            }
            if ($first !== null && $last !== null) {
                $res['phases'] = ['inSeconds' => $first - $res['measureStart'], 'wireSeconds' => $last - $first,
                    'outSeconds' => $res['measureEnd'] - $last];
            }
        }
    }
    return $res;
}

/** The command of one delivery run. */
function deliveryCmd(string $client, int $c, int $count): array
{
    global $phpExt, $php, $tgBench;
    return match ($client) {
        'ext' => [...$phpExt, __DIR__ . '/deliver-ext.php', '--concurrency', (string) $c, '--count', (string) $count],
        'ext-h2' => [...$phpExt, __DIR__ . '/deliver-ext.php', '--concurrency', (string) $c, '--count', (string) $count, '--http2'],
        'guzzle-pool' => [$php, __DIR__ . '/deliver-guzzle.php', '--concurrency', (string) $c, '--count', (string) $count, '--http1'],
        'guzzle-serial' => [$php, __DIR__ . '/deliver-guzzle.php', '--serial', '--count', (string) $count, '--http1'],
        // The ceiling and the engine diagnostics speak what the extension speaks by default
        // (HTTP/1.1, up to N connections); native-h2 is the ceiling over one HTTP/2 connection.
        'native', 'native-h2', 'core-batch', 'core-spawn' => [$tgBench, 'deliver', '--base', env('TG_BENCH_BASE_URL'),
            '--tenant', TENANT, '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET,
            '--payloads', env('TG_BENCH_PAYLOADS'), '--concurrency', (string) $c, '--count', (string) $count,
            '--engine', str_starts_with($client, 'native') ? 'raw' : $client,
            ...($client === 'native-h2' ? [] : ['--http1'])],
    };
}

/** What the figures were measured on. */
function machine(): array
{
    $sh = static fn (string $cmd): string => trim((string) @shell_exec($cmd . ' 2>/dev/null'));
    preg_match('/^model name\s*:\s*(.+)$/m', (string) @file_get_contents('/proc/cpuinfo'), $cpu);
    preg_match('/^MemTotal:\s+(\d+)/m', (string) @file_get_contents('/proc/meminfo'), $mem);
    preg_match('/PRETTY_NAME="([^"]+)"/', (string) @file_get_contents('/etc/os-release'), $os);
    $curl = curl_version();
    return [
        'date' => gmdate('Y-m-d H:i') . ' UTC',
        'cpu' => $cpu[1] ?? 'unknown CPU',
        'cores' => (int) $sh('nproc'),
        'memGb' => isset($mem[1]) ? round($mem[1] / 1048576, 1) : null,
        'os' => $os[1] ?? php_uname('s'),
        'kernel' => php_uname('r'),
        'virt' => $sh('systemd-detect-virt') ?: null,
        'php' => PHP_VERSION,
        'rustc' => $sh('rustc --version'),
        'curl' => $curl['version'] . ' (' . ($curl['ssl_version'] ?? '') . ', nghttp2 ' . ($curl['features'] & CURL_VERSION_HTTP2 ? 'yes' : 'no') . ')',
        'guzzle' => $sh("dpkg-query -W -f='\${Version}' php-guzzlehttp-guzzle") ?: 'unknown',
        'commit' => $sh('git -C ' . escapeshellarg(ROOT) . ' rev-parse --short HEAD')
            . ($sh('git -C ' . escapeshellarg(ROOT) . ' status --porcelain -- src crates') !== '' ? ' (+ uncommitted changes)' : ''),
        'loadavg' => trim(explode(' ', (string) @file_get_contents('/proc/loadavg'), 4)[0] ?? ''),
    ];
}

// ------------------------------------------------------------------- set-up
@mkdir($work, 0777, true);
file_put_contents($log, '');
$started = microtime(true);
$sandbox = startServer([env('TG_BENCH_SANDBOX_BIN'), '--listen', '127.0.0.1:0', '--client-id', CLIENT_ID,
    '--client-secret', CLIENT_SECRET, '--tenant', TENANT, '--quiet'], $log);
register_shutdown_function(static function () use (&$sandbox, &$tap): void {
    foreach ([$tap ?? null, $sandbox] as $s) {
        if ($s !== null && is_resource($s['proc'])) {
            @fwrite($s['pipes'][0], "quit\n");
            proc_terminate($s['proc'], 15);
            proc_close($s['proc']);
        }
    }
});
$tap = startServer([$tgBench, 'tap', '--upstream', substr($sandbox['url'], strlen('http://'))], $log);
say("sandbox {$sandbox['url']} (pid {$sandbox['pid']}), latency tap {$tap['url']}");

$payloads = "$work/payloads.json";
file_put_contents($payloads, json_encode(['warmup' => makePartners($cfg['warmup'], 'warmup'),
    'ops' => makePartners($cfg['ops'], 'bench')], JSON_UNESCAPED_SLASHES));
$env = ['TG_BENCH_BASE_URL' => $sandbox['url'], 'TG_BENCH_ADMIN_URL' => $sandbox['url'], 'TG_BENCH_TENANT' => TENANT,
    'TG_BENCH_CLIENT_ID' => CLIENT_ID, 'TG_BENCH_CLIENT_SECRET' => CLIENT_SECRET, 'TG_BENCH_PAYLOADS' => $payloads];
foreach ($env as $k => $v) {
    putenv("$k=$v");
}
$results = ['smoke' => $smoke, 'config' => $cfg, 'meta' => machine()];

// ------------------------------------------------------ 1. delivery throughput
// Rounds; inside a round, for each concurrency, the clients run back to back in an order
// that rotates every round, so each ratio comes from runs minutes apart at most.
$runs = [];
$clients = ['ext', 'guzzle-pool', 'native'];
for ($round = 0; $round < max($cfg['rounds'], $cfg['rounds32']); $round++) {
    $plan = [];
    foreach ($cfg['conc'] as $c) {
        if ($round >= $cfg['rounds'] && $c !== 32) {
            continue;
        }
        $order = $clients;
        for ($k = 0; $k < ($round + $c) % 3; $k++) {
            $order[] = array_shift($order);
        }
        foreach ($order as $cl) {
            $plan[] = [$cl, $c];
        }
        if ($c === 32) {
            // Diagnostics: the extension over Guzzle's protocol, and its engine without PHP,
            // driven two ways.
            $plan[] = ['ext-h2', 32];
            $plan[] = ['native-h2', 32];
            $plan[] = ['core-batch', 32];
            $plan[] = ['core-spawn', 32];
        }
    }
    if ($round < $cfg['rounds']) {
        $plan[] = ['guzzle-serial', 1];
    }
    foreach ($plan as [$cl, $c]) {
        $r = run(deliveryCmd($cl, $c, $cfg['ops']), [], $log);
        $r['client'] = $cl;
        $r['round'] = $round;
        $runs[] = $r;
        say(sprintf('round %d  %-13s c=%-3d %8.0f ops/s  cpu %.2fs  sandbox cpu %.2fs%s', $round + 1, $cl, $c,
            $r['opsPerSec'], $r['cpuSeconds'], $r['sandboxCpuSeconds'], $r['failed'] ? "  FAILED {$r['failed']}" : ''));
    }
}
// One more extension run at 32, watched every 2 ms (/proc/PID/io) to see when it first and
// last wrote to its socket. Apart from the rounds: the watching costs the driver CPU that
// the 2 cores would otherwise give the client and the sandbox.
if (in_array(32, $cfg['conc'], true)) {
    $r = run(deliveryCmd('ext', 32, $cfg['ops']), [], $log, true);
    $r['client'] = 'ext-phases';
    $r['round'] = -1;
    $runs[] = $r;
}
$results['delivery'] = ['runs' => $runs];
if ($deliveryOnly) {
    foreach (['guzzle-pool', 'native', 'core-batch'] as $other) {
        $ratios = [];
        for ($round = 0; $round < $cfg['rounds']; $round++) {
            $of = static fn (string $cl): array => array_values(array_filter($runs,
                fn ($x) => $x['client'] === $cl && $x['round'] === $round));
            if ($of('ext') && $of($other)) {
                $ratios[] = $of('ext')[0]['opsPerSec'] / $of($other)[0]['opsPerSec'];
            }
        }
        say(sprintf('ext / %s: median %.2f over %d rounds', $other, $ratios ? median($ratios) : NAN, count($ratios)));
    }
    exit(0);
}

// ---------------------------------------------------------- latency (the tap)
// Per-request latency on the wire, measured the same way for every client by the relay
// (the extension's sendBatch does not expose per-operation timings to PHP).
putenv('TG_BENCH_BASE_URL=' . $tap['url']);
$lat = [];
$latPlan = [];
foreach ($cfg['conc'] as $c) {
    foreach (['ext', 'guzzle-pool', 'native'] as $cl) {
        $latPlan[] = [$cl, $c];
    }
}
$latPlan[] = ['guzzle-serial', 1];
foreach ($latPlan as [$cl, $c]) {
    $r = run(deliveryCmd($cl, $c, $cfg['latencyOps']), ['TG_BENCH_BASE_URL' => $tap['url']], $log);
    fwrite($tap['pipes'][0], 'report ' . sprintf('%.6f', $r['measureStart']) . "\n");
    $t = json_decode((string) fgets($tap['pipes'][1]), true);
    $lat[] = ['client' => $cl, 'concurrency' => $c, 'ops' => $r['ops'], 'samples' => $t['samples'],
        'p50Ms' => $t['p50Ms'], 'p99Ms' => $t['p99Ms'], 'opsPerSecThroughTap' => $r['opsPerSec']];
    say(sprintf('latency  %-13s c=%-3d p50 %.2f ms  p99 %.2f ms  (%d samples)', $cl, $c, $t['p50Ms'], $t['p99Ms'], $t['samples']));
}
putenv('TG_BENCH_BASE_URL=' . $sandbox['url']);
$results['latency'] = $lat;

// ------------------------------------------------------ 2. request-path overhead
$results['outbox'] = [];
foreach ([['sqlite', null], ['sqlite', 'wal'], ['sqlite', 'memory'], ['mysql', null], ['pgsql', null]] as [$driver, $journal]) {
    if ($driver === 'pgsql' && !getenv('TG_TEST_PGSQL_DSN')) {
        continue;
    }
    $cmd = [$php, __DIR__ . '/outbox.php', '--driver', $driver, '--count', (string) $cfg['outbox'],
        '--warmup', (string) max(50, intdiv($cfg['outbox'], 10))];
    if ($journal === 'memory') {
        $cmd[] = '--memory';
    } elseif ($journal !== null) {
        $cmd[] = '--journal';
        $cmd[] = $journal;
    }
    $r = run($cmd, [], $log);
    unset($r['sandboxCpuSeconds']);
    $results['outbox'][] = $r;
    say(empty($r['available']) ? "outbox $driver: not available ({$r['reason']})"
        : sprintf('outbox %s%s  p50 %.0f µs  p99 %.0f µs', $driver, $journal ? " ($journal)" : '', $r['p50Us'], $r['p99Us']));
}

// ------------------------------------------------------------------ 3. inbound
$r = run([...$phpExt, __DIR__ . '/inbound.php', '--count', (string) $cfg['inbound'],
    '--store-count', (string) $cfg['inboundStored'], '--block', (string) $cfg['block']], [], $log);
unset($r['sandboxCpuSeconds']);
$results['inbound'] = $r;
say(sprintf('inbound verify+decode: ext %.0f/s, php %.0f/s; stored: %s', $r['verifyOnly']['ext']['perSec'],
    $r['verifyOnly']['php']['perSec'], empty($r['stored']['available']) ? 'n/a'
    : sprintf('ext %.0f/s, php %.0f/s', $r['stored']['ext']['perSec'], $r['stored']['php']['perSec'])));

// ------------------------------------------------------------------- 4. memory
$mem = ['idle' => [], 'used' => []];
for ($k = 0; $k < $cfg['rssPairs']; $k++) {
    // A B A B: without, with (loaded, idle), with (used).
    $without = run([$php, __DIR__ . '/memory.php', '--mode', 'idle'], [], $log)['rssKb'];
    $with = run([...$phpExt, __DIR__ . '/memory.php', '--mode', 'idle'], [], $log)['rssKb'];
    $used = run([...$phpExt, __DIR__ . '/memory.php', '--mode', 'used'], [], $log);
    $mem['idle'][] = ['withoutKb' => $without, 'withKb' => $with];
    $mem['used'][] = ['withoutKb' => $without, 'usedKb' => $used['rssKb'], 'threads' => $used['threads']];
}
// Fork before growth: resetting a sandbox that holds 100,000 partners keeps it busy for
// a while afterwards, which the first calls measured next would pay for.
$mem['fork'] = run([...$phpExt, __DIR__ . '/memory.php', '--mode', 'fork', '--forks', (string) $cfg['forks']], [], $log);
$mem['growth'] = run([...$phpExt, __DIR__ . '/memory.php', '--mode', 'growth', '--total', (string) $cfg['growth'], '--batch', '500'], [], $log);
$results['memory'] = $mem;
say(sprintf('memory: +%d KiB loaded, growth %d KiB over %d ops, fork first call %.1f ms',
    median(array_map(fn ($p) => $p['withKb'] - $p['withoutKb'], $mem['idle'])), $mem['growth']['growthKb'],
    $mem['growth']['total'], $mem['fork']['firstMs']));

$results['seconds'] = microtime(true) - $started;
file_put_contents($out, json_encode($results, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
say(sprintf('done in %.0f s → %s', $results['seconds'], $out));
