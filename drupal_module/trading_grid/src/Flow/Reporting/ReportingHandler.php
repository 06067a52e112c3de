<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Reporting;

use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Store\MetricsStore;

/**
 * Flow 7, network ⇒ portal: every event counts towards the network figures of its
 * day, so the dashboard shows the network's activity next to the portal's.
 */
final class ReportingHandler implements EventHandlerInterface {

  /**
   * Events that count as a named figure as well.
   */
  private const FIGURES = [
    'issue.created' => 'network.issues_raised',
    'issue.comment_added' => 'network.issue_comments',
    'document.accepted' => 'network.acknowledgements',
    'onboarding.training_completed' => 'network.onboarding_completed',
    'onboarding.acknowledged' => 'network.onboarding_completed',
    'membership.changed' => 'network.membership_changes',
  ];

  public function __construct(private readonly MetricsStore $metrics) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return ['*'];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $type = (string) ($event['type'] ?? '');
    $time = isset($event['occurredAt']) ? strtotime((string) $event['occurredAt']) : FALSE;
    $period = gmdate('Y-m-d', $time ?: time());
    $this->metrics->add('network.events', 1, mb_substr($type, 0, 128), $period);
    if (isset(self::FIGURES[$type])) {
      $this->metrics->add(self::FIGURES[$type], 1, '', $period);
    }
    if ($type === 'issue.status_changed' && ($event['data']['to'] ?? '') === 'resolved') {
      $this->metrics->add('network.issues_resolved', 1, '', $period);
    }
  }

}
