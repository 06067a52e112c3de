<?php
/**
 * Request-path overhead: what a hook adds to an entity save — one Outbox::enqueue() with
 * the module's PDO store, inside the entity's open transaction (the hook never commits;
 * the commit belongs to the entity save and is reported apart).
 *
 *   php bench/outbox.php --driver sqlite|mysql|pgsql [--count N] [--warmup N] [--journal wal] [--memory]
 * SQLite: a file in the temp dir, in the journal mode a fresh PDO connection gets
 * (rollback journal, "delete") unless --journal says otherwise.
 * MySQL/PostgreSQL use TG_TEST_{MYSQL,PGSQL}_{DSN,USER,PASSWORD}. One JSON line out.
 */

declare(strict_types=1);

namespace TradingGrid\Bench;

use Drupal\trading_grid\Store\Outbox;
use Drupal\trading_grid\Store\Schema;

require __DIR__ . '/lib.php';

$o = options($argv);
$driver = $o['driver'] ?? 'sqlite';
$count = (int) ($o['count'] ?? 5000);
$warmup = (int) ($o['warmup'] ?? 500);
if (!storesAvailable()) {
    emit(['driver' => $driver, 'available' => false, 'reason' => 'drupal_module/trading_grid/src/Store is missing']);
    exit(0);
}

$file = null;
if ($driver === 'sqlite') {
    // --memory: no file at all, to see what the store's PHP and SQL cost by themselves.
    $file = isset($o['memory']) ? null : tempnam(sys_get_temp_dir(), 'tg-bench-outbox-');
    $pdo = new \PDO($file === null ? 'sqlite::memory:' : "sqlite:$file");
    if (isset($o['journal'])) {
        $pdo->query('PRAGMA journal_mode=' . preg_replace('/\W/', '', $o['journal']))->fetchColumn();
    }
} else {
    $up = strtoupper($driver);
    $dsn = getenv("TG_TEST_{$up}_DSN");
    if (!$dsn) {
        emit(['driver' => $driver, 'available' => false, 'reason' => "TG_TEST_{$up}_DSN is not set"]);
        exit(0);
    }
    $pdo = new \PDO($dsn, getenv("TG_TEST_{$up}_USER") ?: null, getenv("TG_TEST_{$up}_PASSWORD") ?: null);
}
$pdo->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
$prefix = 'bench' . getmypid() . '_';
Schema::install($pdo, $prefix);
$journal = $driver === 'sqlite' ? $pdo->query('PRAGMA journal_mode')->fetchColumn() : null;
$outbox = new Outbox($pdo, $prefix);
// Stand-in for the entity's own tables: a hook runs after the entity's rows are written,
// in the same transaction, so the transaction has already begun writing (on SQLite the
// journal exists) when the outbox row goes in.
$entity = "{$prefix}entity";
$pdo->exec("CREATE TABLE $entity (id INTEGER NOT NULL PRIMARY KEY, revision INTEGER NOT NULL, data TEXT NOT NULL)");
$saveEntity = $pdo->prepare($driver === 'mysql'
    ? "REPLACE INTO $entity (id, revision, data) VALUES (:id, :rev, :data)"
    : "INSERT INTO $entity (id, revision, data) VALUES (:id, :rev, :data)
       ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, data = excluded.data");

$partners = makePartners($count + $warmup, 'outbox');
$enqueue = [];
$commit = [];
foreach ($partners as $i => $p) {
    $key = 'partner:' . $p['externalId'];
    $pdo->beginTransaction();
    $saveEntity->execute([':id' => $i, ':rev' => $p['revision'], ':data' => json_encode($p)]);
    $t0 = hrtime(true);
    $outbox->enqueue('partner.upsert', $p, $key, 'partner', 'user', (string) $i);
    $t1 = hrtime(true);
    $pdo->commit();
    $t2 = hrtime(true);
    if ($i >= $warmup) {
        $enqueue[] = ($t1 - $t0) / 1000;
        $commit[] = ($t2 - $t1) / 1000;
    }
}
// A second save of an entity whose row is still pending coalesces into that row.
$coalesce = [];
foreach (array_slice($partners, $warmup, min(1000, $count)) as $i => $p) {
    $p['revision']++;
    $pdo->beginTransaction();
    $saveEntity->execute([':id' => $i, ':rev' => $p['revision'], ':data' => json_encode($p)]);
    $t0 = hrtime(true);
    $outbox->enqueue('partner.upsert', $p, 'partner:' . $p['externalId'], 'partner', 'user', (string) $i);
    $coalesce[] = (hrtime(true) - $t0) / 1000;
    $pdo->commit();
}
$server = $pdo->getAttribute(\PDO::ATTR_SERVER_VERSION);
$saveEntity = null;
$pdo->exec("DROP TABLE $entity");
Schema::uninstall($pdo, $prefix);
if ($file !== null) {
    unset($outbox, $pdo);
    foreach (['', '-wal', '-shm', '-journal'] as $suffix) {
        @unlink($file . $suffix);
    }
}
emit([
    'driver' => $driver, 'available' => true, 'memory' => $driver === 'sqlite' && $file === null, 'count' => count($enqueue),
    'server' => $server, 'journal' => $journal,
    'p50Us' => percentile($enqueue, 50), 'p99Us' => percentile($enqueue, 99),
    'commitP50Us' => percentile($commit, 50), 'commitP99Us' => percentile($commit, 99),
    'coalesceP50Us' => percentile($coalesce, 50), 'coalesceP99Us' => percentile($coalesce, 99),
]);
