<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow;

use Drupal\trading_grid\Store\Inbox;
use Psr\Log\LoggerInterface;

/**
 * Inbox ⇒ handlers: claims stored events and gives each to every handler of its
 * type. An event is marked handled only when all its handlers succeeded; a failure
 * puts it back with a backoff (dead after a few tries, replayable).
 */
final class EventProcessor {

  /**
   * @var list<\Drupal\trading_grid\Flow\EventHandlerInterface>
   */
  private array $handlers = [];

  /**
   * @param iterable<\Drupal\trading_grid\Flow\EventHandlerInterface> $handlers
   *   The handlers of the eight flows.
   */
  public function __construct(
    private readonly Inbox $inbox,
    private readonly LoggerInterface $logger,
    iterable $handlers,
  ) {
    foreach ($handlers as $handler) {
      if ($handler instanceof EventHandlerInterface) {
        $this->handlers[] = $handler;
      }
    }
  }

  /**
   * Every event type some handler applies (besides the catch-all ones).
   *
   * @return string[]
   *   Event types.
   */
  public function handledTypes(): array {
    $types = [];
    foreach ($this->handlers as $handler) {
      $types = array_merge($types, array_diff($handler->types(), ['*']));
    }
    sort($types);
    return array_values(array_unique($types));
  }

  /**
   * Handles stored events until none is due or the time budget is spent.
   *
   * @return array{handled: int, failed: int}
   *   What happened.
   */
  public function process(string $worker, float $timeBudget = 5.0, int $batch = 50): array {
    $started = microtime(TRUE);
    $counts = ['handled' => 0, 'failed' => 0];
    do {
      $rows = $this->inbox->claim($worker, $batch, 120);
      foreach ($rows as $row) {
        $event = is_array($row['event'] ?? NULL) ? $row['event'] : [];
        $event += ['id' => $row['eventId'], 'type' => $row['type'], 'data' => []];
        try {
          $this->handle($event);
          $this->inbox->markHandled($row['eventId']);
          $counts['handled']++;
        }
        catch (\Throwable $e) {
          $state = $this->inbox->markFailed($row['eventId'], $e->getMessage());
          $counts['failed']++;
          $this->logger->error('Trading Grid event @id (@type) failed (@state): @message', [
            '@id' => $row['eventId'],
            '@type' => $row['type'],
            '@state' => $state,
            '@message' => $e->getMessage(),
          ]);
        }
      }
    } while ($rows !== [] && microtime(TRUE) - $started < $timeBudget);
    return $counts;
  }

  /**
   * Gives one event to the handlers of its type.
   *
   * @param array<string, mixed> $event
   *   The event: id, type, occurredAt, data.
   */
  public function handle(array $event): void {
    $type = (string) ($event['type'] ?? '');
    foreach ($this->handlers as $handler) {
      $types = $handler->types();
      if (in_array($type, $types, TRUE) || in_array('*', $types, TRUE)) {
        $handler->handle($event);
      }
    }
  }

}
