<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Flow\TradingIssue\TradingExceptionScanner;
use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Sync\RequestActivity;
use TradingGrid\Tests\Sandbox;

/**
 * The Lens exception scan end to end: the real extension reads a real sandbox, the
 * scanner stores each failed transaction once in the inbox of a real database.
 */
final class TradingExceptionScanTest extends StoreTestCase
{
    private Sandbox $sandbox;
    private Inbox $inbox;
    private TradingExceptionScanner $scanner;
    private RequestActivity $activity;

    protected function setUp(): void
    {
        $this->sandbox = $this->resetSandbox();
        parent::setUp();
        $this->now = (int) strtotime('2026-11-10T00:00:00Z');
        $this->inbox = new Inbox($this->pdo, self::PREFIX, $this->clock());
        $this->activity = new RequestActivity();
        $network = new SandboxNetwork($this->sandbox->client());
        $this->scanner = new TradingExceptionScanner($network, $this->inbox, $this->activity, $this->clock());
    }

    /** @param list<array<string, mixed>> $transactions */
    private function trade(array $transactions): void
    {
        $this->sandbox->admin('POST', '/_sandbox/lens/transactions', ['transactions' => $transactions]);
    }

    private static function failed(string $edi, string $at, string $status = 'F'): array
    {
        return ['editype' => $edi, 'status' => $status, 'arrivaltime' => $at, 'senderaddress' => 'ZZ:ACMEFREIGHT'];
    }

    /** @return list<string> the stored events' transaction ids, oldest first */
    private function stored(): array
    {
        $ids = [];
        foreach ($this->inbox->list(['type' => TradingExceptionScanner::EVENT], 100) as $row) {
            $ids[] = $row['event']['data']['transactionid'];
        }
        sort($ids);
        return $ids;
    }

    public function testTheFirstScanLooksBackAndStoresOnlyFailures(): void
    {
        $this->trade([
            self::failed('856', '2026-10-01T00:00:00Z'), // older than the look-back
            self::failed('856', '2026-11-05T10:00:00Z'),
            self::failed('810', '2026-11-06T10:00:00Z', 'V'),
            self::failed('850', '2026-11-07T10:00:00Z', 'S'), // delivered
        ]);
        $counts = $this->scanner->scan(7);
        $this->assertSame(['seen' => 2, 'stored' => 2, 'skipped' => 0, 'since' => '2026-11-03T00:00:00Z'], $counts);
        $this->assertSame('2026-11-06T10:00:00Z', $this->inbox->cursor(TradingExceptionScanner::CURSOR));
        $rows = $this->inbox->list(['type' => TradingExceptionScanner::EVENT], 10);
        $this->assertCount(2, $rows);
        foreach ($rows as $row) {
            $this->assertSame('lens:' . $row['event']['data']['transactionid'], $row['eventId']);
            $this->assertSame('lens', $row['source']);
            $this->assertSame($row['event']['data']['arrivaltime'], $row['event']['occurredAt']);
        }
        $this->assertSame(2, $this->activity->receivedCount(), 'the request handles them after its response');
    }

    public function testLaterScansGoOnFromTheNewestAndMissNothingOfTheSameSecond(): void
    {
        $this->trade([self::failed('856', '2026-11-05T10:00:00Z')]);
        $this->scanner->scan(7);
        $this->assertSame(['seen' => 1, 'stored' => 0, 'skipped' => 0, 'since' => '2026-11-05T10:00:00Z'], $this->scanner->scan(7));
        $this->trade([self::failed('810', '2026-11-05T10:00:00Z', 'V'), self::failed('856', '2026-11-08T00:00:00Z')]);
        $counts = $this->scanner->scan(7);
        $this->assertSame(3, $counts['seen']);
        $this->assertSame(2, $counts['stored']);
        $this->assertCount(3, $this->stored());
        $this->assertSame('2026-11-08T00:00:00Z', $this->inbox->cursor(TradingExceptionScanner::CURSOR));
    }

    public function testADocumentThatFailsAfterTheWatermarkIsFoundThoughItArrivedBefore(): void
    {
        $this->trade([self::failed('810', '2026-11-06T10:00:00Z', 'V')]);
        $this->scanner->scan(7);
        $this->assertSame('2026-11-06T10:00:00Z', $this->inbox->cursor(TradingExceptionScanner::CURSOR));
        // Arrived on the 5th, still in delivery then; its delivery failed on the 8th.
        $this->trade([self::failed('856', '2026-11-05T09:00:00Z') + ['statusdate' => '2026-11-08T12:00:00.250+01:00']]);
        $counts = $this->scanner->scan(7);
        $this->assertSame(1, $counts['stored']);
        $this->assertSame('2026-11-08T11:00:00Z', $this->inbox->cursor(TradingExceptionScanner::CURSOR), 'kept as UTC, whatever form Lens wrote');
        $event = $this->inbox->get('lens:' . $this->stored()[1])['event'] ?? null;
        $this->assertSame('2026-11-08T11:00:00Z', $event['occurredAt'] ?? null);
    }

    public function testManyExceptionsArePagedUpToTheLimitAndTheRestComesNextTime(): void
    {
        $batch = [];
        for ($i = 0; $i < 7; $i++) {
            $batch[] = self::failed('856', sprintf('2026-11-05T10:00:%02dZ', $i));
        }
        $this->trade($batch);
        $first = $this->scanner->scan(7, 2, 2);
        $this->assertSame(4, $first['stored'], 'two pages of two');
        $this->assertSame('2026-11-05T10:00:03Z', $this->inbox->cursor(TradingExceptionScanner::CURSOR));
        $second = $this->scanner->scan(7, 2, 10);
        $this->assertSame(3, $second['stored']);
        $this->assertCount(7, $this->stored());
    }

    public function testAnUnreachableLensStoresNothingAndKeepsTheWatermark(): void
    {
        $this->trade([self::failed('856', '2026-11-05T10:00:00Z')]);
        $this->scanner->scan(7);
        $this->trade([self::failed('856', '2026-11-09T10:00:00Z')]);
        $this->sandbox->admin('POST', '/_sandbox/faults', ['errorRate' => 1.0, 'writesOnly' => false]);
        try {
            $this->scanner->scan(7);
            $this->fail('the scan reports the outage');
        } catch (\TradingGrid\Exception $e) {
            $this->assertTrue($e instanceof \TradingGrid\ApiException || $e instanceof \TradingGrid\TransportException, get_class($e));
        } finally {
            $this->sandbox->admin('POST', '/_sandbox/faults', ['errorRate' => 0]);
        }
        $this->assertSame('2026-11-05T10:00:00Z', $this->inbox->cursor(TradingExceptionScanner::CURSOR));
        $this->assertSame(1, $this->scanner->scan(7)['stored'], 'the next scan finds what the outage hid');
    }
}
