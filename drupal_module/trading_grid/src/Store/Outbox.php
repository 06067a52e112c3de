<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Store;

/**
 * The transactional outbox: operations written in the same transaction as the entity
 * save, drained later by any number of workers on any number of hosts.
 *
 * Rules, all enforced in SQL so they hold across processes:
 * - Order per ordering key: only the oldest row of a key (its head) can be claimed;
 *   rows are deleted when sent, so the head is simply the row with the lowest id.
 * - A dead letter stays the head of its key and so blocks the rows after it until it
 *   is replayed or discarded: sending a later save of an entity whose earlier save was
 *   rejected would break the order the portal promised. list()/get() report such rows
 *   with `blockedBy` (the dead row's id) so the UI can say "blocked by dead letter".
 * - Coalescing: a save whose op matches the newest row of its key, while that row is
 *   pending and unclaimed, replaces that row's payload instead of adding a row — but
 *   only for operations that carry the whole state of the entity the key names
 *   (COALESCING_OPS: partner.upsert, catalog.upsert, document.publish), where the latest
 *   state is all the network needs. Operations that each mean something on their own
 *   (a comment, a notification, an access request, an onboarding step, a membership, a
 *   status change, portal figures) are never merged: each one is sent.
 * - Claims are leases: a row is held by a random token until `leased_until`; only the
 *   holder of the current token can complete, fail or release it. A crashed worker's
 *   rows are claimed again once the lease runs out.
 * - Sent rows are deleted; their history lives in the link table (LinkStore).
 *
 * Known limit: ids come from the engine's sequence, which is handed out at insert and
 * not at commit. Two transactions saving the same entity at the same moment can commit
 * in the opposite order of their ids; upserts carry the entity revision, so the server's
 * revision guard keeps the newer one either way.
 */
final class Outbox
{
    /** Operations whose payload is the entity's whole state, so a later one replaces an earlier one. */
    public const COALESCING_OPS = ['partner.upsert', 'catalog.upsert', 'document.publish'];

    public const PENDING = 'pending';
    public const LEASED = 'leased';
    public const DEAD = 'dead';
    /** fail() on a row whose lease was taken over: nothing was recorded. */
    public const STALE = 'stale';

    private const TABLE = 'trading_grid_outbox';

    private readonly Dialect $db;
    private readonly string $t;
    private readonly \Closure $clock;
    private readonly \Closure $random;

    /**
     * @param \Closure(): (int|float)|null $clock unix seconds; time() by default
     * @param int $maxAttempts failed attempts after which a row is dead-lettered
     * @param int $baseDelay seconds; the n-th retry waits up to baseDelay * 2^(n-1)
     * @param int $maxDelay seconds; the cap of that wait (a Retry-After may exceed it)
     * @param \Closure(): float|null $random uniform in [0, 1), for the jitter
     */
    public function __construct(
        \PDO $pdo,
        string $prefix = '',
        ?\Closure $clock = null,
        private readonly int $maxAttempts = 10,
        private readonly int $baseDelay = 2,
        private readonly int $maxDelay = 3600,
        ?\Closure $random = null,
    ) {
        if ($maxAttempts < 1 || $baseDelay < 0 || $maxDelay < $baseDelay) {
            throw new \InvalidArgumentException('maxAttempts must be >= 1 and 0 <= baseDelay <= maxDelay');
        }
        $this->db = new Dialect($pdo, $prefix);
        $this->t = $this->db->table(self::TABLE);
        $this->clock = $clock ?? static fn (): int => time();
        $this->random = $random ?? static fn (): float => random_int(0, PHP_INT_MAX - 1) / PHP_INT_MAX;
    }

