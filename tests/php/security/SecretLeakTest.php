<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Security;

use PHPUnit\Framework\TestCase;
use TradingGrid\Client;
use TradingGrid\Webhook;

/**
 * A client secret and a webhook secret, recognisable and fresh for each run, go through
 * every path that produces text — validation, auth and transport failures, dumps and
 * serialization of the client, phpinfo(), exception messages and traces (with trace
 * arguments on, the worst case), uncaught-exception output of a child process, the stubs
 * file, and the log of a sandbox run without --quiet — and appear in none of it.
 */
final class SecretLeakTest extends TestCase
{
    private const CLIENT_ID = 'leak-test-client';

    private string $clientSecret;
    private string $wrongSecret;
    private string $webhookSecret;
    /** @var resource|null */
    private $sandbox = null;
    private string $sandboxUrl = '';
    private string $sandboxErr = '';
    /** @var resource|null */
    private $sandboxOut = null;
    private int $closedPort = 0;
    private string $ignoreArgs = '';

    /** @var array<string,string> every text the secrets went near, by where it came from */
    private array $texts = [];

    protected function setUp(): void
    {
        $this->clientSecret = bin2hex(random_bytes(12));
        $this->wrongSecret = bin2hex(random_bytes(12));
        $this->webhookSecret = bin2hex(random_bytes(12));
        // Trace arguments on: what a CLI without php.ini, and many dev/staging sites, do.
        $this->ignoreArgs = (string) ini_get('zend.exception_ignore_args');
        ini_set('zend.exception_ignore_args', '0');

        $bin = getenv('TG_SANDBOX_BIN') ?: dirname(__DIR__, 3) . '/target/debug/tg-sandbox';
        $this->sandboxErr = (string) tempnam(sys_get_temp_dir(), 'tgsberr');
        // Without --quiet; the secret travels in the environment, not on the command line.
        $env = ['TG_SANDBOX_CLIENT_SECRET' => $this->clientSecret, 'PATH' => (string) getenv('PATH'), 'RUST_LOG' => 'debug'];
        $proc = proc_open([$bin, '--listen', '127.0.0.1:0', '--client-id', self::CLIENT_ID, '--tenant', 'GC51278300AS'],
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $this->sandboxErr, 'a']], $pipes, null, $env);
        $this->assertIsResource($proc);
        $this->sandbox = $proc;
        $this->sandboxOut = $pipes[1];
        $line = (string) fgets($pipes[1]);
        $this->assertMatchesRegularExpression('~listening on (http://\S+)~', $line);
        preg_match('~listening on (http://\S+)~', $line, $m);
        $this->sandboxUrl = rtrim($m[1], '/');

        $server = stream_socket_server('tcp://127.0.0.1:0');
        $this->assertNotFalse($server);
        $name = (string) stream_socket_get_name($server, false);
        $this->closedPort = (int) substr($name, strrpos($name, ':') + 1);
        fclose($server);
    }

    protected function tearDown(): void
    {
        ini_set('zend.exception_ignore_args', $this->ignoreArgs);
        if (is_resource($this->sandbox)) {
            proc_terminate($this->sandbox, 15);
            proc_close($this->sandbox);
        }
        if (is_file($this->sandboxErr)) {
            unlink($this->sandboxErr);
        }
    }

    /** @return array<string,mixed> */
    private function options(array $overrides = []): array
    {
        return $overrides + [
            'baseUrl' => $this->sandboxUrl,
            'tenant' => 'GC51278300AS',
            'clientId' => self::CLIENT_ID,
            'clientSecret' => $this->clientSecret,
            'timeoutMs' => 3000,
            'connectTimeoutMs' => 500,
            'maxRetries' => 0,
            'retryBaseMs' => 1,
            'retryMaxMs' => 10,
        ];
    }

    /**
     * Keeps trace arguments only on the extension's own frames. The test's frames (its
     * closures capture the secrets; PHPUnit's objects are huge) are the caller's business:
     * what is checked is what the extension puts in a trace.
     */
    private static function onlyExtensionFrames(\Throwable $e): void
    {
        $trace = [];
        foreach ($e->getTrace() as $frame) {
            $ours = isset($frame['class'])
                ? class_exists($frame['class'], false) && (new \ReflectionClass($frame['class']))->getExtensionName() === 'trading_grid'
                : function_exists($frame['function']) && (new \ReflectionFunction($frame['function']))->getExtensionName() === 'trading_grid';
            if (!$ours) {
                unset($frame['args']);
            }
            $trace[] = $frame;
        }
        $p = new \ReflectionProperty($e instanceof \Error ? \Error::class : \Exception::class, 'trace');
        $p->setValue($e, $trace);
    }

    /** Every text form of a throwable a logger or an error page might produce. */
    private function collectThrowable(string $where, \Throwable $e): void
    {
        self::onlyExtensionFrames($e);
        $this->texts["$where: getMessage"] = $e->getMessage();
        $this->texts["$where: __toString"] = (string) $e;
        $this->texts["$where: getTraceAsString"] = $e->getTraceAsString();
        $this->texts["$where: print_r"] = print_r($e, true);
        $this->texts["$where: var_export"] = var_export($e, true);
        $this->texts["$where: json_encode(trace)"] = (string) json_encode($e->getTrace(), JSON_PARTIAL_OUTPUT_ON_ERROR);
        ob_start();
        var_dump($e);
        $this->texts["$where: var_dump"] = (string) ob_get_clean();
        try {
            $this->texts["$where: serialize"] = serialize($e);
        } catch (\Throwable $s) {
            $this->texts["$where: serialize refused"] = $s->getMessage();
        }
        foreach (['getErrors', 'getProblem', 'getField'] as $getter) {
            if (method_exists($e, $getter)) {
                $this->texts["$where: $getter"] = (string) json_encode($e->$getter());
            }
        }
        if ($e->getPrevious() !== null) {
            $this->collectThrowable("$where (previous)", $e->getPrevious());
        }
    }

    private function provoke(string $where, callable $f): void
    {
        try {
            $result = $f();
            $this->texts["$where: result"] = (string) json_encode($result, JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);
        } catch (\Throwable $e) {
            $this->collectThrowable($where, $e);
        }
    }

    /** @return array<string,string> the forms a secret could leak in, by name */
    private function needles(): array
    {
        $needles = [];
        foreach (['client secret' => $this->clientSecret, 'wrong secret' => $this->wrongSecret, 'webhook secret' => $this->webhookSecret] as $what => $s) {
            $needles[$what] = $s;
            $needles["$what (first 12 characters, as traces cut strings)"] = substr($s, 0, 12);
            $needles["$what (last 12 characters)"] = substr($s, -12);
            $needles["$what (HTTP Basic)"] = base64_encode(self::CLIENT_ID . ':' . $s);
            $needles["$what (base64)"] = rtrim(base64_encode($s), '=');
        }
        return $needles;
    }

    private function assertNoSecretIn(array $texts): void
    {
        $leaks = [];
        foreach ($texts as $where => $text) {
            foreach ($this->needles() as $what => $needle) {
                if (str_contains($text, $needle)) {
                    $leaks[] = "$what in $where";
                }
            }
        }
        $this->assertSame([], $leaks, "secrets leaked:\n" . implode("\n", $leaks));
    }

    public function testSecretsAppearInNoOutputAnyPathProduces(): void
    {
        $client = new Client($this->options());
        $this->assertTrue($client->ping()['ok'], 'the canary secret is the sandbox\'s secret');

        // 1. The client object itself, every way PHP can dump or encode it.
        ob_start();
        var_dump($client);
        debug_zval_dump($client);
        $this->texts['var_dump/debug_zval_dump(client)'] = (string) ob_get_clean();
        $this->texts['print_r(client)'] = print_r($client, true);
        $this->texts['var_export(client)'] = var_export($client, true);
        $this->texts['json_encode(client)'] = (string) json_encode($client);
        $this->texts['(array) client'] = print_r((array) $client, true);
        $this->texts['get_object_vars(client)'] = print_r(get_object_vars($client), true);
        $this->texts['ReflectionObject(client)'] = (string) new \ReflectionObject($client);
        try {
            $this->texts['serialize(client)'] = serialize($client);
            $this->fail('a client must not be serializable');
        } catch (\Exception $e) {
            $this->assertStringContainsString('not allowed', $e->getMessage());
            $this->collectThrowable('serialize(client)', $e);
        }

        // 2. Validation errors, including ones about the secret itself and a secret put
        // where it does not belong (in the URL, in the wrong type).
        $this->provoke('bad option next to the secret', fn () => new Client($this->options(['timeoutMs' => 'soon'])));
        $this->provoke('unknown option next to the secret', fn () => new Client($this->options(['clientSecrte' => $this->clientSecret])));
        $this->provoke('secret in the base URL', fn () => new Client($this->options(['baseUrl' => "https://user:{$this->clientSecret}@tg.example"])));
        $this->provoke('secret in a plain-http URL', fn () => new Client($this->options(['baseUrl' => "http://tg.example/{$this->clientSecret}"])));
        $this->provoke('secret of the wrong type', fn () => new Client($this->options(['clientSecret' => [$this->clientSecret]])));
        $this->provoke('invalid payload', fn () => $client->upsertPartner(['externalId' => '..', 'companyName' => "\xff"]));
        $this->provoke('short webhook secret', fn () => $client->subscribeWebhook('http://127.0.0.1:1/hook', substr($this->webhookSecret, 0, 8)));

        // 3. Auth failures: the wrong secret against the sandbox, one call and in a batch.
        $wrong = new Client($this->options(['clientSecret' => $this->wrongSecret]));
        $this->provoke('auth failure', fn () => $wrong->communities());
        $this->provoke('auth failure (ping)', fn () => $wrong->ping());
        $this->provoke('auth failure in sendBatch', fn () => $wrong->sendBatch([
            ['id' => 'a', 'op' => 'partner.delete', 'payload' => ['externalId' => 'drupal-user-1']],
        ]));

        // 4. Transport failures: a closed port, and a port that answers garbage.
        $closed = new Client($this->options(['baseUrl' => "http://127.0.0.1:{$this->closedPort}", 'clientSecret' => $this->clientSecret]));
        $this->provoke('transport failure', fn () => $closed->ping());
        $this->provoke('transport failure in send', fn () => $closed->send(['id' => 'x', 'op' => 'partner.delete', 'payload' => ['externalId' => 'a']]));
        $garbage = stream_socket_server('tcp://127.0.0.1:0');
        $name = (string) stream_socket_get_name($garbage, false);
        $port = (int) substr($name, strrpos($name, ':') + 1);
        $this->provoke('answer cut off', function () use ($port, $garbage) {
            $c = new Client($this->options(['baseUrl' => "http://127.0.0.1:$port", 'http2' => false, 'timeoutMs' => 1000]));
            // Nobody accepts: the request times out (the connection itself is queued by the kernel).
            return $c->communities();
        });
        fclose($garbage);

        // 5. Webhooks: verify with the wrong signature, sign, subscribe.
        $body = '{"events":[{"id":"evt_1","type":"partner.updated"}]}';
        $this->provoke('webhook verify (wrong signature)', fn () => Webhook::verify($body, ['TG-Signature' => 't=' . time() . ',v1=' . str_repeat('0', 64)], $this->webhookSecret));
        $this->provoke('webhook verify (stale)', fn () => Webhook::verify($body, ['TG-Signature' => Webhook::sign($body, $this->webhookSecret, 1000)], $this->webhookSecret));
        $this->provoke('webhook verify (not JSON)', fn () => Webhook::verify('{', ['TG-Signature' => Webhook::sign('{', $this->webhookSecret)], $this->webhookSecret));
        $this->provoke('webhook sign', fn () => Webhook::sign($body, $this->webhookSecret));
        $this->provoke('webhook subscribe', fn () => $client->subscribeWebhook('http://127.0.0.1:1/hook', $this->webhookSecret));
        $this->provoke('webhook subscribe (closed)', fn () => $closed->subscribeWebhook('http://127.0.0.1:1/hook', $this->webhookSecret));

        // 6. phpinfo(), after all of the above.
        ob_start();
        phpinfo();
        $this->texts['phpinfo()'] = (string) ob_get_clean();

        // 7. The sandbox's own pages.
        foreach (['/', '/_sandbox/stats', '/_sandbox/faults'] as $path) {
            $this->texts["sandbox GET $path"] = (string) @file_get_contents($this->sandboxUrl . $path);
        }

        // 8. The stubs file.
        $this->texts['trading_grid.stubs.php'] = (string) file_get_contents(dirname(__DIR__, 3) . '/trading_grid.stubs.php');

        $this->assertGreaterThan(60, count($this->texts));
        $this->assertNoSecretIn($this->texts);

        // The canary does show where it should (the test would be blind otherwise).
        $this->assertStringContainsString($this->webhookSecret, print_r(['x' => $this->webhookSecret], true));
        $this->assertSame('Object(SensitiveParameterValue)', $this->traceArgument(fn () => Webhook::verify('{}', [], $this->webhookSecret), 2),
            'Webhook::verify() marks $secret #[\SensitiveParameter]');
        $this->assertSame('Object(SensitiveParameterValue)', $this->traceArgument(fn () => new Client($this->options(['timeoutMs' => 0])), 0),
            'Client::__construct() marks $options #[\SensitiveParameter]');
        $this->assertSame('Object(SensitiveParameterValue)', $this->traceArgument(fn () => $client->createCompanyUser('GC51278300AS',
            ['loginId' => 'ada@hub.example', 'loginPassword' => $this->clientSecret]), 1),
            'createCompanyUser() marks $user #[\SensitiveParameter] (it may hold loginPassword)');
        $this->assertSame('Object(SensitiveParameterValue)', $this->traceArgument(fn () => $client->updateCompanyUser('GC51278300AS',
            'GCUS1', ['loginPassword' => 'short']), 2),
            'updateCompanyUser() marks $changes #[\SensitiveParameter]');
    }

    /** How the trace of what $f throws shows the extension frame's argument $i. */
    private function traceArgument(callable $f, int $i): string
    {
        try {
            $f();
        } catch (\TradingGrid\Exception $e) {
            $frame = $e->getTrace()[0];
            $arg = $frame['args'][$i] ?? null;
            return is_object($arg) ? 'Object(' . get_class($arg) . ')' : var_export($arg, true);
        }
        $this->fail('expected a TradingGrid\Exception');
    }

    public function testAnUncaughtExceptionInAChildProcessShowsNoSecret(): void
    {
        $ext = (string) (getenv('TG_EXTENSION') ?: dirname(__DIR__, 3) . '/target/debug/libtrading_grid.so');
        $script = sprintf('<?php $c = new TradingGrid\Client(%s); $c->ping();', var_export($this->options([
            'baseUrl' => "http://127.0.0.1:{$this->closedPort}",
        ]), true));
        $file = tempnam(sys_get_temp_dir(), 'tgleak') . '.php';
        file_put_contents($file, $script);
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=' . $ext, '-d', 'display_errors=1', '-d', 'log_errors=1',
            '-d', 'error_log=', '-d', 'zend.exception_ignore_args=0', '-d', 'html_errors=0', $file];
        $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        proc_close($proc);
        unlink($file);
        $this->assertStringContainsString('Uncaught TradingGrid\TransportException', $out);
        $this->assertNoSecretIn(['uncaught exception output' => $out]);
    }

    public function testTheSandboxLogShowsNoSecret(): void
    {
        // Traffic with the right secret, a wrong one, and a webhook subscription.
        $client = new Client($this->options());
        $client->ping();
        $client->subscribeWebhook('http://127.0.0.1:1/hook', $this->webhookSecret);
        try {
            (new Client($this->options(['clientSecret' => $this->wrongSecret])))->ping();
        } catch (\TradingGrid\AuthException) {
        }
        proc_terminate($this->sandbox, 15);
        $stdout = stream_get_contents($this->sandboxOut);
        proc_close($this->sandbox);
        $this->sandbox = null;
        $this->assertNoSecretIn([
            'sandbox stderr (no --quiet)' => (string) file_get_contents($this->sandboxErr),
            'sandbox stdout (no --quiet)' => (string) $stdout,
        ]);
    }
}
