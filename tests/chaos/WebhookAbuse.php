<?php

declare(strict_types=1);

namespace TradingGrid\Chaos;

use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Store\Schema;
use TradingGrid\Tests\Sandbox;
use TradingGrid\Tests\Stores\TestDatabase;

/**
 * Webhooks under abuse: the module's intake (behind `php -S` with several workers, on a
 * real database) gets wrong signatures, stale and future timestamps, repeats (one after
 * another and all at once), malformed JSON, an oversized body, unknown event types and
 * wrong content types, then real signed deliveries from the sandbox. Each case says
 * what it expected and what it got; the inbox must hold every good event exactly once.
 */
final class WebhookAbuse
{
    private const SECRET = 'whsec_chaos_0123456789abcdef';

    /** @var list<array{case:string,expected:int,got:int,ok:bool}> */
    private array $cases = [];
    private string $url = '';

    public function __construct(private readonly int $repeats = 50)
    {
    }

    /** @return array<string,mixed> */
    public function run(): array
    {
        $started = microtime(true);
        $prefix = 'chaos_webhooks_';
        $pdo = TestDatabase::connect();
        Schema::uninstall($pdo, $prefix);
        Schema::install($pdo, $prefix);
        $inbox = new Inbox($pdo, $prefix);

        $port = 20000 + random_int(0, 30000);
        $this->url = "http://127.0.0.1:$port/";
        $env = TestDatabase::childEnv() + [];
        $env['TG_CHAOS_PREFIX'] = $prefix;
        $env['TG_CHAOS_WEBHOOK_SECRET'] = self::SECRET;
        $env['PHP_CLI_SERVER_WORKERS'] = '4';
        $server = proc_open([PHP_BINARY, '-d', 'extension=' . Harness::extensionPath(), '-S', "127.0.0.1:$port",
            __DIR__ . '/webhook-endpoint.php'], [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, $env);
        $sandbox = null;
        try {
            $this->waitUntilUp();
            $good = [];
            $event = fn (string $id, string $type = 'membership.changed'): array => ['id' => $id, 'type' => $type, 'sequence' => 1,
                'occurredAt' => '2026-11-25T10:00:00Z', 'data' => ['externalId' => 'drupal-user-1', 'status' => 'active']];
            $body = fn (array ...$events): string => (string) json_encode(['events' => $events]);

            $b = $body($event('evt_good_1'));
            $good['evt_good_1'] = true;
            $this->expect('a valid delivery', 200, $b, $this->sign($b));
            $this->expect('the same delivery again', 200, $b, $this->sign($b));
            $this->expect('a wrong signature', 401, $b, $this->sign($b, 'whsec_wrong'));
            $this->expect('a signature over another body', 401, $body($event('evt_forged')), $this->sign($b));
            $this->expect('a timestamp ten minutes old', 401, $b, $this->sign($b, self::SECRET, time() - 600));
            $this->expect('a timestamp ten minutes ahead', 401, $b, $this->sign($b, self::SECRET, time() + 600));
            $this->expect('no signature header', 401, $b, null);
            foreach (['', 't=', 'v1=abc', 't=abc,v1=00', 'garbage', 't=1,v1=zz', str_repeat('t=1,', 5000)] as $i => $h) {
                $this->expect("a malformed signature header #$i", 401, $b, $h);
            }
            $bad = '{"events": [ {"id": "evt_x", "type": ';
            $this->expect('malformed JSON, correctly signed', 400, $bad, $this->sign($bad));
            $noEvents = '{"items": []}';
            $this->expect('JSON without an events list', 400, $noEvents, $this->sign($noEvents));
            $noId = $body(['type' => 'membership.changed']);
            $this->expect('an event without an id', 400, $noId, $this->sign($noId));
            $huge = $body($event('evt_huge') + ['padding' => str_repeat('x', 1100000)]);
            $this->expect('a body over 1 MiB', 413, $huge, $this->sign($huge));
            $this->expect('a form-encoded body', 415, $b, $this->sign($b), 'application/x-www-form-urlencoded');
            $this->expect('a text/plain body', 415, $b, $this->sign($b), 'text/plain');
            $this->expect('an empty body', 400, '', $this->sign(''));
            $unknown = $body($event('evt_unknown_1', 'galaxy.exploded'));
            $good['evt_unknown_1'] = true;
            $this->expect('an unknown event type (stored; the handler ignores it)', 200, $unknown, $this->sign($unknown));

            // The same fresh delivery, $repeats times at once.
            $concurrent = $body($event('evt_concurrent_1'), $event('evt_concurrent_2'));
            $good['evt_concurrent_1'] = $good['evt_concurrent_2'] = true;
            $statuses = $this->concurrently($concurrent, $this->sign($concurrent), $this->repeats);
            $this->cases[] = ['case' => "the same delivery {$this->repeats} times at once", 'expected' => 200,
                'got' => max($statuses), 'ok' => array_unique($statuses) === [200]];

            // Real deliveries, signed by the sandbox.
            $sandbox = Sandbox::start();
            $client = $sandbox->client();
            $client->subscribeWebhook($this->url, self::SECRET);
            $client->upsertPartner(['externalId' => 'drupal-user-1', 'companyName' => 'Webhook Test Ltd', 'partnerType' => 'supplier',
                'country' => 'GB', 'contactEmail' => 'ops@webhook.example', 'revision' => 1]);
            for ($i = 0; $i < 20; $i++) {
                $client->notify(['communityId' => 'logistics-eu', 'kind' => 'notice', 'title' => "Notice $i", 'body' => 'Hello']);
            }
            $feed = $client->events(null, 500)['events'];
            foreach ($feed as $e) {
                $good[$e['id']] = true;
            }
            $deadline = microtime(true) + 20;
            while (microtime(true) < $deadline && $this->storedIds($inbox, $good) < count($good)) {
                usleep(100000);
            }
            $sandboxStats = $sandbox->stats();

            $storedGood = $this->storedIds($inbox, $good);
            $total = $inbox->count();
            $refused = count(array_filter($this->cases, static fn (array $c): bool => $c['expected'] >= 400 && $c['ok']));
            return [
                'scenario' => 'webhooks',
                'driver' => TestDatabase::driver(),
                'cases' => $this->cases,
                'requests' => count($this->cases) - 1 + $this->repeats + count($feed),
                'refusedAsExpected' => $refused,
                'wrongAnswers' => count(array_filter($this->cases, static fn (array $c): bool => !$c['ok'])),
                'sandboxDeliveries' => $sandboxStats['webhookDeliveries'] ?? $sandboxStats['webhook_deliveries'] ?? null,
                'goodEvents' => count($good),
                'stored' => $total,
                'lost' => count($good) - $storedGood,
                'storedTwiceOrWrongly' => $total - $storedGood,
                'seconds' => round(microtime(true) - $started, 1),
            ];
        } finally {
            $sandbox?->stop();
            proc_terminate($server);
            proc_close($server);
            Schema::uninstall($pdo, $prefix);
        }
    }

    /** @param array<string,true> $ids */
    private function storedIds(Inbox $inbox, array $ids): int
    {
        $n = 0;
        foreach (array_keys($ids) as $id) {
            $n += $inbox->get((string) $id) !== null ? 1 : 0;
        }
        return $n;
    }

    private function sign(string $body, string $secret = self::SECRET, ?int $t = null): string
    {
        return \TradingGrid\Webhook::sign($body, $secret, $t ?? time());
    }

    private function expect(string $case, int $expected, string $body, ?string $signature, string $type = 'application/json'): void
    {
        $got = $this->post($body, $signature, $type);
        $this->cases[] = ['case' => $case, 'expected' => $expected, 'got' => $got, 'ok' => $got === $expected];
    }

    private function post(string $body, ?string $signature, string $type): int
    {
        $ch = curl_init($this->url);
        $headers = ["Content-Type: $type"];
        if ($signature !== null) {
            $headers[] = "TG-Signature: $signature";
        }
        curl_setopt_array($ch, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body, CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 20]);
        curl_exec($ch);
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        return $status;
    }