    /**
     * Writes one operation, inside the caller's transaction if one is open (this never
     * begins or commits one). Returns the row id, which is an existing row's id when
     * the operation was coalesced into it.
     *
     * @param array<mixed> $payload
     */
    public function enqueue(
        string $op,
        array $payload,
        string $orderingKey,
        string $flow,
        ?string $entityType = null,
        ?string $entityId = null,
    ): int {
        self::check('op', $op, 64, true);
        self::check('orderingKey', $orderingKey, 255, false);
        self::check('flow', $flow, 64, true);
        if ($entityType !== null) {
            self::check('entityType', $entityType, 64, true);
        }
        if ($entityId !== null) {
            self::check('entityId', $entityId, 128, false);
        }
        $json = Dialect::json($payload, 'payload');
        $now = $this->now();

        $newest = $this->db->fetchOne(
            "SELECT id, op, state, lease_token FROM $this->t WHERE ordering_key = :k ORDER BY id DESC"
                . Dialect::limit(1),
            [':k' => $orderingKey],
        );
        if (
            $newest !== null && $newest['op'] === $op && in_array($op, self::COALESCING_OPS, true)
            && $newest['state'] === self::PENDING
            && $newest['lease_token'] === null
        ) {
            // Guarded by the state we just read: if a worker claimed the row meanwhile, this
            // matches nothing and a new row goes after it. coalesced+1 makes the row change
            // even when the payload is the same, so the count is right with or without
            // MySQL's FOUND_ROWS flag.
            $changed = $this->db->execute(
                "UPDATE $this->t SET payload = :p, coalesced = coalesced + 1, attempts = 0, error_class = NULL,
                    last_error = NULL, failed_at = NULL, flow = :f, entity_type = :et, entity_id = :eid,
                    updated_at = :now
                 WHERE id = :id AND state = 'pending' AND lease_token IS NULL",
                [':p' => $json, ':f' => $flow, ':et' => $entityType, ':eid' => $entityId, ':now' => $now,
                    ':id' => (int) $newest['id']],
            );
            if ($changed === 1) {
                return (int) $newest['id'];
            }
        }

        return $this->db->insert(self::TABLE, [
            'op' => $op,
            'payload' => $json,
            'ordering_key' => $orderingKey,
            'flow' => $flow,
            'entity_type' => $entityType,
            'entity_id' => $entityId,
            'state' => self::PENDING,
            'attempts' => 0,
            'coalesced' => 0,
            'next_attempt_at' => $now,
            'created_at' => $now,
            'updated_at' => $now,
        ]);
    }

    /**
     * Leases up to $limit rows that are due: pending (or with an expired lease), past
     * their backoff, and the head of their ordering key. Safe with concurrent claimers:
     * rows are picked with FOR UPDATE SKIP LOCKED where the engine has it (SQLite holds
     * its write lock instead), and the lease is set by an UPDATE guarded by the unleased
     * state, so a row is never handed to two workers.
     *
     * @return list<OutboxRow> oldest first
     */
    public function claim(string $worker, int $limit, int $leaseSeconds = 60): array
    {
        $rows = $this->db->lease(
            self::TABLE,
            "NOT EXISTS (SELECT 1 FROM $this->t h WHERE h.ordering_key = o.ordering_key AND h.id < o.id)",
            [],
            $worker,
            $limit,
            $leaseSeconds,
            $this->now(),
        );
        return array_map($this->toRow(...), $rows);
    }

    /**
     * Removes a sent row. False when the lease is no longer this row's (another worker
     * took the row over after this lease expired): that worker now owns the outcome.
     *
     * @param array<mixed> $result the send result (kept by the caller in the link table)
     */
    public function complete(OutboxRow $row, array $result = []): bool
    {
        return $this->db->execute(
            "DELETE FROM $this->t WHERE id = :id AND lease_token = :tok",
            [':id' => $row->id, ':tok' => $row->leaseToken],
        ) === 1;
    }

    /**
     * Runs $work in one transaction on the outbox's connection (inside the caller's, if
     * one is open), retrying on deadlocks. The Drainer settles a row and records its link
     * status together this way, so the statuses of one entity are written in the order
     * its rows were settled, whichever workers settle them.
     *
     * @template T
     * @param \Closure(): T $work
     * @return T
     */
    public function transaction(\Closure $work): mixed
    {
        return $this->db->writeTransaction($work);
    }

    /**
     * Records a failed attempt and gives the row back: 'pending' with a backoff, or
     * 'dead' when the error is not retryable or the attempt limit is reached (the dead
     * letter keeps the error class, message, attempts and time). 'stale' when the lease
     * was taken over and nothing was recorded.
     */
    public function fail(
        OutboxRow $row,
        string $errorClass,
        string $message,
        bool $retryable,
        ?float $retryAfter = null,
    ): string {
        $attempts = $row->attempts + 1;
        $dead = !$retryable || $attempts >= $this->maxAttempts;
        $now = $this->now();
        $next = $dead ? $now : $now + $this->backoff($attempts, $retryAfter);
        $changed = $this->db->execute(
            "UPDATE $this->t SET state = :state, attempts = attempts + 1, next_attempt_at = :next,
                error_class = :class, last_error = :msg, failed_at = :now1, updated_at = :now2,
                lease_token = NULL, leased_until = NULL
             WHERE id = :id AND lease_token = :tok",
            [':state' => $dead ? self::DEAD : self::PENDING, ':next' => $next,
                ':class' => Dialect::clip($errorClass, 32), ':msg' => Dialect::clip($message, 4000),
                ':now1' => $now, ':now2' => $now, ':id' => $row->id, ':tok' => $row->leaseToken],
        );
        if ($changed !== 1) {
            return self::STALE;
        }
        return $dead ? self::DEAD : self::PENDING;
    }

