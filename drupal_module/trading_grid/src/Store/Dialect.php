<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Store;

/**
 * What differs between SQLite, MariaDB/MySQL and PostgreSQL, in one place.
 *
 * The stores write plain SQL that all three accept; whatever cannot be written once
 * (identifier quoting, upserts, row locking, transactions that take the write lock up
 * front) is asked from here. The PDO is the caller's: nothing here changes its
 * attributes, so it behaves the same inside Drupal (whose MySQL connection runs with
 * ANSI + TRADITIONAL sql_mode and MYSQL_ATTR_FOUND_ROWS) and outside it.
 */
final class Dialect
{
    public const SQLITE = 'sqlite';
    public const MYSQL = 'mysql';
    public const PGSQL = 'pgsql';

    /** How many prepared statements are kept for reuse. */
    private const STATEMENT_CACHE = 64;

    public readonly string $driver;
    private ?bool $skipLocked = null;
    /** @var array<string, \PDOStatement> SQL => prepared statement, oldest first */
    private array $statements = [];

    public function __construct(public readonly \PDO $pdo, public readonly string $prefix = '')
    {
        // Drupal's prefix, as Connection::getPrefix() gives it: a table prefix ("site1_"),
        // or a schema-qualified one ("simpletest123." — Drupal's SQLite driver keeps a
        // prefixed site in an attached database; "other_db.site1_" also works).
        if (!preg_match('/^(?:[A-Za-z0-9_]+\.)?[A-Za-z0-9_]*$/', $prefix)) {
            throw new \InvalidArgumentException(
                "prefix: letters, digits and '_', optionally after 'schema.', got '$prefix'"
            );
        }
        $driver = (string) $pdo->getAttribute(\PDO::ATTR_DRIVER_NAME);
        if (!in_array($driver, [self::SQLITE, self::MYSQL, self::PGSQL], true)) {
            throw new \InvalidArgumentException("pdo: unsupported driver '$driver' (sqlite, mysql or pgsql)");
        }
        if ((int) $pdo->getAttribute(\PDO::ATTR_ERRMODE) !== \PDO::ERRMODE_EXCEPTION) {
            // Every guarded write relies on errors surfacing; silent mode would lose rows.
            throw new \InvalidArgumentException('pdo: PDO::ATTR_ERRMODE must be PDO::ERRMODE_EXCEPTION');
        }
        $this->driver = $driver;
    }

    /** The quoted, prefixed name of one of our tables, e.g. `trading_grid_outbox`. */
    public function table(string $name): string
    {
        [$schema, $table] = $this->qualifiedName($name);
        return ($schema === null ? '' : $this->quote($schema) . '.') . $this->quote($table);
    }

    /**
     * The schema (null for the connection's own) and the prefixed bare name of a table.
     *
     * @return array{0: ?string, 1: string}
     */
    public function qualifiedName(string $name): array
    {
        $dot = strpos($this->prefix, '.');
        return $dot === false
            ? [null, $this->prefix . $name]
            : [substr($this->prefix, 0, $dot), substr($this->prefix, $dot + 1) . $name];
    }

    public function quote(string $identifier): string
    {
        return $this->driver === self::MYSQL ? "`$identifier`" : "\"$identifier\"";
    }

    /**
     * Whether `FOR UPDATE SKIP LOCKED` exists: PostgreSQL 9.5+, MySQL 8.0.1+,
     * MariaDB 10.6+. SQLite has no row locks at all (its claim takes the write lock).
     */
    public function supportsSkipLocked(): bool
    {
        if ($this->skipLocked === null) {
            $this->skipLocked = match ($this->driver) {
                self::PGSQL => true,
                self::SQLITE => false,
                default => self::mysqlHasSkipLocked((string) $this->pdo->query('SELECT VERSION()')->fetchColumn()),
            };
        }
        return $this->skipLocked;
    }

