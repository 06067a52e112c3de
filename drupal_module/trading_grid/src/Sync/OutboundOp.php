<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

/**
 * One operation to write to the outbox.
 */
final class OutboundOp {

  /**
   * @param string $op
   *   The operation name (partner.upsert, issue.create, ...).
   * @param array<string, mixed> $payload
   *   The payload in the operation's format.
   * @param string $orderingKey
   *   Ops of one key are sent in order; one key per entity.
   * @param string $flow
   *   The flow the op belongs to (partner, issue, document, ...).
   * @param string|null $entityType
   *   The entity the op is about, if any.
   * @param string|null $entityId
   *   Its id.
   */
  public function __construct(
    public readonly string $op,
    public readonly array $payload,
    public readonly string $orderingKey,
    public readonly string $flow,
    public readonly ?string $entityType = NULL,
    public readonly ?string $entityId = NULL,
  ) {}

}
