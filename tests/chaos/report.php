<?php

/**
 * Renders RELIABILITY.md from the figures make chaos left in target/chaos/.
 *   php tests/chaos/report.php target/chaos > RELIABILITY.md
 */

declare(strict_types=1);

$dir = $argv[1] ?? 'target/chaos';
$read = static function (string $file) use ($dir): ?array {
    $path = "$dir/$file";
    if (!is_file($path)) {
        return null;
    }
    $data = json_decode((string) file_get_contents($path), true);
    return is_array($data) ? $data : null;
};

$cpu = trim((string) shell_exec("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"));
$cores = (int) trim((string) shell_exec('nproc'));
$out = [];
$out[] = '# Reliability figures';
$out[] = '';
$out[] = 'Produced by `make chaos` (`tests/scripts/chaos.sh`) on ' . gmdate('Y-m-d H:i') . " UTC, $cores cores"
    . ($cpu !== '' ? " ($cpu)" : '') . ', PHP ' . PHP_VERSION . ', extension ' . (function_exists('TradingGrid\version') ? TradingGrid\version() : '?')
    . '. A shorter run of the same scenarios (400 operations, SQLite) is part of `make test`. Every figure below comes'
    . ' from the sandbox\'s own records (`/_sandbox/stats`, its state and its event feed) compared with what was'
    . ' enqueued; the run fails if anything is lost, applied twice, left behind, out of order or in the wrong final state.';
$out[] = '';
$out[] = '## Delivery: chaos, crash, outage';
$out[] = '';
$out[] = 'Real outbox on a real database, real drain worker processes (the module\'s `Drainer` and the extension\'s'
    . ' `sendBatch`), the sandbox over HTTP. The workload mixes every outbound flow: partner upserts (new and'
    . ' updated), onboarding steps, access requests, network users and their roles, trading issues, document versions and retractions, catalog items,'
    . ' notifications and portal figures. Successive whole-state saves of one entity coalesce in the outbox (so there'
    . ' are fewer outbox rows than generated changes); every outbox row must be applied exactly once.';
$out[] = '';
$out[] = '| scenario | database | ops generated | outbox rows | workers (processes) | faults injected | failed deliveries retried | duplicates absorbed | dead letters → replayed | lost | applied twice | wrong final state | out of order | seconds |';
$out[] = '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
$describe = [
    'chaos' => '20% of writes 500/503, 10% 429 + Retry-After, 5% connection reset after apply, 2% latency spikes',
    'crash' => 'workers SIGKILLed at random every 0.2–1.2 s and replaced (3 s leases); 5% errors, 2% resets',
    'outage' => 'sandbox stopped while in flight, half the changes enqueued during the outage, restarted from its data file',
];
foreach (['mysql.json', 'sqlite.json'] as $file) {
    foreach ($read($file) ?? [] as $r) {
        if (($r['scenario'] ?? '') === 'webhooks' || !isset($r['generated'])) {
            continue;
        }
        $f = $r['faults'] ?? [];
        $faults = sprintf('%d errors, %d 429s, %d resets', $f['errors'] ?? 0, $f['rateLimited'] ?? 0, $f['resets'] ?? 0);
        if ($r['kills'] > 0) {
            $faults .= ", {$r['kills']} SIGKILLs";
        }
        if ($r['outageSeconds'] > 0) {
            $faults .= ", {$r['outageSeconds']} s outage";
        }
        $out[] = sprintf('| %s | %s | %d | %d | %d (%d) | %s | %d | %d | %d → %d | %d | %d | %d | %d | %.1f |',
            $r['scenario'], $r['driver'] === 'mysql' ? 'MariaDB' : ($r['driver'] === 'pgsql' ? 'PostgreSQL' : 'SQLite'),
            $r['generated'], $r['outboxRows'], $r['workers'], $r['workerProcesses'], $faults, $r['failedAttempts'],
            $r['duplicatesAbsorbed'], $r['deadLetters'], $r['replayed'], $r['lost'], $r['duplicated'], $r['wrongFinalState'],
            $r['orderViolations'], $r['seconds']);
    }
}
$out[] = '';
foreach ($describe as $name => $text) {
    $out[] = "- **$name**: $text.";
}
$out[] = '- *Duplicates absorbed*: requests the sandbox recognised as repeats (same `Idempotency-Key`, or the same revision) and did not apply again — a reset after apply, or a killed worker whose row was sent again after its lease expired.';
$out[] = '- *Out of order*: partner revisions or document versions that went backwards in the network\'s event feed.';
$out[] = '';

$web = null;
foreach (['mysql.json', 'sqlite.json'] as $file) {
    foreach ($read($file) ?? [] as $r) {
        if (($r['scenario'] ?? '') === 'webhooks') {
            $web = $r;
        }
    }
}
$out[] = '## Webhooks under abuse';
$out[] = '';
if ($web !== null) {
    $out[] = sprintf('The module\'s webhook intake (`WebhookIntake`, the class behind the Drupal route) behind `php -S` with four'
        . ' workers, on %s: %d requests, %d hostile ones refused as expected, %d wrong answers; %d good events (including %d'
        . ' real signed deliveries from the sandbox), %d stored, %d lost, %d stored twice or wrongly.',
        $web['driver'] === 'mysql' ? 'MariaDB' : $web['driver'], $web['requests'], $web['refusedAsExpected'], $web['wrongAnswers'],
        $web['goodEvents'], $web['goodEvents'] - 3, $web['stored'], $web['lost'], $web['storedTwiceOrWrongly']);
    $out[] = '';
    $out[] = '| case | expected | got |';
    $out[] = '|---|---|---|';
    foreach ($web['cases'] as $c) {
        $out[] = sprintf('| %s | %d | %d%s |', $c['case'], $c['expected'], $c['got'], $c['ok'] ? '' : ' ✗');
    }
} else {
    $out[] = 'Not run.';
}
$out[] = '';