    public static function mysqlHasSkipLocked(string $version): bool
    {
        if (!preg_match('/^(\d+)\.(\d+)\.(\d+)/', $version, $m)) {
            return false;
        }
        $v = sprintf('%d.%d.%d', $m[1], $m[2], $m[3]);
        if (stripos($version, 'mariadb') !== false) {
            return version_compare($v, '10.6.0', '>=');
        }
        return version_compare($v, '8.0.1', '>=');
    }

    /**
     * Runs $work in a transaction that holds the write lock from its first statement
     * when the engine needs that (SQLite: BEGIN IMMEDIATE, so two claimers never both
     * read then both try to upgrade). Inside a caller's open transaction it just runs:
     * the caller owns begin and commit. Deadlocks and lock timeouts are retried.
     *
     * @template T
     * @param \Closure(): T $work
     * @return T
     */
    public function writeTransaction(\Closure $work): mixed
    {
        if ($this->pdo->inTransaction()) {
            return $work();
        }
        for ($try = 1;; $try++) {
            $this->begin();
            try {
                $result = $work();
                $this->commit();
                return $result;
            } catch (\Throwable $e) {
                $this->rollBack();
                if ($try >= 5 || !($e instanceof \PDOException) || !$this->isTransient($e)) {
                    throw $e;
                }
                usleep(random_int(1000, 20000) * $try);
            }
        }
    }

