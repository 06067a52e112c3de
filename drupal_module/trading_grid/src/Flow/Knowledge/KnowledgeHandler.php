<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Knowledge;

use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Connection\NetworkInterface;
use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Sync\Suppression;

/**
 * Flow 6, network ⇒ portal: knowledge articles and announcements raised on the
 * network become published knowledge nodes, tagged by topic, region and partner
 * type. One node per article id: a repeated event updates it.
 */
final class KnowledgeHandler implements EventHandlerInterface {

  public const BUNDLE = 'trading_grid_knowledge';

  public function __construct(
    private readonly EntityTypeManagerInterface $entityTypeManager,
    private readonly NetworkInterface $network,
    private readonly Suppression $suppression,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return ['knowledge.published', 'announcement.published'];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $data = (array) ($event['data'] ?? []);
    $articleId = is_scalar($data['articleId'] ?? NULL) ? (string) $data['articleId'] : '';
    if ($articleId === '') {
      return;
    }
    // The event carries the headline; the article itself has the body.
    try {
      $article = $this->network->knowledge($articleId) ?? [];
    }
    catch (\Throwable) {
      $article = [];
    }
    $article += $data;
    $kind = ($article['kind'] ?? '') === 'announcement' || $event['type'] === 'announcement.published' ? 'announcement' : 'resolution';

    $storage = $this->entityTypeManager->getStorage('node');
    $ids = $storage->getQuery()->accessCheck(FALSE)
      ->condition('type', self::BUNDLE)
      ->condition('field_tg_remote_id', $articleId)
      ->range(0, 1)
      ->execute();
    $node = $ids ? $storage->load(reset($ids)) : NULL;
    if (!$node instanceof NodeInterface) {
      $node = $storage->create(['type' => self::BUNDLE, 'uid' => 0, 'field_tg_remote_id' => $articleId]);
    }
    $node->setTitle(mb_substr(trim((string) ($article['title'] ?? '')) ?: 'Knowledge article ' . $articleId, 0, 255));
    $node->set('field_tg_knowledge_kind', $kind);
    $node->set('field_tg_description', (string) ($article['body'] ?? ''));
    $node->set('field_tg_topic', $this->terms('trading_grid_topic', [$article['topic'] ?? NULL]));
    $node->set('field_tg_region', $this->terms('trading_grid_region', [$article['region'] ?? NULL]));
    $node->set('field_tg_partner_type_terms', $this->terms('trading_grid_partner_type', (array) ($article['partnerTypes'] ?? [])));
    $node->setPublished();
    $this->suppression->run(static fn () => $node->save());
  }

  /**
   * The ids of the terms with these names in a vocabulary, created when missing.
   *
   * @param array<mixed> $names
   *   Term names.
   *
   * @return list<array{target_id: int|string}>
   *   Field items.
   */
  private function terms(string $vocabulary, array $names): array {
    $storage = $this->entityTypeManager->getStorage('taxonomy_term');
    $items = [];
    foreach ($names as $name) {
      if (!is_scalar($name) || trim((string) $name) === '') {
        continue;
      }
      $name = mb_substr(trim((string) $name), 0, 255);
      $existing = $storage->loadByProperties(['vid' => $vocabulary, 'name' => $name]);
      $term = $existing ? reset($existing) : NULL;
      if ($term === NULL) {
        $term = $storage->create(['vid' => $vocabulary, 'name' => $name]);
        $term->save();
      }
      $items[] = ['target_id' => $term->id()];
    }
    return $items;
  }

}
