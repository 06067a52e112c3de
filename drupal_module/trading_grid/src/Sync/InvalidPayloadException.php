<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

/**
 * An entity's values do not make a valid payload; the message names the payload path.
 */
final class InvalidPayloadException extends \RuntimeException {

  public function __construct(string $message, public readonly string $field = '', ?\Throwable $previous = NULL) {
    parent::__construct($message, 0, $previous);
  }

}
