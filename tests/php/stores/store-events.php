<?php

declare(strict_types=1);

// Child process of InboxTest: stores events evt_1 .. evt_<count> (the same ids in every
// child) and prints how many this process stored as new.
// Usage: php store-events.php <prefix> <count> <source>

use Drupal\trading_grid\Store\Inbox;
use TradingGrid\Tests\Stores\TestDatabase;

require __DIR__ . '/bootstrap.php';

[, $prefix, $count, $source] = $argv;
$inbox = new Inbox(TestDatabase::connect(), $prefix);
$new = 0;
for ($i = 1; $i <= (int) $count; $i++) {
    if ($inbox->store("evt_$i", 'membership.changed', ['id' => "evt_$i", 'sequence' => $i], $source)) {
        $new++;
    }
}
echo $new, "\n";
