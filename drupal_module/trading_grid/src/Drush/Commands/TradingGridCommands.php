<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Drush\Commands;

use Drupal\trading_grid\Connection\ClientFactory;
use Drupal\trading_grid\Flow\TradingIssue\TradingExceptionScanner;
use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use Drupal\trading_grid\Sync\Delivery;
use Drupal\trading_grid\Sync\EventPuller;
use Drupal\trading_grid\Sync\Reconciler;
use Drush\Attributes as CLI;
use Drush\Commands\DrushCommands;
use Psr\Container\ContainerInterface;

/**
 * Drush commands: status, drain, pull, scan, replay, reconcile.
 */
final class TradingGridCommands extends DrushCommands {

  public function __construct(
    private readonly ClientFactory $clients,
    private readonly Outbox $outbox,
    private readonly Inbox $inbox,
    private readonly LinkStore $links,
    private readonly Delivery $delivery,
    private readonly EventPuller $puller,
    private readonly Reconciler $reconciler,
    private readonly TradingExceptionScanner $scanner,
  ) {
    parent::__construct();
  }

  /**
   * Builds the commands from the container (Drush 12 calls this).
   */
  public static function create(ContainerInterface $container, ?ContainerInterface $drushContainer = NULL): self {
    return new self(
      $container->get('trading_grid.client_factory'),
      $container->get('trading_grid.outbox'),
      $container->get('trading_grid.inbox'),
      $container->get('trading_grid.link_store'),
      $container->get('trading_grid.delivery'),
      $container->get('trading_grid.event_puller'),
      $container->get('trading_grid.reconciler'),
      $container->get('trading_grid.trading_exception_scanner'),
    );
  }

  /**
   * Shows the extension, the connection and the queues.
   */
  #[CLI\Command(name: 'trading-grid:status', aliases: ['tg-status'])]
  #[CLI\Usage(name: 'drush trading-grid:status', description: 'Extension, connection problems, outbox, inbox and links.')]
  public function status(): void {
    $version = $this->clients->extensionVersion();
    $this->io()->writeln('Extension: ' . ($version !== NULL ? "trading_grid $version" : 'not loaded'));
    $problems = $this->clients->problems();
    $this->io()->writeln('Connection: ' . ($problems === [] ? 'configured' : implode(' ', $problems)));
    $outbox = $this->outbox->counts();
    $age = $this->outbox->oldestPendingAge();
    $this->io()->writeln(sprintf('Outbox: %d waiting, %d being sent, %d dead letters%s', $outbox['pending'], $outbox['leased'], $outbox['dead'], $age === NULL ? '' : ", oldest waiting {$age}s"));
    $this->io()->writeln('Inbox: ' . self::pairs($this->inbox->counts()));
    $this->io()->writeln('Links: ' . self::pairs($this->links->counts()));
  }

  /**
   * Sends what waits in the outbox.
   */
  #[CLI\Command(name: 'trading-grid:drain', aliases: ['tg-drain'])]
  #[CLI\Option(name: 'time', description: 'Seconds to spend sending.')]
  #[CLI\Usage(name: 'drush trading-grid:drain --time=30', description: 'Send for up to 30 seconds.')]
  public function drain(array $options = ['time' => 30.0]): int {
    $report = $this->delivery->drain((float) $options['time']);
    if ($report === NULL) {
      $this->logger()->error('Nothing can be sent: ' . implode(' ', $this->delivery->problems()));
      return self::EXIT_FAILURE;
    }
    $this->io()->writeln(sprintf('Sent %d, failed %d (will retry), dead %d, released %d, in %d batches (%.1fs, stopped: %s).',
      $report->sent, $report->failed, $report->dead, $report->released, $report->batches, $report->seconds, $report->stoppedBy));
    return self::EXIT_SUCCESS;
  }

  /**
   * Reads Lens for failed transactions and opens a trading issue for each new one.
   */
  #[CLI\Command(name: 'trading-grid:scan', aliases: ['tg-scan'])]
  #[CLI\Option(name: 'days', description: 'Where the first scan starts, in days back (later scans go on from the newest exception seen).')]
  #[CLI\Option(name: 'time', description: 'Seconds to spend handling what was found.')]
  #[CLI\Usage(name: 'drush trading-grid:scan --days=30', description: 'Raise trading issues from the failed transactions of the last 30 days.')]
  public function scan(array $options = ['days' => 7, 'time' => 30.0]): int {
    if ($this->delivery->problems() !== []) {
      $this->logger()->error('Cannot reach Trading Grid: ' . implode(' ', $this->delivery->problems()));
      return self::EXIT_FAILURE;
    }
    $counts = $this->scanner->scan((int) $options['days']);
    $handled = $this->delivery->handleEvents((float) $options['time']);
    $this->io()->writeln(sprintf('Read %d failed transactions since %s, %d new; handled %d events, failed %d.', $counts['seen'], $counts['since'], $counts['stored'], $handled['handled'], $handled['failed']));
    return self::EXIT_SUCCESS;
  }

