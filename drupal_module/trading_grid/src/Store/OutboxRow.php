<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Store;

/**
 * One claimed outbox row: what to send, and the lease that allows the holder to
 * complete, fail or release it.
 */
final class OutboxRow
{
    /** @param array<mixed> $payload */
    public function __construct(
        public readonly int $id,
        public readonly string $op,
        public readonly array $payload,
        public readonly string $orderingKey,
        public readonly string $flow,
        public readonly ?string $entityType,
        public readonly ?string $entityId,
        public readonly int $attempts,
        public readonly string $leaseToken,
        public readonly int $leasedUntil,
        public readonly string $worker,
        public readonly int $createdAt,
        public readonly int $updatedAt,
        public readonly int $coalesced,
        /** sha256 of the stored payload JSON. */
        public readonly string $payloadHash,
    ) {
    }

    /**
     * The Idempotency-Key for this row's content: the same for every re-send of this row
     * (after a crash, an expired lease or a retry), so the server absorbs the repeat; a
     * different one once a later save was coalesced into the row, since the body changed.
     */
    public function idempotencyKey(): string
    {
        return 'outbox-' . $this->id . '-' . substr(
            hash('sha256', $this->createdAt . "\n" . $this->op . "\n" . $this->payloadHash),
            0,
            32,
        );
    }

    /** The operation in the extension's sendBatch() format. */
    public function toOperation(): array
    {
        return [
            'id' => 'outbox-' . $this->id,
            'op' => $this->op,
            'payload' => $this->payload,
            'orderingKey' => $this->orderingKey,
            'idempotencyKey' => $this->idempotencyKey(),
        ];
    }
}
