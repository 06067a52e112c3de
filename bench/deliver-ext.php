<?php
/**
 * Delivery through the extension: `sendBatch` at --concurrency N (all ops in one call
 * unless --batch is given; the client's default HTTP/1.1 pool unless --http2), after a warm-up at the same
 * concurrency. One JSON line out.
 */

declare(strict_types=1);

namespace TradingGrid\Bench;

require __DIR__ . '/lib.php';

$o = options($argv);
$c = (int) ($o['concurrency'] ?? 32);
$doc = payloads();
$ops = batchOps(array_slice($doc['ops'], 0, (int) ($o['count'] ?? count($doc['ops']))), 'bench-');
$warm = batchOps($doc['warmup'], 'warmup-');
$batch = (int) ($o['batch'] ?? count($ops));

$options = clientOptions($c);
if (isset($o['http2'])) {
    $options['http2'] = true; // one HTTP/2 connection, N streams
}
$client = new \TradingGrid\Client($options);
foreach ($client->sendBatch($warm) as $r) {
    if (!$r['ok']) {
        fwrite(STDERR, 'warm-up failed: ' . json_encode($r) . "\n");
        exit(1);
    }
}

$start = microtime(true);
$cpu0 = cpu();
$t0 = hrtime(true);
$ok = 0;
foreach (array_chunk($ops, $batch) as $chunk) {
    foreach ($client->sendBatch($chunk) as $r) {
        $ok += $r['ok'] ? 1 : 0;
    }
}
$secs = (hrtime(true) - $t0) / 1e9;
$cpu = cpu() - $cpu0;
emit([
    'client' => isset($o['http2']) ? 'ext-h2' : 'ext', 'concurrency' => $c, 'ops' => count($ops), 'ok' => $ok,
    'failed' => count($ops) - $ok, 'seconds' => $secs, 'opsPerSec' => count($ops) / $secs,
    'cpuSeconds' => $cpu, 'measureStart' => $start, 'measureEnd' => $start + $secs, 'batch' => $batch, 'rssKb' => rssKb(),
]);
