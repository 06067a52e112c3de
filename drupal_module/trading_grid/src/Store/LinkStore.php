<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Store;

/**
 * Which Drupal entity is which Trading Grid resource (per flow), and how its last sync
 * went: the per-entity status the UI shows and the sync history the outbox does not keep
 * (sent outbox rows are deleted).
 */
final class LinkStore
{
    public const QUEUED = 'queued';
    public const SYNCED = 'synced';
    public const FAILED = 'failed';
    public const DEAD = 'dead';
    public const WITHDRAWN = 'withdrawn';
    public const STATUSES = [self::QUEUED, self::SYNCED, self::FAILED, self::DEAD, self::WITHDRAWN];

    private const TABLE = 'trading_grid_link';

    private readonly Dialect $db;
    private readonly string $t;
    private readonly \Closure $clock;

    /** @param \Closure(): (int|float)|null $clock unix seconds; time() by default */
    public function __construct(\PDO $pdo, string $prefix = '', ?\Closure $clock = null)
    {
        $this->db = new Dialect($pdo, $prefix);
        $this->t = $this->db->table(self::TABLE);
        $this->clock = $clock ?? static fn (): int => time();
    }

    /**
     * Creates or updates the link of one entity in one flow. A null $remoteId keeps the
     * one already known; $error replaces the last error (null clears it); a 'synced'
     * status also stamps synced_at.
     */
    public function record(
        string $entityType,
        string $entityId,
        string $flow,
        string $status,
        ?string $remoteId = null,
        ?string $error = null,
        ?string $op = null,
    ): void {
        if (!in_array($status, self::STATUSES, true)) {
            throw new \InvalidArgumentException(
                'status: must be one of ' . implode(', ', self::STATUSES) . ", got '$status'"
            );
        }
        $limits = ['entityType' => [$entityType, 64], 'entityId' => [$entityId, 128], 'flow' => [$flow, 64]];
        foreach ($limits as $n => [$v, $max]) {
            if ($v === '' || mb_strlen($v, 'UTF-8') > $max) {
                throw new \InvalidArgumentException("$n: must be 1 to $max characters");
            }
        }
        $now = $this->now();
        $this->db->upsert(
            self::TABLE,
            [
                'entity_type' => $entityType,
                'entity_id' => $entityId,
                'flow' => $flow,
                'remote_id' => Dialect::clip($remoteId, 128),
                'status' => $status,
                'last_op' => Dialect::clip($op, 64),
                'last_error' => Dialect::clip($error, 4000),
                'synced_at' => $status === self::SYNCED ? $now : null,
                'created_at' => $now,
                'updated_at' => $now,
            ],
            ['entity_type', 'entity_id', 'flow'],
            [
                'remote_id' => 'COALESCE(new.remote_id, old.remote_id)',
                'status' => 'new.status',
                'last_op' => 'COALESCE(new.last_op, old.last_op)',
                'last_error' => 'new.last_error',
                'synced_at' => 'COALESCE(new.synced_at, old.synced_at)',
                'updated_at' => 'new.updated_at',
            ],
        );
    }

    /**
     * The link of an entity in a flow, or (without $flow) its most recently updated link.
     *
     * @return array<string,mixed>|null
     */
    public function get(string $entityType, string $entityId, ?string $flow = null): ?array
    {
        $params = [':et' => $entityType, ':eid' => $entityId];
        $sql = "SELECT * FROM $this->t WHERE entity_type = :et AND entity_id = :eid";
        if ($flow !== null) {
            $sql .= ' AND flow = :flow';
            $params[':flow'] = $flow;
        }
        $row = $this->db->fetchOne($sql . ' ORDER BY updated_at DESC, id DESC' . Dialect::limit(1), $params);
        return $row === null ? null : self::toArray($row);
    }

    /** @return array<string,mixed>|null */
    public function findByRemote(string $flow, string $remoteId): ?array
    {
        $row = $this->db->fetchOne(
            "SELECT * FROM $this->t WHERE flow = :flow AND remote_id = :rid ORDER BY id" . Dialect::limit(1),
            [':flow' => $flow, ':rid' => $remoteId],
        );
        return $row === null ? null : self::toArray($row);
    }

    /**
     * Most recently updated first. Filters: entityType, entityId, flow, status, remoteId.
     *
     * @param array<string,mixed> $filter
     * @return list<array<string,mixed>>
     */
    public function list(array $filter = [], int $limit = 50, int $offset = 0): array
    {
        $params = [];
        $where = self::where($filter, $params);
        return array_map(
            self::toArray(...),
            $this->db->fetchAll(
                "SELECT * FROM $this->t WHERE $where ORDER BY updated_at DESC, id DESC"
                    . Dialect::limit($limit, $offset),
                $params,
            ),
        );
    }

    /** @param array<string,mixed> $filter as for list() */
    public function count(array $filter = []): int
    {
        $params = [];
        $where = self::where($filter, $params);
        return (int) $this->db->fetchValue("SELECT COUNT(*) FROM $this->t WHERE $where", $params);
    }

    /** @return array<string,int> status => links */
    public function counts(): array
    {
        $counts = array_fill_keys(self::STATUSES, 0);
        foreach ($this->db->fetchAll("SELECT status, COUNT(*) AS n FROM $this->t GROUP BY status") as $r) {
            $counts[$r['status']] = (int) $r['n'];
        }
        return $counts;
    }

    public function delete(string $entityType, string $entityId, ?string $flow = null): int
    {
        $params = [':et' => $entityType, ':eid' => $entityId];
        $sql = "DELETE FROM $this->t WHERE entity_type = :et AND entity_id = :eid";
        if ($flow !== null) {
            $sql .= ' AND flow = :flow';
            $params[':flow'] = $flow;
        }
        return $this->db->execute($sql, $params);
    }

    private function now(): int
    {
        return (int) ($this->clock)();
    }

    /**
     * @param array<string,mixed> $filter
     * @param array<string,mixed> $params
     */
    private static function where(array $filter, array &$params): string
    {
        $conditions = ['1 = 1'];
        $columns = ['entityType' => 'entity_type', 'entityId' => 'entity_id', 'flow' => 'flow',
            'status' => 'status', 'remoteId' => 'remote_id'];
        foreach ($columns as $key => $col) {
            if (isset($filter[$key]) && $filter[$key] !== '') {
                $params[":f_$col"] = (string) $filter[$key];
                $conditions[] = "$col = :f_$col";
            }
        }
        return implode(' AND ', $conditions);
    }

    /**
     * @param array<string,mixed> $r
     * @return array<string,mixed>
     */
    private static function toArray(array $r): array
    {
        return [
            'entityType' => $r['entity_type'],
            'entityId' => (string) $r['entity_id'],
            'flow' => $r['flow'],
            'remoteId' => $r['remote_id'],
            'status' => $r['status'],
            'lastOp' => $r['last_op'],
            'lastError' => $r['last_error'],
            'syncedAt' => $r['synced_at'] === null ? null : (int) $r['synced_at'],
            'createdAt' => (int) $r['created_at'],
            'updatedAt' => (int) $r['updated_at'],
        ];
    }
}
