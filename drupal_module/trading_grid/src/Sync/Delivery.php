<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\trading_grid\Delivery\DrainReport;
use Drupal\trading_grid\Delivery\Drainer;
use Drupal\trading_grid\Flow\EventProcessor;
use Psr\Log\LoggerInterface;

/**
 * Runs the drains and the event handling with the site's settings; shared by the
 * after-response subscriber, cron and drush.
 */
final class Delivery {

  public function __construct(
    private readonly Drainer $drainer,
    private readonly ReferenceResolvingSender $sender,
    private readonly EventProcessor $processor,
    private readonly ConfigFactoryInterface $configFactory,
    private readonly LoggerInterface $logger,
  ) {}

  /**
   * What stops delivery right now, in plain words; empty when it can run.
   *
   * @return string[]
   *   Problems.
   */
  public function problems(): array {
    return $this->sender->problems();
  }

  /**
   * Drains the outbox for up to $timeBudget seconds; NULL when it cannot send now
   * (the rows then wait, without counting an attempt).
   */
  public function drain(float $timeBudget, ?string $worker = NULL): ?DrainReport {
    if ($this->problems() !== []) {
      return NULL;
    }
    $config = $this->configFactory->get('trading_grid.settings');
    return $this->drainer->drain(
      $worker ?? self::worker(),
      $timeBudget,
      max(1, (int) ($config->get('batch_size') ?: 100)),
      max(5, (int) ($config->get('lease_seconds') ?: 60)),
    );
  }

  /**
   * Handles the stored events for up to $timeBudget seconds.
   *
   * @return array{handled: int, failed: int}
   *   Counts.
   */
  public function handleEvents(float $timeBudget, ?string $worker = NULL): array {
    return $this->processor->process($worker ?? self::worker(), $timeBudget);
  }

  /**
   * This process's worker name: host and pid.
   */
  public static function worker(): string {
    return (gethostname() ?: 'host') . ':' . getmypid();
  }

}
