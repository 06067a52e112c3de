<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\MetricsStore;
use Drupal\trading_grid\Store\Outbox;
use Drupal\trading_grid\Store\Schema;
use PHPUnit\Framework\TestCase;

final class SchemaTest extends TestCase
{
    private const PREFIX = 'tgschema_';

    private \PDO $pdo;

    protected function setUp(): void
    {
        $this->pdo = StoreTestCase::pdo();
        Schema::uninstall($this->pdo, self::PREFIX);
    }

    protected function tearDown(): void
    {
        Schema::uninstall($this->pdo, self::PREFIX);
    }

    private function tableExists(string $name): bool
    {
        $driver = $this->pdo->getAttribute(\PDO::ATTR_DRIVER_NAME);
        $sql = match ($driver) {
            'sqlite' => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
            'mysql' => 'SELECT COUNT(*) FROM information_schema.tables'
                . ' WHERE table_schema = DATABASE() AND table_name = ?',
            default => 'SELECT COUNT(*) FROM information_schema.tables'
                . ' WHERE table_schema = current_schema() AND table_name = ?',
        };
        $stmt = $this->pdo->prepare($sql);
        $stmt->execute([$name]);
        return (int) $stmt->fetchColumn() === 1;
    }

    public function testDefinitionsAreDrupalSchemaArrays(): void
    {
        $definitions = Schema::definitions();
        $this->assertSame(Schema::TABLES, array_keys($definitions));
        $types = ['serial', 'int', 'varchar', 'varchar_ascii', 'text', 'float'];
        foreach ($definitions as $table => $definition) {
            $this->assertIsString($definition['description'], $table);
            $this->assertNotEmpty($definition['primary key'], $table);
            foreach ($definition['fields'] as $field => $spec) {
                $this->assertContains($spec['type'], $types, "$table.$field");
                $this->assertIsBool($spec['not null'], "$table.$field");
                $this->assertIsString($spec['description'], "$table.$field");
                if (str_starts_with($spec['type'], 'varchar')) {
                    $this->assertIsInt($spec['length'], "$table.$field");
                }
            }
            $keyed = array_merge(
                $definition['primary key'],
                ...array_values($definition['unique keys'] ?? []),
                ...array_values($definition['indexes'] ?? [])
            );
            foreach ($keyed as $column) {
                $this->assertArrayHasKey($column, $definition['fields'], "$table key column $column");
            }
        }
    }

    public function testInstallIsIdempotentAndHonoursThePrefix(): void
    {
        Schema::install($this->pdo, self::PREFIX);
        Schema::install($this->pdo, self::PREFIX);
        foreach (Schema::TABLES as $table) {
            $this->assertTrue($this->tableExists(self::PREFIX . $table), self::PREFIX . $table);
        }
        $this->assertFalse($this->tableExists('tgschema_other_trading_grid_outbox'));

        $outbox = new Outbox($this->pdo, self::PREFIX);
        $id = $outbox->enqueue('partner.upsert', ['externalId' => 'x'], 'partner:x', 'partner');
        Schema::install($this->pdo, self::PREFIX);
        $this->assertNotNull($outbox->get($id), 'installing again keeps the data');

        Schema::uninstall($this->pdo, self::PREFIX);
        foreach (Schema::TABLES as $table) {
            $this->assertFalse($this->tableExists(self::PREFIX . $table));
        }
        Schema::uninstall($this->pdo, self::PREFIX);
    }

    public function testTwoPrefixesAreTwoIndependentSetsOfTables(): void
    {
        Schema::install($this->pdo, self::PREFIX);
        Schema::install($this->pdo, self::PREFIX . 'b_');
        try {
            (new Outbox($this->pdo, self::PREFIX))->enqueue('partner.upsert', [], 'partner:x', 'partner');
            $this->assertSame(1, (new Outbox($this->pdo, self::PREFIX))->count());
            $this->assertSame(0, (new Outbox($this->pdo, self::PREFIX . 'b_'))->count());
        } finally {
            Schema::uninstall($this->pdo, self::PREFIX . 'b_');
        }
    }

