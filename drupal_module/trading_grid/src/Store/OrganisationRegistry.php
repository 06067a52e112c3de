<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Store;

/**
 * Integer ids for names: node access grant ids must be integers, and organisations
 * (and partner types and communities) are known by name only. The names are the
 * organisation names themselves and the key names of the node access grants
 * ("type:carrier", "community:logistics-eu", "org:17/type:carrier"; see
 * Access\NodeGrants). One table serves them all: a grant id means something only
 * together with its realm, so an organisation that happens to be called
 * "type:carrier" shares an id with that key but never a grant. A name keeps its id
 * for good, and a committed id is never given to another name.
 *
 * idFor() is safe against two requests giving the same new name an id at once (two
 * issues of a new organisation saved together): the unique key decides, both get the
 * same id, and neither gets an error, not even inside a PostgreSQL transaction.
 * It runs inside the node save's transaction (hook_node_access_records()), so a
 * name given an id by a save that rolls back loses it again.
 */
final class OrganisationRegistry
{
    /** Longest name, in characters (the column's length). */
    public const MAX_LENGTH = 255;

    private const TABLE = 'trading_grid_organisation';

    private readonly Dialect $db;
    private readonly string $t;

    public function __construct(\PDO $pdo, string $prefix = '')
    {
        $this->db = new Dialect($pdo, $prefix);
        $this->t = $this->db->table(self::TABLE);
    }

    /**
     * The id of a name, given one now if it has none yet. Names are compared exactly;
     * they cannot start or end with white space (MySQL would ignore trailing spaces).
     */
    public function idFor(string $name): int
    {
        self::check($name);
        $id = $this->find($name);
        if ($id !== null) {
            return $id;
        }
        $values = [':name' => $name, ':created' => time()];
        $insert = "INSERT INTO $this->t (name, created) VALUES (:name, :created)";
        if ($this->db->driver !== Dialect::MYSQL) {
            // An error would abort a surrounding PostgreSQL transaction: avoid raising one.
            // The loser of a race waits for the winner's commit, then inserts nothing.
            $this->db->execute("$insert ON CONFLICT (name) DO NOTHING", $values);
        } else {
            try {
                $this->db->execute($insert, $values);
            } catch (\PDOException $e) {
                if (!$this->db->isUniqueViolation($e)) {
                    throw $e;
                }
            }
        }
        // A locking read on MySQL: inside a REPEATABLE READ transaction a plain SELECT
        // would read the snapshot taken before the winner's row was committed.
        $id = $this->lookup($name, $this->db->driver === Dialect::MYSQL ? ' LOCK IN SHARE MODE' : '');
        if ($id === null) {
            throw new \RuntimeException("the id of organisation name '$name' was neither found nor created");
        }
        return $id;
    }

    /** The id of a name, or null when it has none (nothing was ever given it). */
    public function find(string $name): ?int
    {
        return self::valid($name) ? $this->lookup($name, '') : null;
    }

    /**
     * The ids of those names that have one, in one query; names without an id (and
     * names that could never have one) are left out. Gives nothing an id: the read
     * path of node access (hook_node_grants) uses it.
     *
     * @param list<string> $names
     * @return array<string,int> name => id
     */
    public function findAll(array $names): array
    {
        $names = array_values(array_unique(array_filter($names, self::valid(...))));
        if ($names === []) {
            return [];
        }
        $params = [];
        $in = Dialect::in('name', $names, $params);
        $ids = [];
        foreach ($this->db->fetchAll("SELECT id, name FROM $this->t WHERE name $in", $params) as $row) {
            $ids[(string) $row['name']] = (int) $row['id'];
        }
        return $ids;
    }

    /**
     * Whether an error says the table is not there: the module's code is deployed
     * but its update (which creates the table) has not run yet.
     */
    public static function isMissingTable(\PDOException $e): bool
    {
        $state = (string) ($e->errorInfo[0] ?? $e->getCode());
        return in_array($state, ['42S02', '42P01'], true)
            || ($state === 'HY000' && str_contains($e->getMessage(), 'no such table'));
    }

    private function lookup(string $name, string $lock): ?int
    {
        $id = $this->db->fetchValue("SELECT id FROM $this->t WHERE name = :name$lock", [':name' => $name]);
        return $id === null ? null : (int) $id;
    }

    private static function check(string $name): void
    {
        if (!self::valid($name)) {
            throw new \InvalidArgumentException(
                'name: must be 1 to ' . self::MAX_LENGTH . ' characters of UTF-8, without white space around them'
            );
        }
    }

    private static function valid(string $name): bool
    {
        return $name !== '' && $name === trim($name) && mb_check_encoding($name, 'UTF-8')
            && mb_strlen($name, 'UTF-8') <= self::MAX_LENGTH;
    }
}