    /**
     * Seconds to wait before attempt $attempts + 1: "full jitter" (uniform between 0 and
     * baseDelay * 2^(attempts-1), capped at maxDelay), but never less than the server's
     * Retry-After.
     */
    public function backoff(int $attempts, ?float $retryAfter = null): int
    {
        $ceiling = min((float) $this->maxDelay, $this->baseDelay * 2 ** min(max($attempts - 1, 0), 62));
        $delay = ($this->random)() * $ceiling;
        if ($retryAfter !== null && $retryAfter > $delay) {
            $delay = $retryAfter;
        }
        return (int) ceil($delay);
    }

    /**
     * Gives a claimed row back unsent without counting an attempt (e.g. a 'blocked'
     * result, or a worker shutting down), claimable again after $delaySeconds.
     */
    public function release(OutboxRow $row, int $delaySeconds = 0): bool
    {
        $now = $this->now();
        return $this->db->execute(
            "UPDATE $this->t SET lease_token = NULL, leased_until = NULL, next_attempt_at = :next, updated_at = :now
             WHERE id = :id AND lease_token = :tok",
            [':next' => $now + max(0, $delaySeconds), ':now' => $now, ':id' => $row->id, ':tok' => $row->leaseToken],
        ) === 1;
    }

    /** Makes a dead letter pending again, due now, with a fresh attempt count. */
    public function replay(int $id): bool
    {
        return $this->replayDead(['id' => $id]) === 1;
    }

    /**
     * Replays every dead letter that matches the filter (see list()); returns how many.
     *
     * @param array<string,mixed> $filter
     */
    public function replayDead(array $filter = []): int
    {
        $now = $this->now();
        $params = [':now1' => $now, ':now2' => $now];
        $where = $this->where(['state' => self::DEAD] + $filter, $params, '');
        return $this->db->execute(
            "UPDATE $this->t SET state = 'pending', attempts = 0, next_attempt_at = :now1, updated_at = :now2,
                lease_token = NULL, leased_until = NULL
             WHERE $where",
            $params,
        );
    }

    /** Deletes a row that no worker currently holds (typically a dead letter). */
    public function discard(int $id): bool
    {
        return $this->db->execute(
            "DELETE FROM $this->t WHERE id = :id AND (lease_token IS NULL OR leased_until <= :now)",
            [':id' => $id, ':now' => $this->now()],
        ) === 1;
    }

    /** @return array<string,mixed>|null one row as list() returns it */
    public function get(int $id): ?array
    {
        $rows = $this->list(['id' => $id], 1);
        return $rows[0] ?? null;
    }

    /**
     * Rows for the UI and the tools, oldest first (`sort` => 'desc' for newest first).
     * Filters: id, state (pending|leased|dead), flow, entityType, entityId, op,
     * orderingKey, errorClass.
     *
     * Each row: id, op, payload, orderingKey, flow, entityType, entityId, state (the
     * stored one), status (pending|leased|dead), attempts, coalesced, nextAttemptAt,
     * leasedUntil, worker, errorClass, lastError, failedAt, createdAt, updatedAt,
     * blockedBy (id of an older dead letter of the same key that holds this row back).
     *
     * @param array<string,mixed> $filter
     * @return list<array<string,mixed>>
     */
    public function list(array $filter = [], int $limit = 50, int $offset = 0): array
    {
        $params = [':bnow' => $this->now()];
        $where = $this->where($filter, $params, 'o.');
        $order = (($filter['sort'] ?? 'asc') === 'desc') ? 'DESC' : 'ASC';
        $rows = $this->db->fetchAll(
            "SELECT o.*, CASE WHEN o.state = 'dead' THEN 'dead'
                    WHEN o.lease_token IS NOT NULL AND o.leased_until > :bnow THEN 'leased'
                    ELSE 'pending' END AS status,
                (SELECT MIN(d.id) FROM $this->t d
                  WHERE d.ordering_key = o.ordering_key AND d.id < o.id AND d.state = 'dead') AS blocked_by
             FROM $this->t o WHERE $where ORDER BY o.id $order" . Dialect::limit($limit, $offset),
            $params,
        );
        return array_map(static function (array $r): array {
            return [
                'id' => (int) $r['id'],
                'op' => $r['op'],
                'payload' => json_decode((string) $r['payload'], true),
                'orderingKey' => $r['ordering_key'],
                'flow' => $r['flow'],
                'entityType' => $r['entity_type'],
                'entityId' => $r['entity_id'],
                'state' => $r['state'],
                'status' => $r['status'],
                'attempts' => (int) $r['attempts'],
                'coalesced' => (int) $r['coalesced'],
                'nextAttemptAt' => (int) $r['next_attempt_at'],
                'leasedUntil' => $r['leased_until'] === null ? null : (int) $r['leased_until'],
                'worker' => $r['worker'],
                'errorClass' => $r['error_class'],
                'lastError' => $r['last_error'],
                'failedAt' => $r['failed_at'] === null ? null : (int) $r['failed_at'],
                'createdAt' => (int) $r['created_at'],
                'updatedAt' => (int) $r['updated_at'],
                'blockedBy' => $r['blocked_by'] === null ? null : (int) $r['blocked_by'],
            ];
        }, $rows);
    }

