<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\Core\Site\Settings;

/**
 * Where the two secrets come from: settings.php first, then the environment.
 *
 * Secrets never live in configuration, so a config export can be shared freely:
 * $settings['trading_grid']['client_secret'] / ['webhook_secret'] in settings.php, or
 * the environment variables named in trading_grid.settings (by default
 * TRADING_GRID_CLIENT_SECRET / TRADING_GRID_WEBHOOK_SECRET).
 */
final class Secrets {

  public const CLIENT = 'client_secret';
  public const WEBHOOK = 'webhook_secret';

  public function __construct(private readonly ConfigFactoryInterface $configFactory) {}

  /**
   * The $settings['trading_grid'] array of settings.php.
   *
   * Read from the current Settings instance each time (not an injected copy), so a
   * changed settings.php, or a test's setSetting(), is seen at once.
   *
   * @return array<string, mixed>
   *   The module's settings.
   */
  private function settings(): array {
    $settings = Settings::get('trading_grid', []);
    return is_array($settings) ? $settings : [];
  }

  /**
   * The secret, or NULL when neither settings.php nor the environment has it.
   */
  public function get(string $name): ?string {
    $value = $this->settings()[$name] ?? NULL;
    if (is_string($value) && $value !== '') {
      return $value;
    }
    $env = $this->environmentVariable($name);
    if ($env !== '') {
      $value = getenv($env);
      if (is_string($value) && $value !== '') {
        return $value;
      }
    }
    return NULL;
  }

  /**
   * Says where a secret was found, for the settings form: never the value.
   *
   * @return string
   *   'settings', 'environment' or 'missing'.
   */
  public function source(string $name): string {
    $value = $this->settings()[$name] ?? NULL;
    if (is_string($value) && $value !== '') {
      return 'settings';
    }
    $env = $this->environmentVariable($name);
    if ($env !== '' && is_string(getenv($env)) && getenv($env) !== '') {
      return 'environment';
    }
    return 'missing';
  }

  /**
   * The environment variable consulted for a secret.
   */
  public function environmentVariable(string $name): string {
    $key = $name === self::CLIENT ? 'client_secret_env' : 'webhook_secret_env';
    return (string) $this->configFactory->get('trading_grid.settings')->get($key);
  }

}
