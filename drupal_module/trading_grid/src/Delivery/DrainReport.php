<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Delivery;

/** What one Drainer::drain() call did. */
final class DrainReport
{
    public function __construct(
        /** Rows delivered and removed from the outbox. */
        public readonly int $sent = 0,
        /** Rows that failed and will be retried after a backoff. */
        public readonly int $failed = 0,
        /** Rows that failed for good and became dead letters. */
        public readonly int $dead = 0,
        /** Rows given back unsent without counting an attempt. */
        public readonly int $released = 0,
        /** Rows whose lease another worker had taken over by the time the result came. */
        public readonly int $stale = 0,
        /** sendBatch() calls. */
        public readonly int $batches = 0,
        public readonly float $seconds = 0.0,
        /** Why the loop stopped: 'empty', 'budget', 'error' or 'stalled'. */
        public readonly string $stoppedBy = 'empty',
    ) {
    }

    /** @return array<string, int|float|string> */
    public function toArray(): array
    {
        return get_object_vars($this);
    }
}
