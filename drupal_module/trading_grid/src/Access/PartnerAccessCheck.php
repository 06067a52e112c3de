<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Access\AccessResult;
use Drupal\Core\Access\AccessResultInterface;
use Drupal\Core\Routing\Access\AccessInterface;
use Drupal\Core\Session\AccountInterface;
use Symfony\Component\Routing\Route;

/**
 * Route requirement _trading_grid_partner: the account is a partner.
 *
 * _trading_grid_partner: 'TRUE' asks for an active member of an organisation
 * (the pages that show the organisation's issues and documents);
 * _trading_grid_partner: 'applicant' is satisfied by any account that names an
 * organisation, whatever its membership status (its own onboarding journey).
 */
final class PartnerAccessCheck implements AccessInterface {

  /**
   * The requirement value that admits accounts not (yet) active.
   */
  public const APPLICANT = 'applicant';

  public function __construct(private readonly PartnerContext $partners) {}

  /**
   * Allowed for an account that belongs to (or applies to) an organisation.
   */
  public function access(Route $route, AccountInterface $account): AccessResultInterface {
    if ($route->getRequirement('_trading_grid_partner') === self::APPLICANT) {
      $result = $this->partners->declaredOrganisation($account) !== ''
        ? AccessResult::allowed()
        : AccessResult::forbidden('The partner pages are for accounts that belong to a partner organisation.');
    }
    else {
      $result = $this->partners->organisation($account) !== ''
        ? AccessResult::allowed()
        : AccessResult::forbidden('These pages are for active members of a partner organisation.');
    }
    return $result->cachePerUser()->addCacheTags(PartnerContext::cacheTags($account));
  }

}
