<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Security;

use PHPUnit\Framework\TestCase;
use TradingGrid\SignatureException;
use TradingGrid\ValidationException;
use TradingGrid\Webhook;

/**
 * `Webhook::verify` against what an attacker, a broken relay or a confused framework
 * sends: each refusal is a SignatureException with its own clear message, and what is
 * signed and well-formed is returned (an unknown event type too: the inbox decides).
 */
final class WebhookAbuseTest extends TestCase
{
    private const SECRET = 'whsec_abuse_0123456789abcdef';

    private function body(array $events = [['id' => 'evt_1', 'type' => 'partner.updated', 'data' => ['partnerId' => 'P-1']]]): string
    {
        return (string) json_encode(['events' => $events]);
    }

    /** The SignatureException message for this delivery (fails if it is accepted). */
    private function refusal(string $body, array $headers, string $secret = self::SECRET, ?int $tolerance = null): string
    {
        try {
            $tolerance === null ? Webhook::verify($body, $headers, $secret) : Webhook::verify($body, $headers, $secret, $tolerance);
        } catch (SignatureException $e) {
            return $e->getMessage();
        }
        $this->fail('the delivery must be refused: ' . json_encode($headers));
    }

    private function sig(string $body, ?int $t = null, string $secret = self::SECRET): array
    {
        return ['TG-Signature' => Webhook::sign($body, $secret, $t ?? time())];
    }

    public function testASignedDeliveryIsAcceptedWhateverTheHeaderShape(): void
    {
        $body = $this->body();
        $h = Webhook::sign($body, self::SECRET);
        foreach ([
            ['TG-Signature' => $h], ['tg-signature' => $h], ['TG-SIGNATURE' => $h], ['Tg-Signature' => $h],
            ['HTTP_TG_SIGNATURE' => $h], // $_SERVER
            ['tg-signature' => [$h]], // Symfony's $request->headers->all()
            ['tg-signature' => [$h, 't=1,v1=00']], // sent twice: the first one counts
            ['User-Agent' => "caf\xe9/1.0", 'TG-Signature' => $h], // a Latin-1 header elsewhere
            ["X-\xff" => 'x', 'TG-Signature' => $h], // a header name that is not UTF-8
            ['X-Object' => new \stdClass(), 7 => 'numeric key', 'TG-Signature' => $h], // whatever a framework put there
            ['X-Deep' => $this->nested(200), 'TG-Signature' => $h],
        ] as $i => $headers) {
            $this->assertSame('evt_1', Webhook::verify($body, $headers, self::SECRET)[0]['id'], "header shape #$i");
        }
        $ref = $h;
        $this->assertCount(1, Webhook::verify($body, ['TG-Signature' => &$ref], self::SECRET), 'a header value held by reference');
    }

    private function nested(int $depth): array
    {
        $a = ['x'];
        for ($i = 0; $i < $depth; $i++) {
            $a = [$a];
        }
        return $a;
    }

    public function testEachKindOfRefusalHasItsOwnClearMessage(): void
    {
        $body = $this->body();
        $now = time();
        $messages = [
            'missing header' => $this->refusal($body, []),
            'header under another name' => $this->refusal($body, ['X-Signature' => Webhook::sign($body, self::SECRET)]),
            'header not a string' => $this->refusal($body, ['TG-Signature' => 12345]),
            'wrong secret' => $this->refusal($body, $this->sig($body, $now, 'whsec_someone_else_0000')),
            'altered body' => $this->refusal(str_replace('P-1', 'P-2', $body), $this->sig($body)),
            'another delivery\'s signature' => $this->refusal($this->body([['id' => 'evt_2', 'type' => 'x.y']]), $this->sig($body)),
            'stale' => $this->refusal($body, $this->sig($body, $now - 1000)),
            'future' => $this->refusal($body, $this->sig($body, $now + 1000)),
            'not JSON' => $this->refusal('{"events": [', $this->sig('{"events": [')),
            'JSON without events' => $this->refusal('{"event": {}}', $this->sig('{"event": {}}')),
            'events not a list' => $this->refusal('{"events": {"id": "e"}}', $this->sig('{"events": {"id": "e"}}')),
            'event without id' => $this->refusal('{"events":[{"type":"x.y"}]}', $this->sig('{"events":[{"type":"x.y"}]}')),
            'event with an empty type' => $this->refusal('{"events":[{"id":"e","type":""}]}', $this->sig('{"events":[{"id":"e","type":""}]}')),
            'empty secret' => $this->refusal($body, $this->sig($body), ''),
            'malformed header' => $this->refusal($body, ['TG-Signature' => 'garbage']),
        ];
        $expected = [
            'missing header' => 'webhook signature header TG-Signature is missing',
            'header under another name' => 'webhook signature header TG-Signature is missing',
            'header not a string' => 'webhook signature header TG-Signature is missing',
            'wrong secret' => 'webhook signature does not match the body (wrong secret or altered body)',
            'altered body' => 'webhook signature does not match the body (wrong secret or altered body)',
            'another delivery\'s signature' => 'webhook signature does not match the body (wrong secret or altered body)',
            'stale' => '/^webhook timestamp is 10\d\d s old, older than the tolerance of 300 s$/',
            'future' => '/^webhook timestamp is (99\d|100\d) s in the future, beyond the tolerance of 300 s$/',
            'not JSON' => '/^webhook body is malformed: not JSON: /',
            'JSON without events' => 'webhook body is malformed: expected an object with an "events" list',
            'events not a list' => 'webhook body is malformed: expected an object with an "events" list',
            'event without id' => 'webhook body is malformed: events[0].id is missing or not a string',
            'event with an empty type' => 'webhook body is malformed: events[0].type is missing or not a string',
            'empty secret' => 'webhook secret is empty',
            'malformed header' => "webhook signature header is malformed: expected key=value pairs, got 'garbage'",
        ];
        foreach ($expected as $case => $want) {
            if ($want[0] === '/') {
                $this->assertMatchesRegularExpression($want, $messages[$case], $case);
            } else {
                $this->assertSame($want, $messages[$case], $case);
            }
        }
        // One message per kind of problem: the kinds are told apart.
        $kinds = array_unique(array_map(static fn (string $m): string => preg_replace('/\d+/', 'N', $m), $messages));
        $this->assertCount(10, $kinds, implode("\n", $kinds));
    }

