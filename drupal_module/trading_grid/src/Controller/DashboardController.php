<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Controller;

use Drupal\Core\Controller\ControllerBase;
use Drupal\Core\Render\Markup;
use Drupal\trading_grid\Chart\SvgChart;
use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\MetricsStore;
use Drupal\trading_grid\Store\Outbox;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * Flow 7: the reporting dashboard, portal and network figures side by side.
 */
final class DashboardController extends ControllerBase {

  private const DAYS = 14;

  public function __construct(
    private readonly MetricsStore $metrics,
    private readonly Outbox $outbox,
    private readonly Inbox $inbox,
    private readonly LinkStore $links,
    private readonly SvgChart $charts,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.metrics_store'),
      $container->get('trading_grid.outbox'),
      $container->get('trading_grid.inbox'),
      $container->get('trading_grid.link_store'),
      $container->get('trading_grid.svg_chart'),
    );
  }

  /**
   * The dashboard.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function dashboard(): array {
    $periods = [];
    for ($i = self::DAYS - 1; $i >= 0; $i--) {
      $periods[] = gmdate('Y-m-d', time() - 86400 * $i);
    }
    $from = reset($periods);
    $to = end($periods);
    $today = $to;

    $portal = $this->byDimension($this->metrics->series('portal.ops', $from, $to));
    $network = $this->byDimension($this->metrics->series('network.events', $from, $to));
    $build['#attached']['library'][] = 'trading_grid/admin';
    $build['#cache']['max-age'] = 0;

    $build['portal'] = $this->chart(
      $this->t('Changes the portal sent, last @n days', ['@n' => self::DAYS]),
      $this->charts->lines((string) $this->t('Changes the portal sent'), $periods, $portal ?: ['none' => []]),
    );
    $build['network'] = $this->chart(
      $this->t('Events the network sent, last @n days', ['@n' => self::DAYS]),
      $this->charts->lines((string) $this->t('Events the network sent'), $periods, $this->top($network, 5) ?: ['none' => []]),
    );

    $figures = [
      (string) $this->t('Open issues') => $this->metrics->value('network.issues_open', '', $today) ?? 0,
      (string) $this->t('Resolved issues') => $this->metrics->value('network.issues_resolved_total', '', $today) ?? 0,
      (string) $this->t('Mean hours to resolve') => $this->metrics->value('network.mean_resolution_hours', '', $today) ?? 0,
      (string) $this->t('Response rate %') => round(100 * ($this->metrics->value('network.response_rate', '', $today) ?? 0)),
    ];
    $build['issues'] = $this->chart($this->t('Trading issues on the network (today)'), $this->charts->bars((string) $this->t('Trading issues on the network'), $figures));
    $members = $this->metrics->breakdown('network.members', $today);
    $build['participation'] = $this->chart($this->t('Community members (today)'), $this->charts->bars((string) $this->t('Community members'), $members));

    $rows = [];
    foreach ($this->metrics->totals($today) as $name => $total) {
      $rows[] = [$name, $total];
    }
    $build['today'] = [
      '#type' => 'table',
      '#caption' => $this->t('Figures of @day', ['@day' => $today]),
      '#header' => [$this->t('Figure'), $this->t('Value')],
      '#rows' => $rows,
      '#empty' => $this->t('No figures yet today.'),
    ];
    $outbox = $this->outbox->counts();
    $inbox = $this->inbox->counts();
    $links = $this->links->counts();
    $build['health'] = [
      '#theme' => 'item_list',
      '#title' => $this->t('Sync health'),
      '#items' => [
        $this->t('Outbox: @p waiting, @l being sent, @d dead letters.', ['@p' => $outbox['pending'], '@l' => $outbox['leased'], '@d' => $outbox['dead']]),
        $this->t('Inbox: @s', ['@s' => implode(', ', array_map(static fn ($k, $v) => "$k $v", array_keys($inbox), array_values($inbox)))]),
        $this->t('Entities: @s', ['@s' => implode(', ', array_map(static fn ($k, $v) => "$k $v", array_keys($links), array_values($links)))]),
      ],
    ];
    return $build;
  }

  /**
   * A chart with a heading.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  private function chart(mixed $title, string $svg): array {
    return [
      '#type' => 'container',
      '#attributes' => ['class' => ['trading-grid-chart-box']],
      'title' => ['#type' => 'html_tag', '#tag' => 'h2', '#value' => $title],
      // Built by SvgChart from escaped text only.
      'svg' => ['#markup' => Markup::create($svg)],
    ];
  }

  /**
   * Series rows regrouped as dimension => [period => value].
   *
   * @param list<array{period: string, dimension: string, value: float}> $rows
   *   Rows.
   *
   * @return array<string, array<string, float>>
   *   Series.
   */
  private function byDimension(array $rows): array {
    $series = [];
    foreach ($rows as $row) {
      $series[$row['dimension'] ?: 'all'][$row['period']] = $row['value'];
    }
    return $series;
  }

  /**
   * The $n series with the largest totals.
   *
   * @param array<string, array<string, float>> $series
   *   Series.
   *
   * @return array<string, array<string, float>>
   *   The largest ones.
   */
  private function top(array $series, int $n): array {
    uasort($series, static fn (array $a, array $b): int => array_sum($b) <=> array_sum($a));
    return array_slice($series, 0, $n, TRUE);
  }

}
