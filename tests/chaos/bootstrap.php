<?php

declare(strict_types=1);

// The chaos suite runs the module's stores and drainer outside Drupal, exactly as the
// store tests do: a PSR-4 autoloader for the module's src/, the store test helpers and
// this suite, plus the sandbox launcher shared with the extension tests.
spl_autoload_register(static function (string $class): void {
    $roots = [
        'Drupal\\trading_grid\\' => dirname(__DIR__, 2) . '/drupal_module/trading_grid/src/',
        'TradingGrid\\Tests\\Stores\\' => dirname(__DIR__) . '/php/stores/',
        'TradingGrid\\Chaos\\' => __DIR__ . '/',
    ];
    foreach ($roots as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
require_once dirname(__DIR__) . '/php/Sandbox.php';

if (!extension_loaded('trading_grid')) {
    fwrite(STDERR, "the trading_grid extension is not loaded (php -d extension=target/debug/libtrading_grid.so)\n");
    exit(2);
}
