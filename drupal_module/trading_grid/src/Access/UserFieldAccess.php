<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Access\AccessResult;
use Drupal\Core\Access\AccessResultInterface;
use Drupal\Core\Field\FieldDefinitionInterface;
use Drupal\Core\Field\FieldItemListInterface;
use Drupal\Core\Session\AccountInterface;

/**
 * hook_entity_field_access() for the partner fields on user accounts.
 *
 * - The organisation decides which trading issues and documents an account
 *   reaches, so once it has a value only a Trading Grid administrator changes
 *   it (an account names its organisation once, on registration or its first
 *   profile edit).
 * - The fields the module writes from network events (partner id, membership
 *   status, onboarding steps and progress) are never edited by anybody but a
 *   Trading Grid administrator.
 * - All partner fields are shown only on the account itself and to
 *   administrators (Trading Grid or user administrators): nobody reads another
 *   organisation's membership status or communities from a profile, a view or
 *   an API.
 * Only ever forbids (or says nothing): what it does not forbid is left to
 * Drupal's own user access rules.
 */
final class UserFieldAccess {

  /**
   * The account's organisation: locked once set.
   */
  public const ORGANISATION = 'field_tg_organisation';

  /**
   * Fields written from Trading Grid's events, never by the account.
   */
  public const NETWORK_OWNED = [
    'field_tg_trading_grid_id',
    'field_tg_membership_status',
    'field_tg_onboarding_done',
    'field_tg_onboarding_progress',
  ];

  /**
   * Every partner field on user accounts (shown to the account and admins).
   */
  public const PARTNER_FIELDS = [
    'field_tg_organisation',
    'field_tg_partner_type',
    'field_tg_country',
    'field_tg_communities',
    'field_tg_trading_grid_id',
    'field_tg_membership_status',
    'field_tg_onboarding_done',
    'field_tg_onboarding_progress',
  ];

  /**
   * The permission that may change what this class otherwise locks.
   */
  public const ADMINISTER = 'administer trading grid';

  /**
   * Decides view and edit access to one partner field of a user account.
   */
  public function access(string $operation, FieldDefinitionInterface $field_definition, AccountInterface $account, ?FieldItemListInterface $items = NULL): AccessResultInterface {
    $field = $field_definition->getName();
    if ($field_definition->getTargetEntityTypeId() !== 'user' || !in_array($field, self::PARTNER_FIELDS, TRUE)) {
      return AccessResult::neutral();
    }
    if ($operation === 'view') {
      return $this->view($account, $items);
    }
    if ($operation !== 'edit') {
      return AccessResult::neutral();
    }
    if ($account->hasPermission(self::ADMINISTER)) {
      return AccessResult::neutral()->cachePerPermissions();
    }
    if (in_array($field, self::NETWORK_OWNED, TRUE)) {
      return AccessResult::forbidden('This field is set by Trading Grid.')->cachePerPermissions();
    }
    if ($field === self::ORGANISATION && $items !== NULL) {
      $locked = trim((string) $items->value) !== '';
      $result = $locked
        ? AccessResult::forbidden('Only a Trading Grid administrator changes an organisation once it is set.')
        : AccessResult::neutral();
      return $result->cachePerPermissions()->addCacheableDependency($items->getEntity());
    }
    return AccessResult::neutral()->cachePerPermissions();
  }

  /**
   * View: the account itself and administrators.
   */
  private function view(AccountInterface $account, ?FieldItemListInterface $items): AccessResultInterface {
    if ($account->hasPermission(self::ADMINISTER) || $account->hasPermission('administer users')) {
      return AccessResult::neutral()->cachePerPermissions();
    }
    if ($items === NULL) {
      // Asked about the field in general (e.g. whether a view may show the
      // column): each value is checked again with its account.
      return AccessResult::neutral()->cachePerPermissions();
    }
    $owner = $items->getEntity()->id();
    $own = $account->isAuthenticated() && $owner !== NULL && (string) $owner === (string) $account->id();
    $result = $own ? AccessResult::neutral() : AccessResult::forbidden('Partner details are shown to the account itself and administrators only.');
    return $result->cachePerPermissions()->cachePerUser();
  }

}
