<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\trading_grid\Controller\WebhookController;
use Symfony\Component\HttpFoundation\Request;

/**
 * The webhook answers fast and plainly: verified events are stored once, anything
 * else is refused with a reason.
 *
 * @group trading_grid
 */
final class WebhookControllerTest extends TradingGridKernelTestBase {

  private const SECRET = 'whsec_0123456789abcdef';

  /**
   * {@inheritdoc}
   */
  protected function setUp(): void {
    parent::setUp();
    $this->setSetting('trading_grid', ['webhook_secret' => self::SECRET]);
  }

  /**
   * Posts a body to the controller.
   *
   * @param array<string, string> $headers
   *   Request headers.
   */
  private function post(string $body, array $headers = ['Content-Type' => 'application/json']): \Symfony\Component\HttpFoundation\Response {
    $server = [];
    foreach ($headers as $name => $value) {
      $key = strtoupper(str_replace('-', '_', $name));
      $server[in_array($key, ['CONTENT_TYPE', 'CONTENT_LENGTH'], TRUE) ? $key : 'HTTP_' . $key] = $value;
    }
    $request = Request::create('/trading-grid/webhook', 'POST', [], [], [], $server, $body);
    return WebhookController::create($this->container)->receive($request);
  }

  /**
   * A body that is not JSON by its content type is refused with 415.
   */
  public function testWrongContentTypeIs415(): void {
    $response = $this->post('{"events": []}', ['Content-Type' => 'text/plain']);
    $this->assertSame(415, $response->getStatusCode());
    $this->assertStringContainsString('application/json', (string) $response->getContent());
  }

  /**
   * A body over the limit is refused with 413 before anything else.
   */
  public function testOversizeBodyIs413(): void {
    $this->config('trading_grid.settings')->set('webhook_max_bytes', 100)->save();
    $response = $this->post(str_repeat('x', 101));
    $this->assertSame(413, $response->getStatusCode());
    $this->assertSame(0, $this->container->get('trading_grid.inbox')->count());
  }

  /**
   * An unsigned or wrongly signed delivery is refused and nothing is stored.
   */
  public function testBadSignatureIs401(): void {
    if (!class_exists('\TradingGrid\Webhook')) {
      $this->markTestSkipped('Needs the trading_grid PHP extension: \TradingGrid\Webhook verifies signatures.');
    }
    $body = json_encode(['events' => [['id' => 'evt_1', 'type' => 'partner.created', 'data' => []]]]);
    $this->assertSame(401, $this->post($body)->getStatusCode(), 'no signature header');
    $signature = \TradingGrid\Webhook::sign($body, 'another secret');
    $response = $this->post($body, ['Content-Type' => 'application/json', 'TG-Signature' => $signature]);
    $this->assertSame(401, $response->getStatusCode());
    $this->assertNotSame('', trim((string) $response->getContent()), 'the reason is given');
    $this->assertSame(0, $this->container->get('trading_grid.inbox')->count());
  }

  /**
   * A signed delivery is stored once; delivered again it is not stored twice, and
   * the event is handled after the response.
   */
  public function testSignedDeliveryIsStoredOnceAndHandledLater(): void {
    if (!class_exists('\TradingGrid\Webhook')) {
      $this->markTestSkipped('Needs the trading_grid PHP extension: \TradingGrid\Webhook verifies signatures.');
    }
    $partner = $this->createPartner('Acme Freight');
    $body = json_encode(['events' => [[
      'id' => 'evt_000000000042',
      'type' => 'membership.changed',
      'occurredAt' => gmdate('Y-m-d\TH:i:s\Z'),
      'data' => ['externalId' => 'drupal-user-' . $partner->id(), 'communityId' => 'logistics-eu', 'status' => 'active'],
    ]]]);
    $headers = ['Content-Type' => 'application/json', 'TG-Signature' => \TradingGrid\Webhook::sign($body, self::SECRET)];
    $first = $this->post($body, $headers);
    $this->assertSame(200, $first->getStatusCode(), (string) $first->getContent());
    $this->assertSame(200, $this->post($body, $headers)->getStatusCode(), 'a repeated delivery is accepted');
    $inbox = $this->container->get('trading_grid.inbox');
    $this->assertSame(1, $inbox->count());
    $this->assertSame('pending', $inbox->get('evt_000000000042')['state'], 'nothing is handled inside the webhook request');
    $this->assertSame(1, $this->container->get('trading_grid.request_activity')->receivedCount());

    $this->container->get('trading_grid.delivery')->handleEvents(5.0, 'test');
    $this->assertSame('handled', $inbox->get('evt_000000000042')['state']);
    $this->assertSame('active', \Drupal\user\Entity\User::load($partner->id())->get('field_tg_membership_status')->value);
  }

  /**
   * Without a webhook secret nothing can be verified: refused, not accepted.
   */
  public function testMissingSecretRefusesEverything(): void {
    $this->setSetting('trading_grid', []);
    $response = $this->post('{"events": []}', ['Content-Type' => 'application/json', 'TG-Signature' => 't=1,v1=00']);
    $this->assertSame(503, $response->getStatusCode());
  }

}
