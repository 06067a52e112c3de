<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\TradingIssue;

use Drupal\Core\Entity\ContentEntityInterface;
use Drupal\file\FileInterface;
use Drupal\trading_grid\Flow\FlowMapperBase;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\Mapping;
use Drupal\trading_grid\Sync\OutboundOp;

/**
 * Flow 2, portal ⇒ network: a trading issue raised on the portal, and its status
 * when a portal user moves it. Comments go through IssueTimeline.
 */
final class TradingIssueMapper extends FlowMapperBase {

  public const STATUS_FIELD = 'field_tg_issue_status';

  /**
   * {@inheritdoc}
   */
  public function operation(): string {
    return 'issue.create';
  }

  /**
   * {@inheritdoc}
   */
  public function ops(ContentEntityInterface $entity, string $event, Mapping $mapping): array {
    $type = $entity->getEntityTypeId();
    $id = (string) $entity->id();
    $key = 'issue:' . ExternalId::of($entity);
    if ($event === 'insert') {
      $payload = $this->payload($entity, $mapping, ['tg_attachments' => self::attachments($entity)]);
      return [new OutboundOp('issue.create', $payload, $key, 'issue', $type, $id)];
    }
    if ($event !== 'update' || !$entity->hasField(self::STATUS_FIELD)) {
      return [];
    }
    $original = self::original($entity);
    $status = (string) self::value($entity, self::STATUS_FIELD);
    if ($original === NULL || $status === '' || $status === (string) self::value($original, self::STATUS_FIELD)) {
      return [];
    }
    $payload = ['issueId' => $this->remoteId($entity), 'status' => $status];
    $resolution = trim((string) self::value($entity, 'field_tg_resolution'));
    if ($resolution !== '') {
      $payload['resolution'] = $resolution;
    }
    $this->payloads->validate('issue.status', $payload);
    return [new OutboundOp('issue.status', $payload, $key, 'issue', $type, $id)];
  }

  /**
   * The issue's Trading Grid id, or a placeholder resolved when it is sent.
   */
  public function remoteId(ContentEntityInterface $entity): string {
    $remote = $this->links->get($entity->getEntityTypeId(), (string) $entity->id(), 'issue')['remoteId'] ?? NULL;
    if (is_string($remote) && $remote !== '') {
      return $remote;
    }
    $field = (string) self::value($entity, 'field_tg_remote_id');
    return $field !== '' ? $field : ExternalId::pendingRemote('issue', $entity->getEntityTypeId(), (string) $entity->id());
  }

  /**
   * The attachments of an issue as the payload lists them.
   *
   * @return list<array{name: string, sha256: string, size: int, contentType: string}>
   *   One entry per readable file.
   */
  public static function attachments(ContentEntityInterface $entity): array {
    if (!$entity->hasField('field_tg_attachments')) {
      return [];
    }
    $list = [];
    foreach ($entity->get('field_tg_attachments')->referencedEntities() as $file) {
      if (!$file instanceof FileInterface) {
        continue;
      }
      $hash = @hash_file('sha256', $file->getFileUri());
      if ($hash === FALSE) {
        continue;
      }
      $list[] = [
        'name' => $file->getFilename(),
        'sha256' => $hash,
        'size' => (int) $file->getSize(),
        'contentType' => (string) ($file->getMimeType() ?: 'application/octet-stream'),
      ];
    }
    return $list;
  }

}
