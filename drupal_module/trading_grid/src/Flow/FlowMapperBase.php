<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow;

use Drupal\Core\Entity\ContentEntityInterface;
use Drupal\Core\Entity\EntityChangedInterface;
use Drupal\Core\Entity\EntityInterface;
use Drupal\Core\Entity\EntityPublishedInterface;
use Drupal\user\EntityOwnerInterface;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\EntityValues;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\Mapping;
use Drupal\trading_grid\Sync\PayloadBuilder;

/**
 * What the flow mappers share: computed values and the mapped payload.
 */
abstract class FlowMapperBase implements FlowMapperInterface {

  public function __construct(
    protected readonly PayloadBuilder $payloads,
    protected readonly LinkStore $links,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function prepare(ContentEntityInterface $entity, Mapping $mapping): void {}

  /**
   * The entity as it was before this save, if it is being updated.
   */
  public static function original(EntityInterface $entity): ?ContentEntityInterface {
    // getOriginal() exists from Drupal 11.2; the property before.
    $original = method_exists($entity, 'getOriginal') ? $entity->getOriginal() : ($entity->original ?? NULL);
    return $original instanceof ContentEntityInterface ? $original : NULL;
  }

  /**
   * Values every mapping may use besides the entity's fields.
   *
   * @return array<string, mixed>
   *   tg_external_id, tg_revision, tg_owner_external_id, tg_label.
   */
  protected function computed(ContentEntityInterface $entity): array {
    $owner = $entity instanceof EntityOwnerInterface ? $entity->getOwnerId() : NULL;
    return [
      'tg_external_id' => ExternalId::of($entity),
      'tg_revision' => $entity instanceof EntityChangedInterface ? (int) $entity->getChangedTime() : (int) ($entity->getRevisionId() ?? 0),
      'tg_owner_external_id' => $owner ? ExternalId::for('user', (string) $owner) : NULL,
      'tg_label' => (string) $entity->label(),
    ];
  }

  /**
   * The mapped payload of an entity.
   *
   * @param array<string, mixed> $extra
   *   More computed values.
   *
   * @return array<string, mixed>
   *   The payload.
   */
  protected function payload(ContentEntityInterface $entity, Mapping $mapping, array $extra = []): array {
    return $this->payloads->build($mapping, EntityValues::of($entity, $extra + $this->computed($entity)));
  }

  /**
   * Whether an entity is published: status on, and the moderation state (if the
   * entity is moderated) is "published".
   */
  protected static function published(ContentEntityInterface $entity): bool {
    if ($entity instanceof EntityPublishedInterface && !$entity->isPublished()) {
      return FALSE;
    }
    if ($entity->hasField('moderation_state') && !$entity->get('moderation_state')->isEmpty()) {
      return $entity->get('moderation_state')->value === 'published';
    }
    return TRUE;
  }

  /**
   * Whether the link of an entity says the remote resource exists.
   */
  protected function live(ContentEntityInterface $entity, string $flow): bool {
    $link = $this->links->get($entity->getEntityTypeId(), (string) $entity->id(), $flow);
    return $link !== NULL && $link['status'] !== LinkStore::WITHDRAWN;
  }

  /**
   * The single value of a field, or NULL when the bundle lacks it or it is empty.
   */
  protected static function value(ContentEntityInterface $entity, string $field): mixed {
    if (!$entity->hasField($field) || $entity->get($field)->isEmpty()) {
      return NULL;
    }
    $item = $entity->get($field)->first();
    $property = $item->mainPropertyName();
    return $property === NULL ? NULL : $item->get($property)->getValue();
  }

}