    /** @param array<string,mixed> $filter as for list() */
    public function count(array $filter = []): int
    {
        $params = [];
        $where = $this->where($filter, $params, '');
        return (int) $this->db->fetchValue("SELECT COUNT(*) FROM $this->t WHERE $where", $params);
    }

    /** @return array{pending:int, leased:int, dead:int} */
    public function counts(): array
    {
        $rows = $this->db->fetchAll(
            "SELECT CASE WHEN state = 'dead' THEN 'dead'
                    WHEN lease_token IS NOT NULL AND leased_until > :now THEN 'leased' ELSE 'pending' END AS status,
                COUNT(*) AS n
             FROM $this->t GROUP BY 1",
            [':now' => $this->now()],
        );
        $counts = [self::PENDING => 0, self::LEASED => 0, self::DEAD => 0];
        foreach ($rows as $r) {
            $counts[$r['status']] = (int) $r['n'];
        }
        return $counts;
    }

    /** Seconds the oldest undelivered (pending or leased, not dead) row has waited. */
    public function oldestPendingAge(): ?int
    {
        $oldest = $this->db->fetchValue("SELECT MIN(created_at) FROM $this->t WHERE state = 'pending'");
        return $oldest === null ? null : max(0, $this->now() - (int) $oldest);
    }

    private function now(): int
    {
        return (int) ($this->clock)();
    }

    /**
     * @param array<string,mixed> $filter
     * @param array<string,mixed> $params
     */
    private function where(array $filter, array &$params, string $alias): string
    {
        $conditions = ['1 = 1'];
        $columns = ['id' => 'id', 'flow' => 'flow', 'entityType' => 'entity_type', 'entityId' => 'entity_id',
            'op' => 'op', 'orderingKey' => 'ordering_key', 'errorClass' => 'error_class'];
        foreach ($columns as $key => $column) {
            if (isset($filter[$key]) && $filter[$key] !== '') {
                $params[":f_$column"] = $key === 'id' ? (int) $filter[$key] : (string) $filter[$key];
                $conditions[] = "$alias$column = :f_$column";
            }
        }
        $state = $filter['state'] ?? null;
        if ($state !== null && $state !== '') {
            if ($state === self::DEAD) {
                $conditions[] = "{$alias}state = 'dead'";
            } elseif ($state === self::LEASED || $state === self::PENDING) {
                $params[':f_now'] = $this->now();
                $leased = "{$alias}lease_token IS NOT NULL AND {$alias}leased_until > :f_now";
                $conditions[] = "{$alias}state = 'pending' AND "
                    . ($state === self::LEASED ? "($leased)" : "NOT ($leased)");
            } else {
                throw new \InvalidArgumentException("filter state: must be pending, leased or dead, got '$state'");
            }
        }
        return implode(' AND ', $conditions);
    }

    /** @param array<string,mixed> $r */
    private function toRow(array $r): OutboxRow
    {
        $payload = json_decode((string) $r['payload'], true);
        return new OutboxRow(
            id: (int) $r['id'],
            op: (string) $r['op'],
            payload: is_array($payload) ? $payload : [],
            orderingKey: (string) $r['ordering_key'],
            flow: (string) $r['flow'],
            entityType: $r['entity_type'],
            entityId: $r['entity_id'] === null ? null : (string) $r['entity_id'],
            attempts: (int) $r['attempts'],
            leaseToken: (string) $r['lease_token'],
            leasedUntil: (int) $r['leased_until'],
            worker: (string) $r['worker'],
            createdAt: (int) $r['created_at'],
            updatedAt: (int) $r['updated_at'],
            coalesced: (int) $r['coalesced'],
            payloadHash: hash('sha256', (string) $r['payload']),
        );
    }

    private static function check(string $name, string $value, int $max, bool $ascii): void
    {
        if ($value === '') {
            throw new \InvalidArgumentException("$name: must not be empty");
        }
        if ($ascii && !preg_match('/^[\x21-\x7e]+$/', $value)) {
            throw new \InvalidArgumentException("$name: only printable ASCII without spaces is allowed");
        }
        if (!mb_check_encoding($value, 'UTF-8') || mb_strlen($value, 'UTF-8') > $max) {
            throw new \InvalidArgumentException("$name: must be valid UTF-8 of at most $max characters");
        }
    }
}
