<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\trading_grid\Delivery\ExtensionSender;

/**
 * Builds the extension's \TradingGrid\Client from configuration and secrets.
 *
 * The client keeps its pooled connections and its access token, so one client is
 * built per PHP process and reused.
 */
class ClientFactory {

  private ?object $client = NULL;

  private ?string $builtFor = NULL;

  public function __construct(
    private readonly ConfigFactoryInterface $configFactory,
    private readonly Secrets $secrets,
  ) {}

  /**
   * Whether the trading_grid PHP extension is loaded in this PHP.
   */
  public function extensionLoaded(): bool {
    return extension_loaded('trading_grid') && class_exists('\TradingGrid\Client');
  }

  /**
   * The extension's version, or NULL without the extension.
   */
  public function extensionVersion(): ?string {
    return $this->extensionLoaded() && function_exists('TradingGrid\version') ? \TradingGrid\version() : NULL;
  }

  /**
   * What is missing before a client can be built, in plain words; empty when nothing.
   *
   * @return string[]
   *   Problems, one sentence each.
   */
  public function problems(): array {
    $problems = [];
    if (!$this->extensionLoaded()) {
      $problems[] = 'The trading_grid PHP extension is not loaded in this PHP (see the README: make install, then restart PHP-FPM).';
    }
    $config = $this->configFactory->get('trading_grid.settings');
    foreach (['endpoint' => 'endpoint URL', 'tenant' => 'tenant', 'client_id' => 'client id'] as $key => $label) {
      if (trim((string) $config->get($key)) === '') {
        $problems[] = "The $label is not configured.";
      }
    }
    if ($this->secrets->get(Secrets::CLIENT) === NULL) {
      $problems[] = sprintf('The client secret is missing: set $settings[\'trading_grid\'][\'client_secret\'] in settings.php or the %s environment variable.', $this->secrets->environmentVariable(Secrets::CLIENT) ?: 'TRADING_GRID_CLIENT_SECRET');
    }
    return $problems;
  }

  /**
   * The client options from configuration (the secret included; never log them).
   *
   * @return array<string, mixed>
   *   Options for \TradingGrid\Client::__construct().
   */
  public function options(): array {
    $config = $this->configFactory->get('trading_grid.settings');
    return [
      'baseUrl' => rtrim(trim((string) $config->get('endpoint')), '/'),
      'tenant' => trim((string) $config->get('tenant')),
      'clientId' => trim((string) $config->get('client_id')),
      'clientSecret' => (string) $this->secrets->get(Secrets::CLIENT),
      'timeoutMs' => (int) ($config->get('timeout_ms') ?: 10000),
      'connectTimeoutMs' => (int) ($config->get('connect_timeout_ms') ?: 3000),
      'concurrency' => (int) ($config->get('concurrency') ?: 32),
      'maxRetries' => (int) ($config->get('max_retries') ?? 4),
    ];
  }

  /**
   * The client, built once per process for the current configuration.
   *
   * @return \TradingGrid\Client
   *   The client.
   *
   * @throws \Drupal\trading_grid\Connection\ExtensionMissingException
   *   When the extension is not loaded or something is not configured.
   * @throws \TradingGrid\ValidationException
   *   When an option is invalid (the exception names it).
   */
  public function client(): object {
    $problems = $this->problems();
    if ($problems !== []) {
      throw new ExtensionMissingException(implode(' ', $problems));
    }
    $options = $this->options();
    $fingerprint = hash('sha256', serialize($options));
    if ($this->client === NULL || $this->builtFor !== $fingerprint) {
      $this->client = new \TradingGrid\Client($options);
      $this->builtFor = $fingerprint;
    }
    return $this->client;
  }

  /**
   * A sender that builds the client on its first send.
   */
  public function sender(): ExtensionSender {
    return new ExtensionSender(fn (): object => $this->client());
  }

  /**
   * A client for options that are not saved yet (the settings form's test button).
   *
   * @param array<string, mixed> $overrides
   *   Options replacing the configured ones.
   */
  public function clientWith(array $overrides): object {
    if (!$this->extensionLoaded()) {
      throw new ExtensionMissingException('The trading_grid PHP extension is not loaded in this PHP (see the README: make install, then restart PHP-FPM).');
    }
    return new \TradingGrid\Client($overrides + $this->options());
  }

}
