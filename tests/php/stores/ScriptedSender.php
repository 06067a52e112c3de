<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Delivery\SenderInterface;

/**
 * A sender that answers from a script instead of the network: $answer gets each op and
 * returns the result's 'ok'/'status'/'result'/'error' part (or throws to fail the
 * whole batch). Every batch it was given is kept in $batches.
 */
final class ScriptedSender implements SenderInterface
{
    /** @var list<list<array<string,mixed>>> */
    public array $batches = [];

    /** @param \Closure(array<string,mixed>): array<string,mixed> $answer */
    public function __construct(private readonly \Closure $answer)
    {
    }

    public static function ok(array $result = []): array
    {
        return ['ok' => true, 'status' => 200, 'result' => $result, 'error' => null];
    }

    public static function error(
        string $class,
        bool $retryable,
        string $message = 'failed',
        ?float $retryAfter = null,
    ): array {
        return ['ok' => false, 'status' => 0, 'result' => null, 'error' => [
            'class' => $class, 'retryable' => $retryable, 'retryAfter' => $retryAfter, 'message' => $message,
        ]];
    }

    public function sendBatch(array $ops): array
    {
        $this->batches[] = array_values($ops);
        $results = [];
        foreach ($ops as $key => $op) {
            $results[$key] = ['id' => $op['id'], 'attempts' => 1] + ($this->answer)($op);
        }
        return $results;
    }

    /** @return list<string> every op id sent, in order */
    public function sentIds(): array
    {
        return array_merge([], ...array_map(static fn (array $b): array => array_column($b, 'id'), $this->batches));
    }
}
