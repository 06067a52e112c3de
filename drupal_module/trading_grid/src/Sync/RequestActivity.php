<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

/**
 * What this request left for after the response: ops enqueued, events received.
 */
final class RequestActivity {

  private int $enqueued = 0;

  private int $received = 0;

  /**
   * Notes that an op was written to the outbox.
   */
  public function enqueued(): void {
    $this->enqueued++;
  }

  /**
   * Notes that events were stored in the inbox.
   */
  public function received(int $events = 1): void {
    $this->received += $events;
  }

  /**
   * Ops enqueued during this request.
   */
  public function enqueuedCount(): int {
    return $this->enqueued;
  }

  /**
   * Events received during this request.
   */
  public function receivedCount(): int {
    return $this->received;
  }

  /**
   * Forgets what was noted (after the work was done).
   */
  public function reset(): void {
    $this->enqueued = 0;
    $this->received = 0;
  }

}