    public function testMalformedHeaderVariantsSayWhatIsWrong(): void
    {
        $body = $this->body();
        $sig = substr(Webhook::sign($body, self::SECRET), strpos(Webhook::sign($body, self::SECRET), 'v1='));
        $now = time();
        foreach ([
            '' => "expected key=value pairs, got ''",
            ',' => "expected key=value pairs, got ''",
            "t=$now" => 'no v1= signature',
            "t=$now,v0=" . str_repeat('a', 64) => 'no v1= signature',
            $sig => 'no t= timestamp',
            "t=soon,$sig" => 't is not a unix timestamp',
            "t=,$sig" => 't is not a unix timestamp',
            "t=1e9,$sig" => 't is not a unix timestamp',
            "t=99999999999999999999,$sig" => 't is not a unix timestamp',
            "t=$now,v1=xyz" => 'v1 is not hexadecimal',
            "t=$now,v1=abc" => 'v1 is not hexadecimal',
            "t=$now;$sig" => 't is not a unix timestamp',
            "t=$now,v1=" . str_repeat('\xff', 64) => 'v1 is not hexadecimal',
            "t=$now,\xff\xfe" => 'expected key=value pairs',
            "t=$now " . $sig => 't is not a unix timestamp',
            str_repeat('x', 100_000) => 'expected key=value pairs',
        ] as $header => $want) {
            $m = $this->refusal($body, ['TG-Signature' => (string) $header]);
            $this->assertStringStartsWith('webhook signature header is malformed: ', $m, (string) $header);
            $this->assertStringContainsString($want, $m, "header '" . substr((string) $header, 0, 60) . "'");
            $this->assertLessThan(200, strlen($m), 'the echo of a bad header is cut short');
        }
    }

    public function testDuplicateV1EntriesAcceptOneGoodSignatureAndNoForgery(): void
    {
        $body = $this->body();
        $now = time();
        $good = Webhook::sign($body, self::SECRET, $now);
        $goodSig = substr($good, strpos($good, 'v1=') + 3);
        $old = substr(Webhook::sign($body, 'whsec_previous_secret_01', $now), strpos($good, 'v1=') + 3);
        $junk = str_repeat('0', 64);
        // Rotation: any one v1 that matches is enough, wherever it stands.
        foreach (["t=$now,v1=$old,v1=$goodSig", "t=$now,v1=$goodSig,v1=$old", "t=$now,v1=$junk,v1=$junk,v1=$goodSig",
            "t=$now,v1=$goodSig,v1=$goodSig", "t=$now, v1=$goodSig", "t=$now,v1=$goodSig,v2=zz,scheme=x",
            "t=$now,v1=" . strtoupper($goodSig)] as $h) {
            $this->assertCount(1, Webhook::verify($body, ['TG-Signature' => $h], self::SECRET), $h);
        }
        // No matching v1 at all: refused, however many there are.
        foreach (["t=$now,v1=$old", "t=$now,v1=$junk,v1=$old", "t=$now," . implode(',', array_fill(0, 1000, "v1=$junk")),
            "t=$now,v1=" . substr($goodSig, 0, 62), "t=$now,v1=" . $goodSig . '00', "t=$now,v1="] as $h) {
            $this->assertSame('webhook signature does not match the body (wrong secret or altered body)',
                $this->refusal($body, ['TG-Signature' => $h]), substr($h, 0, 80));
        }
        // A second t= cannot move a good signature to another time: the signed pair must match.
        $stale = $now - 3600;
        $this->assertStringContainsString('does not match', $this->refusal($body, ['TG-Signature' => "t=$now,t=$stale,v1=$goodSig"]));
    }

