<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\trading_grid\Connection\NetworkInterface;
use Drupal\trading_grid\Store\Inbox;

/**
 * Reads the event feed after the stored cursor into the inbox: fills any gap the
 * webhooks left. Events already stored (by a webhook) are skipped by their id.
 */
final class EventPuller {

  public const CURSOR = 'events';

  public function __construct(
    private readonly NetworkInterface $network,
    private readonly Inbox $inbox,
    private readonly RequestActivity $activity,
  ) {}

  /**
   * Pulls up to $maxPages pages; returns [events seen, events new].
   *
   * @return array{seen: int, stored: int}
   *   Counts.
   */
  public function pull(int $limit = 200, int $maxPages = 10): array {
    $counts = ['seen' => 0, 'stored' => 0];
    $cursor = $this->inbox->cursor(self::CURSOR);
    for ($page = 0; $page < $maxPages; $page++) {
      $answer = $this->network->events($cursor, $limit);
      foreach ($answer['events'] as $event) {
        if (!isset($event['id'], $event['type']) || !is_scalar($event['id']) || !is_string($event['type'])) {
          continue;
        }
        $counts['seen']++;
        if ($this->inbox->store((string) $event['id'], $event['type'], $event, 'pull')) {
          $counts['stored']++;
        }
      }
      if ($answer['nextCursor'] !== NULL && $answer['nextCursor'] !== $cursor) {
        $cursor = $answer['nextCursor'];
        $this->inbox->setCursor(self::CURSOR, $cursor);
      }
      if (!$answer['hasMore']) {
        break;
      }
    }
    if ($counts['stored'] > 0) {
      $this->activity->received($counts['stored']);
    }
    return $counts;
  }

}
