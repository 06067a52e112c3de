<?php
/**
 * Inbound: webhook deliveries verified, decoded and stored in the inbox, per second —
 * TradingGrid\Webhook::verify() against plain PHP (hash_hmac + hash_equals +
 * json_decode), in alternating blocks (A B A B ...) in one process, each side with its
 * own inbox table of the same size. Also the verify+decode step alone.
 *
 *   php -d extension=... bench/inbound.php [--count N] [--store-count N] [--block N]
 * (--store-count: how many of the deliveries also go to the inbox; each is an fsync.)
 */

declare(strict_types=1);

namespace TradingGrid\Bench;

use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Store\Schema;

require __DIR__ . '/lib.php';

$o = options($argv);
$count = (int) ($o['count'] ?? 6000);
$block = (int) ($o['block'] ?? 500);
$storeCount = min($count, (int) ($o['store-count'] ?? $count));
$secret = 'whsec_bench_0123456789abcdef';

/** The plain-PHP equivalent of Webhook::verify(). @return list<array> */
function plainVerify(string $body, array $headers, string $secret, int $tolerance = 300): array
{
    $header = null;
    foreach ($headers as $k => $v) {
        if (strcasecmp((string) $k, 'TG-Signature') === 0) {
            $header = is_array($v) ? (string) reset($v) : (string) $v;
        }
    }
    if ($header === null) {
        throw new \RuntimeException('missing signature header');
    }
    $t = null;
    $sigs = [];
    foreach (explode(',', $header) as $part) {
        [$k, $v] = array_pad(explode('=', trim($part), 2), 2, '');
        if ($k === 't' && ctype_digit($v)) {
            $t = (int) $v;
        } elseif ($k === 'v1') {
            $sigs[] = $v;
        }
    }
    if ($t === null || $sigs === []) {
        throw new \RuntimeException('malformed signature header');
    }
    $expected = hash_hmac('sha256', $t . '.' . $body, $secret);
    $ok = false;
    foreach ($sigs as $s) {
        $ok = hash_equals($expected, $s) || $ok;
    }
    if (!$ok) {
        throw new \RuntimeException('signature mismatch');
    }
    if (abs(time() - $t) > $tolerance) {
        throw new \RuntimeException('timestamp outside the tolerance');
    }
    $doc = json_decode($body, true, 512, JSON_THROW_ON_ERROR);
    if (!is_array($doc) || !is_array($doc['events'] ?? null)) {
        throw new \RuntimeException('not an events document');
    }
    foreach ($doc['events'] as $e) {
        if (!is_string($e['id'] ?? null) || $e['id'] === '' || !is_string($e['type'] ?? null) || $e['type'] === '') {
            throw new \RuntimeException('event without id/type');
        }
    }
    return $doc['events'];
}

// The deliveries, signed before the clock starts (the sandbox's shape: one event each).
$deliveries = [];
$now = time();
for ($i = 1; $i <= $count; $i++) {
    $body = json_encode(['events' => [[
        'id' => sprintf('evt_%012d', $i), 'sequence' => $i, 'type' => 'partner.created',
        'occurredAt' => gmdate('Y-m-d\TH:i:s\Z', $now),
        'data' => ['externalId' => sprintf('drupal-user-%d', $i), 'partnerId' => sprintf('GC%010d', $i),
            'revision' => 1700000000 + $i, 'companyName' => "Bench Supplier $i GmbH"],
    ]]], JSON_UNESCAPED_SLASHES);
    $deliveries[] = [$body, ['tg-signature' => ["t=$now,v1=" . hash_hmac('sha256', "$now.$body", $secret)],
        'content-type' => ['application/json']]];
}
$ext = static fn (string $b, array $h): array => \TradingGrid\Webhook::verify($b, $h, $secret);
$php = static fn (string $b, array $h): array => plainVerify($b, $h, $secret);
// Both must accept the same deliveries and decode them the same way.
if ($ext(...$deliveries[0]) != $php(...$deliveries[0])) {
    fwrite(STDERR, "the two verifiers disagree\n");
    exit(1);
}

/** Alternating blocks; returns per-side rates and the per-pair ratios ext/php. */
function alternate(array $deliveries, int $block, callable $a, callable $b, ?callable $storeA, ?callable $storeB): array
{
    $rates = ['ext' => [], 'php' => []];
    $lat = ['ext' => [], 'php' => []];
    $ratios = [];
    foreach (array_chunk($deliveries, $block) as $n => $chunk) {
        $pair = [];
        $order = $n % 2 ? ['php', 'ext'] : ['ext', 'php'];
        foreach ($order as $side) {
            [$verify, $store] = $side === 'ext' ? [$a, $storeA] : [$b, $storeB];
            $t0 = hrtime(true);
            foreach ($chunk as [$body, $headers]) {
                $s = hrtime(true);
                foreach ($verify($body, $headers) as $event) {
                    if ($store !== null) {
                        $store($event);
                    }
                }
                $lat[$side][] = (hrtime(true) - $s) / 1000;
            }
            $pair[$side] = count($chunk) / ((hrtime(true) - $t0) / 1e9);
            $rates[$side][] = $pair[$side];
        }
        $ratios[] = $pair['ext'] / $pair['php'];
    }
    $out = ['ratio' => median($ratios), 'pairs' => count($ratios)];
    foreach (['ext', 'php'] as $side) {
        $out[$side] = ['perSec' => median($rates[$side]), 'p50Us' => percentile($lat[$side], 50),
            'p99Us' => percentile($lat[$side], 99)];
    }
    return $out;
}

$result = ['count' => $count, 'block' => $block];
$result['verifyOnly'] = alternate($deliveries, $block, $ext, $php, null, null);

if (!storesAvailable()) {
    $result['stored'] = ['available' => false, 'reason' => 'drupal_module/trading_grid/src/Store is missing'];
} else {
    $file = tempnam(sys_get_temp_dir(), 'tg-bench-inbox-');
    $pdo = new \PDO("sqlite:$file");
    $pdo->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
    Schema::install($pdo, 'a_');
    Schema::install($pdo, 'b_');
    $inA = new Inbox($pdo, 'a_');
    $inB = new Inbox($pdo, 'b_');
    $storeA = static function (array $e) use ($inA): void {
        $inA->store($e['id'], $e['type'], $e, 'webhook') || throw new \RuntimeException('duplicate');
    };
    $storeB = static function (array $e) use ($inB): void {
        $inB->store($e['id'], $e['type'], $e, 'webhook') || throw new \RuntimeException('duplicate');
    };
    $result['stored'] = ['available' => true, 'driver' => 'sqlite',
        'journal' => $pdo->query('PRAGMA journal_mode')->fetchColumn()]
        + alternate(array_slice($deliveries, 0, $storeCount), min($block, max(1, intdiv($storeCount, 6))),
            $ext, $php, $storeA, $storeB);
    $result['stored']['count'] = $storeCount;
    $result['stored']['rows'] = [(int) $pdo->query('SELECT COUNT(*) FROM a_trading_grid_inbox')->fetchColumn(),
        (int) $pdo->query('SELECT COUNT(*) FROM b_trading_grid_inbox')->fetchColumn()];
    unset($pdo, $inA, $inB);
    @unlink($file);
}
emit($result);