$out[] = '## Hostile input at the PHP edge';
$out[] = '';
$hostile = $read('hostile.json');
if ($hostile !== null) {
    $pairs = [];
    foreach ($hostile as $k => $v) {
        if (is_scalar($v)) {
            $pairs[] = "$k: " . (is_bool($v) ? ($v ? 'yes' : 'no') : $v);
        }
    }
    $out[] = 'Every function and public method of the extension (found by reflection) called with generated arguments:'
        . ' wrong types, missing and extra arguments and keys, 1–16 MB strings, 10,000-level nesting, invalid UTF-8, NaN'
        . ' and infinities, negative and huge numbers, objects, resources and closures; in child processes with a timeout,'
        . ' so a crash or a hang is caught and named. Figures: ' . implode('; ', $pairs) . '.';
} else {
    $out[] = 'No figures (tests/php/security/HostileInputTest.php writes them when TG_HOSTILE_REPORT is set).';
}
$out[] = '';

$out[] = '## Security and fuzzing';
$out[] = '';
$junit = "$dir/security.xml";
if (is_file($junit)) {
    $xml = @simplexml_load_file($junit);
    if ($xml !== false) {
        $suite = $xml->testsuite;
        $out[] = sprintf('PHPUnit security suite (`tests/php/security.xml`): %d tests, %d assertions, %d failures, %d errors,'
            . ' %d skipped — secrets absent from exceptions, traces, dumps, serialisation, phpinfo(), the stubs and the'
            . ' sandbox log; TLS verification against a self-signed server; plain HTTP refused off loopback; webhook'
            . ' signature edge cases.',
            (int) $suite['tests'], (int) $suite['assertions'], (int) $suite['failures'], (int) $suite['errors'], (int) $suite['skipped']);
        $out[] = '';
        foreach ($xml->xpath('//testcase') ?: [] as $case) {
            $status = isset($case->failure) || isset($case->error) ? '✗' : (isset($case->skipped) ? 'skipped' : 'ok');
            $out[] = sprintf('- %s — %s', preg_replace('/^test/', '', (string) $case['name']), $status);
        }
    }
}
$log = "$dir/proptest.log";
if (is_file($log)) {
    preg_match_all('/test result: (\w+)\. (\d+) passed; (\d+) failed/', (string) file_get_contents($log), $m, PREG_SET_ORDER);
    $passed = array_sum(array_column($m, 2));
    $failed = array_sum(array_column($m, 3));
    $out[] = '';
    $out[] = sprintf('Property tests (proptest, `crates/tg-core/tests/prop_*.rs`) with PROPTEST_CASES=%s: %d properties passed,'
        . ' %d failed — webhook header parsing and verification, the mapper, problem+json parsing, event decoding and'
        . ' the schema of every operation, and Lens searches (every accepted search understood by the sandbox, GraphQL'
        . ' escaping, arbitrary documents and answers); none may panic.', getenv('PROPTEST_CASES') ?: '5000', $passed, $failed);
}
$out[] = '';
$out[] = '## Partner isolation';
$out[] = '';
$out[] = 'A partner reaches nothing of another organisation: pages by `hook_node_access()` and route checks, listings'
    . ' and search by node access grants keyed by organisation ids, the partner fields by field access'
    . ' ([docs/access-control.md](docs/access-control.md)). What this machine proves on every `make test`:'
    . ' `tests/php/stores/OrganisationRegistryTest.php` on SQLite, MariaDB and PostgreSQL — one id per organisation'
    . ' name for good, exact comparison, ids never reused after a rollback, and four processes racing for the same'
    . ' 120 names (plainly and inside save-like transactions) always agreeing on one id each. What needs a Drupal site'
    . ' and runs in one (`vendor/bin/phpunit -c core modules/custom/trading_grid/tests/src`):'
    . ' `Kernel/NodeGrantsTest` (each account\'s listing holds exactly what it may open; a community named like a'
    . ' scoped key reaches nothing; without the table nothing opens wider), `Kernel/PartnerAccessTest`,'
    . ' `Kernel/UserFieldAccessTest`, and `Functional/PartnerIsolationTest` (403 on another organisation\'s issue,'
    . ' document and status pages, none of them in listings, an applicant sees nothing of the organisation it names,'
    . ' the organisation cannot be changed by the partner, an administrator sees both). These are not run by'
    . ' `make chaos`: this machine has no Drupal core.';
$out[] = '';
$out[] = '## Reproduce';
$out[] = '';
$out[] = '```';
$out[] = 'make chaos                                   # everything above, rewrites this file';
$out[] = 'TG_CHAOS_OPS=2000 make chaos                 # smaller delivery scenarios';
$out[] = 'bash tests/scripts/chaos.sh --short          # the version inside make test';
$out[] = 'php -d extension=target/debug/libtrading_grid.so tests/chaos/run.php --ops 10000 --workers 4 --scenarios crash --verbose';
$out[] = '```';
echo implode("\n", $out), "\n";
