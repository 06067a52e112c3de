<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\trading_grid\Flow\Reporting\ReportingFigures;
use Drupal\trading_grid\Flow\TradingIssue\TradingExceptionScanner;
use Psr\Log\LoggerInterface;

/**
 * hook_cron(): deliver, pull the event feed, scan Lens for failed transactions,
 * handle events, refresh the figures.
 * Each step runs even when an earlier one failed.
 */
final class Cron {

  public function __construct(
    private readonly Delivery $delivery,
    private readonly EventPuller $puller,
    private readonly TradingExceptionScanner $scanner,
    private readonly ReportingFigures $figures,
    private readonly ConfigFactoryInterface $configFactory,
    private readonly LoggerInterface $logger,
  ) {}

  /**
   * Runs the cron steps.
   */
  public function run(): void {
    $config = $this->configFactory->get('trading_grid.settings');
    $budget = (float) ($config->get('cron_time_budget') ?: 20.0);
    $online = $this->delivery->problems() === [];

    $this->step('queue the portal figures', fn () => $this->figures->queueYesterday());
    $this->step('deliver the outbox', fn () => $this->delivery->drain($budget));
    if ($online && $config->get('pull_on_cron')) {
      $this->step('pull the event feed', fn () => $this->puller->pull(max(1, (int) ($config->get('pull_limit') ?: 200))));
      $this->step('read the network figures', fn () => $this->figures->pullNetworkFigures());
    }
    if ($online && $config->get('lens_scan_on_cron')) {
      $this->step('scan Lens for failed transactions', fn () => $this->scanner->scan((int) ($config->get('lens_lookback_days') ?? 7)));
    }
    $this->step('handle the received events', fn () => $this->delivery->handleEvents($budget));
  }

  /**
   * Runs one step, logging a failure instead of stopping cron.
   */
  private function step(string $what, callable $work): void {
    try {
      $work();
    }
    catch (\Throwable $e) {
      $this->logger->error('Trading Grid cron could not @what: @message', ['@what' => $what, '@message' => $e->getMessage()]);
    }
  }

}
