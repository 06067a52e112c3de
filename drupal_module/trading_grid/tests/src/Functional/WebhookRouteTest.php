<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Functional;

use Drupal\Tests\BrowserTestBase;

/**
 * The webhook route is public, POST-only, and refuses what is not signed.
 *
 * @group trading_grid
 */
final class WebhookRouteTest extends BrowserTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid'];

  /**
   * {@inheritdoc}
   */
  protected $defaultTheme = 'stark';

  /**
   * Posts to the webhook as Trading Grid would, without a session.
   *
   * @param array<string, string> $headers
   *   Request headers.
   */
  private function post(string $body, array $headers): \Psr\Http\Message\ResponseInterface {
    // The site's Guzzle client: its test middleware sends the test site's user agent.
    return $this->container->get('http_client')->request('POST', $this->buildUrl('trading-grid/webhook'), [
      'body' => $body,
      'headers' => $headers,
      'http_errors' => FALSE,
    ]);
  }

  /**
   * Anonymous POSTs reach the controller, which answers with plain reasons.
   */
  public function testUnsignedDeliveriesAreRefusedWithAReason(): void {
    $response = $this->post('hello', ['Content-Type' => 'text/plain']);
    $this->assertSame(415, $response->getStatusCode());

    $this->writeSettings([
      'settings' => [
        'trading_grid' => (object) ['value' => ['webhook_secret' => 'whsec_' . $this->randomMachineName(24)], 'required' => TRUE],
      ],
    ]);
    $body = '{"events":[{"id":"evt_1","type":"partner.created","data":{}}]}';
    $response = $this->post($body, ['Content-Type' => 'application/json', 'TG-Signature' => 't=1,v1=00']);
    // 401 where the site's PHP has the extension; 503 where it cannot verify at all.
    $this->assertContains($response->getStatusCode(), [401, 503]);
    $this->assertStringStartsWith('text/plain', $response->getHeaderLine('Content-Type'));
    $this->assertNotSame('', trim((string) $response->getBody()));
    $this->assertSame(0, $this->container->get('trading_grid.inbox')->count());
  }

  /**
   * GET is not a delivery.
   */
  public function testGetIsNotAllowed(): void {
    $this->drupalGet('trading-grid/webhook');
    $this->assertSession()->statusCodeEquals(405);
  }

}
