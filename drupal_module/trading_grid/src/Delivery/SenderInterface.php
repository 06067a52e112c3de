<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Delivery;

/**
 * Sends a batch of operations to Trading Grid.
 *
 * The format is the extension's `TradingGrid\Client::sendBatch()` (docs/php-api.md):
 * each op is `['id', 'op', 'payload', 'orderingKey'?, 'idempotencyKey'?]`; the answer
 * has one result per op, keyed like the input, each `['id', 'ok', 'status', 'attempts',
 * 'result', 'error' => null | ['class', 'retryable', 'retryAfter', 'message', ...]]`.
 * A malformed op gives a `validation` result for that op; an exception means the batch
 * as a whole could not be sent.
 */
interface SenderInterface
{
    /**
     * @param array<array-key, array<string,mixed>> $ops
     * @return array<array-key, array<string,mixed>>
     */
    public function sendBatch(array $ops): array;
}
