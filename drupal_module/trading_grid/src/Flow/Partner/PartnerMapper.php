<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Partner;

use Drupal\Core\Entity\ContentEntityInterface;
use Drupal\trading_grid\Flow\FlowMapperBase;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\Mapping;
use Drupal\trading_grid\Sync\OutboundOp;
use Drupal\trading_grid\Sync\PayloadBuilder;
use Drupal\user\UserInterface;

/**
 * Flow 1, portal ⇒ network: a partner account becomes a Trading Grid partner, and
 * each community added to it becomes an access request; its network user follows
 * the account (NetworkUsers).
 */
final class PartnerMapper extends FlowMapperBase {

  public function __construct(
    PayloadBuilder $payloads,
    LinkStore $links,
    private readonly NetworkUsers $networkUsers,
  ) {
    parent::__construct($payloads, $links);
  }

  /**
   * {@inheritdoc}
   */
  public function operation(): string {
    return 'partner.upsert';
  }

  /**
   * {@inheritdoc}
   */
  public function ops(ContentEntityInterface $entity, string $event, Mapping $mapping): array {
    if ($entity instanceof UserInterface && $entity->isAnonymous()) {
      return [];
    }
    $external = ExternalId::of($entity);
    $key = 'partner:' . $external;
    $type = $entity->getEntityTypeId();
    $id = (string) $entity->id();
    if ($event === 'delete') {
      // The network user goes first, while its partner company still exists.
      $ops = $entity instanceof UserInterface ? $this->networkUsers->unlessRefused($entity, 'company_user.delete', fn () => $this->networkUsers->deleted($entity)) : [];
      if ($this->live($entity, 'partner')) {
        $ops[] = new OutboundOp('partner.delete', ['externalId' => $external], $key, 'partner', $type, $id);
      }
      return $ops;
    }
    if (!self::isPartner($entity)) {
      return [];
    }
    $payload = $this->payload($entity, $mapping);
    $external = (string) ($payload['externalId'] ?? $external);
    $key = 'partner:' . $external;
    $ops = [new OutboundOp('partner.upsert', $payload, $key, 'partner', $type, $id)];

    $before = [];
    $original = self::original($entity);
    if ($event === 'update' && $original !== NULL && self::isPartner($original)) {
      $before = self::communities($original);
    }
    // An access request is a POST: it gets a key of its own so that two of them are
    // never coalesced into one row, and it names the partner by its Trading Grid id,
    // which is filled in once the upsert above has been answered.
    $link = $this->links->get($type, $id, 'partner');
    $partnerId = $link['remoteId'] ?? NULL;
    if (!is_string($partnerId) || $partnerId === '') {
      $partnerId = ExternalId::pendingRemote('partner', $type, $id);
    }
    foreach (array_diff(self::communities($entity), $before) as $community) {
      $ops[] = new OutboundOp('access_request.create', [
        'partnerId' => $partnerId,
        'communityId' => $community,
        'reason' => 'Requested from the partner portal',
      ], 'access:' . $external . ':' . $community, 'access_request', $type, $id);
    }
    if ($event === 'update' && $entity instanceof UserInterface) {
      $was = self::original($entity);
      array_push($ops, ...$this->networkUsers->unlessRefused($entity, 'company_user.update', fn () => $this->networkUsers->changed($entity, $was instanceof UserInterface ? $was : NULL)));
    }
    return $ops;
  }

  /**
   * Whether an account is a partner: it names its organisation.
   */
  public static function isPartner(ContentEntityInterface $entity): bool {
    if (!$entity->hasField('field_tg_organisation')) {
      return TRUE;
    }
    return trim((string) self::value($entity, 'field_tg_organisation')) !== '';
  }

  /**
   * The communities an account asks to join.
   *
   * @return string[]
   *   Community ids.
   */
  public static function communities(ContentEntityInterface $entity): array {
    if (!$entity->hasField('field_tg_communities')) {
      return [];
    }
    $ids = [];
    foreach ($entity->get('field_tg_communities') as $item) {
      $value = trim((string) $item->value);
      if ($value !== '') {
        $ids[] = $value;
      }
    }
    return array_values(array_unique($ids));
  }

}
