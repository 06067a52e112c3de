<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

/**
 * Checks a webhook delivery's signature and decodes its events.
 */
interface WebhookVerifierInterface {

  /**
   * The verified events of a delivery.
   *
   * @param string $body
   *   The raw request body.
   * @param array<string, mixed> $headers
   *   The request headers (Symfony's $request->headers->all()).
   *
   * @return list<array<string, mixed>>
   *   The events, each with at least 'id' and 'type'.
   *
   * @throws \Drupal\trading_grid\Connection\WebhookRejectedException
   *   With a plain reason and the HTTP status to answer.
   */
  public function verify(string $body, array $headers): array;

}
