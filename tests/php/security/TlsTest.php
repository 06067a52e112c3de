<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Security;

use PHPUnit\Framework\TestCase;
use TradingGrid\Client;
use TradingGrid\Tests\Sandbox;
use TradingGrid\TransportException;
use TradingGrid\ValidationException;

/**
 * Loopback gets plain http for the sandbox, but https is verified everywhere, loopback
 * included; plain http anywhere else is refused when the client is built; and no option
 * turns verification off.
 */
final class TlsTest extends TestCase
{
    private static string $dir = '';
    /** @var list<resource> */
    private static array $servers = [];
    /** @var array<string,int> server name => port */
    private static array $ports = [];

    public static function setUpBeforeClass(): void
    {
        if (trim((string) shell_exec('command -v openssl')) === '' || trim((string) shell_exec('command -v python3')) === '') {
            return; // the tests that need them say so
        }
        self::$dir = sys_get_temp_dir() . '/tg-tls-' . bin2hex(random_bytes(4));
        mkdir(self::$dir);
        $d = escapeshellarg(self::$dir);
        $run = static function (string $cmd): void {
            exec($cmd . ' 2>&1', $out, $code);
            if ($code !== 0) {
                throw new \RuntimeException("$cmd failed: " . implode("\n", $out));
            }
        };
        // A private CA, a server certificate for 127.0.0.1 signed by it, and one for another name.
        $ec = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
        $run("openssl req -x509 $ec -keyout $d/ca.key -out $d/ca.pem -days 2 -subj /CN=tg-test-ca"
            . " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign");
        foreach (['ip' => 'IP:127.0.0.1', 'other' => 'DNS:partners.example.com'] as $name => $san) {
            $run("openssl req $ec -keyout $d/$name.key -out $d/$name.csr -subj /CN=$name");
            file_put_contents(self::$dir . "/$name.ext", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                . "extendedKeyUsage=serverAuth\nsubjectAltName=$san\n");
            $run("openssl x509 -req -in $d/$name.csr -CA $d/ca.pem -CAkey $d/ca.key -CAcreateserial -days 2"
                . " -extfile $d/$name.ext -out $d/$name.pem");
            self::$ports[$name] = self::startServer(self::$dir . "/$name.pem", self::$dir . "/$name.key");
        }
    }

