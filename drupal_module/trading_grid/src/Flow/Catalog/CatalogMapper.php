<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Catalog;

use Drupal\Core\Entity\ContentEntityInterface;
use Drupal\trading_grid\Flow\FlowMapperBase;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\Mapping;
use Drupal\trading_grid\Sync\OutboundOp;

/**
 * Flow 5, portal ⇒ network: catalog items and product notices, upserted while
 * published (revision-guarded), withdrawn when unpublished or deleted.
 */
final class CatalogMapper extends FlowMapperBase {

  /**
   * {@inheritdoc}
   */
  public function operation(): string {
    return 'catalog.upsert';
  }

  /**
   * {@inheritdoc}
   */
  public function ops(ContentEntityInterface $entity, string $event, Mapping $mapping): array {
    $entity = $entity->getUntranslated();
    $type = $entity->getEntityTypeId();
    $id = (string) $entity->id();
    if ($event !== 'delete' && self::published($entity)) {
      $payload = $this->payload($entity, $mapping);
      $itemId = (string) ($payload['itemId'] ?? ExternalId::of($entity));
      return [new OutboundOp('catalog.upsert', $payload, 'catalog:' . $itemId, 'catalog', $type, $id)];
    }
    if (!$this->live($entity, 'catalog')) {
      return [];
    }
    $link = $this->links->get($type, $id, 'catalog');
    $itemId = (string) ($link['remoteId'] ?? '') ?: ExternalId::of($entity);
    return [new OutboundOp('catalog.withdraw', ['itemId' => $itemId], 'catalog:' . $itemId, 'catalog', $type, $id)];
  }

}
