<?php

declare(strict_types=1);

// Child process of ConcurrentDrainTest: one of several workers draining the same outbox
// through a RecordingSender until the outbox is empty. Prints its totals as JSON.
// Usage: php drain-worker.php <prefix> <worker name> <record file> <fail dir> <seconds>

use Drupal\trading_grid\Delivery\Drainer;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use TradingGrid\Tests\Stores\RecordingSender;
use TradingGrid\Tests\Stores\TestDatabase;

require __DIR__ . '/bootstrap.php';

[, $prefix, $worker, $record, $failDir, $seconds] = $argv;
$pdo = TestDatabase::connect();
// No backoff: a failed op is due again at once, so retries happen within the test.
$outbox = new Outbox($pdo, $prefix, null, 10, 0, 0);
$drainer = new Drainer(
    $outbox,
    new RecordingSender($record, $worker, $failDir),
    new LinkStore($pdo, $prefix),
    static function (string $level, string $message, array $context): void {
        if ($level === 'error') {
            fwrite(STDERR, strtr($message, array_map('strval', array_filter($context, 'is_scalar'))) . "\n");
        }
    }
);

$totals = ['sent' => 0, 'failed' => 0, 'dead' => 0, 'released' => 0, 'stale' => 0, 'batches' => 0];
$deadline = microtime(true) + (float) $seconds;
while (microtime(true) < $deadline) {
    $report = $drainer->drain($worker, 2.0, 25, 60);
    foreach ($totals as $k => $_) {
        $totals[$k] += $report->$k;
    }
    if ($report->batches === 0) {
        // Nothing claimable: done, or the rest is leased by the other workers.
        if ($outbox->count() === 0) {
            echo json_encode($totals), "\n";
            exit(0);
        }
        usleep(random_int(2000, 10000));
    }
}
fwrite(STDERR, "$worker: outbox not empty after {$seconds}s\n");
echo json_encode($totals), "\n";
exit(2);
