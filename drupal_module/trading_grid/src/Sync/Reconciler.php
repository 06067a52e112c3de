<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\trading_grid\Connection\NetworkInterface;
use Drupal\trading_grid\Flow\Partner\PartnerMapper;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\user\UserInterface;

/**
 * Compares the partners Drupal believes are on Trading Grid with the partners
 * Trading Grid lists, and sends again whatever drifted.
 *
 * Trading Grid users cannot be searched by e-mail or name and their login can
 * change: partners are matched by the immutable external id, reading the full list.
 */
final class Reconciler {

  public function __construct(
    private readonly NetworkInterface $network,
    private readonly LinkStore $links,
    private readonly EntityTypeManagerInterface $entityTypeManager,
    private readonly EntitySync $sync,
  ) {}

  /**
   * Finds and repairs drift.
   *
   * @return array{remote: int, missing: list<string>, unknown: list<string>, mismatched: list<string>, requeued: int}
   *   missing: partners Drupal has but Trading Grid does not; unknown: partners
   *   Trading Grid lists that no account matches; mismatched: partner ids that
   *   differ; requeued: accounts enqueued again.
   */
  public function reconcile(bool $repair = TRUE, int $maxPages = 100): array {
    $remote = [];
    $after = NULL;
    for ($page = 0; $page < $maxPages; $page++) {
      $answer = $this->network->partners($after, 500);
      foreach ((array) ($answer['items'] ?? []) as $partner) {
        if (is_array($partner) && isset($partner['externalId'])) {
          $remote[(string) $partner['externalId']] = (string) ($partner['partnerId'] ?? '');
        }
      }
      $after = $answer['nextCursor'] ?? NULL;
      if (empty($answer['hasMore']) || $after === NULL) {
        break;
      }
    }
    $report = ['remote' => count($remote), 'missing' => [], 'unknown' => [], 'mismatched' => [], 'requeued' => 0];
    $storage = $this->entityTypeManager->getStorage('user');
    $ids = $storage->getQuery()->accessCheck(FALSE)->condition('uid', 0, '>')->execute();
    $seen = [];
    foreach (array_chunk(array_values($ids), 100) as $chunk) {
      foreach ($storage->loadMultiple($chunk) as $user) {
        if (!$user instanceof UserInterface || !PartnerMapper::isPartner($user)) {
          continue;
        }
        $external = ExternalId::of($user);
        $seen[$external] = TRUE;
        $link = $this->links->get('user', (string) $user->id(), 'partner');
        $drift = FALSE;
        if (!isset($remote[$external])) {
          $report['missing'][] = $external;
          $drift = TRUE;
        }
        elseif ($link !== NULL && ($link['remoteId'] ?? '') !== '' && $link['remoteId'] !== $remote[$external]) {
          $report['mismatched'][] = $external;
          $this->links->record('user', (string) $user->id(), 'partner', LinkStore::SYNCED, $remote[$external], NULL, 'reconcile');
        }
        elseif ($link === NULL || $link['status'] !== LinkStore::SYNCED) {
          $this->links->record('user', (string) $user->id(), 'partner', LinkStore::SYNCED, $remote[$external], NULL, 'reconcile');
        }
        if ($drift && $repair) {
          $report['requeued'] += $this->sync->sync($user, 'update');
        }
      }
    }
    foreach (array_keys($remote) as $external) {
      if (!isset($seen[$external]) && ExternalId::parse($external) !== NULL) {
        $report['unknown'][] = $external;
      }
    }
    return $report;
  }

}
