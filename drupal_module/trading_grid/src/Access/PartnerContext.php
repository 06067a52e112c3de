<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\Core\Session\AccountInterface;
use Drupal\user\UserInterface;

/**
 * Which organisation an account belongs to, and whether it sees everything.
 *
 * An account names its organisation itself (on registration), so the name alone
 * proves nothing: only an account whose membership Trading Grid made active
 * belongs to it. Until then (pending), and once suspended, removed or rejected,
 * organisation(), partnerType() and communities() give nothing, and the account
 * reaches nothing of the organisation. declaredOrganisation() gives the name as
 * written, for the account's own pages (its onboarding journey).
 *
 * Nothing is remembered between calls: the account entity is read each time
 * (the entity storage keeps it for the request), so a membership change takes
 * effect at once.
 */
final class PartnerContext {

  /**
   * The membership status that makes an account a member of its organisation.
   */
  public const ACTIVE = 'active';

  public function __construct(private readonly EntityTypeManagerInterface $entityTypeManager) {}

  /**
   * The organisation of an active member; '' for anybody else.
   */
  public function organisation(AccountInterface $account): string {
    return $this->membershipStatus($account) === self::ACTIVE ? $this->declaredOrganisation($account) : '';
  }

  /**
   * The organisation named on the account, whatever its membership; '' if none.
   */
  public function declaredOrganisation(AccountInterface $account): string {
    return self::single($this->user($account), 'field_tg_organisation');
  }

  /**
   * The membership status Trading Grid gave the account; '' before any.
   */
  public function membershipStatus(AccountInterface $account): string {
    return self::single($this->user($account), 'field_tg_membership_status');
  }

  /**
   * The partner type of an active member; '' for anybody else.
   */
  public function partnerType(AccountInterface $account): string {
    return $this->organisation($account) !== '' ? self::single($this->user($account), 'field_tg_partner_type') : '';
  }

  /**
   * The communities on an active member's account; none for anybody else.
   *
   * @return string[]
   *   Community ids, trimmed, without repeats.
   */
  public function communities(AccountInterface $account): array {
    $user = $this->user($account);
    if ($this->organisation($account) === '' || $user === NULL || !$user->hasField('field_tg_communities')) {
      return [];
    }
    $ids = [];
    foreach ($user->get('field_tg_communities') as $item) {
      $id = trim((string) $item->value);
      if ($id !== '') {
        $ids[$id] = $id;
      }
    }
    return array_values($ids);
  }

  /**
   * The cache tags of an account's own entity.
   *
   * A decision about what an account reaches depends on its organisation,
   * membership status, partner type and communities: it is stale once the
   * account is saved.
   *
   * @return string[]
   *   Cache tags.
   */
  public static function cacheTags(AccountInterface $account): array {
    return $account->isAuthenticated() ? ['user:' . $account->id()] : [];
  }

  /**
   * Whether an account sees every organisation's data (staff).
   */
  public function seesEverything(AccountInterface $account): bool {
    return $account->hasPermission('administer trading grid') || $account->hasPermission('bypass node access');
  }

  /**
   * The user entity of an account; NULL for anonymous or a deleted account.
   */
  private function user(AccountInterface $account): ?UserInterface {
    if ($account instanceof UserInterface) {
      return $account;
    }
    if ($account->isAnonymous()) {
      return NULL;
    }
    $user = $this->entityTypeManager->getStorage('user')->load($account->id());
    return $user instanceof UserInterface ? $user : NULL;
  }

  /**
   * The trimmed value of a single-valued field; '' when missing or empty.
   */
  private static function single(?UserInterface $user, string $field): string {
    if ($user === NULL || !$user->hasField($field)) {
      return '';
    }
    return trim((string) $user->get($field)->value);
  }

}
