<?php
/**
 * Delivery through Guzzle 7 (Debian's php-guzzlehttp-guzzle): a Pool at --concurrency N
 * over curl multi with HTTP/2 (prior knowledge, multiplexed on one connection, as the
 * extension does), or --serial: one request after another. Same payloads, same headers
 * (bearer token, tenant, idempotency key), each answer decoded. One JSON line out.
 */

declare(strict_types=1);

namespace TradingGrid\Bench;

use GuzzleHttp\Client;
use GuzzleHttp\Pool;
use GuzzleHttp\Psr7\Request;

require __DIR__ . '/lib.php';
require_once env('TG_BENCH_GUZZLE_AUTOLOAD', '/usr/share/php/GuzzleHttp/autoload.php');

$o = options($argv);
$serial = isset($o['serial']);
$c = $serial ? 1 : (int) ($o['concurrency'] ?? 32);
$http1 = isset($o['http1']);
$doc = payloads();
$ops = array_slice($doc['ops'], 0, (int) ($o['count'] ?? count($doc['ops'])));
$base = env('TG_BENCH_BASE_URL');

$curl = [CURLOPT_TCP_NODELAY => true];
if (!$http1) {
    $curl[CURLOPT_HTTP_VERSION] = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    $curl[CURLOPT_PIPEWAIT] = true; // wait for the multiplexed connection instead of opening more
}
$client = new Client(['base_uri' => $base, 'curl' => $curl, 'timeout' => 30, 'http_errors' => false]);

$tok = json_decode((string) $client->post('/v1/oauth2/tokens?grant_type=client_credentials', [
    'auth' => [env('TG_BENCH_CLIENT_ID'), env('TG_BENCH_CLIENT_SECRET')],
])->getBody(), true);
$headers = [
    'Authorization' => 'Bearer ' . $tok['access_token'],
    'X-TG-Tenant' => env('TG_BENCH_TENANT'),
    'Content-Type' => 'application/json',
];

/** @return array{0:int,1:int} ok, failed */
$deliver = static function (array $payloads, string $idPrefix) use ($client, $headers, $serial, $c): array {
    $ok = 0;
    $failed = 0;
    if ($serial) {
        foreach ($payloads as $i => $p) {
            $r = $client->put('/tgx/v1/partners/' . rawurlencode($p['externalId']), [
                'headers' => $headers + ['Idempotency-Key' => derivedKey($idPrefix . $i, $p)],
                'body' => json_encode($p),
            ]);
            $body = json_decode((string) $r->getBody(), true);
            $r->getStatusCode() < 300 && is_array($body) ? $ok++ : $failed++;
        }
        return [$ok, $failed];
    }
    $requests = static function () use ($payloads, $headers, $idPrefix) {
        foreach ($payloads as $i => $p) {
            yield new Request('PUT', '/tgx/v1/partners/' . rawurlencode($p['externalId']),
                $headers + ['Idempotency-Key' => derivedKey($idPrefix . $i, $p)], json_encode($p));
        }
    };
    $pool = new Pool($client, $requests(), [
        'concurrency' => $c,
        'fulfilled' => static function ($r) use (&$ok, &$failed): void {
            $body = json_decode((string) $r->getBody(), true);
            $r->getStatusCode() < 300 && is_array($body) ? $ok++ : $failed++;
        },
        'rejected' => static function () use (&$failed): void {
            $failed++;
        },
    ]);
    $pool->promise()->wait();
    return [$ok, $failed];
};

[$wok] = $deliver($doc['warmup'], 'warmup-');
if ($wok !== count($doc['warmup'])) {
    fwrite(STDERR, "warm-up failed: $wok of " . count($doc['warmup']) . " ok\n");
    exit(1);
}
$start = microtime(true);
$cpu0 = cpu();
$t0 = hrtime(true);
[$ok, $failed] = $deliver($ops, 'bench-');
$secs = (hrtime(true) - $t0) / 1e9;
$cpu = cpu() - $cpu0;
emit([
    'client' => $serial ? 'guzzle-serial' : 'guzzle-pool', 'concurrency' => $c, 'ops' => count($ops),
    'ok' => $ok, 'failed' => $failed, 'seconds' => $secs, 'opsPerSec' => count($ops) / $secs,
    'cpuSeconds' => $cpu, 'measureStart' => $start, 'measureEnd' => $start + $secs, 'http' => $http1 ? '1.1' : '2', 'rssKb' => rssKb(),
]);
