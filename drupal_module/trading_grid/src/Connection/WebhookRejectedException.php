<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

/**
 * A webhook delivery was refused; the message is safe to send back as the reason.
 */
final class WebhookRejectedException extends \RuntimeException {

  public function __construct(string $reason, private readonly int $status) {
    parent::__construct($reason);
  }

  /**
   * The HTTP status to answer with.
   */
  public function status(): int {
    return $this->status;
  }

}
