<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Store;

/**
 * Incoming Trading Grid events, each stored exactly once (unique event id) before it is
 * handled, whether it came by webhook or by the cursor-based pull. Handled rows are kept
 * as the dedupe memory until prune() removes them.
 *
 * Claims work as in the Outbox (lease token, guarded UPDATE, SKIP LOCKED where there
 * is one). Events are claimed in the order they were stored; handlers must be
 * idempotent, as a crashed worker's events are handed out again when its lease ends.
 */
final class Inbox
{
    public const PENDING = 'pending';
    public const HANDLED = 'handled';
    public const DEAD = 'dead';

    private const TABLE = 'trading_grid_inbox';
    private const STATE_TABLE = 'trading_grid_state';

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
     * Stores an event unless one with the same id is stored already. True when it is new.
     * Safe against concurrent deliveries of the same event (webhook and pull at once):
     * the unique key decides, and the loser gets false rather than an error, without
     * spoiling a PostgreSQL transaction it may be running in.
     *
     * @param array<mixed> $event
     */
    public function store(string $eventId, string $type, array $event, string $source): bool
    {
        if ($eventId === '' || mb_strlen($eventId, 'UTF-8') > 128 || !mb_check_encoding($eventId, 'UTF-8')) {
            throw new \InvalidArgumentException('eventId: must be 1 to 128 characters of UTF-8');
        }
        if ($type === '' || !preg_match('/^[\x21-\x7e]{1,128}$/', $type)) {
            throw new \InvalidArgumentException('type: must be 1 to 128 printable ASCII characters');
        }
        if (!preg_match('/^[\x21-\x7e]{0,32}$/', $source)) {
            throw new \InvalidArgumentException('source: must be at most 32 printable ASCII characters');
        }
        $json = Dialect::json($event, 'event');
        $now = $this->now();
        $values = [':eid' => $eventId, ':type' => $type, ':event' => $json, ':source' => $source,
            ':now1' => $now, ':now2' => $now, ':now3' => $now];
        $insert = "INSERT INTO $this->t (event_id, type, event, source, state, attempts, next_attempt_at,
                received_at, updated_at)
            VALUES (:eid, :type, :event, :source, 'pending', 0, :now1, :now2, :now3)";
        if ($this->db->driver !== Dialect::MYSQL) {
            // An error would abort a surrounding PostgreSQL transaction: avoid raising one.
            return $this->db->execute("$insert ON CONFLICT (event_id) DO NOTHING", $values) === 1;
        }
        try {
            $this->db->execute($insert, $values);
            return true;
        } catch (\PDOException $e) {
            if ($this->db->isUniqueViolation($e)) {
                return false;
            }
            throw $e;
        }
    }

    /**
     * Leases up to $limit unhandled events that are due, oldest first.
     *
     * @return list<array<string,mixed>> rows as get() returns them, with leaseToken
     */
    public function claim(string $worker, int $limit, int $leaseSeconds = 60): array
    {
        return array_map(
            $this->toArray(...),
            $this->db->lease(self::TABLE, '1 = 1', [], $worker, $limit, $leaseSeconds, $this->now()),
        );
    }

    public function markHandled(string $eventId): void
    {
        $now = $this->now();
        $this->db->execute(
            "UPDATE $this->t SET state = 'handled', handled_at = :now1, updated_at = :now2, last_error = NULL,
                lease_token = NULL, leased_until = NULL
             WHERE event_id = :eid",
            [':now1' => $now, ':now2' => $now, ':eid' => $eventId],
        );
    }

    /**
     * Records a handling failure: 'pending' again after 2^attempts seconds (at most an
     * hour), or 'dead' once $maxAttempts is reached. '' for an unknown event id.
     */
    public function markFailed(string $eventId, string $error, int $maxAttempts = 5): string
    {
        $row = $this->db->fetchOne("SELECT attempts, state FROM $this->t WHERE event_id = :eid", [':eid' => $eventId]);
        if ($row === null) {
            return '';
        }
        if ($row['state'] === self::HANDLED) {
            return self::HANDLED;
        }
        $attempts = (int) $row['attempts'] + 1;
        $state = $attempts >= $maxAttempts ? self::DEAD : self::PENDING;
        $now = $this->now();
        $this->db->execute(
            "UPDATE $this->t SET state = :state, attempts = attempts + 1, next_attempt_at = :next, last_error = :err,
                updated_at = :now, lease_token = NULL, leased_until = NULL
             WHERE event_id = :eid AND state <> 'handled'",
            [':state' => $state, ':next' => $now + min(3600, 2 ** min($attempts, 12)),
                ':err' => Dialect::clip($error, 4000), ':now' => $now, ':eid' => $eventId],
        );
        return $state;
    }

    /** Makes a dead (or failed) event pending again, due now. */
    public function replay(string $eventId): bool
    {
        $now = $this->now();
        return $this->db->execute(
            "UPDATE $this->t SET state = 'pending', attempts = 0, next_attempt_at = :now1, updated_at = :now2,
                lease_token = NULL, leased_until = NULL
             WHERE event_id = :eid AND state = 'dead'",
            [':now1' => $now, ':now2' => $now, ':eid' => $eventId],
        ) === 1;
    }

    /** Forgets handled events received before $before (unix seconds); returns how many. */
    public function prune(int $before): int
    {
        return $this->db->execute(
            "DELETE FROM $this->t WHERE state = 'handled' AND received_at < :before",
            [':before' => $before],
        );
    }

    /** @return array<string,mixed>|null */
    public function get(string $eventId): ?array
    {
        $row = $this->db->fetchOne("SELECT * FROM $this->t WHERE event_id = :eid", [':eid' => $eventId]);
        return $row === null ? null : $this->toArray($row);
    }

    /**
     * Newest first. Filters: state (pending|handled|dead), type, source.
     *
     * @param array<string,mixed> $filter
     * @return list<array<string,mixed>>
     */
    public function list(array $filter = [], int $limit = 50, int $offset = 0): array
    {
        $params = [];
        $where = $this->where($filter, $params);
        return array_map(
            $this->toArray(...),
            $this->db->fetchAll(
                "SELECT * FROM $this->t WHERE $where ORDER BY id DESC" . Dialect::limit($limit, $offset),
                $params,
            ),
        );
    }

    /** @param array<string,mixed> $filter as for list() */
    public function count(array $filter = []): int
    {
        $params = [];
        $where = $this->where($filter, $params);
        return (int) $this->db->fetchValue("SELECT COUNT(*) FROM $this->t WHERE $where", $params);
    }

    /** @return array{pending:int, handled:int, dead:int} */
    public function counts(): array
    {
        $counts = [self::PENDING => 0, self::HANDLED => 0, self::DEAD => 0];
        foreach ($this->db->fetchAll("SELECT state, COUNT(*) AS n FROM $this->t GROUP BY state") as $r) {
            $counts[$r['state']] = (int) $r['n'];
        }
        return $counts;
    }

    /** The event feed position the last pull stopped at, or null before the first pull. */
    public function cursor(string $name): ?string
    {
        $value = $this->db->fetchValue(
            'SELECT data FROM ' . $this->db->table(self::STATE_TABLE) . ' WHERE name = :n',
            [':n' => 'cursor:' . $name],
        );
        return $value === null ? null : (string) $value;
    }

    public function setCursor(string $name, string $cursor): void
    {
        if ($name === '' || strlen($name) > 120) {
            throw new \InvalidArgumentException('name: must be 1 to 120 characters');
        }
        $this->db->upsert(
            self::STATE_TABLE,
            ['name' => 'cursor:' . $name, 'data' => $cursor, 'updated_at' => $this->now()],
            ['name'],
            ['data' => 'new.data', 'updated_at' => 'new.updated_at'],
        );
    }

    private function now(): int
    {
        return (int) ($this->clock)();
    }

    /**
     * @param array<string,mixed> $filter
     * @param array<string,mixed> $params
     */
    private function where(array $filter, array &$params): string
    {
        $conditions = ['1 = 1'];
        $columns = ['state' => 'state', 'type' => 'type', 'source' => 'source', 'eventId' => 'event_id'];
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
    private function toArray(array $r): array
    {
        return [
            'id' => (int) $r['id'],
            'eventId' => (string) $r['event_id'],
            'type' => $r['type'],
            'event' => json_decode((string) $r['event'], true),
            'source' => $r['source'],
            'state' => $r['state'],
            'attempts' => (int) $r['attempts'],
            'nextAttemptAt' => (int) $r['next_attempt_at'],
            'leaseToken' => $r['lease_token'],
            'leasedUntil' => $r['leased_until'] === null ? null : (int) $r['leased_until'],
            'worker' => $r['worker'],
            'lastError' => $r['last_error'],
            'receivedAt' => (int) $r['received_at'],
            'handledAt' => $r['handled_at'] === null ? null : (int) $r['handled_at'],
            'updatedAt' => (int) $r['updated_at'],
        ];
    }
}
