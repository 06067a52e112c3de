<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\Inbox;

final class InboxTest extends StoreTestCase
{
    private function inbox(): Inbox
    {
        return new Inbox($this->pdo, self::PREFIX, $this->clock());
    }

    private static function event(string $id, string $type = 'membership.changed'): array
    {
        return ['id' => $id, 'sequence' => 12, 'type' => $type, 'occurredAt' => '2026-11-25T07:00:00Z',
            'data' => ['partnerId' => 'GC0000000001', 'status' => 'active']];
    }

    public function testAnEventIsStoredOnce(): void
    {
        $inbox = $this->inbox();
        $this->assertTrue($inbox->store('evt_1', 'membership.changed', self::event('evt_1'), 'webhook'));
        $this->assertFalse($inbox->store('evt_1', 'membership.changed', self::event('evt_1'), 'pull'));
        $this->assertTrue(
            $inbox->store('EVT_1', 'membership.changed', self::event('EVT_1'), 'pull'),
            'event ids are compared exactly'
        );
        $this->assertSame(2, $inbox->count());
        $stored = $inbox->get('evt_1');
        $this->assertSame('webhook', $stored['source'], 'the first delivery is the one kept');
        $this->assertSame(self::event('evt_1'), $stored['event']);
        $this->assertSame('pending', $stored['state']);
        $this->assertSame($this->now, $stored['receivedAt']);
    }

    public function testADuplicateInsideTheCallersTransactionDoesNotSpoilIt(): void
    {
        $inbox = $this->inbox();
        $inbox->store('evt_1', 'membership.changed', self::event('evt_1'), 'webhook');
        $this->pdo->beginTransaction();
        $this->assertFalse($inbox->store('evt_1', 'membership.changed', self::event('evt_1'), 'webhook'));
        $this->assertTrue(
            $inbox->store('evt_2', 'issue.created', self::event('evt_2'), 'webhook'),
            'the transaction is still usable after a duplicate (PostgreSQL aborts on errors)'
        );
        $this->pdo->commit();
        $this->assertSame(2, $inbox->count());
    }

    public function testConcurrentDeliveriesOfTheSameEventsStoreEachOnce(): void
    {
        $procs = [];
        foreach (['webhook', 'pull', 'webhook', 'pull'] as $i => $source) {
            $procs[$i] = self::spawn('store-events.php', [self::PREFIX, '150', $source], $pipes);
            $procs[$i] = [$procs[$i], $pipes];
        }
        $stored = 0;
        foreach ($procs as [$proc, $pipes]) {
            $out = stream_get_contents($pipes[1]);
            $err = stream_get_contents($pipes[2]);
            $this->assertSame(0, proc_close($proc), (string) $err);
            $stored += (int) trim((string) $out);
        }
        $this->assertSame(150, $stored, 'every event was new to exactly one process');
        $this->assertSame(150, $this->inbox()->count());
    }

    public function testClaimLeasesUnhandledEventsInArrivalOrder(): void
    {
        $inbox = $this->inbox();
        foreach (['evt_3', 'evt_1', 'evt_2'] as $id) {
            $inbox->store($id, 'issue.status_changed', self::event($id), 'pull');
        }
        $first = $inbox->claim('w1', 2, 30);
        $this->assertSame(['evt_3', 'evt_1'], array_column($first, 'eventId'));
        $this->assertSame($this->now + 30, $first[0]['leasedUntil']);
        $this->assertSame(['evt_2'], array_column($inbox->claim('w2', 5), 'eventId'));
        $this->assertSame([], $inbox->claim('w3', 5));

        $inbox->markHandled('evt_3');
        $this->now += 31;
        $this->assertSame(
            ['evt_1'],
            array_column($inbox->claim('w3', 1), 'eventId'),
            'an expired lease is claimed again; handled events are not'
        );
        $this->assertSame(['pending' => 2, 'handled' => 1, 'dead' => 0], $inbox->counts());
        $this->assertSame($this->now - 31, $inbox->get('evt_3')['handledAt']);
    }

    public function testFailedHandlingIsRetriedThenDead(): void
    {
        $inbox = $this->inbox();
        $inbox->store('evt_1', 'document.accepted', self::event('evt_1'), 'webhook');
        $states = [];
        for ($i = 0; $i < 3; $i++) {
            $claimed = $inbox->claim('w', 1);
            $this->assertCount(1, $claimed, "attempt $i");
            $states[] = $inbox->markFailed('evt_1', "no such node $i", 3);
            $this->assertSame([], $inbox->claim('w', 1), 'backing off');
            $this->now += 3600;
        }
        $this->assertSame(['pending', 'pending', 'dead'], $states);
        $dead = $inbox->get('evt_1');
        $this->assertSame('no such node 2', $dead['lastError']);
        $this->assertSame(3, $dead['attempts']);
        $this->assertSame(1, $inbox->count(['state' => 'dead']));
        $this->assertSame([], $inbox->claim('w', 1));

        $this->assertTrue($inbox->replay('evt_1'));
        $this->assertCount(1, $inbox->claim('w', 1));
        $inbox->markHandled('evt_1');
        $this->assertSame('handled', $inbox->markFailed('evt_1', 'late', 3), 'a handled event stays handled');
        $this->assertSame('', $inbox->markFailed('evt_404', 'x'));
    }

    public function testListFiltersAndPrune(): void
    {
        $inbox = $this->inbox();
        foreach (range(1, 5) as $i) {
            $this->now += 10;
            $inbox->store(
                "evt_$i",
                $i % 2 ? 'issue.created' : 'document.accepted',
                self::event("evt_$i"),
                $i < 3 ? 'webhook' : 'pull'
            );
        }
        $created = $inbox->list(['type' => 'issue.created']);
        $this->assertSame(['evt_5', 'evt_3', 'evt_1'], array_column($created, 'eventId'));
        $this->assertSame(['evt_2', 'evt_1'], array_column($inbox->list(['source' => 'webhook']), 'eventId'));
        $this->assertSame(['evt_4'], array_column($inbox->list([], 1, 1), 'eventId'));
        $inbox->markHandled('evt_1');
        $inbox->markHandled('evt_4');
        $this->assertSame(1, $inbox->prune($this->now - 15), 'only handled events older than the cut');
        $this->assertNull($inbox->get('evt_1'));
        $this->assertSame(4, $inbox->count());
    }

    public function testTheFeedCursorSurvivesAndMoves(): void
    {
        $inbox = $this->inbox();
        $this->assertNull($inbox->cursor('events'));
        $inbox->setCursor('events', '12');
        $inbox->setCursor('events', '40');
        $inbox->setCursor('other', 'a');
        $this->assertSame('40', (new Inbox(TestDatabase::connect(), self::PREFIX))->cursor('events'));
        $this->assertSame('a', $inbox->cursor('other'));
    }
}
