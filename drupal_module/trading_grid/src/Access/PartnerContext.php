<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\Core\Session\AccountInterface;
use Drupal\user\UserInterface;

/**
 * Which organisation an account belongs to, and whether it sees everything.
 */
final class PartnerContext {

  /**
   * Organisations by account id, for this request.
   *
   * @var array<int, string>
   */
  private array $organisations = [];

  public function __construct(private readonly EntityTypeManagerInterface $entityTypeManager) {}

  /**
   * The organisation of an account; '' when it has none.
   */
  public function organisation(AccountInterface $account): string {
    $uid = (int) $account->id();
    if ($uid === 0) {
      return '';
    }
    if (!isset($this->organisations[$uid])) {
      $user = $account instanceof UserInterface ? $account : $this->entityTypeManager->getStorage('user')->load($uid);
      $this->organisations[$uid] = $user instanceof UserInterface && $user->hasField('field_tg_organisation')
        ? trim((string) $user->get('field_tg_organisation')->value)
        : '';
    }
    return $this->organisations[$uid];
  }

  /**
   * The partner type of an account; '' when it has none.
   */
  public function partnerType(AccountInterface $account): string {
    $user = $account instanceof UserInterface ? $account : $this->entityTypeManager->getStorage('user')->load($account->id());
    return $user instanceof UserInterface && $user->hasField('field_tg_partner_type')
      ? (string) $user->get('field_tg_partner_type')->value
      : '';
  }

  /**
   * The communities of an account.
   *
   * @return string[]
   *   Community ids.
   */
  public function communities(AccountInterface $account): array {
    $user = $account instanceof UserInterface ? $account : $this->entityTypeManager->getStorage('user')->load($account->id());
    if (!$user instanceof UserInterface || !$user->hasField('field_tg_communities')) {
      return [];
    }
    return array_values(array_filter(array_map(static fn ($item): string => trim((string) $item->value), iterator_to_array($user->get('field_tg_communities')))));
  }

  /**
   * Whether an account sees every organisation's data (staff).
   */
  public function seesEverything(AccountInterface $account): bool {
    return $account->hasPermission('administer trading grid') || $account->hasPermission('bypass node access');
  }

  /**
   * Forgets what was read (after an account changed).
   */
  public function reset(): void {
    $this->organisations = [];
  }

}
