<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\Dialect;
use Drupal\trading_grid\Store\Outbox;

final class DialectTest extends StoreTestCase
{
    public function testSkipLockedIsUsedWhereTheServerHasIt(): void
    {
        $this->assertTrue(Dialect::mysqlHasSkipLocked('10.11.19-MariaDB-0+deb12u1'));
        $this->assertTrue(Dialect::mysqlHasSkipLocked('10.6.0-MariaDB'));
        $this->assertFalse(Dialect::mysqlHasSkipLocked('10.5.23-MariaDB-0+deb11u1'));
        $this->assertTrue(Dialect::mysqlHasSkipLocked('8.0.36'));
        $this->assertTrue(Dialect::mysqlHasSkipLocked('8.4.0-log'));
        $this->assertFalse(Dialect::mysqlHasSkipLocked('5.7.44-log'));
        $this->assertFalse(Dialect::mysqlHasSkipLocked('unknown'));
    }

    public function testClaimsStayExclusiveWithoutSkipLocked(): void
    {
        // As on MySQL 5.7 or MariaDB < 10.6: only the guarded UPDATE keeps claimers apart.
        $outboxes = [];
        foreach ([$this->pdo, TestDatabase::connect()] as $pdo) {
            $outbox = new Outbox($pdo, self::PREFIX, $this->clock());
            $dialect = (new \ReflectionProperty(Outbox::class, 'db'))->getValue($outbox);
            (new \ReflectionProperty(Dialect::class, 'skipLocked'))->setValue($dialect, false);
            $outboxes[] = $outbox;
        }
        foreach (range(1, 10) as $i) {
            $outboxes[0]->enqueue('partner.upsert', ['n' => $i], "partner:$i", 'partner');
        }
        $seen = [];
        for ($round = 0; $round < 10; $round++) {
            foreach ($outboxes[$round % 2]->claim("w$round", 3) as $row) {
                $this->assertArrayNotHasKey($row->id, $seen);
                $seen[$row->id] = true;
            }
        }
        $this->assertCount(10, $seen);
    }

    public function testClipCutsByCharactersAndRepairsEncoding(): void
    {
        $this->assertSame('Zoë', Dialect::clip('Zoë Ltd', 3));
        $this->assertNull(Dialect::clip(null, 3));
        $this->assertTrue(mb_check_encoding((string) Dialect::clip("bad \xC3 byte", 100), 'UTF-8'));
    }

    public function testAPayloadThatIsNotJsonIsRefusedByName(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('payload: cannot be encoded as JSON');
        $outbox = new Outbox($this->pdo, self::PREFIX);
        $outbox->enqueue('partner.upsert', ['name' => "bad \xC3"], 'partner:1', 'partner');
    }

    public function testOnlyAnExceptionRaisingPdoIsAccepted(): void
    {
        $pdo = new \PDO('sqlite::memory:');
        $pdo->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_SILENT);
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ERRMODE_EXCEPTION');
        new Outbox($pdo);
    }
}
