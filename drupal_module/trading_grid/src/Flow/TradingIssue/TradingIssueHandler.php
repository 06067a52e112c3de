<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\TradingIssue;

use Drupal\node\NodeInterface;
use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Flow\Notification\PartnerNotifier;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\EntityLookup;
use Drupal\trading_grid\Sync\Suppression;

/**
 * Flow 2, network ⇒ portal: the issue id, comments and status changes land on the
 * trading issue's timeline; the partner's organisation hears about replies.
 */
final class TradingIssueHandler implements EventHandlerInterface {

  private const STATUSES = ['open', 'in_progress', 'awaiting_partner', 'resolved', 'closed'];

  public function __construct(
    private readonly EntityLookup $lookup,
    private readonly LinkStore $links,
    private readonly IssueTimeline $timeline,
    private readonly Suppression $suppression,
    private readonly PartnerNotifier $notifier,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return ['issue.created', 'issue.comment_added', 'issue.status_changed'];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $data = (array) ($event['data'] ?? []);
    $issueId = is_scalar($data['issueId'] ?? NULL) ? (string) $data['issueId'] : NULL;
    $external = is_scalar($data['externalId'] ?? NULL) ? (string) $data['externalId'] : NULL;
    $issue = $this->lookup->node('issue', $external, $issueId, 'field_tg_remote_id');
    if ($issue === NULL || $issue->bundle() !== 'trading_grid_issue' && !$issue->hasField(IssueTimeline::FIELD)) {
      return;
    }
    $eventId = (string) ($event['id'] ?? '');
    $at = isset($event['occurredAt']) ? (strtotime((string) $event['occurredAt']) ?: time()) : time();
    $changed = FALSE;

    if ($issueId !== NULL) {
      $this->links->record('node', (string) $issue->id(), 'issue', LinkStore::SYNCED, $issueId, NULL, 'issue.create');
      if ($issue->hasField('field_tg_remote_id') && (string) $issue->get('field_tg_remote_id')->value !== $issueId) {
        $issue->set('field_tg_remote_id', $issueId);
        $changed = TRUE;
      }
    }

    switch ($event['type']) {
      case 'issue.created':
        $changed = $this->timeline->add($issue, [
          'key' => 'created:' . ($issueId ?? $eventId),
          'kind' => 'note',
          'origin' => 'network',
          'body' => 'Raised on Trading Grid as ' . ($issueId ?? 'a new issue') . '.',
          'at' => $at,
        ]) || $changed;
        break;

      case 'issue.comment_added':
        $comment = (array) ($data['comment'] ?? []);
        $origin = (string) ($data['origin'] ?? $comment['origin'] ?? 'network');
        $commentId = (string) ($comment['commentId'] ?? $eventId);
        $portalKey = isset($comment['externalId']) ? 'portal:' . $comment['externalId'] : NULL;
        if ($origin === 'portal' && $portalKey !== NULL && $this->timeline->find($issue, $portalKey) !== NULL) {
          $entry = $this->timeline->find($issue, $portalKey);
          if (($entry['state'] ?? '') !== 'delivered') {
            $changed = $this->timeline->update($issue, $portalKey, ['state' => 'delivered', 'remoteId' => $commentId]) || $changed;
          }
          break;
        }
        $added = $this->timeline->add($issue, [
          'key' => 'comment:' . $commentId,
          'kind' => 'comment',
          'origin' => $origin,
          'author' => (string) ($comment['author'] ?? 'Trading Grid'),
          'body' => (string) ($comment['body'] ?? ''),
          'at' => isset($comment['createdAt']) && is_string($comment['createdAt']) ? (strtotime($comment['createdAt']) ?: $at) : $at,
        ]);
        $changed = $added || $changed;
        if ($added && $origin === 'network') {
          $this->notifyOrganisation($issue, 'New reply on your trading issue', sprintf('%s answered "%s".', $comment['author'] ?? 'Your trading partner', $issue->label()), $eventId);
        }
        break;

      case 'issue.status_changed':
        $to = (string) ($data['to'] ?? '');
        if (!in_array($to, self::STATUSES, TRUE)) {
          break;
        }
        if ($issue->hasField(TradingIssueMapper::STATUS_FIELD) && (string) $issue->get(TradingIssueMapper::STATUS_FIELD)->value !== $to) {
          $issue->set(TradingIssueMapper::STATUS_FIELD, $to);
          $changed = TRUE;
        }
        $resolution = is_string($data['resolution'] ?? NULL) ? $data['resolution'] : '';
        if ($resolution !== '' && $issue->hasField('field_tg_resolution') && (string) $issue->get('field_tg_resolution')->value !== $resolution) {
          $issue->set('field_tg_resolution', $resolution);
          $changed = TRUE;
        }
        $added = $this->timeline->add($issue, [
          'key' => 'status:' . $eventId,
          'kind' => 'status',
          'origin' => (string) ($data['origin'] ?? 'network'),
          'from' => (string) ($data['from'] ?? ''),
          'to' => $to,
          'resolution' => $resolution,
          'at' => $at,
        ]);
        $changed = $added || $changed;
        if ($added && ($data['origin'] ?? 'network') === 'network') {
          $this->notifyOrganisation($issue, 'Trading issue status changed', sprintf('"%s" is now %s.', $issue->label(), str_replace('_', ' ', $to)), $eventId);
        }
        break;
    }

    if ($changed) {
      $this->suppression->run(static fn () => $issue->save());
    }
  }

  /**
   * Tells the users of the issue's organisation (or its author) about it.
   */
  private function notifyOrganisation(NodeInterface $issue, string $subject, string $message, string $key): void {
    $organisation = $issue->hasField('field_tg_organisation') ? trim((string) $issue->get('field_tg_organisation')->value) : '';
    $users = $organisation !== '' ? $this->notifier->organisationUsers($organisation) : [];
    if ($users === [] && $issue->getOwner() !== NULL && !$issue->getOwner()->isAnonymous()) {
      $users = [$issue->getOwner()];
    }
    $this->notifier->notify($users, $subject, $message, $key);
  }

}
