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
 * so a hidden link is never the only protection.
 */
final class NodeAccess {

  public const ISSUE = 'trading_grid_issue';

  public const DOCUMENT = 'trading_grid_document';

  public function __construct(private readonly PartnerContext $partners) {}

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
    return $allowed
      ? AccessResult::neutral()->cachePerUser()->addCacheableDependency($node)
      : AccessResult::forbidden('This belongs to another organisation.')->cachePerUser()->addCacheableDependency($node);
  }

  /**
   * Whether an account may read a trading issue.
   */
  public function mayViewIssue(NodeInterface $issue, AccountInterface $account): bool {
    if ($this->partners->seesEverything($account)) {
      return TRUE;
    }
    if (!$account->hasPermission('view own organisation trading issues')) {
      return FALSE;
    }
    $mine = $this->partners->organisation($account);
    $theirs = $issue->hasField('field_tg_organisation') ? trim((string) $issue->get('field_tg_organisation')->value) : '';
    return $mine !== '' && $theirs !== '' && hash_equals($theirs, $mine);
  }

  /**
   * Whether an account may read a controlled document: it is published, and
   * addressed to the account's organisation, partner type or communities.
   */
  public function mayViewDocument(NodeInterface $document, AccountInterface $account): bool {
    if ($this->partners->seesEverything($account)) {
      return TRUE;
    }
    if (!$document->isPublished()) {
      return FALSE;
    }
    $organisation = $this->partners->organisation($account);
    $only = $document->hasField('field_tg_organisation') ? trim((string) $document->get('field_tg_organisation')->value) : '';
    if ($only !== '' && $only !== $organisation) {
      return FALSE;
    }
    $types = $document->hasField('field_tg_partner_types') ? array_column($document->get('field_tg_partner_types')->getValue(), 'value') : [];
    $communities = $document->hasField('field_tg_communities') ? array_column($document->get('field_tg_communities')->getValue(), 'value') : [];
    if ($types === [] && $communities === []) {
      // Addressed to nobody in particular: every partner organisation.
      return $organisation !== '' || $only === '';
    }
    return in_array($this->partners->partnerType($account), $types, TRUE)
      || array_intersect($communities, $this->partners->communities($account)) !== [];
  }

}
