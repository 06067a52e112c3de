<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

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
            'mysql' => 'SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
            default => 'SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?',
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
            $keyed = array_merge($definition['primary key'], ...array_values($definition['unique keys'] ?? []),
                ...array_values($definition['indexes'] ?? []));
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
