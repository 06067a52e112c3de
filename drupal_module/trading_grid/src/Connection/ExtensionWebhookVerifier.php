<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

use Drupal\Core\Config\ConfigFactoryInterface;

/**
 * Verifies deliveries with \TradingGrid\Webhook::verify() (HMAC-SHA256, constant time).
 */
final class ExtensionWebhookVerifier implements WebhookVerifierInterface {

  public function __construct(
    private readonly Secrets $secrets,
    private readonly ConfigFactoryInterface $configFactory,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function verify(string $body, array $headers): array {
    $secret = $this->secrets->get(Secrets::WEBHOOK);
    if ($secret === NULL) {
      // Nothing can be verified: refuse rather than accept unsigned events.
      throw new WebhookRejectedException('The webhook secret is not configured on this site.', 503);
    }
    if (!extension_loaded('trading_grid') || !class_exists('\TradingGrid\Webhook')) {
      throw new WebhookRejectedException('The trading_grid PHP extension is not loaded on this site.', 503);
    }
    $tolerance = (int) ($this->configFactory->get('trading_grid.settings')->get('webhook_tolerance') ?: 300);
    try {
      $events = \TradingGrid\Webhook::verify($body, $headers, $secret, $tolerance);
    }
    catch (\TradingGrid\SignatureException $e) {
      // A signature problem is an authentication failure; a body problem is a bad
      // request. The extension's messages name the problem without any secret.
      $message = $e->getMessage();
      $status = str_contains($message, 'body is malformed') ? 400 : 401;
      throw new WebhookRejectedException($message, $status);
    }
    return array_values(array_filter(is_array($events) ? $events : [], 'is_array'));
  }

}
