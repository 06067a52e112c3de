<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow;

/**
 * Trading Grid ⇒ Drupal for one flow: applies events to the site, idempotently.
 *
 * An event may be handled again (a retry after a failure, a replay): applying it twice
 * must leave the site as applying it once.
 */
interface EventHandlerInterface {

  /**
   * The event types handled; '*' for every type.
   *
   * @return string[]
   *   The types.
   */
  public function types(): array;

  /**
   * Applies one event.
   *
   * @param array<string, mixed> $event
   *   The event: id, type, occurredAt, data.
   */
  public function handle(array $event): void;

}
