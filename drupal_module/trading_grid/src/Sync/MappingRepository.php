<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Config\ConfigFactoryInterface;

/**
 * The bundle ⇒ operation mappings in trading_grid.mappings.
 */
final class MappingRepository {

  public function __construct(private readonly ConfigFactoryInterface $configFactory) {}

  /**
   * Every mapping, enabled or not.
   *
   * @return list<\Drupal\trading_grid\Sync\Mapping>
   *   The mappings.
   */
  public function all(): array {
    $mappings = [];
    foreach ((array) $this->configFactory->get('trading_grid.mappings')->get('mappings') as $data) {
      if (is_array($data)) {
        $mappings[] = Mapping::fromConfig($data);
      }
    }
    return $mappings;
  }

  /**
   * The enabled mappings of one bundle.
   *
   * @return list<\Drupal\trading_grid\Sync\Mapping>
   *   The mappings.
   */
  public function forBundle(string $entityType, string $bundle): array {
    return array_values(array_filter(
      $this->all(),
      static fn (Mapping $m): bool => $m->status && $m->entityType === $entityType && $m->bundle === $bundle,
    ));
  }

  /**
   * The enabled mapping of a bundle for one operation, if any.
   */
  public function find(string $entityType, string $bundle, string $operation): ?Mapping {
    foreach ($this->forBundle($entityType, $bundle) as $mapping) {
      if ($mapping->operation === $operation) {
        return $mapping;
      }
    }
    return NULL;
  }

  /**
   * Replaces every mapping.
   *
   * @param list<\Drupal\trading_grid\Sync\Mapping> $mappings
   *   The mappings.
   */
  public function save(array $mappings): void {
    $this->configFactory->getEditable('trading_grid.mappings')
      ->set('mappings', array_map(static fn (Mapping $m): array => $m->toConfig(), array_values($mappings)))
      ->save();
  }

}
