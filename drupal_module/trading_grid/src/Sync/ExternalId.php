<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Entity\EntityInterface;

/**
 * The portal's ids on Trading Grid: "drupal-user-42", "drupal-node-9".
 */
final class ExternalId {

  /**
   * The external id of an entity.
   */
  public static function of(EntityInterface $entity): string {
    return self::for($entity->getEntityTypeId(), (string) $entity->id());
  }

  /**
   * The external id of an entity type and id.
   */
  public static function for(string $entityType, string $id): string {
    return 'drupal-' . $entityType . '-' . $id;
  }

  /**
   * The entity type and id behind an external id, or NULL when it is not ours.
   *
   * @return array{0: string, 1: string}|null
   *   [entity type, entity id].
   */
  public static function parse(?string $externalId): ?array {
    if ($externalId !== NULL && preg_match('/^drupal-([a-z_]+)-(\d+)$/', $externalId, $m)) {
      return [$m[1], $m[2]];
    }
    return NULL;
  }

  /**
   * A placeholder for a remote id that is known only once an earlier op is sent.
   *
   * Rows of one ordering key are sent one after the other, so by the time a row with
   * this placeholder is sent, the op that creates the resource has been answered and
   * its id recorded in the link table.
   */
  public static function pendingRemote(string $flow, string $entityType, string $entityId): string {
    return 'ref:' . $flow . ':' . $entityType . ':' . $entityId;
  }

  /**
   * The [flow, entity type, entity id] of a placeholder, or NULL.
   *
   * @return array{0: string, 1: string, 2: string}|null
   *   The parts.
   */
  public static function parsePendingRemote(mixed $value): ?array {
    if (is_string($value) && preg_match('/^ref:([a-z_]+):([a-z_]+):([0-9A-Za-z_-]+)$/', $value, $m)) {
      return [$m[1], $m[2], $m[3]];
    }
    return NULL;
  }

}
