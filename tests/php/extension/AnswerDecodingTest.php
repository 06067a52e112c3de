<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Extension;

use PHPUnit\Framework\TestCase;
use TradingGrid\Client;

/**
 * sendBatch() and send() build each answer's PHP array straight from the answer's bytes.
 * Whatever the server sends, the result must be what json_decode($body, true) gives
 * (same values, types and key order), [] for an empty body, and ['raw' => text] for a
 * body that is not JSON.
 */
final class AnswerDecodingTest extends TestCase
{
    /** external id => answer body */
    private const BODIES = [
        'flat' => '{"applied":true,"partnerId":"GC0000000001","revision":3,"status":"registered"}',
        'order' => '{"zeta":1,"alpha":2,"mid":{"y":1,"b":2}}',
        'nested' => '{"a":[1,[2,[3,{"b":[]}]],{}],"c":{"d":{"e":{"f":null}}}}',
        'scalars' => '{"t":true,"f":false,"n":null,"i":-42,"z":-0.0,"big":9223372036854775807,'
            . '"bigger":9223372036854775808,"fl":1.5,"one":1.0,"exp":2e3,"neg":-1.25e-3}',
        'strings' => '{"esc":"a\\"b\\\\c\\/d\\n\\t","uni":"\\u00e9\\u4e2d\\ud83d\\ude00","raw":"Zürich 東京",'
            . '"empty":"","numeric-key-ish":"x","10":"ten","-5":"minus five","07":"oh seven"}',
        'duplicate' => '{"k":1,"other":2,"k":3}',
        'list' => '[1,"two",{"three":3},[4]]',
        'spaces' => " \n { \"a\" : [ 1 , 2 ] } \n ",
        'empty' => '',
        'text' => 'this is not JSON',
        'trailing' => '{"a":1} and more',
        'truncated' => '{"a":[1,2',
    ];

    private static $server;
    private static int $port;
    private static string $bodies;

    public static function setUpBeforeClass(): void
    {
        self::$bodies = (string) tempnam(sys_get_temp_dir(), 'tg-answers-');
        file_put_contents(self::$bodies, json_encode(array_map('base64_encode', self::BODIES)));
        self::$port = 20000 + random_int(0, 20000);
        $cmd = [PHP_BINARY, '-S', '127.0.0.1:' . self::$port, dirname(__DIR__) . '/fixtures/answer-server.php'];
        self::$server = proc_open($cmd, [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes,
            null, ['TG_ANSWER_BODIES' => self::$bodies, 'PATH' => (string) getenv('PATH')]);
        $deadline = microtime(true) + 5;
        while (microtime(true) < $deadline) {
            $s = @fsockopen('127.0.0.1', self::$port, $errno, $errstr, 0.1);
            if ($s !== false) {
                fclose($s);
                return;
            }
            usleep(50000);
        }
        self::fail('the answer server did not start');
    }

    public static function tearDownAfterClass(): void
    {
        if (is_resource(self::$server)) {
            proc_terminate(self::$server);
            proc_close(self::$server);
        }
        @unlink(self::$bodies);
    }

    private function client(bool $http2 = false, string $path = ''): Client
    {
        return new Client(['baseUrl' => 'http://127.0.0.1:' . self::$port . $path, 'tenant' => 'GC51278300AS',
            'clientId' => 'answers', 'clientSecret' => 'answers-secret', 'maxRetries' => 0, 'http2' => $http2]);
    }

    private static function op(string $externalId): array
    {
        return ['id' => $externalId, 'op' => 'partner.upsert', 'payload' => ['externalId' => $externalId,
            'companyName' => 'Answer Test GmbH', 'partnerType' => 'supplier', 'country' => 'DE',
            'contactEmail' => 'answers@example.com', 'revision' => 1]];
    }

    private static function expected(string $body): mixed
    {
        if ($body === '') {
            return [];
        }
        $decoded = json_decode($body, true, 512, 0);
        return json_last_error() === JSON_ERROR_NONE ? $decoded : ['raw' => $body];
    }

    public function testEveryAnswerIsWhatJsonDecodeGives(): void
    {
        $ids = array_keys(self::BODIES);
        $results = $this->client()->sendBatch(array_map([self::class, 'op'], $ids));
        $this->assertCount(count($ids), $results);
        foreach ($ids as $i => $id) {
            $r = $results[$i];
            $this->assertSame($id, $r['id'], 'results keep the input order');
            $this->assertTrue($r['ok'], "$id: " . json_encode($r));
            $this->assertSame(200, $r['status']);
            $this->assertSame(self::expected(self::BODIES[$id]), $r['result'], "answer '$id'");
        }
    }

    public function testSendGivesTheSameAsSendBatch(): void
    {
        $client = $this->client();
        foreach (array_keys(self::BODIES) as $id) {
            $one = $client->send(self::op($id));
            $this->assertSame(self::expected(self::BODIES[$id]), $one['result'], "answer '$id'");
            $this->assertSame(['id', 'ok', 'status', 'attempts', 'result', 'error'], array_keys($one));
        }
    }

    public function testABaseUrlWithAPathPrefixesEveryRequest(): void
    {
        foreach (['/gateway/v2', '/gateway/v2/'] as $path) {
            $r = $this->client(false, $path)->sendBatch([self::op('flat')])[0];
            $this->assertTrue($r['ok'], "$path: " . json_encode($r));
            $this->assertSame(self::expected(self::BODIES['flat']), $r['result'], $path);
        }
        // Another prefix reaches nothing: the prefix really is on every request.
        $r = $this->client(false, '/elsewhere')->sendBatch([self::op('flat')])[0];
        $this->assertFalse($r['ok'], 'a wrong prefix reaches nothing: ' . json_encode($r));
    }

    public function testLargeBatchesKeepEveryResultInItsPlace(): void
    {
        $ids = array_keys(self::BODIES);
        $ops = [];
        for ($i = 0; $i < 600; $i++) {
            $ops[] = ['id' => "n$i"] + self::op($ids[$i % count($ids)]);
        }
        $results = $this->client()->sendBatch($ops);
        $this->assertSame(range(0, 599), array_keys($results));
        foreach ($results as $i => $r) {
            $this->assertSame("n$i", $r['id']);
            $this->assertSame(self::expected(self::BODIES[$ids[$i % count($ids)]]), $r['result']);
        }
    }
}
