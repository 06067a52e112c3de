<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Entity\ContentEntityInterface;

/**
 * An entity's field values as plain data for a mapping: one value per single-valued
 * field, a list for multi-valued ones, the main property of each item.
 */
final class EntityValues {

  /**
   * Field types whose values never leave the site.
   */
  private const NEVER = ['password'];

  /**
   * The values of an entity, plus the computed ones the flow adds (tg_*).
   *
   * @param array<string, mixed> $computed
   *   Values the flow computed (external id, revision, hashes, ...).
   *
   * @return array<string, mixed>
   *   Field name => value or list of values.
   */
  public static function of(ContentEntityInterface $entity, array $computed = []): array {
    $values = [];
    foreach ($entity->getFields(FALSE) as $name => $items) {
      $definition = $items->getFieldDefinition();
      if (in_array($definition->getType(), self::NEVER, TRUE)) {
        continue;
      }
      $storage = $definition->getFieldStorageDefinition();
      $property = $storage->getMainPropertyName();
      if ($property === NULL) {
        continue;
      }
      $list = [];
      foreach ($items as $item) {
        $value = $item->get($property)->getValue();
        if ($value !== NULL && $value !== '') {
          $list[] = is_scalar($value) ? $value : (string) json_encode($value);
        }
      }
      if ($storage->getCardinality() === 1) {
        $values[$name] = $list[0] ?? NULL;
      }
      else {
        $values[$name] = $list;
      }
    }
    return $computed + $values;
  }

}