    private function begin(): void
    {
        switch ($this->driver) {
            case self::SQLITE:
                $this->pdo->exec('BEGIN IMMEDIATE');
                return;
            case self::MYSQL:
                // Only for the next transaction: claims read the latest committed rows and
                // take no gap locks, so they do not hold up the portal's inserts.
                $this->pdo->exec('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
                $this->pdo->beginTransaction();
                return;
            default:
                $this->pdo->beginTransaction();
        }
    }

    private function commit(): void
    {
        if ($this->driver === self::SQLITE) {
            $this->pdo->exec('COMMIT');
        } else {
            $this->pdo->commit();
        }
    }

    private function rollBack(): void
    {
        try {
            if ($this->driver === self::SQLITE) {
                $this->pdo->exec('ROLLBACK');
            } elseif ($this->pdo->inTransaction()) {
                $this->pdo->rollBack();
            }
        } catch (\PDOException) {
            // The engine already rolled back (e.g. MySQL after a deadlock); nothing to undo.
        }
    }

    /**
     * Leases up to $limit rows of one of the queue tables (outbox, inbox), oldest first:
     * rows that are pending, due (next_attempt_at), not under a live lease, and match
     * $condition (SQL over the alias `o`, with its parameters in $params). Candidates are
     * picked with FOR UPDATE SKIP LOCKED where the engine has it (SQLite holds its write
     * lock instead), then leased by one UPDATE guarded by the unleased state, so a row is
     * never handed to two claimers even without row locks. Returns the rows this call
     * leased, with their new lease_token.
     *
     * @param array<string,mixed> $params
     * @return list<array<string,mixed>>
     */
    public function lease(
        string $table,
        string $condition,
        array $params,
        string $worker,
        int $limit,
        int $leaseSeconds,
        int $now,
    ): array {
        if ($limit <= 0) {
            return [];
        }
        if ($leaseSeconds <= 0) {
            throw new \InvalidArgumentException('leaseSeconds: must be positive');
        }
        $t = $this->table($table);
        $worker = (string) self::clip($worker, 128);
        $until = $now + $leaseSeconds;
        return $this->writeTransaction(function () use ($t, $condition, $params, $worker, $limit, $until, $now): array {
            $lock = $this->supportsSkipLocked() ? ' FOR UPDATE SKIP LOCKED' : '';
            $ids = $this->fetchAll(
                "SELECT o.id FROM $t o
                 WHERE o.state = 'pending' AND o.next_attempt_at <= :lease_now1
                   AND (o.lease_token IS NULL OR o.leased_until <= :lease_now2) AND ($condition)
                 ORDER BY o.id" . self::limit($limit) . $lock,
                $params + [':lease_now1' => $now, ':lease_now2' => $now],
            );
            if ($ids === []) {
                return [];
            }
            $token = bin2hex(random_bytes(16));
            $update = [':tok' => $token, ':until' => $until, ':w' => $worker, ':now1' => $now, ':now2' => $now];
            $in = self::in('id', array_map(static fn (array $r): int => (int) $r['id'], $ids), $update);
            $this->execute(
                "UPDATE $t SET lease_token = :tok, leased_until = :until, worker = :w, updated_at = :now1
                 WHERE id $in AND state = 'pending' AND (lease_token IS NULL OR leased_until <= :now2)",
                $update,
            );
            return $this->fetchAll("SELECT * FROM $t WHERE lease_token = :tok ORDER BY id", [':tok' => $token]);
        });
    }

    /** Deadlock, serialization failure, lock wait timeout or a busy SQLite file. */
    public function isTransient(\PDOException $e): bool
    {
        $state = (string) ($e->errorInfo[0] ?? $e->getCode());
        $code = (int) ($e->errorInfo[1] ?? 0);
        return in_array($state, ['40001', '40P01', '55P03'], true)
            || ($this->driver === self::MYSQL && in_array($code, [1205, 1213], true))
            || ($this->driver === self::SQLITE && in_array($code, [5, 6], true));
    }

    public function isUniqueViolation(\PDOException $e): bool
    {
        $state = (string) ($e->errorInfo[0] ?? $e->getCode());
        $code = (int) ($e->errorInfo[1] ?? 0);
        return match ($this->driver) {
            self::PGSQL => $state === '23505',
            self::MYSQL => $code === 1062,
            default => $state === '23000' && str_contains($e->getMessage(), 'UNIQUE'),
        };
    }

    /**
     * An INSERT that, when a row with the same key exists, applies $updates instead.
     * $updates maps a column to an SQL expression in which `new.<column>` names the
     * value that was offered (translated per engine).
     *
     * @param array<string,mixed> $values column => value
     * @param list<string> $key the unique key's columns
     * @param array<string,string> $updates column => expression
     */
    public function upsert(string $table, array $values, array $key, array $updates): void
    {
        $cols = array_keys($values);
        $t = $this->table($table);
        $colSql = implode(', ', array_map($this->quote(...), $cols));
        $params = implode(', ', array_map(static fn (string $c): string => ":$c", $cols));
        $sets = [];
        foreach ($updates as $col => $expr) {
            $sets[] = $this->quote($col) . ' = ' . $this->newValues($expr, $t);
        }
        if ($this->driver === self::MYSQL) {
            $sql = "INSERT INTO $t ($colSql) VALUES ($params) ON DUPLICATE KEY UPDATE " . implode(', ', $sets);
        } else {
            $sql = "INSERT INTO $t ($colSql) VALUES ($params) ON CONFLICT ("
                . implode(', ', array_map($this->quote(...), $key)) . ') DO UPDATE SET ' . implode(', ', $sets);
        }
        $stmt = $this->pdo->prepare($sql);
        $stmt->execute(self::params($values));
    }

    private function newValues(string $expr, string $table): string
    {
        return (string) preg_replace_callback('/\b(new|old)\.([a-z_]+)\b/', function (array $m) use ($table): string {
            $col = $this->quote($m[2]);
            if ($m[1] === 'old') {
                return "$table.$col";
            }
            // VALUES() is deprecated in MySQL 8.0.20 but the only form MariaDB knows.
            return $this->driver === self::MYSQL ? "VALUES($col)" : "excluded.$col";
        }, $expr);
    }

    /**
     * Prefixes named parameters with ':' and binds booleans/nulls portably.
     *
     * @param array<string,mixed> $values
     * @return array<string,mixed>
     */
    public static function params(array $values): array
    {
        $out = [];
        foreach ($values as $k => $v) {
            $out[':' . $k] = is_bool($v) ? (int) $v : $v;
        }
        return $out;
    }

    /** `IN (:p0, :p1, …)` with its parameters, for a list of ids. */
    public static function in(string $name, array $values, array &$params): string
    {
        $names = [];
        foreach (array_values($values) as $i => $v) {
            $params[":{$name}{$i}"] = $v;
            $names[] = ":{$name}{$i}";
        }
        return $names === [] ? 'IN (NULL)' : 'IN (' . implode(', ', $names) . ')';
    }

    /**
     * A prepared statement for $sql, reused across calls: preparing costs more than
     * running the store's short statements (an outbox write is on the request path).
     */
    private function prepare(string $sql): \PDOStatement
    {
        $stmt = $this->statements[$sql] ?? null;
        if ($stmt !== null) {
            return $stmt;
        }
        if (count($this->statements) >= self::STATEMENT_CACHE) {
            unset($this->statements[array_key_first($this->statements)]);
        }
        return $this->statements[$sql] = $this->pdo->prepare($sql);
    }

    /** Runs a statement and returns the affected row count. */
    public function execute(string $sql, array $params = []): int
    {
        $stmt = $this->prepare($sql);
        $stmt->execute($params);
        return $stmt->rowCount();
    }

    /** @return list<array<string,mixed>> */
    public function fetchAll(string $sql, array $params = []): array
    {
        $stmt = $this->prepare($sql);
        $stmt->execute($params);
        return $stmt->fetchAll(\PDO::FETCH_ASSOC);
    }

    /** @return array<string,mixed>|null */
    public function fetchOne(string $sql, array $params = []): ?array
    {
        $stmt = $this->prepare($sql);
        $stmt->execute($params);
        $row = $stmt->fetch(\PDO::FETCH_ASSOC);
        $stmt->closeCursor();
        return $row === false ? null : $row;
    }

    public function fetchValue(string $sql, array $params = []): mixed
    {
        $stmt = $this->prepare($sql);
        $stmt->execute($params);
        $value = $stmt->fetchColumn();
        $stmt->closeCursor();
        return $value === false ? null : $value;
    }

    /**
     * INSERTs one row and returns its serial id.
     *
     * @param array<string,mixed> $values
     */
    public function insert(string $table, array $values, string $serial = 'id'): int
    {
        $cols = array_keys($values);
        $sql = 'INSERT INTO ' . $this->table($table) . ' (' . implode(', ', array_map($this->quote(...), $cols))
            . ') VALUES (' . implode(', ', array_map(static fn (string $c): string => ":$c", $cols)) . ')';
        if ($this->driver === self::PGSQL) {
            // lastInsertId() would need the sequence name, which the prefix changes.
            return (int) $this->fetchValue($sql . ' RETURNING ' . $this->quote($serial), self::params($values));
        }
        $this->execute($sql, self::params($values));
        return (int) $this->pdo->lastInsertId();
    }

    /** `LIMIT n OFFSET m` (all three accept this form). */
    public static function limit(int $limit, int $offset = 0): string
    {
        return sprintf(' LIMIT %d OFFSET %d', max(0, $limit), max(0, $offset));
    }

    /**
     * The JSON text stored for a payload or an event; an error names the argument.
     *
     * @param array<mixed> $value
     */
    public static function json(array $value, string $argument): string
    {
        try {
            return json_encode($value, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
                | JSON_PRESERVE_ZERO_FRACTION);
        } catch (\JsonException $e) {
            throw new \InvalidArgumentException("$argument: cannot be encoded as JSON: " . $e->getMessage(), 0, $e);
        }
    }

    /** A UTF-8 string cut to at most $chars characters, so strict SQL modes never reject it. */
    public static function clip(?string $value, int $chars): ?string
    {
        if ($value === null) {
            return null;
        }
        if (!mb_check_encoding($value, 'UTF-8')) {
            $value = mb_convert_encoding($value, 'UTF-8', 'UTF-8');
        }
        return mb_strlen($value, 'UTF-8') > $chars ? mb_substr($value, 0, $chars, 'UTF-8') : $value;
    }
}
