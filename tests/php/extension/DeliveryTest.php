<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Extension;

use PHPUnit\Framework\TestCase;
use TradingGrid\Tests\Sandbox;

final class DeliveryTest extends TestCase
{
    private Sandbox $sandbox;

    protected function setUp(): void
    {
        $this->sandbox = Sandbox::shared();
        $this->sandbox->reset();
    }

    protected function tearDown(): void
    {
        $this->sandbox->admin('POST', '/_sandbox/faults', ['errorRate' => 0, 'rateLimitRate' => 0, 'resetRate' => 0]);
    }

    private function partnerOp(int $i, int $revision = 1): array
    {
        return [
            'id' => "outbox-$i-$revision",
            'op' => 'partner.upsert',
            'payload' => [
                'externalId' => "drupal-user-$i",
                'companyName' => "Supplier $i",
                'partnerType' => 'supplier',
                'country' => 'NL',
                'contactEmail' => "buyer$i@supplier.example",
                'revision' => $revision,
            ],
        ];
    }

    public function testRateLimitedRequestsAreRetriedUntilTheyLand(): void
    {
        $this->sandbox->admin('POST', '/_sandbox/faults', ['rateLimitRate' => 0.5, 'writesOnly' => true]);
        $ops = array_map(fn (int $i): array => $this->partnerOp($i), range(1, 30));
        $results = $this->sandbox->client(['maxRetries' => 10])->sendBatch($ops);

        $this->assertCount(30, $results);
        foreach ($results as $i => $r) {
            $this->assertTrue($r['ok'], "op $i: " . json_encode($r['error']));
        }
        $stats = $this->sandbox->stats();
        $this->assertGreaterThan(0, $stats['faults']['rateLimited'], 'the sandbox did answer 429');
        $this->assertSame(30, $stats['applied']['partner.upsert']);
        $attempts = array_sum(array_column($results, 'attempts'));
        $this->assertGreaterThan(30, $attempts, 'some operations needed more than one attempt');
    }

    public function testServerErrorsAreRetriedAndEachWriteAppliedOnce(): void
    {
        $this->sandbox->admin('POST', '/_sandbox/faults', ['errorRate' => 0.3, 'writesOnly' => true]);
        $ops = [];
        foreach (range(1, 20) as $i) {
            $ops[] = ['id' => "n-$i", 'op' => 'notification.create', 'payload' => [
                'communityId' => 'logistics-eu', 'kind' => 'notice',
                'title' => "Notice $i", 'body' => 'Dock 4 closed on Friday',
            ]];
        }
        $results = $this->sandbox->client(['maxRetries' => 12])->sendBatch($ops);
        $this->assertSame(20, count(array_filter($results, static fn (array $r): bool => $r['ok'])));
        $this->assertSame(20, $this->sandbox->stats()['applied']['notification.create']);
    }

    public function testReplayedIdempotencyKeyReturnsTheFirstAnswer(): void
    {
        $client = $this->sandbox->client();
        $issue = [
            'externalId' => 'drupal-node-77',
            'type' => 'shipment_discrepancy',
            'title' => '12 pallets short',
            'description' => 'Delivery note says 40, received 28.',
            'partnerExternalId' => 'drupal-user-1',
            'references' => ['shipment' => 'SHP-1001', 'purchaseOrder' => 'PO-77'],
        ];
        $client->upsertPartner($this->partnerOp(1)['payload']);
        $first = $client->createIssue($issue, 'issue-drupal-node-77');
        $second = $client->createIssue($issue, 'issue-drupal-node-77');

        $this->assertSame($first['issueId'], $second['issueId']);
        $stats = $this->sandbox->stats();
        $this->assertSame(1, $stats['applied']['issue.create']);
        $this->assertGreaterThanOrEqual(1, $stats['duplicates']);
    }

    public function testBatchKeepsOrderPerKeyAndGivesOneResultPerOperation(): void
    {
        $ops = [];
        foreach (range(1, 5) as $rev) {
            $ops[] = $this->partnerOp(1, $rev);
            $ops[] = $this->partnerOp(2, $rev);
        }
        $ops[] = ['id' => 'broken', 'op' => 'partner.explode', 'payload' => []];
        $ops[] = ['id' => 'no-payload', 'op' => 'partner.upsert'];
        $ops[] = 'not an array';
        $results = $this->sandbox->client(['concurrency' => 8])->sendBatch($ops);

        $this->assertCount(count($ops), $results);
        foreach (array_slice($results, 0, 10) as $r) {
            $this->assertTrue($r['ok']);
            $this->assertTrue($r['result']['applied'], 'revisions arrive in order, none is stale');
        }
        $this->assertSame('broken', $results[10]['id']);
        $this->assertSame('validation', $results[10]['error']['class']);
        $this->assertSame('op', $results[10]['error']['field']);
        $this->assertSame('payload', $results[11]['error']['field']);
        $this->assertSame('validation', $results[12]['error']['class']);
        $client = $this->sandbox->client();
        $this->assertSame(5, $client->getPartner('drupal-user-1')['revision']);
    }

    /**
     * More entries than sendBatch converts ahead of the answers (4,096 at concurrency 1):
     * the conversion waits for answers on the way, and every entry still gets its result,
     * in input order, with the revisions of one key applied in order.
     */
    public function testABatchLongerThanTheConversionWindowDeliversEveryEntryInOrder(): void
    {
        $ops = [];
        for ($i = 0; $i < 4600; $i++) {
            $ops[] = $this->partnerOp($i % 1000, intdiv($i, 1000) + 1);
        }
        $results = $this->sandbox->client(['concurrency' => 1])->sendBatch($ops);

        $this->assertCount(4600, $results);
        foreach ($results as $i => $r) {
            $this->assertSame($ops[$i]['id'], $r['id']);
            $this->assertTrue($r['ok'], "op $i: " . json_encode($r['error']));
            $this->assertTrue($r['result']['applied'], "op $i: revisions of a key arrive in order");
        }
        $this->assertSame(5, $this->sandbox->client()->getPartner('drupal-user-599')['revision']);
    }

    public function testAFailedOperationBlocksTheLaterOnesWithTheSameKey(): void
    {
        $client = $this->sandbox->client();
        $results = $client->sendBatch([
            ['id' => 'a', 'op' => 'issue.status', 'payload' => ['issueId' => 'TI-missing', 'status' => 'in_progress']],
            ['id' => 'b', 'op' => 'issue.status', 'payload' => ['issueId' => 'TI-missing', 'status' => 'awaiting_partner']],
        ]);
        $this->assertFalse($results[0]['ok']);
        $this->assertSame('not_found', $results[0]['error']['class']);
        $this->assertSame('blocked', $results[1]['error']['class']);
        $this->assertTrue($results[1]['error']['retryable']);
    }

    public function testUnreachableEndpointIsARetryableTransportError(): void
    {
        $client = new \TradingGrid\Client($this->sandbox->clientOptions([
            'baseUrl' => 'http://127.0.0.1:9', 'maxRetries' => 1, 'connectTimeoutMs' => 500,
        ]));
        try {
            $client->communities();
            $this->fail('nothing listens on port 9');
        } catch (\TradingGrid\TransportException $e) {
            $this->assertTrue($e->isRetryable());
            $this->assertStringContainsString('could not connect', $e->getMessage());
        }
        $r = $client->send($this->partnerOp(1));
        $this->assertFalse($r['ok']);
        $this->assertSame('transport', $r['error']['class']);
        $this->assertTrue($r['error']['retryable']);
    }
}
