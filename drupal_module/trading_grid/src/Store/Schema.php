<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Store;

/**
 * The module's tables, written once in Drupal's hook_schema() format.
 *
 * Drupal installs them from definitions() (trading_grid_schema() returns it); anything
 * outside Drupal (tests, a standalone worker) calls install(), which translates the very
 * same arrays into DDL for the PDO's engine. Key columns are 'binary' so MySQL compares
 * them case-sensitively like the other engines do.
 */
final class Schema
{
    public const TABLES = [
        'trading_grid_outbox',
        'trading_grid_inbox',
        'trading_grid_link',
        'trading_grid_metrics',
        'trading_grid_state',
        'trading_grid_organisation',
    ];

    /** @return array<string, array<string,mixed>> table => hook_schema() definition */
    public static function definitions(): array
    {
        $time = static fn (string $description, bool $notNull = true): array => [
            'type' => 'int', 'size' => 'big', 'not null' => $notNull,
            'description' => $description,
        ] + ($notNull ? ['default' => 0] : []);

        return [
            'trading_grid_outbox' => [
                'description' => 'Operations waiting to be sent to Trading Grid, written with the entity save.',
                'fields' => [
                    'id' => ['type' => 'serial', 'size' => 'big', 'unsigned' => true, 'not null' => true,
                        'description' => 'Row id; also orders rows within an ordering key.'],
                    'op' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => true,
                        'description' => 'Operation name, e.g. partner.upsert.'],
                    'payload' => ['type' => 'text', 'size' => 'big', 'not null' => true,
                        'description' => 'Operation payload as JSON.'],
                    'ordering_key' => ['type' => 'varchar', 'length' => 255, 'binary' => true, 'not null' => true,
                        'description' => 'Rows with the same key are sent one after another, oldest first.'],
                    'flow' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => true,
                        'description' => 'The product flow the operation belongs to.'],
                    'entity_type' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => false,
                        'description' => 'Drupal entity type the row was written for.'],
                    'entity_id' => ['type' => 'varchar', 'length' => 128, 'binary' => true, 'not null' => false,
                        'description' => 'Drupal entity id the row was written for.'],
                    'state' => ['type' => 'varchar_ascii', 'length' => 16, 'not null' => true, 'default' => 'pending',
                        'description' => 'pending or dead (dead letters stay until replayed or discarded).'],
                    'attempts' => ['type' => 'int', 'not null' => true, 'default' => 0,
                        'description' => 'Failed send attempts so far.'],
                    'coalesced' => ['type' => 'int', 'not null' => true, 'default' => 0,
                        'description' => 'How many later saves were folded into this row.'],
                    'next_attempt_at' => $time('Not claimed before this time (backoff).'),
                    'lease_token' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => false,
                        'description' => 'Token of the claim that holds the row; NULL when unclaimed.'],
                    'leased_until' => $time('The claim expires at this time.', false),
                    'worker' => ['type' => 'varchar', 'length' => 128, 'not null' => false,
                        'description' => 'Who claimed the row last.'],
                    'error_class' => ['type' => 'varchar_ascii', 'length' => 32, 'not null' => false,
                        'description' => 'Error class of the last failure (validation, transport, ...).'],
                    'last_error' => ['type' => 'text', 'not null' => false,
                        'description' => 'Message of the last failure.'],
                    'failed_at' => $time('Time of the last failure.', false),
                    'created_at' => $time('Time the row was written.'),
                    'updated_at' => $time('Time the row last changed.'),
                ],
                'primary key' => ['id'],
                'indexes' => [
                    'ordering' => ['ordering_key', 'id'],
                    'due' => ['state', 'next_attempt_at'],
                    'entity' => ['entity_type', 'entity_id'],
                    'flow' => ['flow', 'state'],
                ],
            ],
            'trading_grid_inbox' => [
                'description' => 'Events received from Trading Grid, stored once before they are handled.',
                'fields' => [
                    'id' => ['type' => 'serial', 'size' => 'big', 'unsigned' => true, 'not null' => true,
                        'description' => 'Row id; the order events were received in.'],
                    'event_id' => ['type' => 'varchar', 'length' => 128, 'binary' => true, 'not null' => true,
                        'description' => 'Trading Grid event id (unique: duplicates are dropped).'],
                    'type' => ['type' => 'varchar_ascii', 'length' => 128, 'not null' => true,
                        'description' => 'Event type, e.g. membership.changed.'],
                    'event' => ['type' => 'text', 'size' => 'big', 'not null' => true,
                        'description' => 'The whole event as JSON.'],
                    'source' => ['type' => 'varchar_ascii', 'length' => 32, 'not null' => true, 'default' => '',
                        'description' => 'How it arrived: webhook or pull.'],
                    'state' => ['type' => 'varchar_ascii', 'length' => 16, 'not null' => true, 'default' => 'pending',
                        'description' => 'pending, handled or dead.'],
                    'attempts' => ['type' => 'int', 'not null' => true, 'default' => 0,
                        'description' => 'Failed handling attempts so far.'],
                    'next_attempt_at' => $time('Not claimed before this time (backoff).'),
                    'lease_token' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => false,
                        'description' => 'Token of the claim that holds the row.'],
                    'leased_until' => $time('The claim expires at this time.', false),
                    'worker' => ['type' => 'varchar', 'length' => 128, 'not null' => false,
                        'description' => 'Who claimed the row last.'],
                    'last_error' => ['type' => 'text', 'not null' => false,
                        'description' => 'Message of the last handling failure.'],
                    'received_at' => $time('Time the event was stored.'),
                    'handled_at' => $time('Time the event was handled.', false),
                    'updated_at' => $time('Time the row last changed.'),
                ],
                'primary key' => ['id'],
                'unique keys' => [
                    'event_id' => ['event_id'],
                ],
                'indexes' => [
                    'due' => ['state', 'next_attempt_at'],
                    'type' => ['type'],
                ],
            ],
            'trading_grid_link' => [
                'description' => 'Which Drupal entity is which Trading Grid resource, and how its last sync went.',
                'fields' => [
                    'id' => ['type' => 'serial', 'unsigned' => true, 'not null' => true,
                        'description' => 'Row id.'],
                    'entity_type' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => true,
                        'description' => 'Drupal entity type.'],
                    'entity_id' => ['type' => 'varchar', 'length' => 128, 'binary' => true, 'not null' => true,
                        'description' => 'Drupal entity id.'],
                    'flow' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => true,
                        'description' => 'The product flow.'],
                    'remote_id' => ['type' => 'varchar', 'length' => 128, 'binary' => true, 'not null' => false,
                        'description' => 'Trading Grid id (partnerId, issueId, documentId, ...).'],
                    'status' => ['type' => 'varchar_ascii', 'length' => 16, 'not null' => true,
                        'description' => 'queued, synced, failed, dead or withdrawn.'],
                    'last_op' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => false,
                        'description' => 'The last operation sent for the entity.'],
                    'last_error' => ['type' => 'text', 'not null' => false,
                        'description' => 'Message of the last failure, cleared by a success.'],
                    'synced_at' => $time('Time of the last successful send.', false),
                    'created_at' => $time('Time the link was first recorded.'),
                    'updated_at' => $time('Time the link last changed.'),
                ],
                'primary key' => ['id'],
                'unique keys' => [
                    'entity_flow' => ['entity_type', 'entity_id', 'flow'],
                ],
                'indexes' => [
                    'remote' => ['flow', 'remote_id'],
                    'status' => ['status', 'updated_at'],
                ],
            ],
            'trading_grid_metrics' => [
                'description' => 'Counters and figures per period for the dashboard and the portal metrics.',
                'fields' => [
                    'name' => ['type' => 'varchar_ascii', 'length' => 64, 'not null' => true,
                        'description' => 'Metric name.'],
                    'dimension' => ['type' => 'varchar', 'length' => 128, 'binary' => true, 'not null' => true,
                        'default' => '', 'description' => 'Breakdown value, e.g. a community id; empty for none.'],
                    'period' => ['type' => 'varchar_ascii', 'length' => 16, 'not null' => true,
                        'description' => 'Period the figure belongs to, e.g. 2026-11-24.'],
                    'amount' => ['type' => 'float', 'size' => 'big', 'not null' => true, 'default' => 0,
                        'description' => 'The figure.'],
                    'updated_at' => $time('Time the figure last changed.'),
                ],
                'primary key' => ['name', 'dimension', 'period'],
                'indexes' => [
                    'period' => ['period'],
                ],
            ],
            'trading_grid_state' => [
                'description' => 'Small named values that must survive restarts, e.g. the event feed cursor.',
                'fields' => [
                    'name' => ['type' => 'varchar_ascii', 'length' => 128, 'not null' => true,
                        'description' => 'Name of the value.'],
                    'data' => ['type' => 'text', 'not null' => true,
                        'description' => 'The value.'],
                    'updated_at' => $time('Time the value last changed.'),
                ],
                'primary key' => ['name'],
            ],
            'trading_grid_organisation' => [
                'description' => 'An integer id for each organisation name (and partner type and community), '
                    . 'so they can be node access grant ids.',
                'fields' => [
                    'id' => ['type' => 'serial', 'unsigned' => true, 'not null' => true,
                        'description' => 'The grant id; never reused.'],
                    'name' => ['type' => 'varchar', 'length' => 255, 'binary' => true, 'not null' => true,
                        'description' => 'Organisation name as on accounts and nodes, or a key name such as '
                            . 'type:<partner type>.'],
                    'created' => $time('Time the name was first given an id.'),
                ],
                'primary key' => ['id'],
                'unique keys' => [
                    'name' => ['name'],
                ],
            ],
        ];
    }

    /** Creates the tables (and their indexes) that do not exist yet. */
    public static function install(\PDO $pdo, string $prefix = ''): void
    {
        $dialect = new Dialect($pdo, $prefix);
        foreach (self::definitions() as $table => $definition) {
            foreach (self::ddl($dialect, $table, $definition) as $statement) {
                $pdo->exec($statement);
            }
        }
    }

    /** Drops the tables. */
    public static function uninstall(\PDO $pdo, string $prefix = ''): void
    {
        $dialect = new Dialect($pdo, $prefix);
        foreach (array_keys(self::definitions()) as $table) {
            $pdo->exec('DROP TABLE IF EXISTS ' . $dialect->table($table));
        }
    }

    /**
     * The statements that create one table, idempotently (IF NOT EXISTS throughout).
     *
     * @param array<string,mixed> $definition
     * @return list<string>
     */
    public static function ddl(Dialect $dialect, string $table, array $definition): array
    {
        [$schema, $name] = $dialect->qualifiedName($table);
        $q = $dialect->quote(...);
        $qualified = $dialect->table($table);
        $lines = [];
        $serialIsKey = false;
        foreach ($definition['fields'] as $field => $spec) {
            $line = $q($field) . ' ' . self::columnType($dialect->driver, $spec);
            if ($spec['type'] === 'serial') {
                if ($dialect->driver === Dialect::SQLITE) {
                    // The only form SQLite auto-increments; AUTOINCREMENT never reuses an id.
                    $line = $q($field) . ' INTEGER PRIMARY KEY AUTOINCREMENT';
                    $serialIsKey = true;
                } elseif ($dialect->driver === Dialect::MYSQL) {
                    $line .= ' NOT NULL AUTO_INCREMENT';
                } else {
                    $line .= ' NOT NULL';
                }
            } else {
                if (!empty($spec['not null'])) {
                    $line .= ' NOT NULL';
                }
                if (array_key_exists('default', $spec)) {
                    $line .= ' DEFAULT ' . (is_string($spec['default'])
                        ? "'" . str_replace("'", "''", $spec['default']) . "'"
                        : (string) $spec['default']);
                }
            }
            $lines[] = $line;
        }
        if (!empty($definition['primary key']) && !$serialIsKey) {
            $lines[] = 'PRIMARY KEY (' . implode(', ', array_map($q, $definition['primary key'])) . ')';
        }
        foreach ($definition['unique keys'] ?? [] as $key => $columns) {
            $lines[] = 'CONSTRAINT ' . $q(self::indexName($name, $key, 'key')) . ' UNIQUE ('
                . implode(', ', array_map($q, $columns)) . ')';
        }
        $after = [];
        foreach ($definition['indexes'] ?? [] as $index => $columns) {
            $indexName = $q(self::indexName($name, $index, 'idx'));
            $cols = implode(', ', array_map($q, $columns));
            if ($dialect->driver === Dialect::MYSQL) {
                // MySQL has no CREATE INDEX IF NOT EXISTS; inside CREATE TABLE it is implied.
                $lines[] = "INDEX $indexName ($cols)";
            } else {
                // The index lives in its table's schema: SQLite names the schema on the
                // index, PostgreSQL on the table.
                $after[] = $dialect->driver === Dialect::SQLITE
                    ? 'CREATE INDEX IF NOT EXISTS ' . ($schema === null ? '' : $q($schema) . '.')
                        . "$indexName ON " . $q($name) . " ($cols)"
                    : "CREATE INDEX IF NOT EXISTS $indexName ON $qualified ($cols)";
            }
        }
        $sql = "CREATE TABLE IF NOT EXISTS $qualified (\n  " . implode(",\n  ", $lines) . "\n)";
        if ($dialect->driver === Dialect::MYSQL) {
            $sql .= ' ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci';
        }
        return array_merge([$sql], $after);
    }

    /** @param array<string,mixed> $spec */
    private static function columnType(string $driver, array $spec): string
    {
        $size = $spec['size'] ?? 'normal';
        $type = $spec['type'];
        if ($driver === Dialect::SQLITE) {
            return match ($type) {
                'serial', 'int' => 'INTEGER',
                'varchar', 'varchar_ascii', 'char' => 'VARCHAR(' . (int) $spec['length'] . ')',
                'text' => 'TEXT',
                'float', 'numeric' => 'REAL',
                'blob' => 'BLOB',
                default => throw new \LogicException("unsupported schema type $type"),
            };
        }
        if ($driver === Dialect::MYSQL) {
            $unsigned = !empty($spec['unsigned']) ? ' UNSIGNED' : '';
            return match ($type) {
                'serial', 'int' => ['tiny' => 'TINYINT', 'small' => 'SMALLINT', 'medium' => 'MEDIUMINT',
                    'normal' => 'INT', 'big' => 'BIGINT'][$size] . $unsigned,
                'varchar', 'char' => strtoupper($type) . '(' . (int) $spec['length'] . ')'
                    . (!empty($spec['binary']) ? ' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin' : ''),
                'varchar_ascii' => 'VARCHAR(' . (int) $spec['length']
                    . ') CHARACTER SET ascii COLLATE ascii_general_ci',
                'text' => ['tiny' => 'TINYTEXT', 'small' => 'TINYTEXT', 'medium' => 'MEDIUMTEXT',
                    'normal' => 'TEXT', 'big' => 'LONGTEXT'][$size],
                'float' => $size === 'big' ? 'DOUBLE' : 'FLOAT',
                'blob' => $size === 'big' ? 'LONGBLOB' : 'BLOB',
                default => throw new \LogicException("unsupported schema type $type"),
            };
        }
        return match ($type) {
            'serial' => $size === 'big' ? 'BIGSERIAL' : 'SERIAL',
            'int' => ['tiny' => 'SMALLINT', 'small' => 'SMALLINT', 'medium' => 'INTEGER',
                'normal' => 'INTEGER', 'big' => 'BIGINT'][$size],
            'varchar', 'varchar_ascii' => 'VARCHAR(' . (int) $spec['length'] . ')',
            'char' => 'CHAR(' . (int) $spec['length'] . ')',
            'text' => 'TEXT',
            'float' => $size === 'big' ? 'DOUBLE PRECISION' : 'REAL',
            'blob' => 'BYTEA',
            default => throw new \LogicException("unsupported schema type $type"),
        };
    }

    /** Index names are per schema in PostgreSQL and SQLite, and at most 63/64 bytes. */
    private static function indexName(string $table, string $index, string $suffix): string
    {
        $name = "{$table}__{$index}__{$suffix}";
        return strlen($name) <= 60 ? $name : substr($name, 0, 47) . '_' . substr(sha1($name), 0, 12);
    }
}
