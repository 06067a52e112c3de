<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Document;

use Drupal\Core\Entity\ContentEntityInterface;
use Drupal\Core\Language\LanguageInterface;
use Drupal\file\FileInterface;
use Drupal\trading_grid\Flow\FlowMapperBase;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\InvalidPayloadException;
use Drupal\trading_grid\Sync\Mapping;
use Drupal\trading_grid\Sync\OutboundOp;

/**
 * Flow 3, portal ⇒ network: controlled documents.
 *
 * Only a published and approved version leaves the portal (with content moderation,
 * only in the "published" state). Changed content of a published document becomes a
 * new version, which supersedes the previous one on the network; unpublishing,
 * archiving or deleting retracts the document.
 */
final class DocumentMapper extends FlowMapperBase {

  public const VERSION_FIELD = 'field_tg_version';

  /**
   * {@inheritdoc}
   */
  public function operation(): string {
    return 'document.publish';
  }

  /**
   * {@inheritdoc}
   */
  public function prepare(ContentEntityInterface $entity, Mapping $mapping): void {
    foreach ($entity->getTranslationLanguages() as $language) {
      $translation = $entity->getTranslation($language->getId());
      if ($translation->hasField('field_tg_file') && $translation->hasField('field_tg_file_hash')) {
        $file = $translation->get('field_tg_file')->entity;
        $hash = $file instanceof FileInterface ? @hash_file('sha256', $file->getFileUri()) : FALSE;
        $translation->set('field_tg_file_hash', $hash ?: NULL);
      }
    }
    $original = $entity->isNew() ? NULL : self::original($entity);
    if ($original === NULL || !$entity->hasField(self::VERSION_FIELD) || !$this->publishable($entity, $mapping)) {
      return;
    }
    $version = (int) self::value($entity, self::VERSION_FIELD);
    $before = (int) self::value($original, self::VERSION_FIELD);
    if ($version > $before) {
      return;
    }
    $link = $this->links->get($entity->getEntityTypeId(), (string) $entity->id(), 'document');
    $retracted = $link !== NULL && $link['status'] === LinkStore::WITHDRAWN;
    $changed = $this->publishable($original, $mapping) && $this->fingerprint($entity, $mapping) !== $this->fingerprint($original, $mapping);
    if ($retracted || $changed) {
      // A published version is immutable on the network: new content is a new version.
      $entity->set(self::VERSION_FIELD, max($version, $before) + 1);
    }
  }

  /**
   * {@inheritdoc}
   */
  public function ops(ContentEntityInterface $entity, string $event, Mapping $mapping): array {
    $entity = $entity->getUntranslated();
    $type = $entity->getEntityTypeId();
    $id = (string) $entity->id();
    $documentId = $this->documentId($entity);
    $key = 'document:' . $documentId;
    $retract = fn (string $reason): array => [new OutboundOp('document.retract', ['documentId' => $documentId, 'reason' => $reason], $key, 'document', $type, $id)];

    if ($event === 'delete') {
      return $this->live($entity, 'document') ? $retract('Deleted on the portal') : [];
    }
    $original = self::original($entity);
    if (!$this->publishable($entity, $mapping)) {
      $wasOut = ($original !== NULL && $this->publishable($original, $mapping)) || $this->live($entity, 'document');
      return $wasOut && $this->linked($entity) ? $retract('Withdrawn on the portal') : [];
    }
    if ($event === 'update' && $original !== NULL && $this->publishable($original, $mapping) && $this->linked($entity)
      && (int) self::value($entity, self::VERSION_FIELD) === (int) self::value($original, self::VERSION_FIELD)
      && $this->fingerprint($entity, $mapping) === $this->fingerprint($original, $mapping)) {
      // Saved again without any change the network would see.
      return [];
    }
    $payload = $this->payload($entity, $mapping, $this->documentValues($entity));
    return [new OutboundOp('document.publish', $payload, $key, 'document', $type, $id)];
  }

  /**
   * Whether a document may leave the portal: published, and approved.
   */
  public function publishable(ContentEntityInterface $entity, Mapping $mapping): bool {
    if (!self::published($entity)) {
      return FALSE;
    }
    if ($entity->hasField('field_tg_approved')) {
      return (bool) self::value($entity, 'field_tg_approved');
    }
    return TRUE;
  }

  /**
   * The document's id on Trading Grid.
   */
  public function documentId(ContentEntityInterface $entity): string {
    $id = trim((string) self::value($entity, 'field_tg_document_id'));
    return $id !== '' ? $id : ExternalId::of($entity);
  }

  /**
   * Whether the document was ever queued or sent.
   */
  private function linked(ContentEntityInterface $entity): bool {
    return $this->links->get($entity->getEntityTypeId(), (string) $entity->id(), 'document') !== NULL;
  }

  /**
   * What the network sees of a document, without its version.
   */
  private function fingerprint(ContentEntityInterface $entity, Mapping $mapping): string {
    try {
      $payload = $this->payload($entity->getUntranslated(), $mapping, $this->documentValues($entity->getUntranslated()));
    }
    catch (InvalidPayloadException $e) {
      return 'invalid:' . $e->getMessage();
    }
    unset($payload['version'], $payload['revision'], $payload['approved']);
    return hash('sha256', (string) json_encode($payload));
  }

  /**
   * The computed values a document mapping uses.
   *
   * @return array<string, mixed>
   *   tg_document_id, tg_language, tg_translations, tg_sha256, tg_size.
   */
  public function documentValues(ContentEntityInterface $entity): array {
    $language = $entity->language()->getId();
    if (in_array($language, [LanguageInterface::LANGCODE_NOT_SPECIFIED, LanguageInterface::LANGCODE_NOT_APPLICABLE], TRUE)) {
      $language = 'en';
    }
    $translations = [];
    foreach ($entity->getTranslationLanguages(FALSE) as $code => $lang) {
      $translation = $entity->getTranslation($code);
      if (!self::published($translation)) {
        continue;
      }
      $entry = ['language' => $code, 'title' => mb_substr((string) $translation->label(), 0, 200)];
      $hash = (string) self::value($translation, 'field_tg_file_hash');
      if (preg_match('/^[0-9a-f]{64}$/', $hash)) {
        $entry['sha256'] = $hash;
      }
      $translations[] = $entry;
    }
    $hash = (string) self::value($entity, 'field_tg_file_hash');
    $size = NULL;
    $file = $entity->hasField('field_tg_file') ? $entity->get('field_tg_file')->entity : NULL;
    if ($file instanceof FileInterface) {
      $size = (int) $file->getSize();
    }
    if (!preg_match('/^[0-9a-f]{64}$/', $hash)) {
      // No file: the text itself is the controlled content.
      $hash = hash('sha256', $entity->label() . "\n" . (string) self::value($entity, 'field_tg_description'));
    }
    return [
      'tg_document_id' => $this->documentId($entity),
      'tg_language' => $language,
      'tg_translations' => $translations,
      'tg_sha256' => $hash,
      'tg_size' => $size,
    ];
  }

}