    private static function startServer(string $cert, string $key): int
    {
        $proc = proc_open(['python3', dirname(__DIR__) . '/fixtures/tls-server.py', $cert, $key],
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'a']], $pipes);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start the TLS server');
        }
        self::$servers[] = $proc;
        $line = (string) fgets($pipes[1]);
        if (!preg_match('/listening on (\d+)/', $line, $m)) {
            throw new \RuntimeException("the TLS server did not start: '$line'");
        }
        return (int) $m[1];
    }

    public static function tearDownAfterClass(): void
    {
        foreach (self::$servers as $proc) {
            proc_terminate($proc, 15);
            proc_close($proc);
        }
        self::$servers = [];
        if (self::$dir !== '' && is_dir(self::$dir)) {
            array_map('unlink', glob(self::$dir . '/*') ?: []);
            rmdir(self::$dir);
        }
    }

    private function requireTools(): void
    {
        if (self::$ports === []) {
            $this->markTestSkipped('openssl and python3 are needed to run a TLS server');
        }
    }

    /** @return array<string,mixed> */
    private function options(string $baseUrl, array $overrides = []): array
    {
        return $overrides + ['baseUrl' => $baseUrl, 'tenant' => 'GC51278300AS', 'clientId' => 'tls-test',
            'clientSecret' => 'tls-test-secret', 'timeoutMs' => 3000, 'connectTimeoutMs' => 1000, 'maxRetries' => 0];
    }

    /** Runs ping() in a child PHP process with $env added (a trust store for the positive control). */
    private function pingInChild(string $baseUrl, array $env): string
    {
        $ext = (string) (getenv('TG_EXTENSION') ?: dirname(__DIR__, 3) . '/target/debug/libtrading_grid.so');
        $code = sprintf('try { echo json_encode(["ok" => (new TradingGrid\Client(%s))->ping()["ok"]]); }'
            . ' catch (Throwable $e) { echo json_encode(["class" => get_class($e), "message" => $e->getMessage()]); }',
            var_export($this->options($baseUrl), true));
        $proc = proc_open([PHP_BINARY, '-n', '-d', 'extension=' . $ext, '-r', $code], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes, null, $env + ['PATH' => (string) getenv('PATH')]);
        $out = (string) stream_get_contents($pipes[1]) . (string) stream_get_contents($pipes[2]);
        proc_close($proc);
        return $out;
    }

    public function testHttpsOnLoopbackStillVerifiesTheCertificate(): void
    {
        $this->requireTools();
        $client = new Client($this->options('https://127.0.0.1:' . self::$ports['ip']));
        $started = microtime(true);
        try {
            $client->ping();
            $this->fail('a certificate from an unknown CA must be refused, on loopback too');
        } catch (TransportException $e) {
            $this->assertMatchesRegularExpression('/certificate|UnknownIssuer|tls/i', $e->getMessage());
            $this->assertStringContainsString('token request', $e->getMessage(), 'refused before the credentials were sent');
        }
        $this->assertLessThan(3.0, microtime(true) - $started, 'refused at once, not after a timeout');

        // In a batch it is a transport error too, for every op.
        $results = $client->sendBatch([['id' => 'a', 'op' => 'partner.delete', 'payload' => ['externalId' => 'x']]]);
        $this->assertFalse($results[0]['ok']);
        $this->assertSame('transport', $results[0]['error']['class']);
        $this->assertMatchesRegularExpression('/certificate|UnknownIssuer|tls/i', $results[0]['error']['message']);
    }

    public function testTheSameServerIsAcceptedOnceItsCaIsTrusted(): void
    {
        // The positive control: with the private CA in the trust store (SSL_CERT_FILE) the
        // very same server works, so the refusal above is certificate verification at work.
        $this->requireTools();
        $out = $this->pingInChild('https://127.0.0.1:' . self::$ports['ip'], ['SSL_CERT_FILE' => self::$dir . '/ca.pem']);
        $this->assertSame('{"ok":true}', trim($out));
    }

    public function testATrustedCertificateForAnotherNameIsRefused(): void
    {
        $this->requireTools();
        $out = $this->pingInChild('https://127.0.0.1:' . self::$ports['other'], ['SSL_CERT_FILE' => self::$dir . '/ca.pem']);
        $r = json_decode(trim($out), true);
        $this->assertSame(TransportException::class, $r['class'] ?? null, $out);
        $this->assertMatchesRegularExpression('/certificate|NotValidForName|name/i', $r['message']);
    }

    public function testHttpsToAPlainHttpServerFailsFastAsTransport(): void
    {
        $sandbox = Sandbox::shared();
        $client = new Client($this->options(str_replace('http://', 'https://', $sandbox->baseUrl)));
        $started = microtime(true);
        $this->expectException(TransportException::class);
        try {
            $client->ping();
        } finally {
            $this->assertLessThan(3.0, microtime(true) - $started);
        }
    }

    public function testAServerThatNeverCompletesTheHandshakeTimesOut(): void
    {
        // Accepts TCP (the kernel queues the connection) and never says a word.
        $silent = stream_socket_server('tcp://127.0.0.1:0');
        $this->assertNotFalse($silent);
        $name = (string) stream_socket_get_name($silent, false);
        $port = (int) substr($name, strrpos($name, ':') + 1);
        $client = new Client($this->options("https://127.0.0.1:$port", ['timeoutMs' => 500, 'connectTimeoutMs' => 500]));
        $started = microtime(true);
        try {
            $client->ping();
            $this->fail('a silent server must time out');
        } catch (TransportException $e) {
            $this->assertMatchesRegularExpression('/timed out|connect/i', $e->getMessage());
            $this->assertTrue($e->isRetryable());
        } finally {
            fclose($silent);
        }
        $this->assertLessThan(2.5, microtime(true) - $started);
    }

    /** @return array<string,array{string}> */
    public static function plainHttpOffLoopback(): array
    {
        $urls = ['http://example.com', 'http://10.0.0.1', 'http://10.0.0.1:8080/tg', 'http://192.168.1.10', 'http://172.16.0.1',
            'http://0.0.0.0:8080', 'http://[::ffff:10.0.0.1]', 'http://[fe80::1]', 'http://127.0.0.1.nip.io', 'http://localhost.example.com',
            'http://localhost.', 'HTTP://EXAMPLE.COM', 'http://127.0.0.1@partners.example.com', 'http://partners.example.com#@127.0.0.1',
            'http://partners.example.com\\@127.0.0.1', 'http://apigrid.example.com:80/', 'ws://127.0.0.1', 'ftp://127.0.0.1', 'file:///etc/passwd',
            '//127.0.0.1', '127.0.0.1:8080', ''];
        return array_combine($urls, array_map(static fn (string $u): array => [$u], $urls));
    }

    /** @dataProvider plainHttpOffLoopback */
    public function testPlainHttpOffLoopbackIsRefusedWhenTheClientIsBuilt(string $url): void
    {
        $started = microtime(true);
        try {
            new Client($this->options($url));
            $this->fail("$url must be refused");
        } catch (ValidationException $e) {
            $this->assertSame('baseUrl', $e->getField(), $e->getMessage());
        }
        $this->assertLessThan(0.5, microtime(true) - $started, 'refused without any lookup or connection');
    }

    public function testLoopbackForms(): void
    {
        foreach (['http://127.0.0.1:1', 'http://localhost:1', 'http://LOCALHOST:1', 'http://[::1]:1', 'http://127.1:1', 'http://2130706433:1', 'http:/127.0.0.1:1',
            'https://127.0.0.1:1', 'https://partners.example.com'] as $url) {
            $this->assertInstanceOf(Client::class, new Client($this->options($url)), $url);
        }
    }

    public function testNoOptionTurnsVerificationOff(): void
    {
        foreach (['verify' => false, 'verifyTls' => false, 'sslVerify' => false, 'tlsVerify' => false, 'insecure' => true,
            'dangerAcceptInvalidCerts' => true, 'acceptInvalidCertificates' => true, 'caFile' => '/dev/null', 'caBundle' => '/dev/null',
            'allowHttp' => true, 'VERIFY' => false] as $key => $value) {
            try {
                new Client($this->options('https://127.0.0.1:1', [$key => $value]));
                $this->fail("option $key must not exist");
            } catch (ValidationException $e) {
                $this->assertSame($key, $e->getField());
                $this->assertStringContainsString('is not a known option', $e->getMessage());
            }
        }
        $methods = array_map(static fn (\ReflectionMethod $m): string => strtolower($m->getName()),
            (new \ReflectionClass(Client::class))->getMethods());
        foreach ($methods as $m) {
            $this->assertDoesNotMatchRegularExpression('/verif|insecure|cert|tls|ssl/', $m);
        }
        foreach (array_keys(ini_get_all('trading_grid') ?: []) as $ini) {
            $this->assertDoesNotMatchRegularExpression('/verif|insecure|cert|tls|ssl/i', $ini);
        }
    }
}
