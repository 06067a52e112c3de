<?php

/**
 * One drain worker of the chaos suite: the module's own Drainer and Outbox, the real
 * extension, draining the shared outbox until the orchestrator drops the stop file.
 *
 * Environment: TG_STORE_DRIVER (+ the DSN variables of tests/php/stores/TestDatabase),
 * TG_CHAOS_PREFIX, TG_CHAOS_BASE_URL, TG_CHAOS_WORKER, TG_CHAOS_STOP, TG_CHAOS_LEASE.
 */

declare(strict_types=1);

require __DIR__ . '/bootstrap.php';

use Drupal\trading_grid\Delivery\Drainer;
use Drupal\trading_grid\Delivery\ExtensionSender;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use TradingGrid\Chaos\Harness;
use TradingGrid\Tests\Stores\TestDatabase;

$prefix = (string) getenv('TG_CHAOS_PREFIX');
$name = (string) getenv('TG_CHAOS_WORKER');
$stop = (string) getenv('TG_CHAOS_STOP');
$lease = (int) (getenv('TG_CHAOS_LEASE') ?: 5);

$pdo = TestDatabase::connect();
$outbox = new Outbox($pdo, $prefix, null, Harness::MAX_ATTEMPTS, 1, 8);
$client = new TradingGrid\Client(Harness::clientOptions((string) getenv('TG_CHAOS_BASE_URL')));
$drainer = new Drainer($outbox, new ExtensionSender($client), new LinkStore($pdo, $prefix));

$totals = ['sent' => 0, 'failed' => 0, 'dead' => 0, 'released' => 0, 'stale' => 0, 'batches' => 0];
while (true) {
    try {
        $report = $drainer->drain($name, 2.0, 50, $lease);
    } catch (\Throwable $e) {
        // A database hiccup (lock timeout, deadlock) is survivable: the lease keeps the
        // rows safe, so back off and go on.
        fwrite(STDERR, "$name: " . get_class($e) . ': ' . $e->getMessage() . "\n");
        usleep(200000);
        continue;
    }
    foreach ($totals as $k => $_) {
        $totals[$k] += $report->toArray()[$k];
    }
    if ($report->batches === 0 || $report->stoppedBy === 'stalled') {
        if (is_file($stop)) {
            break;
        }
        usleep(50000);
    }
}
echo json_encode(['worker' => $name] + $totals), "\n";
