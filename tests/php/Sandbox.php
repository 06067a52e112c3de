<?php

declare(strict_types=1);

namespace TradingGrid\Tests;

/**
 * Starts a real tg-sandbox process on an ephemeral loopback port for the tests and
 * talks to its /_sandbox admin API over plain HTTP.
 */
final class Sandbox
{
    public const CLIENT_ID = 'test-client';
    public const CLIENT_SECRET = 'test-secret-0123456789';
    public const TENANT = 'GC51278300AS';

    /** @var resource|null */
    private $process = null;
    public string $baseUrl = '';

    private static ?Sandbox $shared = null;

    /** One sandbox shared by a whole test run (reset between tests). */
    public static function shared(): self
    {
        if (self::$shared === null) {
            self::$shared = self::start();
            register_shutdown_function(static function (): void {
                self::$shared?->stop();
            });
        }
        return self::$shared;
    }

    /** @param list<string> $extraArgs */
    public static function start(array $extraArgs = []): self
    {
        $bin = getenv('TG_SANDBOX_BIN') ?: dirname(__DIR__, 2) . '/target/debug/tg-sandbox';
        if (!is_executable($bin)) {
            throw new \RuntimeException("tg-sandbox binary not found at $bin (run make build)");
        }
        $cmd = array_merge([$bin, '--listen', '127.0.0.1:0', '--client-id', self::CLIENT_ID,
            '--client-secret', self::CLIENT_SECRET, '--tenant', self::TENANT, '--quiet'], $extraArgs);
        $pipes = [];
        $proc = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'a']], $pipes);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start tg-sandbox');
        }
        $line = '';
        $deadline = microtime(true) + 20;
        stream_set_blocking($pipes[1], false);
        while (microtime(true) < $deadline) {
            $chunk = fgets($pipes[1]);
            if ($chunk !== false) {
                $line .= $chunk;
                if (str_contains($line, "\n")) {
                    break;
                }
            } else {
                usleep(20000);
            }
        }
        if (!preg_match('~listening on (http://\S+)~', $line, $m)) {
            proc_terminate($proc);
            throw new \RuntimeException("tg-sandbox did not report its address: '$line'");
        }
        $s = new self();
        $s->process = $proc;
        $s->baseUrl = rtrim($m[1], '/');
        return $s;
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process, 15);
            proc_close($this->process);
        }
        $this->process = null;
    }

    /** @param array<string,mixed> $overrides */
    public function clientOptions(array $overrides = []): array
    {
        return $overrides + [
            'baseUrl' => $this->baseUrl,
            'tenant' => self::TENANT,
            'clientId' => self::CLIENT_ID,
            'clientSecret' => self::CLIENT_SECRET,
            'timeoutMs' => 5000,
            'retryBaseMs' => 20,
            'retryMaxMs' => 2000,
        ];
    }

    /** @param array<string,mixed> $overrides */
    public function client(array $overrides = []): \TradingGrid\Client
    {
        return new \TradingGrid\Client($this->clientOptions($overrides));
    }

    /** @return array<string,mixed> */
    public function admin(string $method, string $path, ?array $body = null): array
    {
        $ctx = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\n",
            'content' => $body === null ? '' : json_encode($body, JSON_THROW_ON_ERROR),
            'ignore_errors' => true,
            'timeout' => 10,
        ]]);
        $raw = file_get_contents($this->baseUrl . $path, false, $ctx);
        if ($raw === false) {
            throw new \RuntimeException("sandbox admin call $method $path failed");
        }
        if ($raw === '') {
            return [];
        }
        $decoded = json_decode($raw, true);
        return is_array($decoded) ? $decoded : ['raw' => $raw];
    }

    public function reset(): void
    {
        $this->admin('POST', '/_sandbox/reset', []);
    }

    /** @return array<string,mixed> */
    public function stats(): array
    {
        return $this->admin('GET', '/_sandbox/stats');
    }
}
