<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Functional;

use Drupal\Tests\BrowserTestBase;

/**
 * The settings form saves the connection and never shows a secret.
 *
 * @group trading_grid
 */
final class SettingsFormTest extends BrowserTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid'];

  /**
   * {@inheritdoc}
   */
  protected $defaultTheme = 'stark';

  /**
   * The client secret settings.php holds.
   */
  private string $secret;

  /**
   * {@inheritdoc}
   */
  protected function setUp(): void {
    parent::setUp();
    $this->secret = 'cs_' . $this->randomMachineName(32);
    $this->writeSettings([
      'settings' => [
        'trading_grid' => (object) [
          'value' => ['client_secret' => $this->secret, 'webhook_secret' => 'wh_' . $this->randomMachineName(32)],
          'required' => TRUE,
        ],
      ],
    ]);
    $this->drupalLogin($this->drupalCreateUser(['administer trading grid']));
  }

  /**
   * The connection is saved; the secrets are reported by source only.
   */
  public function testSettingsSaveAndSecretsNeverShow(): void {
    $this->drupalGet('admin/config/services/trading-grid');
    $this->assertSession()->statusCodeEquals(200);
    $this->assertSession()->pageTextContains('Set in settings.php.');
    $this->assertSession()->responseNotContains($this->secret);

    $this->submitForm([
      'endpoint' => 'https://apibetagrid.example.com',
      'tenant' => 'GC51278300AS',
      'client_id' => 'portal-consumer-key',
    ], 'Save configuration');
    $this->assertSession()->pageTextContains('The configuration options have been saved.');
    $this->assertSession()->responseNotContains($this->secret);
    $this->assertSession()->fieldValueEquals('tenant', 'GC51278300AS');

    $config = $this->config('trading_grid.settings');
    $this->assertSame('https://apibetagrid.example.com', $config->get('endpoint'));
    $this->assertSame('GC51278300AS', $config->get('tenant'));
    $this->assertSame('portal-consumer-key', $config->get('client_id'));
    $this->assertStringNotContainsString($this->secret, serialize($config->getRawData()), 'no secret in configuration');
  }

  /**
   * The Lens scan and the network users are set on the same form.
   */
  public function testLensScanAndNetworkUsersAreConfigured(): void {
    $this->assertTrue($this->config('trading_grid.settings')->get('lens_scan_on_cron'), 'on by default');
    $this->assertSame('', $this->config('trading_grid.settings')->get('network_user_role'), 'off by default');
    $this->drupalGet('admin/config/services/trading-grid');
    $this->assertSession()->checkboxChecked('lens_scan_on_cron');
    $this->submitForm([
      'endpoint' => 'https://apibetagrid.example.com',
      'tenant' => 'GC51278300AS',
      'client_id' => 'portal-consumer-key',
      'lens_scan_on_cron' => FALSE,
      'lens_lookback_days' => 30,
      'network_user_role' => ' Partner User ',
    ], 'Save configuration');
    $this->assertSession()->pageTextContains('The configuration options have been saved.');
    $config = $this->config('trading_grid.settings');
    $this->assertFalse($config->get('lens_scan_on_cron'));
    $this->assertSame(30, $config->get('lens_lookback_days'));
    $this->assertSame('Partner User', $config->get('network_user_role'));
    $this->assertSession()->checkboxNotChecked('lens_scan_on_cron');
    $this->assertSession()->fieldValueEquals('network_user_role', 'Partner User');
  }

  /**
   * Plain http is refused except on this machine (a sandbox).
   */
  public function testPlainHttpOnlyOnLoopback(): void {
    $this->drupalGet('admin/config/services/trading-grid');
    $this->submitForm(['endpoint' => 'http://apibetagrid.example.com', 'tenant' => 'T', 'client_id' => 'c'], 'Save configuration');
    $this->assertSession()->pageTextContains('Use https://');
    $this->submitForm(['endpoint' => 'http://127.0.0.1:8787', 'tenant' => 'T', 'client_id' => 'c'], 'Save configuration');
    $this->assertSession()->pageTextContains('The configuration options have been saved.');
  }

  /**
   * "Test connection" says in plain words what is wrong.
   */
  public function testConnectionTestReportsTheProblem(): void {
    $this->drupalGet('admin/config/services/trading-grid');
    // Nothing listens on the discard port: the connection is refused at once.
    $this->submitForm(['endpoint' => 'http://127.0.0.1:9', 'tenant' => 'GC1', 'client_id' => 'portal'], 'Test connection');
    // Which one depends on whether the site's PHP has the extension.
    $this->assertSession()->pageTextMatches('/could not be reached|extension is not loaded/');
    $this->assertSession()->responseNotContains($this->secret);
  }

}
