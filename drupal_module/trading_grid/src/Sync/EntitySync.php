<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Entity\ContentEntityInterface;
use Drupal\Core\Entity\EntityInterface;
use Drupal\trading_grid\Flow\FlowMapperInterface;
use Drupal\trading_grid\Flow\Onboarding\OnboardingJourney;
use Drupal\user\UserInterface;
use Psr\Log\LoggerInterface;

/**
 * Entity hooks ⇒ outbox rows.
 *
 * Runs inside the entity save's transaction: the rows it writes commit with the
 * entity or not at all. Nothing is sent from here.
 */
final class EntitySync {

  /**
   * The flow mappers by the operation they serve.
   *
   * @var array<string, \Drupal\trading_grid\Flow\FlowMapperInterface>
   */
  private array $mappers = [];

  /**
   * @param iterable<\Drupal\trading_grid\Flow\FlowMapperInterface> $mappers
   *   The flow mappers.
   */
  public function __construct(
    private readonly MappingRepository $mappings,
    private readonly OutboxWriter $writer,
    private readonly Suppression $suppression,
    private readonly OnboardingJourney $onboarding,
    private readonly LoggerInterface $logger,
    iterable $mappers,
  ) {
    foreach ($mappers as $mapper) {
      if ($mapper instanceof FlowMapperInterface) {
        $this->mappers[$mapper->operation()] = $mapper;
      }
    }
  }

  /**
   * hook_entity_presave(): computed values (hashes, versions, onboarding).
   */
  public function presave(EntityInterface $entity): void {
    if ($this->suppression->active() || !$entity instanceof ContentEntityInterface) {
      return;
    }
    foreach ($this->mappings->forBundle($entity->getEntityTypeId(), $entity->bundle()) as $mapping) {
      $mapper = $this->mappers[$mapping->operation] ?? NULL;
      if ($mapper !== NULL) {
        $mapper->prepare($entity, $mapping);
      }
    }
    if ($entity instanceof UserInterface && !$entity->isAnonymous()) {
      $this->onboarding->beforeSave($entity);
    }
  }

  /**
   * hook_entity_insert().
   */
  public function inserted(EntityInterface $entity): void {
    $this->sync($entity, 'insert');
  }

  /**
   * hook_entity_update().
   */
  public function updated(EntityInterface $entity): void {
    $this->sync($entity, 'update');
  }

  /**
   * hook_entity_delete().
   */
  public function deleted(EntityInterface $entity): void {
    $this->sync($entity, 'delete');
  }

  /**
   * hook_entity_translation_insert() / _delete(): the document's languages changed.
   */
  public function translationChanged(EntityInterface $translation): void {
    if ($translation instanceof ContentEntityInterface) {
      $this->sync($translation->getUntranslated(), 'translation');
    }
  }

  /**
   * Writes the ops of an entity change; returns how many.
   */
  public function sync(EntityInterface $entity, string $event): int {
    if ($this->suppression->active() || !$entity instanceof ContentEntityInterface) {
      return 0;
    }
    $written = 0;
    foreach ($this->mappings->forBundle($entity->getEntityTypeId(), $entity->bundle()) as $mapping) {
      $mapper = $this->mappers[$mapping->operation] ?? NULL;
      if ($mapper === NULL) {
        continue;
      }
      try {
        foreach ($mapper->ops($entity, $event, $mapping) as $op) {
          $this->writer->write($op);
          $written++;
        }
      }
      catch (InvalidPayloadException $e) {
        // The entity saves; the sync log and its Trading Grid tab say what to fix.
        $this->writer->invalid($entity->getEntityTypeId(), (string) $entity->id(), $mapping->flow(), $mapping->operation, $e->getMessage());
        $this->logger->warning('@type @id was not sent to Trading Grid (@op): @message', [
          '@type' => $entity->getEntityTypeId(),
          '@id' => $entity->id(),
          '@op' => $mapping->operation,
          '@message' => $e->getMessage(),
        ]);
      }
    }
    if ($entity instanceof UserInterface && $event !== 'delete') {
      $this->onboarding->afterSave($entity);
    }
    return $written;
  }

}
