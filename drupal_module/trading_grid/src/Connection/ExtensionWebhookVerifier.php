<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\trading_grid\Inbound\SecretWebhookVerifier;

/**
 * Verifies deliveries with the site's webhook secret (settings.php or environment) and
 * tolerance (config), through SecretWebhookVerifier and \TradingGrid\Webhook::verify().
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
    $tolerance = (int) ($this->configFactory->get('trading_grid.settings')->get('webhook_tolerance') ?: 300);
    return (new SecretWebhookVerifier($this->secrets->get(Secrets::WEBHOOK), $tolerance))->verify($body, $headers);
  }

}
