<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

/**
 * Switches outbound sync off while Drupal applies what Trading Grid sent.
 *
 * A handler that saves a user or node to record a network decision must not send
 * that same change back: inside run() the entity hooks enqueue nothing.
 */
final class Suppression {

  private int $depth = 0;

  /**
   * Runs $work with outbound sync off.
   *
   * @template T
   *
   * @param callable(): T $work
   *   The work.
   *
   * @return T
   *   What the work returned.
   */
  public function run(callable $work): mixed {
    $this->depth++;
    try {
      return $work();
    }
    finally {
      $this->depth--;
    }
  }

  /**
   * Whether outbound sync is off right now.
   */
  public function active(): bool {
    return $this->depth > 0;
  }

}
