<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Reporting;

use Drupal\Core\State\StateInterface;
use Drupal\trading_grid\Connection\NetworkInterface;
use Drupal\trading_grid\Store\MetricsStore;
use Drupal\trading_grid\Sync\OutboundOp;
use Drupal\trading_grid\Sync\OutboxWriter;

/**
 * Flow 7: combined reporting. Reads the network's computed figures into the metrics
 * table, and sends the portal's figures of each finished day to the network once.
 */
final class ReportingFigures {

  private const SENT_STATE = 'trading_grid.portal_figures_sent';

  public function __construct(
    private readonly MetricsStore $metrics,
    private readonly NetworkInterface $network,
    private readonly OutboxWriter $writer,
    private readonly StateInterface $state,
  ) {}

  /**
   * Stores today's network figures; returns how many were stored.
   */
  public function pullNetworkFigures(): int {
    $figures = $this->network->metrics();
    $today = gmdate('Y-m-d');
    $n = 0;
    $set = function (string $name, mixed $value, string $dimension = '') use ($today, &$n): void {
      if (is_numeric($value)) {
        $this->metrics->set($name, (float) $value, $dimension, $today);
        $n++;
      }
    };
    $set('network.issues_open', $figures['issues']['open'] ?? NULL);
    $set('network.issues_resolved_total', $figures['issues']['resolved'] ?? NULL);
    $set('network.mean_resolution_hours', $figures['issues']['meanResolutionHours'] ?? NULL);
    $set('network.response_rate', $figures['responseRate'] ?? NULL);
    foreach ((array) ($figures['participation'] ?? []) as $row) {
      if (is_array($row) && is_scalar($row['communityId'] ?? NULL)) {
        $set('network.members', $row['members'] ?? NULL, (string) $row['communityId']);
        $set('network.active_members', $row['active'] ?? NULL, (string) $row['communityId']);
      }
    }
    return $n;
  }

  /**
   * The portal's figures of one day, as metrics.portal sends them.
   *
   * @return array<string, float|int>
   *   Figure => value.
   */
  public function portalFigures(string $period): array {
    $figures = [];
    foreach ($this->metrics->breakdown('portal.ops', $period) as $op => $count) {
      $figures[$op] = (int) $count;
    }
    foreach ($this->metrics->totals($period) as $name => $total) {
      if (str_starts_with($name, 'portal.') && $name !== 'portal.ops') {
        $figures[lcfirst(str_replace(' ', '', ucwords(str_replace(['portal.', '_'], ['', ' '], $name))))] = (int) $total;
      }
    }
    return array_slice($figures, 0, 100, TRUE);
  }

  /**
   * Queues yesterday's portal figures unless that day was sent; TRUE when queued.
   */
  public function queueYesterday(): bool {
    $period = gmdate('Y-m-d', time() - 86400);
    if ($this->state->get(self::SENT_STATE) === $period) {
      return FALSE;
    }
    $figures = $this->portalFigures($period);
    $this->state->set(self::SENT_STATE, $period);
    if ($figures === []) {
      return FALSE;
    }
    // A POST per day: the day is part of the key, so days are never coalesced.
    $this->writer->write(new OutboundOp('metrics.portal', ['period' => $period, 'figures' => $figures], 'metrics:' . $period, 'reporting'));
    return TRUE;
  }

}
