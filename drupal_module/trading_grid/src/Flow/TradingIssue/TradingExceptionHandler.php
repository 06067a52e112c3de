<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\TradingIssue;

use Drupal\Core\Database\Connection;
use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Connection\NetworkInterface;
use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Flow\Notification\PartnerNotifier;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\EntityLookup;
use Drupal\user\UserInterface;

/**
 * Flow 2, network ⇒ portal: a failed transaction Lens reported becomes a trading issue
 * of the partner trading under the transaction's address, once per transaction. The
 * node's own hooks then raise it on Trading Grid like any issue raised on the portal.
 */
final class TradingExceptionHandler implements EventHandlerInterface {

  public const FLOW = 'lens';

  public function __construct(
    private readonly EntityTypeManagerInterface $entityTypeManager,
    private readonly NetworkInterface $network,
    private readonly EntityLookup $lookup,
    private readonly LinkStore $links,
    private readonly PartnerNotifier $notifier,
    private readonly Connection $database,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return [TradingExceptionScanner::EVENT];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $failed = FailedTransaction::fromLens((array) ($event['data'] ?? []));
    if ($failed === NULL) {
      return;
    }
    $done = $this->links->findByRemote(self::FLOW, $failed->transactionId);
    if ($done !== NULL) {
      // Handled before: the issue exists. Its notice may not have gone out (the
      // handling failed after the commit); notices are keyed, so telling again is safe.
      $issue = $this->entityTypeManager->getStorage('node')->load($done['entityId']);
      if ($issue instanceof NodeInterface) {
        $this->notify($issue, $failed);
      }
      return;
    }
    $partner = $this->partner($failed);
    $organisation = $partner !== NULL && $partner->hasField('field_tg_organisation')
      ? trim((string) $partner->get('field_tg_organisation')->value)
      : '';
    $issue = $this->entityTypeManager->getStorage('node')->create([
      'type' => 'trading_grid_issue',
      'title' => $failed->title(),
      'uid' => $partner?->id() ?? 0,
      'status' => 1,
      'field_tg_issue_type' => $failed->issueType(),
      'field_tg_priority' => $failed->priority(),
      'field_tg_issue_status' => 'open',
      'field_tg_po_number' => $failed->purchaseOrder(),
      'field_tg_invoice_number' => $failed->invoice(),
      'field_tg_shipment_number' => $failed->shipment(),
      'field_tg_description' => $failed->description(),
      'field_tg_organisation' => $organisation,
    ]);
    // The issue and the record that it exists commit together: a retry of this event
    // after a failure finds either both or neither, never a second issue.
    $transaction = $this->database->startTransaction();
    try {
      $issue->save();
      $this->links->record('node', (string) $issue->id(), self::FLOW, LinkStore::SYNCED, $failed->transactionId, NULL, TradingExceptionScanner::EVENT);
    }
    catch (\Throwable $e) {
      $transaction->rollBack();
      throw $e;
    }
    unset($transaction);

    $this->notify($issue, $failed);
  }

  /**
   * Tells the issue's organisation, or staff when no partner trades under its address.
   */
  private function notify(NodeInterface $issue, FailedTransaction $failed): void {
    $organisation = $issue->hasField('field_tg_organisation') ? trim((string) $issue->get('field_tg_organisation')->value) : '';
    $users = $organisation !== '' ? $this->notifier->organisationUsers($organisation) : [];
    $this->notifier->notify(
      $users !== [] ? $users : $this->notifier->staff(),
      'Trading issue raised from Trading Grid',
      sprintf('"%s" was opened because Trading Grid reported it%s.', $issue->label(), $organisation === '' ? '; no partner trades under its address, so it waits for staff' : ''),
      'lens:' . $failed->transactionId,
    );
  }

  /**
   * The partner account trading under the transaction's sender or receiver address.
   */
  private function partner(FailedTransaction $failed): ?UserInterface {
    foreach ($failed->addresses() as $address) {
      $partnerId = $this->network->partnerIdByTradingAddress($address);
      if ($partnerId !== NULL) {
        $user = $this->lookup->user(NULL, $partnerId);
        if ($user !== NULL) {
          return $user;
        }
      }
    }
    return NULL;
  }

}
