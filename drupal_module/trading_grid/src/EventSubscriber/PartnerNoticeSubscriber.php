<?php

declare(strict_types=1);

namespace Drupal\trading_grid\EventSubscriber;

use Drupal\Core\Messenger\MessengerInterface;
use Drupal\Core\Session\AccountProxyInterface;
use Drupal\trading_grid\Flow\Notification\PartnerNotifier;
use Symfony\Component\EventDispatcher\EventSubscriberInterface;
use Symfony\Component\HttpKernel\Event\RequestEvent;
use Symfony\Component\HttpKernel\KernelEvents;

/**
 * Shows a signed-in user the network notices that arrived for them since their
 * last page (they were recorded on cron or after a webhook, outside their session).
 */
final class PartnerNoticeSubscriber implements EventSubscriberInterface {

  public function __construct(
    private readonly AccountProxyInterface $currentUser,
    private readonly PartnerNotifier $notifier,
    private readonly MessengerInterface $messenger,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function getSubscribedEvents(): array {
    // After the session and the current user are known (priority below 300).
    return [KernelEvents::REQUEST => [['onRequest', 20]]];
  }

  /**
   * Moves unshown notices into the messenger.
   */
  public function onRequest(RequestEvent $event): void {
    if (!$event->isMainRequest() || !$event->getRequest()->isMethod('GET') || $this->currentUser->isAnonymous()) {
      return;
    }
    if ($event->getRequest()->getRequestFormat() !== 'html') {
      return;
    }
    foreach ($this->notifier->takeUnshown($this->currentUser) as $notice) {
      $this->messenger->addStatus($notice['subject'] . ': ' . $notice['message']);
    }
  }

}
