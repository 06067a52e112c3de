<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Store;

/**
 * Figures per metric, dimension and period for the dashboard and the portal metrics
 * sent to Trading Grid. A period is a sortable string; by default the UTC day
 * (`2026-11-24`), but any consistent form works (`2026-11`, `2026-W48`).
 */
final class MetricsStore
{
    private const TABLE = 'trading_grid_metrics';

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

    /** Adds $value to a figure (a counter); atomic under concurrent adds. */
    public function add(string $name, float $value, string $dimension = '', ?string $period = null): void
    {
        $this->write($name, $value, $dimension, $period, 'old.amount + new.amount');
    }

    /** Sets a figure (a gauge). */
    public function set(string $name, float $value, string $dimension = '', ?string $period = null): void
    {
        $this->write($name, $value, $dimension, $period, 'new.amount');
    }

    /** One figure, or null when nothing was recorded. */
    public function value(string $name, string $dimension = '', ?string $period = null): ?float
    {
        $v = $this->db->fetchValue(
            "SELECT amount FROM $this->t WHERE name = :n AND dimension = :d AND period = :p",
            [':n' => $name, ':d' => $dimension, ':p' => $period ?? $this->today()],
        );
        return $v === null ? null : (float) $v;
    }

    /**
     * The figures of one metric for the periods from $from to $to (inclusive), ordered
     * by period then dimension.
     *
     * @return list<array{period:string, dimension:string, value:float}>
     */
    public function series(string $name, string $from, string $to): array
    {
        $rows = $this->db->fetchAll(
            "SELECT period, dimension, amount FROM $this->t
             WHERE name = :n AND period >= :from AND period <= :to ORDER BY period, dimension",
            [':n' => $name, ':from' => $from, ':to' => $to],
        );
        return array_map(static fn (array $r): array => [
            'period' => (string) $r['period'],
            'dimension' => (string) $r['dimension'],
            'value' => (float) $r['amount'],
        ], $rows);
    }

    /**
     * Every metric of one period, summed over its dimensions.
     *
     * @return array<string,float> name => total, sorted by name
     */
    public function totals(string $period): array
    {
        $totals = [];
        $rows = $this->db->fetchAll(
            "SELECT name, SUM(amount) AS total FROM $this->t WHERE period = :p GROUP BY name ORDER BY name",
            [':p' => $period],
        );
        foreach ($rows as $r) {
            $totals[(string) $r['name']] = (float) $r['total'];
        }
        return $totals;
    }

    /**
     * One metric of one period by dimension.
     *
     * @return array<string,float> dimension => value
     */
    public function breakdown(string $name, string $period): array
    {
        $out = [];
        $rows = $this->db->fetchAll(
            "SELECT dimension, amount FROM $this->t WHERE name = :n AND period = :p ORDER BY dimension",
            [':n' => $name, ':p' => $period],
        );
        foreach ($rows as $r) {
            $out[(string) $r['dimension']] = (float) $r['amount'];
        }
        return $out;
    }

    private function write(string $name, float $value, string $dimension, ?string $period, string $update): void
    {
        if ($name === '' || !preg_match('/^[\x21-\x7e]{1,64}$/', $name)) {
            throw new \InvalidArgumentException('name: must be 1 to 64 printable ASCII characters');
        }
        if (mb_strlen($dimension, 'UTF-8') > 128) {
            throw new \InvalidArgumentException('dimension: must be at most 128 characters');
        }
        $period ??= $this->today();
        if ($period === '' || !preg_match('/^[\x21-\x7e]{1,16}$/', $period)) {
            throw new \InvalidArgumentException('period: must be 1 to 16 printable ASCII characters');
        }
        if (!is_finite($value)) {
            throw new \InvalidArgumentException('value: must be a finite number');
        }
        $this->db->upsert(
            self::TABLE,
            ['name' => $name, 'dimension' => $dimension, 'period' => $period, 'amount' => $value,
                'updated_at' => $this->now()],
            ['name', 'dimension', 'period'],
            ['amount' => $update, 'updated_at' => 'new.updated_at'],
        );
    }

    private function today(): string
    {
        return gmdate('Y-m-d', $this->now());
    }

    private function now(): int
    {
        return (int) ($this->clock)();
    }
}
