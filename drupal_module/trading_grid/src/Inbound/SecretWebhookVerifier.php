<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Inbound;

use Drupal\trading_grid\Connection\WebhookRejectedException;
use Drupal\trading_grid\Connection\WebhookVerifierInterface;

/**
 * Verifies deliveries against one known secret with \TradingGrid\Webhook::verify()
 * (HMAC-SHA256 over "timestamp.body", constant-time comparison, timestamp tolerance).
 *
 * Signature problems (missing, malformed, wrong, stale or future) are answered 401;
 * a body that is not the documented JSON is answered 400; a site that cannot verify
 * at all (no secret, no extension) answers 503 so the network retries later.
 */
final class SecretWebhookVerifier implements WebhookVerifierInterface {

  public function __construct(
    #[\SensitiveParameter] private readonly ?string $secret,
    private readonly int $tolerance = 300,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function verify(string $body, array $headers): array {
    if ($this->secret === NULL || $this->secret === '') {
      // Nothing can be verified: refuse rather than accept unsigned events.
      throw new WebhookRejectedException('The webhook secret is not configured on this site.', 503);
    }
    if (!class_exists('\TradingGrid\Webhook')) {
      throw new WebhookRejectedException('The trading_grid PHP extension is not loaded on this site.', 503);
    }
    try {
      $events = \TradingGrid\Webhook::verify($body, $headers, $this->secret, $this->tolerance);
    }
    catch (\TradingGrid\SignatureException $e) {
      // The extension's messages name the problem and never the secret.
      $message = $e->getMessage();
      $isBody = preg_match('/json|body|event/i', $message) && !preg_match('/signature|timestamp|header/i', $message);
      throw new WebhookRejectedException($message, $isBody ? 400 : 401);
    }
    return array_values(array_filter($events, 'is_array'));
  }

}
