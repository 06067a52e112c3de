<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Document;

use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\EntityLookup;

/**
 * Flow 3, network ⇒ portal: the document's state on the network, in its link.
 */
final class DocumentHandler implements EventHandlerInterface {

  public function __construct(
    private readonly EntityLookup $lookup,
    private readonly LinkStore $links,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return ['document.published', 'document.superseded', 'document.retracted'];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $data = (array) ($event['data'] ?? []);
    $documentId = is_scalar($data['documentId'] ?? NULL) ? (string) $data['documentId'] : NULL;
    if ($documentId === NULL) {
      return;
    }
    $node = $this->lookup->node('document', $documentId, $documentId, 'field_tg_document_id');
    if ($node === NULL) {
      return;
    }
    $id = (string) $node->id();
    $current = $this->links->get('node', $id, 'document');
    switch ($event['type']) {
      case 'document.published':
        $this->links->record('node', $id, 'document', LinkStore::SYNCED, $documentId, NULL, 'document.publish');
        break;

      case 'document.retracted':
        $this->links->record('node', $id, 'document', LinkStore::WITHDRAWN, $documentId, NULL, 'document.retract');
        break;

      case 'document.superseded':
        // The newer version is the live one; the link already says so once it is
        // published. Only a document never linked gets its remote id here.
        if ($current === NULL) {
          $this->links->record('node', $id, 'document', LinkStore::SYNCED, $documentId, NULL, 'document.publish');
        }
        break;
    }
  }

}
