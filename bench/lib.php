<?php
/**
 * Shared helpers for the bench scripts (no Drupal, no Composer): options, CPU and RSS
 * readings, percentiles, the sandbox admin API, the payload file, and an autoloader for
 * the module's PDO stores.
 */

declare(strict_types=1);

namespace TradingGrid\Bench;

const ROOT = __DIR__ . '/..';

/** `--name value` / `--flag` pairs after the script name. @return array<string,string> */
function options(array $argv): array
{
    $o = [];
    for ($i = 1; $i < count($argv); $i++) {
        $a = $argv[$i];
        if (!str_starts_with($a, '--')) {
            fwrite(STDERR, "unexpected argument $a\n");
            exit(2);
        }
        $name = substr($a, 2);
        if (str_contains($name, '=')) {
            [$name, $v] = explode('=', $name, 2);
            $o[$name] = $v;
        } elseif (isset($argv[$i + 1]) && !str_starts_with($argv[$i + 1], '--')) {
            $o[$name] = $argv[++$i];
        } else {
            $o[$name] = '1';
        }
    }
    return $o;
}

function env(string $name, ?string $default = null): string
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        if ($default === null) {
            fwrite(STDERR, "$name is not set (bench/run.sh sets it)\n");
            exit(2);
        }
        return $default;
    }
    return $v;
}

/** User + system CPU seconds of this process, all threads (the extension's runtime too). */
function cpu(): float
{
    $r = getrusage(0);
    return $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6
        + $r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6;
}

/** CPU seconds another process has used so far (for the sandbox). */
function cpuOf(int $pid): float
{
    $stat = @file_get_contents("/proc/$pid/stat");
    if ($stat === false) {
        return 0.0;
    }
    $fields = explode(' ', substr($stat, strrpos($stat, ')') + 2));
    return ((int) $fields[11] + (int) $fields[12]) / 100.0; // utime + stime, USER_HZ=100
}

/** Resident set size of this process in KiB (VmRSS). */
function rssKb(?int $pid = null): int
{
    $status = @file_get_contents('/proc/' . ($pid ?? 'self') . '/status');
    if ($status !== false && preg_match('/^VmRSS:\s+(\d+)\s+kB/m', $status, $m)) {
        return (int) $m[1];
    }
    return 0;
}

/** @param list<float> $xs */
function percentile(array $xs, float $p): float
{
    if ($xs === []) {
        return 0.0;
    }
    sort($xs);
    $rank = (int) ceil($p / 100 * count($xs));
    return (float) $xs[max(1, min(count($xs), $rank)) - 1];
}

/** @param list<float> $xs */
function median(array $xs): float
{
    if ($xs === []) {
        return 0.0;
    }
    sort($xs);
    $n = count($xs);
    return $n % 2 ? (float) $xs[intdiv($n, 2)] : ($xs[$n / 2 - 1] + $xs[$n / 2]) / 2;
}

function emit(array $result): void
{
    echo json_encode($result, JSON_UNESCAPED_SLASHES), "\n";
}

/** Plain HTTP/1.1 call to the sandbox's admin API (not measured). */
function admin(string $method, string $path, ?array $body = null): array
{
    $ch = curl_init(env('TG_BENCH_ADMIN_URL') . $path);
    curl_setopt_array($ch, [
        CURLOPT_CUSTOMREQUEST => $method,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_TIMEOUT => 30,
        CURLOPT_HTTPHEADER => ['Content-Type: application/json'],
    ]);
    if ($body !== null) {
        curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($body));
    }
    $out = curl_exec($ch);
    $code = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    curl_close($ch);
    if ($out === false || $code >= 400) {
        throw new \RuntimeException("sandbox admin $method $path failed ($code)");
    }
    return $out === '' ? [] : (json_decode((string) $out, true) ?? []);
}

/** The payload file bench.php writes: ['warmup' => [...], 'ops' => [...]]. */
function payloads(): array
{
    static $doc = null;
    return $doc ??= json_decode((string) file_get_contents(env('TG_BENCH_PAYLOADS')), true, 512, JSON_THROW_ON_ERROR);
}

/** Deterministic partner upserts, the same for every client. @return list<array> */
function makePartners(int $n, string $prefix): array
{
    $types = ['supplier', 'distributor', 'carrier', 'customer', 'service_provider'];
    $countries = ['DE', 'NL', 'FR', 'US', 'GB', 'IT', 'ES', 'PL'];
    $out = [];
    for ($i = 1; $i <= $n; $i++) {
        $out[] = [
            'externalId' => sprintf('%s-%06d', $prefix, $i),
            'companyName' => sprintf('Bench Supplier %06d GmbH', $i),
            'partnerType' => $types[$i % 5],
            'country' => $countries[$i % 8],
            'contactEmail' => sprintf('buyer%06d@supplier%d.example', $i, $i % 97),
            'contactName' => sprintf('Contact %06d', $i),
            'tradingAddress' => sprintf('ZZ:BENCH%06d', $i),
            'revision' => 1700000000 + $i,
            'attributes' => ['vat' => sprintf('DE%09d', $i), 'segment' => 'tier-' . ($i % 3)],
        ];
    }
    return $out;
}

/** The options every extension client in the bench uses. */
function clientOptions(int $concurrency): array
{
    return [
        'baseUrl' => env('TG_BENCH_BASE_URL'),
        'tenant' => env('TG_BENCH_TENANT'),
        'clientId' => env('TG_BENCH_CLIENT_ID'),
        'clientSecret' => env('TG_BENCH_CLIENT_SECRET'),
        'concurrency' => $concurrency,
        'timeoutMs' => 30000,
        'maxRetries' => 0,
    ];
}

/** sendBatch entries for a list of partner payloads. */
function batchOps(array $partners, string $idPrefix): array
{
    $ops = [];
    foreach ($partners as $i => $p) {
        $ops[] = ['id' => $idPrefix . $i, 'op' => 'partner.upsert', 'payload' => $p];
    }
    return $ops;
}

/** The key tg-core derives for a batch entry, so every client sends the same headers. */
function derivedKey(string $id, array $payload): string
{
    $json = json_encode($payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    return 'tg-' . substr(hash('sha256', $id . "\0partner.upsert\0" . $json), 0, 40);
}

/**
 * Loads the module's PDO stores without Drupal: `Drupal\trading_grid\X` →
 * drupal_module/trading_grid/src/X.php. Returns false when the stores are not there.
 */
function storesAvailable(): bool
{
    static $registered = false;
    $src = ROOT . '/drupal_module/trading_grid/src';
    if (!$registered) {
        spl_autoload_register(static function (string $class) use ($src): void {
            $prefix = 'Drupal\\trading_grid\\';
            if (str_starts_with($class, $prefix)) {
                $file = $src . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require_once $file;
                }
            }
        });
        $registered = true;
    }
    foreach (['Outbox', 'Inbox', 'Schema'] as $c) {
        if (!is_file("$src/Store/$c.php")) {
            return false;
        }
    }
    return true;
}
