<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\Core\Entity\Query\QueryException;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\user\UserInterface;

/**
 * Finds the Drupal entity an event speaks of: by our external id, else by the
 * remote id in the link table, else by a field holding the remote id.
 */
final class EntityLookup {

  public function __construct(
    private readonly EntityTypeManagerInterface $entityTypeManager,
    private readonly LinkStore $links,
  ) {}

  /**
   * The partner (user) of an event.
   */
  public function user(?string $externalId, ?string $partnerId = NULL): ?UserInterface {
    $parsed = ExternalId::parse($externalId);
    if ($parsed !== NULL && $parsed[0] === 'user') {
      $user = $this->entityTypeManager->getStorage('user')->load($parsed[1]);
      if ($user instanceof UserInterface) {
        return $user;
      }
    }
    if ($partnerId !== NULL && $partnerId !== '') {
      $link = $this->links->findByRemote('partner', $partnerId);
      if ($link !== NULL && $link['entityType'] === 'user') {
        $user = $this->entityTypeManager->getStorage('user')->load($link['entityId']);
        if ($user instanceof UserInterface) {
          return $user;
        }
      }
      try {
        $ids = $this->entityTypeManager->getStorage('user')->getQuery()
          ->accessCheck(FALSE)
          ->condition('field_tg_trading_grid_id', $partnerId)
          ->range(0, 1)
          ->execute();
      }
      catch (QueryException) {
        $ids = [];
      }
      if ($ids) {
        $user = $this->entityTypeManager->getStorage('user')->load(reset($ids));
        return $user instanceof UserInterface ? $user : NULL;
      }
    }
    return NULL;
  }

  /**
   * The node of an event in a flow.
   *
   * @param string $flow
   *   The flow (issue, document, catalog).
   * @param string|null $externalId
   *   Our external id, when the event carries it.
   * @param string|null $remoteId
   *   The Trading Grid id.
   * @param string|null $field
   *   A node field holding the remote id, searched last.
   */
  public function node(string $flow, ?string $externalId, ?string $remoteId, ?string $field = NULL): ?NodeInterface {
    $storage = $this->entityTypeManager->getStorage('node');
    foreach ([$externalId, $remoteId] as $candidate) {
      $parsed = ExternalId::parse($candidate);
      if ($parsed !== NULL && $parsed[0] === 'node') {
        $node = $storage->load($parsed[1]);
        if ($node instanceof NodeInterface) {
          return $node;
        }
      }
    }
    if ($remoteId !== NULL && $remoteId !== '') {
      $link = $this->links->findByRemote($flow, $remoteId);
      if ($link !== NULL && $link['entityType'] === 'node') {
        $node = $storage->load($link['entityId']);
        if ($node instanceof NodeInterface) {
          return $node;
        }
      }
      if ($field !== NULL) {
        try {
          $ids = $storage->getQuery()->accessCheck(FALSE)->condition($field, $remoteId)->range(0, 1)->execute();
        }
        catch (QueryException) {
          $ids = [];
        }
        if ($ids) {
          $node = $storage->load(reset($ids));
          return $node instanceof NodeInterface ? $node : NULL;
        }
      }
    }
    return NULL;
  }

}
