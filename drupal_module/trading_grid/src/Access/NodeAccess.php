<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Access\AccessResult;
use Drupal\Core\Access\AccessResultInterface;
use Drupal\Core\Session\AccountInterface;
use Drupal\node\NodeInterface;

/**
 * A partner reaches only its own organisation's trading issues, and only the
 * documents addressed to it. Used by hook_node_access() and the partner routes,
 * so a hidden link is never the only protection; the node access grants
 * (NodeGrants) apply the same audience to listings.
 */
final class NodeAccess {

  public const ISSUE = 'trading_grid_issue';

  public const DOCUMENT = 'trading_grid_document';

  public function __construct(
    private readonly PartnerContext $partners,
    private readonly Audience $audience,
  ) {}

  /**
   * hook_node_access(): forbids other organisations' issues and documents.
   */
  public function access(NodeInterface $node, string $operation, AccountInterface $account): AccessResultInterface {
    $bundle = $node->bundle();
    if (!in_array($bundle, [self::ISSUE, self::DOCUMENT], TRUE)) {
      return AccessResult::neutral();
    }
    if ($this->partners->seesEverything($account)) {
      return AccessResult::neutral()->cachePerPermissions();
    }
    if ($operation !== 'view') {
      // Partners change issues through the partner pages, never the node forms.
      return $bundle === self::ISSUE
        ? AccessResult::forbidden('Trading issues change through the partner pages.')->cachePerPermissions()
        : AccessResult::neutral()->cachePerPermissions();
    }
    $allowed = $bundle === self::ISSUE ? $this->mayViewIssue($node, $account) : $this->mayViewDocument($node, $account);
    $result = $allowed ? AccessResult::neutral() : AccessResult::forbidden('This belongs to another organisation.');
    return $result->cachePerUser()->addCacheableDependency($node)->addCacheTags(PartnerContext::cacheTags($account));
  }

  /**
   * Whether an account may read a trading issue: staff, or an active member of
   * the issue's organisation who may view its trading issues.
   */
  public function mayViewIssue(NodeInterface $issue, AccountInterface $account): bool {
    if ($this->partners->seesEverything($account)) {
      return TRUE;
    }
    return Audience::shareAKey($this->audience->ofNode($issue) ?? [], $this->audience->ofAccount($account));
  }

  /**
   * Whether an account may read a controlled document: staff; anybody when it
   * is published and addressed to nobody in particular; otherwise an active
   * member of its organisation, partner type or communities (see Audience).
   */
  public function mayViewDocument(NodeInterface $document, AccountInterface $account): bool {
    if ($this->partners->seesEverything($account)) {
      return TRUE;
    }
    if (!$document->isPublished()) {
      return FALSE;
    }
    $keys = $this->audience->ofNode($document);
    return $keys === NULL || Audience::shareAKey($keys, $this->audience->ofAccount($account));
  }

}
