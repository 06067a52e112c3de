<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\trading_grid\Access\PartnerContext;
use Drupal\trading_grid\Connection\NetworkInterface;
use Drupal\trading_grid\Flow\Partner\NetworkUsers;
use Drupal\trading_grid\Flow\Partner\PartnerMapper;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\user\UserInterface;

/**
 * Compares the partners Drupal believes are on Trading Grid with the partners
 * Trading Grid lists, and sends again whatever drifted.
 *
 * Trading Grid users cannot be searched by e-mail or name and their login can
 * change: partners are matched by the immutable external id, reading the full list,
 * and each active member's network user by its immutable user id, reading the users
 * of its partner company.
 */
final class Reconciler {

  public function __construct(
    private readonly NetworkInterface $network,
    private readonly LinkStore $links,
    private readonly EntityTypeManagerInterface $entityTypeManager,
    private readonly EntitySync $sync,
    private readonly NetworkUsers $networkUsers,
    private readonly OutboxWriter $writer,
  ) {}

  /**
   * Finds and repairs drift.
   *
   * @return array{remote: int, missing: list<string>, unknown: list<string>, mismatched: list<string>, usersMissing: list<string>, usersRenamed: list<string>, requeued: int}
   *   missing: partners Drupal has but Trading Grid does not; unknown: partners
   *   Trading Grid lists that no account matches; mismatched: partner ids that
   *   differ; usersMissing: active members whose network user is gone from its
   *   company or was never made;
   *   usersRenamed: accounts whose network user signs in with another loginId than
   *   the account's e-mail (changed on the network; reported, not undone);
   *   requeued: operations enqueued again.
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
    $report = ['remote' => count($remote), 'missing' => [], 'unknown' => [], 'mismatched' => [], 'usersMissing' => [], 'usersRenamed' => [], 'requeued' => 0];
    $companies = [];
    $storage = $this->entityTypeManager->getStorage('user');
    $ids = $storage->getQuery()->accessCheck(FALSE)->condition('uid', 0, '>')->sort('uid')->execute();
    $seen = [];
    foreach (array_chunk(array_values($ids), 100) as $chunk) {
      foreach ($storage->loadMultiple($chunk) as $user) {
        if (!$user instanceof UserInterface || !PartnerMapper::isPartner($user)) {
          continue;
        }
        $external = ExternalId::of($user);
        $seen[$external] = TRUE;
        if ($repair) {
          // What drifted is written again even if this process wrote the same op
          // before (OutboxWriter writes one save's change once): that row has
          // been sent or discarded since, which is why the network lacks it.
          $this->writer->forget();
        }
        $link = $this->links->get('user', (string) $user->id(), 'partner');
        $drift = FALSE;
        if (!isset($remote[$external])) {
          $report['missing'][] = $external;
          $drift = TRUE;
        }
        elseif ($link !== NULL && ($link['remoteId'] ?? '') !== '' && $link['remoteId'] !== $remote[$external]) {
          $report['mismatched'][] = $external;
          if ($repair) {
            $this->links->record('user', (string) $user->id(), 'partner', LinkStore::SYNCED, $remote[$external], NULL, 'reconcile');
          }
        }
        elseif ($repair && ($link === NULL || $link['status'] !== LinkStore::SYNCED)) {
          // A dry run reports only: it leaves even the link table as it found it.
          $this->links->record('user', (string) $user->id(), 'partner', LinkStore::SYNCED, $remote[$external], NULL, 'reconcile');
        }
        if ($drift && $repair) {
          $report['requeued'] += $this->sync->sync($user, 'update');
        }
        elseif (!$drift && $remote[$external] !== '') {
          $report['requeued'] += $this->networkUser($user, $remote[$external], $companies, $report, $repair);
        }
      }
    }
    return $this->unknown($remote, $seen, $report);
  }

  /**
   * Checks an active member's network user against its partner company's users;
   * returns how many ops were queued to repair it.
   *
   * @param array<string, array<string, array{userId: string, loginId: string, email: string}>> $companies
   *   The users read so far, by company and user id.
   * @param array<string, mixed> $report
   *   The report, added to.
   */
  private function networkUser(UserInterface $user, string $company, array &$companies, array &$report, bool $repair): int {
    $state = $this->networkUsers->state($user);
    if ($this->networkUsers->role() === '' || $state === NetworkUsers::PENDING
      || (string) $user->get('field_tg_membership_status')->value !== PartnerContext::ACTIVE) {
      return 0;
    }
    $external = ExternalId::of($user);
    if ($state === NetworkUsers::EXISTS) {
      if (!isset($companies[$company])) {
        $companies[$company] = [];
        foreach ($this->network->companyUsers($company) as $listed) {
          $companies[$company][$listed['userId']] = $listed;
        }
      }
      $userId = (string) $this->links->get('user', (string) $user->id(), NetworkUsers::FLOW)['remoteId'];
      $listed = $companies[$company][$userId] ?? NULL;
      if ($listed !== NULL) {
        if (strcasecmp($listed['loginId'], trim((string) $user->getEmail())) !== 0) {
          $report['usersRenamed'][] = "$external ({$listed['loginId']})";
        }
        return 0;
      }
    }
    // Gone from its company, or never made (members already active when network
    // users were switched on, a create that was refused): make it, with its role.
    $report['usersMissing'][] = $external;
    if (!$repair) {
      return 0;
    }
    if ($state === NetworkUsers::EXISTS) {
      $this->networkUsers->forget($user);
    }
    $ops = $this->networkUsers->unlessRefused($user, 'company_user.create', fn () => $this->networkUsers->activated($user));
    foreach ($ops as $op) {
      $this->writer->write($op);
    }
    return count($ops);
  }

  /**
   * Adds the partners Trading Grid lists that no account matches to the report.
   *
   * @param array<string, string> $remote
   *   Partner ids by external id.
   * @param array<string, bool> $seen
   *   The external ids of the accounts.
   * @param array<string, mixed> $report
   *   The report.
   *
   * @return array<string, mixed>
   *   The report.
   */
  private function unknown(array $remote, array $seen, array $report): array {
    foreach (array_keys($remote) as $external) {
      if (!isset($seen[$external]) && ExternalId::parse($external) !== NULL) {
        $report['unknown'][] = $external;
      }
    }
    return $report;
  }

}
