<?php

declare(strict_types=1);

// The chaos suite runs the module's stores and drainer outside Drupal, exactly as the
// store tests do (their bootstrap autoloads the module's src/ and the store helpers and
// loads the sandbox launcher); this suite's own classes are the only addition.
if (!extension_loaded('trading_grid')) {
    fwrite(STDERR, "the trading_grid extension is not loaded (php -d extension=target/debug/libtrading_grid.so)\n");
    exit(2);
}
require_once dirname(__DIR__) . '/php/stores/bootstrap.php';
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'TradingGrid\\Chaos\\')) {
        $file = __DIR__ . '/' . substr($class, strlen('TradingGrid\\Chaos\\')) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
