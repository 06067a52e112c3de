<?php

/**
 * The delivery reliability scenarios (make chaos; a short version runs in make test).
 *
 *   php -d extension=target/debug/libtrading_grid.so tests/chaos/run.php \
 *       [--ops 10000] [--workers 4] [--scenarios chaos,crash,outage,webhooks] [--json FILE]
 *
 * The database is chosen like the store tests (TG_STORE_DRIVER=sqlite|mysql|pgsql and
 * the DSNs of tests/scripts/start-databases.sh). Exits non-zero if anything was lost,
 * applied twice, left in the outbox, ended in the wrong state or arrived out of order.
 */

declare(strict_types=1);

require __DIR__ . '/bootstrap.php';

use TradingGrid\Chaos\Harness;
use TradingGrid\Chaos\WebhookAbuse;

$opts = getopt('', ['ops:', 'workers:', 'scenarios:', 'json:', 'verbose']);
$ops = (int) ($opts['ops'] ?? 10000);
$workers = (int) ($opts['workers'] ?? 4);
$scenarios = explode(',', (string) ($opts['scenarios'] ?? 'chaos,crash,outage,webhooks'));
if ($ops < 100 || $workers < 1) {
    fwrite(STDERR, "--ops must be at least 100 and --workers at least 1\n");
    exit(2);
}

if (!getenv('TG_TEST_SQLITE_PATH')) {
    // Its own database file, so a concurrent store test run cannot get in the way.
    putenv('TG_TEST_SQLITE_PATH=' . sys_get_temp_dir() . '/tg-chaos-' . getmypid() . '.sqlite');
    register_shutdown_function(static fn () => @unlink((string) getenv('TG_TEST_SQLITE_PATH')));
}
$harness = new Harness($ops, $workers, isset($opts['verbose']));
$results = [];
$failed = false;
foreach ($scenarios as $scenario) {
    if (trim($scenario) === 'webhooks') {
        $r = (new WebhookAbuse())->run();
        $results[] = $r;
        $bad = $r['wrongAnswers'] + $r['lost'] + $r['storedTwiceOrWrongly'];
        $failed = $failed || $bad > 0;
        printf("%-8s %s: %d requests, %d hostile ones refused as expected, %d wrong answers; %d good events, %d stored, "
            . "lost %d, stored twice or wrongly %d — %s in %.1f s\n", 'webhooks', $r['driver'], $r['requests'],
            $r['refusedAsExpected'], $r['wrongAnswers'], $r['goodEvents'], $r['stored'], $r['lost'], $r['storedTwiceOrWrongly'],
            $bad > 0 ? 'FAILED' : 'ok', $r['seconds']);
        foreach ($r['cases'] as $c) {
            if (!$c['ok'] || isset($opts['verbose'])) {
                printf("  %-60s expected %d, got %d%s\n", $c['case'], $c['expected'], $c['got'], $c['ok'] ? '' : '  <-- WRONG');
            }
        }
        continue;
    }
    $r = $harness->run(trim($scenario));
    $results[] = $r;
    $bad = $r['lost'] + $r['duplicated'] + $r['wrongFinalState'] + $r['orderViolations'] + array_sum($r['left']);
    $failed = $failed || $bad > 0;
    printf(
        "%-7s %s: %d ops (%d outbox rows) by %d workers (%d processes, %d SIGKILLs, %.1f s outage); faults: %d errors, "
        . "%d 429s, %d resets; %d failed deliveries retried from the outbox; %d duplicates absorbed; %d dead letters replayed; lost %d, duplicated %d, wrong state %d, "
        . "out of order %d, left %d — %s in %.1f s\n",
        $r['scenario'], $r['driver'], $r['generated'], $r['outboxRows'], $r['workers'], $r['workerProcesses'], $r['kills'],
        $r['outageSeconds'], $r['faults']['errors'] ?? 0, $r['faults']['rateLimited'] ?? 0, $r['faults']['resets'] ?? 0,
        $r['failedAttempts'], $r['duplicatesAbsorbed'], $r['replayed'], $r['lost'], $r['duplicated'], $r['wrongFinalState'], $r['orderViolations'],
        array_sum($r['left']), $bad > 0 ? 'FAILED' : 'ok', $r['seconds'],
    );
    if ($bad > 0 || isset($opts['verbose'])) {
        echo '  per operation (applied/enqueued): ', json_encode($r['perOp']), "\n";
        echo '  dead letters by class: ', json_encode($r['deadByClass']), ' left: ', json_encode($r['left']), "\n";
    }
}
if (isset($opts['json'])) {
    file_put_contents((string) $opts['json'], json_encode($results, JSON_PRETTY_PRINT) . "\n");
}
exit($failed ? 1 : 0);
