<?php
/** Writes the payload file every client reads: `php gen-payloads.php FILE COUNT [WARMUP]`. */

declare(strict_types=1);

namespace TradingGrid\Bench;

require __DIR__ . '/lib.php';

[$file, $count, $warm] = [$argv[1], (int) $argv[2], (int) ($argv[3] ?? 256)];
file_put_contents($file, json_encode([
    'warmup' => makePartners($warm, 'warmup'),
    'ops' => makePartners($count, 'bench'),
], JSON_UNESCAPED_SLASHES));