  /**
   * Pulls the event feed into the inbox and handles the events.
   */
  #[CLI\Command(name: 'trading-grid:pull', aliases: ['tg-pull'])]
  #[CLI\Option(name: 'time', description: 'Seconds to spend handling events.')]
  public function pull(array $options = ['time' => 30.0]): int {
    if ($this->delivery->problems() !== []) {
      $this->logger()->error('Cannot reach Trading Grid: ' . implode(' ', $this->delivery->problems()));
      return self::EXIT_FAILURE;
    }
    $counts = $this->puller->pull();
    $handled = $this->delivery->handleEvents((float) $options['time']);
    $this->io()->writeln(sprintf('Read %d events, %d new; handled %d, failed %d.', $counts['seen'], $counts['stored'], $handled['handled'], $handled['failed']));
    return self::EXIT_SUCCESS;
  }

  /**
   * Replays one dead letter, or all of them.
   */
  #[CLI\Command(name: 'trading-grid:replay', aliases: ['tg-replay'])]
  #[CLI\Argument(name: 'id', description: 'The outbox row id of the dead letter.')]
  #[CLI\Option(name: 'all-dead', description: 'Replay every dead letter.')]
  #[CLI\Option(name: 'flow', description: 'With --all-dead: only this flow.')]
  #[CLI\Usage(name: 'drush trading-grid:replay 42', description: 'Replay outbox row 42.')]
  #[CLI\Usage(name: 'drush trading-grid:replay --all-dead', description: 'Replay every dead letter.')]
  public function replay(?string $id = NULL, array $options = ['all-dead' => FALSE, 'flow' => NULL]): int {
    if ($options['all-dead']) {
      $n = $this->outbox->replayDead(array_filter(['flow' => $options['flow']]));
      $this->io()->writeln("$n dead letters will be sent again.");
      return self::EXIT_SUCCESS;
    }
    if ($id === NULL || !ctype_digit($id)) {
      $this->logger()->error('Give an outbox row id, or --all-dead.');
      return self::EXIT_FAILURE;
    }
    if (!$this->outbox->replay((int) $id)) {
      $this->logger()->error("Outbox row $id is not a dead letter.");
      return self::EXIT_FAILURE;
    }
    $this->io()->writeln("Outbox row $id will be sent again.");
    return self::EXIT_SUCCESS;
  }

  /**
   * Compares the partners and their network users with Trading Grid and sends
   * again what drifted.
   */
  #[CLI\Command(name: 'trading-grid:reconcile', aliases: ['tg-reconcile'])]
  #[CLI\Option(name: 'dry-run', description: 'Report only.')]
  public function reconcile(array $options = ['dry-run' => FALSE]): int {
    if ($this->delivery->problems() !== []) {
      $this->logger()->error('Cannot reach Trading Grid: ' . implode(' ', $this->delivery->problems()));
      return self::EXIT_FAILURE;
    }
    $report = $this->reconciler->reconcile(!$options['dry-run']);
    $this->io()->writeln(sprintf('Trading Grid lists %d partners.', $report['remote']));
    $this->io()->writeln('Missing on Trading Grid: ' . (implode(', ', $report['missing']) ?: 'none'));
    $this->io()->writeln('Different partner id: ' . (implode(', ', $report['mismatched']) ?: 'none'));
    $this->io()->writeln('Listed there, unknown here: ' . (implode(', ', $report['unknown']) ?: 'none'));
    $this->io()->writeln('Network users gone from their company: ' . (implode(', ', $report['usersMissing']) ?: 'none'));
    $this->io()->writeln('Network users signing in with another loginId: ' . (implode(', ', $report['usersRenamed']) ?: 'none'));
    $this->io()->writeln(sprintf('Operations queued again: %d.', $report['requeued']));
    return self::EXIT_SUCCESS;
  }

  /**
   * "a 1, b 2".
   *
   * @param array<string, int> $counts
   *   Counts.
   */
  private static function pairs(array $counts): string {
    return implode(', ', array_map(static fn ($k, $v): string => "$k $v", array_keys($counts), array_values($counts))) ?: 'empty';
  }

}
