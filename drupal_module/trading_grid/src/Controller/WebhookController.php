<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Controller;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\Core\DependencyInjection\ContainerInjectionInterface;
use Drupal\trading_grid\Connection\WebhookRejectedException;
use Drupal\trading_grid\Connection\WebhookVerifierInterface;
use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Sync\RequestActivity;
use Psr\Log\LoggerInterface;
use Symfony\Component\DependencyInjection\ContainerInterface;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;

/**
 * POST /trading-grid/webhook: verify, store once, answer at once.
 *
 * The signature is the authentication. Events are only stored here; they are handled
 * after the response is sent (and on cron), so Trading Grid never waits on Drupal.
 * Payloads are never logged.
 */
final class WebhookController implements ContainerInjectionInterface {

  public function __construct(
    private readonly WebhookVerifierInterface $verifier,
    private readonly Inbox $inbox,
    private readonly RequestActivity $activity,
    private readonly ConfigFactoryInterface $configFactory,
    private readonly LoggerInterface $logger,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.webhook_verifier'),
      $container->get('trading_grid.inbox'),
      $container->get('trading_grid.request_activity'),
      $container->get('config.factory'),
      $container->get('logger.channel.trading_grid'),
    );
  }

  /**
   * Receives one delivery.
   */
  public function receive(Request $request): Response {
    $max = (int) ($this->configFactory->get('trading_grid.settings')->get('webhook_max_bytes') ?: 1048576);
    if ((int) $request->headers->get('Content-Length', '0') > $max) {
      return self::plain(413, "The body is larger than $max bytes.");
    }
    $type = strtolower((string) $request->headers->get('Content-Type', ''));
    if (!preg_match('#^application/([a-z0-9.+-]+\+)?json\s*(;|$)#', $type)) {
      return self::plain(415, 'Send the events as application/json.');
    }
    $body = $request->getContent();
    if (strlen($body) > $max) {
      return self::plain(413, "The body is larger than $max bytes.");
    }
    if (trim($body) === '') {
      return self::plain(400, 'The body is empty.');
    }
    try {
      $events = $this->verifier->verify($body, $request->headers->all());
    }
    catch (WebhookRejectedException $e) {
      $this->logger->warning('Trading Grid webhook refused (@status): @reason', ['@status' => $e->status(), '@reason' => $e->getMessage()]);
      return self::plain($e->status(), $e->getMessage());
    }
    $new = 0;
    foreach ($events as $event) {
      if (!is_scalar($event['id'] ?? NULL) || !is_string($event['type'] ?? NULL)) {
        return self::plain(400, 'Every event needs an id and a type.');
      }
      try {
        if ($this->inbox->store((string) $event['id'], $event['type'], $event, 'webhook')) {
          $new++;
        }
      }
      catch (\InvalidArgumentException $e) {
        return self::plain(400, 'An event could not be stored: ' . $e->getMessage());
      }
    }
    if ($new > 0) {
      $this->activity->received($new);
    }
    return self::plain(200, sprintf('Stored %d new of %d events.', $new, count($events)));
  }

  /**
   * A plain-text answer.
   */
  private static function plain(int $status, string $text): Response {
    return new Response($text . "\n", $status, [
      'Content-Type' => 'text/plain; charset=utf-8',
      'Cache-Control' => 'no-store',
    ]);
  }

}
