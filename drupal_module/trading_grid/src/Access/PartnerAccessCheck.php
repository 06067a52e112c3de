<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Access\AccessResult;
use Drupal\Core\Access\AccessResultInterface;
use Drupal\Core\Routing\Access\AccessInterface;
use Drupal\Core\Session\AccountInterface;

/**
 * Route requirement _trading_grid_partner: the account belongs to an organisation.
 */
final class PartnerAccessCheck implements AccessInterface {

  public function __construct(private readonly PartnerContext $partners) {}

  /**
   * Allowed for an account that names its organisation.
   */
  public function access(AccountInterface $account): AccessResultInterface {
    $organisation = $this->partners->organisation($account);
    $result = $organisation !== ''
      ? AccessResult::allowed()
      : AccessResult::forbidden('The partner pages are for accounts that belong to a partner organisation.');
    return $result->cachePerUser();
  }

}
