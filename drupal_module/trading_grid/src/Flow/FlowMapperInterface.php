<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow;

use Drupal\Core\Entity\ContentEntityInterface;
use Drupal\trading_grid\Sync\Mapping;

/**
 * Drupal ⇒ Trading Grid for one flow: which ops an entity change makes.
 */
interface FlowMapperInterface {

  /**
   * The mapping operation this flow serves (partner.upsert, document.publish, ...).
   */
  public function operation(): string;

  /**
   * Adjusts an entity before it is saved (computed hashes, version bumps).
   */
  public function prepare(ContentEntityInterface $entity, Mapping $mapping): void;

  /**
   * The ops for an entity change.
   *
   * @param \Drupal\Core\Entity\ContentEntityInterface $entity
   *   The entity (its default translation).
   * @param string $event
   *   insert, update, delete or translation.
   * @param \Drupal\trading_grid\Sync\Mapping $mapping
   *   The bundle's mapping for this flow.
   *
   * @return list<\Drupal\trading_grid\Sync\OutboundOp>
   *   The ops, in the order they must be sent.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  public function ops(ContentEntityInterface $entity, string $event, Mapping $mapping): array;

}
