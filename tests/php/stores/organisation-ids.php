<?php

declare(strict_types=1);

// Child process of OrganisationRegistryTest: gives ids to the names "Org 1" .. "Org <count>"
// (the same names in every child, in the order asked for) and prints them as JSON.
// Usage: php organisation-ids.php <prefix> <count> <forward|backward> <start at, unix seconds> [plain|tx]
//
// "tx" does what a node save does in a site: each name is given its id inside a
// transaction that has already read (and, on SQLite, holds the write lock, as a save
// that wrote its node rows does), and that stays open a moment after it.

use Drupal\trading_grid\Store\OrganisationRegistry;
use TradingGrid\Tests\Stores\TestDatabase;

require __DIR__ . '/bootstrap.php';

[, $prefix, $count, $order, $start] = $argv;
$mode = $argv[5] ?? 'plain';
$pdo = TestDatabase::connect();
$registry = new OrganisationRegistry($pdo, $prefix);
$table = $pdo->getAttribute(\PDO::ATTR_DRIVER_NAME) === 'mysql'
    ? "`{$prefix}trading_grid_organisation`"
    : "\"{$prefix}trading_grid_organisation\"";
$wait = (float) $start - microtime(true);
if ($wait > 0) {
    usleep((int) ($wait * 1e6));
}
$numbers = range(1, (int) $count);
if ($order === 'backward') {
    $numbers = array_reverse($numbers);
}
$ids = [];
foreach ($numbers as $i) {
    if ($mode !== 'tx') {
        $ids["Org $i"] = $registry->idFor("Org $i");
        continue;
    }
    if ($pdo->getAttribute(\PDO::ATTR_DRIVER_NAME) === 'sqlite') {
        $pdo->exec('BEGIN IMMEDIATE');
    } else {
        $pdo->beginTransaction();
    }
    // The first read fixes a REPEATABLE READ snapshot (MySQL's default) before the
    // other children commit their rows.
    $pdo->query("SELECT COUNT(*) FROM $table")->fetchColumn();
    $ids["Org $i"] = $registry->idFor("Org $i");
    usleep(random_int(0, 2000));
    if ($pdo->getAttribute(\PDO::ATTR_DRIVER_NAME) === 'sqlite') {
        $pdo->exec('COMMIT');
    } else {
        $pdo->commit();
    }
}
ksort($ids);
echo json_encode($ids), "\n";
