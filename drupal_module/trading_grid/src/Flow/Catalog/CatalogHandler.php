<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Catalog;

use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\EntityLookup;

/**
 * Flow 5, network ⇒ portal: whether the item is live on the network.
 */
final class CatalogHandler implements EventHandlerInterface {

  public function __construct(
    private readonly EntityLookup $lookup,
    private readonly LinkStore $links,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return ['catalog.published', 'catalog.withdrawn'];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $itemId = $event['data']['itemId'] ?? NULL;
    if (!is_scalar($itemId) || (string) $itemId === '') {
      return;
    }
    $node = $this->lookup->node('catalog', (string) $itemId, (string) $itemId);
    if ($node === NULL) {
      return;
    }
    $withdrawn = $event['type'] === 'catalog.withdrawn';
    $this->links->record('node', (string) $node->id(), 'catalog', $withdrawn ? LinkStore::WITHDRAWN : LinkStore::SYNCED,
      (string) $itemId, NULL, $withdrawn ? 'catalog.withdraw' : 'catalog.upsert');
  }

}
