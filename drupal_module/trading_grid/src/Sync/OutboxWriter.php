<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\MetricsStore;
use Drupal\trading_grid\Store\Outbox;

/**
 * Writes ops to the outbox, inside whatever transaction is open.
 *
 * Nothing is sent here: delivery happens after the response, on cron or from drush.
 */
final class OutboxWriter {

  /**
   * How the last error of a link starts when the payload was refused before it was
   * queued (nothing of it was sent).
   */
  public const INVALID = 'validation: ';

  /**
   * Hashes of the ops written during this request, to write each change once.
   *
   * @var array<string, int>
   */
  private array $written = [];

  public function __construct(
    private readonly Outbox $outbox,
    private readonly LinkStore $links,
    private readonly MetricsStore $metrics,
    private readonly RequestActivity $activity,
  ) {}

  /**
   * Writes one op; returns its outbox row id.
   */
  public function write(OutboundOp $op): int {
    $hash = hash('sha256', $op->op . "\n" . $op->orderingKey . "\n" . json_encode($op->payload));
    if (isset($this->written[$hash])) {
      return $this->written[$hash];
    }
    $id = $this->outbox->enqueue($op->op, $op->payload, $op->orderingKey, $op->flow, $op->entityType, $op->entityId);
    if ($op->entityType !== NULL && $op->entityId !== NULL) {
      $this->links->record($op->entityType, $op->entityId, $op->flow, LinkStore::QUEUED, NULL, NULL, $op->op);
    }
    // Portal-side figures for the reporting flow: what the portal sent, per op.
    $this->metrics->add('portal.ops', 1, $op->op);
    $this->activity->enqueued();
    return $this->written[$hash] = $id;
  }

  /**
   * Forgets what was written, so that an op equal to an earlier one is written again.
   *
   * The memory is for one entity save, whose hooks may produce the same op twice; a
   * worker that handles many events, or retries one after a rollback, starts each
   * from here, since the same change may rightly be needed again (active, suspended,
   * active) or the earlier row may have been rolled back.
   */
  public function forget(): void {
    $this->written = [];
  }

  /**
   * Records that an entity could not be mapped, so the sync log and the entity's
   * Trading Grid tab say why nothing was sent.
   */
  public function invalid(string $entityType, string $entityId, string $flow, string $op, string $error): void {
    $this->links->record($entityType, $entityId, $flow, LinkStore::FAILED, NULL, self::INVALID . $error, $op);
  }

}
