<?php

declare(strict_types=1);

// The stores are plain PHP with no Drupal dependency: a PSR-4 autoloader for the module's
// src/ and for these tests is all they need.
spl_autoload_register(static function (string $class): void {
    $roots = [
        'Drupal\\trading_grid\\' => dirname(__DIR__, 3) . '/drupal_module/trading_grid/src/',
        'TradingGrid\\Tests\\Stores\\' => __DIR__ . '/',
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

if (extension_loaded('trading_grid')) {
    require_once dirname(__DIR__) . '/Sandbox.php';
}
