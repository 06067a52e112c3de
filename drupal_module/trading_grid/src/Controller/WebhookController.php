<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Controller;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\Core\DependencyInjection\ContainerInjectionInterface;
use Drupal\trading_grid\Connection\WebhookVerifierInterface;
use Drupal\trading_grid\Inbound\WebhookIntake;
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
   * Receives one delivery: the checks and the storing live in WebhookIntake.
   */
  public function receive(Request $request): Response {
    $max = (int) ($this->configFactory->get('trading_grid.settings')->get('webhook_max_bytes') ?: WebhookIntake::DEFAULT_MAX_BYTES);
    $intake = new WebhookIntake($this->verifier, $this->inbox, $max);
    $answer = $intake->receive($request->getContent(), $request->headers->all());
    if ($answer['status'] !== 200) {
      $this->logger->warning('Trading Grid webhook refused (@status): @reason', ['@status' => $answer['status'], '@reason' => $answer['message']]);
    }
    if ($answer['stored'] > 0) {
      $this->activity->received($answer['stored']);
    }
    return self::plain($answer['status'], $answer['message']);
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
