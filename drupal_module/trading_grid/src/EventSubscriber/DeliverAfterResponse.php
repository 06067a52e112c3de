<?php

declare(strict_types=1);

namespace Drupal\trading_grid\EventSubscriber;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\trading_grid\Sync\Delivery;
use Drupal\trading_grid\Sync\RequestActivity;
use Psr\Log\LoggerInterface;
use Symfony\Component\EventDispatcher\EventSubscriberInterface;
use Symfony\Component\HttpKernel\Event\TerminateEvent;
use Symfony\Component\HttpKernel\KernelEvents;

/**
 * After the response is sent: delivers what this request enqueued and handles the
 * events it received, within a small time budget. Requests that did neither pay
 * nothing. Whatever is left waits for the next request, cron or drush.
 */
final class DeliverAfterResponse implements EventSubscriberInterface {

  public function __construct(
    private readonly RequestActivity $activity,
    private readonly Delivery $delivery,
    private readonly ConfigFactoryInterface $configFactory,
    private readonly LoggerInterface $logger,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function getSubscribedEvents(): array {
    return [KernelEvents::TERMINATE => [['onTerminate', 50]]];
  }

  /**
   * Delivers and handles, time-boxed.
   */
  public function onTerminate(TerminateEvent $event): void {
    $enqueued = $this->activity->enqueuedCount();
    $received = $this->activity->receivedCount();
    $this->activity->reset();
    if ($enqueued === 0 && $received === 0) {
      return;
    }
    $config = $this->configFactory->get('trading_grid.settings');
    if (!$config->get('drain_on_terminate')) {
      return;
    }
    $budget = (float) ($config->get('terminate_time_budget') ?: 2.0);
    try {
      if ($enqueued > 0) {
        $this->delivery->drain($budget);
      }
      if ($received > 0) {
        $this->delivery->handleEvents($budget);
      }
    }
    catch (\Throwable $e) {
      // The rows and events stay stored; cron tries again.
      $this->logger->error('Trading Grid delivery after the response failed: @message', ['@message' => $e->getMessage()]);
    }
  }

}
