<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Notification;

use Drupal\node\NodeInterface;
use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Sync\EntityLookup;

/**
 * Flow 8, network ⇒ portal: network notifications reach the right people: an
 * overdue dispute or a partner's reply reaches the issue's organisation (and the
 * staff for an overdue dispute); a document awaiting approval reaches the staff.
 */
final class NotificationHandler implements EventHandlerInterface {

  public function __construct(
    private readonly EntityLookup $lookup,
    private readonly PartnerNotifier $notifier,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return [
      'notification.dispute_overdue',
      'notification.document_awaiting_approval',
      'notification.partner_response',
      'notification.posted',
    ];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $data = (array) ($event['data'] ?? []);
    $key = (string) ($event['id'] ?? '');
    $str = static fn (string $k): ?string => is_scalar($data[$k] ?? NULL) && (string) $data[$k] !== '' ? (string) $data[$k] : NULL;
    switch ($event['type']) {
      case 'notification.dispute_overdue':
        $issue = $this->lookup->node('issue', $str('externalId'), $str('issueId'), 'field_tg_remote_id');
        $label = $issue?->label() ?? ($str('issueId') ?? 'a trading issue');
        $message = sprintf('The dispute "%s" is overdue on Trading Grid.', $label);
        $this->notifier->notify(array_merge($this->organisation($issue), $this->notifier->staff()), 'A dispute is overdue', $message, $key);
        break;

      case 'notification.partner_response':
        $issue = $this->lookup->node('issue', $str('externalId'), $str('issueId'), 'field_tg_remote_id');
        $message = $str('message') ?? 'Your trading partner answered.';
        if ($issue !== NULL) {
          $message .= sprintf(' (%s)', $issue->label());
        }
        $this->notifier->notify($this->organisation($issue) ?: $this->notifier->staff(), 'Your trading partner answered', $message, $key);
        break;

      case 'notification.posted':
        // A notice this portal posted, echoed by the network: already known here.
        break;

      case 'notification.document_awaiting_approval':
        $document = $this->lookup->node('document', $str('documentId'), $str('documentId'), 'field_tg_document_id');
        $label = $document?->label() ?? ($str('documentId') ?? 'A document');
        $this->notifier->notify($this->notifier->staff(), 'A document awaits approval', sprintf('"%s" awaits approval.', $label), $key);
        break;
    }
  }

  /**
   * The users of the organisation an issue belongs to (or its author).
   *
   * @return \Drupal\user\UserInterface[]
   *   The users.
   */
  private function organisation(?NodeInterface $issue): array {
    if ($issue === NULL) {
      return [];
    }
    $organisation = $issue->hasField('field_tg_organisation') ? trim((string) $issue->get('field_tg_organisation')->value) : '';
    $users = $this->notifier->organisationUsers($organisation);
    if ($users === [] && $issue->getOwner() !== NULL && !$issue->getOwner()->isAnonymous()) {
      $users = [$issue->getOwner()];
    }
    return $users;
  }

}