    public function testToleranceIsRespectedAndCannotBeNegative(): void
    {
        $body = $this->body();
        $now = time();
        $this->assertCount(1, Webhook::verify($body, $this->sig($body, $now - 100), self::SECRET, 200));
        $this->assertStringContainsString('older than the tolerance of 50 s', $this->refusal($body, $this->sig($body, $now - 100), self::SECRET, 50));
        $this->assertStringContainsString('older than the tolerance of 0 s', $this->refusal($body, $this->sig($body, $now - 100), self::SECRET, -1000));
        $this->assertStringContainsString('in the future', $this->refusal($body, $this->sig($body, $now + 100), self::SECRET, 0));
        // Extreme timestamps (signed with the right secret) give the right reason, not an error.
        $this->assertStringContainsString('s old', $this->refusal($body, $this->sig($body, PHP_INT_MIN)));
        $this->assertStringContainsString('in the future', $this->refusal($body, $this->sig($body, PHP_INT_MAX)));
        $this->assertStringContainsString('s old', $this->refusal($body, $this->sig($body, PHP_INT_MIN), self::SECRET, PHP_INT_MAX - 1));
    }

    public function testAnOversizedBodyIsRefusedBeforeAnyWork(): void
    {
        $big = '{"events":[' . str_repeat(' ', 1024 * 1024) . ']}';
        $m = $this->refusal($big, $this->sig($big));
        $this->assertSame(sprintf('webhook body is malformed: %d bytes is larger than the limit of 1048576', strlen($big)), $m);
        // 16 MB with a forged signature: refused on size, without hashing 16 MB.
        $huge = str_repeat('A', 16 * 1024 * 1024);
        $started = microtime(true);
        $this->assertStringContainsString('larger than the limit', $this->refusal($huge, ['TG-Signature' => 't=' . time() . ',v1=' . str_repeat('0', 64)]));
        $this->assertLessThan(0.2, microtime(true) - $started);
        // Exactly at the limit the size is fine.
        $edge = '{"events":[]' . str_repeat(' ', 1024 * 1024 - 13) . '}';
        $this->assertSame(1024 * 1024, strlen($edge));
        $this->assertSame([], Webhook::verify($edge, $this->sig($edge), self::SECRET));
    }

    public function testUnknownEventTypesAndExtraMembersAreReturnedForTheInboxToDecide(): void
    {
        $events = [
            ['id' => 'evt_1', 'type' => 'something.we.never.heard.of', 'data' => ['x' => 1]],
            ['id' => 'evt_2', 'type' => 'partner.updated', 'unexpected' => ['deep' => ['er' => true]], 'data' => null],
            ['id' => 'evt_3', 'type' => "t\u{1F600}pe"],
        ];
        $body = $this->body($events);
        // (Members come back in JSON's order-free form: compare as maps.)
        $this->assertEquals($events, Webhook::verify($body, $this->sig($body), self::SECRET));
        // The same delivery twice is verified twice: de-duplication is the inbox's job.
        $this->assertCount(3, Webhook::verify($body, $this->sig($body), self::SECRET));
        $this->assertSame([], Webhook::verify('{"events":[]}', $this->sig('{"events":[]}'), self::SECRET));
    }

    public function testWrongKindsOfBodyAndSecret(): void
    {
        // A body that is not a string is the caller's mistake, named as such.
        foreach ([['events' => []], 42, null, 1.5, new \stdClass()] as $body) {
            try {
                Webhook::verify($body, ['TG-Signature' => 't=1,v1=00'], self::SECRET);
                $this->fail('a non-string body must be refused');
            } catch (ValidationException $e) {
                $this->assertSame('body', $e->getField());
            }
        }
        // Binary and invalid UTF-8 bodies are bytes like any other: signed, they verify as far as JSON goes.
        $bin = "{\"events\":[]}\xff";
        $this->assertStringStartsWith('webhook body is malformed: not JSON', $this->refusal($bin, $this->sig($bin)));
        // A secret must be text: one that is not UTF-8 is refused as an argument, never half-used.
        $body = $this->body();
        foreach ([fn () => Webhook::sign($body, "\xff\xfe binary secret"),
            fn () => Webhook::verify($body, $this->sig($body), "\xff\xfe binary secret")] as $f) {
            try {
                $f();
                $this->fail('a non-UTF-8 secret must be refused');
            } catch (\TypeError $e) {
                $this->assertStringContainsString('secret', $e->getMessage());
            }
        }
    }
}