    /** @return list<int> */
    private function concurrently(string $body, string $signature, int $n): array
    {
        $multi = curl_multi_init();
        $handles = [];
        for ($i = 0; $i < $n; $i++) {
            $ch = curl_init($this->url);
            curl_setopt_array($ch, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body, CURLOPT_RETURNTRANSFER => true,
                CURLOPT_HTTPHEADER => ['Content-Type: application/json', "TG-Signature: $signature"], CURLOPT_TIMEOUT => 30]);
            curl_multi_add_handle($multi, $ch);
            $handles[] = $ch;
        }
        do {
            $status = curl_multi_exec($multi, $running);
            if ($running) {
                curl_multi_select($multi, 1.0);
            }
        } while ($running && $status === CURLM_OK);
        $codes = [];
        foreach ($handles as $ch) {
            $codes[] = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
            curl_multi_remove_handle($multi, $ch);
            curl_close($ch);
        }
        curl_multi_close($multi);
        return $codes;
    }

    private function waitUntilUp(): void
    {
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            $ch = curl_init($this->url);
            curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 1]);
            curl_exec($ch);
            $up = curl_getinfo($ch, CURLINFO_RESPONSE_CODE) > 0;
            curl_close($ch);
            if ($up) {
                return;
            }
            usleep(50000);
        }
        throw new \RuntimeException('the webhook endpoint did not start');
    }
}
