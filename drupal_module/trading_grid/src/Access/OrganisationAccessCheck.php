<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Access\AccessResult;
use Drupal\Core\Access\AccessResultInterface;
use Drupal\Core\Routing\Access\AccessInterface;
use Drupal\Core\Session\AccountInterface;
use Drupal\node\NodeInterface;

/**
 * Route requirement _trading_grid_organisation: the {node} is a trading issue
 * of the organisation the account is an active member of (or it is staff).
 */
final class OrganisationAccessCheck implements AccessInterface {

  public function __construct(private readonly NodeAccess $nodeAccess) {}

  /**
   * Allowed for the issue's own organisation (and staff); forbidden otherwise.
   */
  public function access(NodeInterface $node, AccountInterface $account): AccessResultInterface {
    if ($node->bundle() !== NodeAccess::ISSUE) {
      return AccessResult::forbidden('Not a trading issue.')->addCacheableDependency($node);
    }
    $result = $this->nodeAccess->mayViewIssue($node, $account)
      ? AccessResult::allowed()
      : AccessResult::forbidden('This trading issue belongs to another organisation.');
    return $result->cachePerUser()->addCacheableDependency($node)->addCacheTags(PartnerContext::cacheTags($account));
  }

}