    public function testASchemaQualifiedPrefixPutsTheTablesInThatSchema(): void
    {
        // Drupal's SQLite driver gives a prefixed site's prefix as "schema." (an attached
        // database); the other engines accept "schema.table" the same way.
        $driver = $this->pdo->getAttribute(\PDO::ATTR_DRIVER_NAME);
        $file = null;
        if ($driver === 'sqlite') {
            $file = TestDatabase::sqlitePath() . '.attached';
            $this->pdo->exec("ATTACH DATABASE '$file' AS tgschema_att");
            $schema = 'tgschema_att';
        } elseif ($driver === 'pgsql') {
            $this->pdo->exec('CREATE SCHEMA IF NOT EXISTS tgschema_att');
            $schema = 'tgschema_att';
        } else {
            $schema = (string) $this->pdo->query('SELECT DATABASE()')->fetchColumn();
        }
        foreach (["$schema.", "$schema.tgq_"] as $prefix) {
            try {
                Schema::install($this->pdo, $prefix);
                Schema::install($this->pdo, $prefix);
                $outbox = new Outbox($this->pdo, $prefix);
                $outbox->enqueue('partner.upsert', ['v' => 1], 'partner:x', 'partner', 'user', '1');
                $coalesced = $outbox->enqueue('partner.upsert', ['v' => 2], 'partner:x', 'partner', 'user', '1');
                $this->assertSame(1, $coalesced);
                [$row] = $outbox->claim('w', 10);
                $this->assertTrue($outbox->complete($row));
                $inbox = new Inbox($this->pdo, $prefix);
                $this->assertTrue($inbox->store('evt_1', 'issue.created', ['id' => 'evt_1'], 'pull'));
                $this->assertFalse($inbox->store('evt_1', 'issue.created', ['id' => 'evt_1'], 'pull'));
                $this->assertCount(1, $inbox->claim('w', 10));
                $inbox->setCursor('events', '7');
                $inbox->setCursor('events', '8');
                $this->assertSame('8', $inbox->cursor('events'));
                $links = new LinkStore($this->pdo, $prefix);
                $links->record('user', '1', 'partner', 'synced', 'GC1');
                $links->record('user', '1', 'partner', 'failed');
                $this->assertSame('GC1', $links->get('user', '1', 'partner')['remoteId']);
                $metrics = new MetricsStore($this->pdo, $prefix);
                $metrics->add('views', 1, '', '2026-11-24');
                $metrics->add('views', 2, '', '2026-11-24');
                $this->assertSame(['views' => 3.0], $metrics->totals('2026-11-24'));
                if ($driver !== 'mysql') {
                    $this->assertFalse(
                        $this->tableExists(substr($prefix, strlen("$schema.")) . 'trading_grid_outbox'),
                        'nothing was created outside the schema'
                    );
                }
            } finally {
                Schema::uninstall($this->pdo, $prefix);
            }
        }
        if ($driver === 'sqlite') {
            $this->pdo->exec('DETACH DATABASE tgschema_att');
            @unlink((string) $file);
        } elseif ($driver === 'pgsql') {
            $this->pdo->exec('DROP SCHEMA tgschema_att CASCADE');
        }
    }

    public function testAPrefixThatIsNotAnIdentifierIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('prefix');
        Schema::install($this->pdo, 'bad; DROP TABLE x; --');
    }

    public function testKeyColumnsCompareCaseSensitivelyOnEveryEngine(): void
    {
        Schema::install($this->pdo, self::PREFIX);
        $outbox = new Outbox($this->pdo, self::PREFIX);
        $a = $outbox->enqueue('partner.upsert', ['v' => 1], 'partner:Acme', 'partner');
        $b = $outbox->enqueue('partner.upsert', ['v' => 2], 'partner:acme', 'partner');
        $this->assertNotSame($a, $b, 'keys that differ in case are different entities');
        $this->assertSame(2, count($outbox->claim('w', 10)));
    }
}
