<?php

declare(strict_types=1);

if (!extension_loaded('trading_grid')) {
    fwrite(STDERR, "The trading_grid extension is not loaded; run the tests with make test.\n");
    exit(1);
}
require_once __DIR__ . '/Sandbox.php';
