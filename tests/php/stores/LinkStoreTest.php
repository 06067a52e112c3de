<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\LinkStore;

final class LinkStoreTest extends StoreTestCase
{
    private function links(): LinkStore
    {
        return new LinkStore($this->pdo, self::PREFIX, $this->clock());
    }

    public function testRecordUpsertsOneLinkPerEntityAndFlow(): void
    {
        $links = $this->links();
        $links->record('user', '42', 'partner', 'queued');
        $this->now += 10;
        $links->record('user', '42', 'partner', 'synced', 'GC0000000001', null, 'partner.upsert');
        $this->now += 10;
        $links->record('user', '42', 'partner', 'failed', null, 'transport: connection reset', 'partner.upsert');

        $this->assertSame(1, $links->count());
        $link = $links->get('user', '42', 'partner');
        $this->assertSame('failed', $link['status']);
        $this->assertSame('GC0000000001', $link['remoteId'], 'a null remote id keeps the known one');
        $this->assertSame('transport: connection reset', $link['lastError']);
        $this->assertSame('partner.upsert', $link['lastOp']);
        $this->assertSame($this->now - 10, $link['syncedAt'], 'the last success is remembered');
        $this->assertSame($this->now - 20, $link['createdAt']);
        $this->assertSame($this->now, $link['updatedAt']);

        $links->record('user', '42', 'partner', 'synced');
        $this->assertNull($links->get('user', '42', 'partner')['lastError'], 'a success clears the error');
    }

    public function testAnEntityHasOneLinkPerFlow(): void
    {
        $links = $this->links();
        $links->record('user', '42', 'partner', 'synced', 'GC1');
        $this->now += 1;
        $links->record('user', '42', 'onboarding', 'queued');
        $this->assertSame(2, $links->count(['entityType' => 'user', 'entityId' => '42']));
        $this->assertSame('onboarding', $links->get('user', '42')['flow'], 'without a flow: the latest');
        $this->assertSame('GC1', $links->get('user', '42', 'partner')['remoteId']);
        $this->assertNull($links->get('user', '43'));
    }

    public function testFindByRemoteId(): void
    {
        $links = $this->links();
        $links->record('node', '9', 'issue', 'synced', 'TI0000000007');
        $links->record('node', '10', 'document', 'synced', 'TI0000000007');
        $this->assertSame('9', $links->findByRemote('issue', 'TI0000000007')['entityId']);
        $this->assertSame('10', $links->findByRemote('document', 'TI0000000007')['entityId']);
        $this->assertNull($links->findByRemote('issue', 'ti0000000007'));
    }

    public function testListFiltersAndPages(): void
    {
        $links = $this->links();
        foreach (range(1, 7) as $i) {
            $this->now += 1;
            $links->record(
                'node',
                (string) $i,
                'document',
                $i % 3 === 0 ? 'dead' : 'synced',
                "D$i",
                $i % 3 === 0 ? 'validation: bad' : null
            );
        }
        $this->assertSame(2, $links->count(['status' => 'dead']));
        $this->assertSame(['6', '3'], array_column($links->list(['status' => 'dead'], 10, 0), 'entityId'));
        $synced = $links->list(['flow' => 'document', 'status' => 'synced'], 2, 0);
        $this->assertSame(['7', '5'], array_column($synced, 'entityId'));
        $this->assertSame(['4', '2'], array_column($links->list(['status' => 'synced'], 2, 2), 'entityId'));
        $this->assertSame(5, $links->counts()['synced']);
        $this->assertSame(1, $links->delete('node', '7'));
        $this->assertSame(6, $links->count());
    }

    public function testAnUnknownStatusIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('status');
        $this->links()->record('user', '1', 'partner', 'done');
    }
}
