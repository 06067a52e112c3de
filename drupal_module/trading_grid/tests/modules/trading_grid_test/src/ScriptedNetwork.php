<?php

declare(strict_types=1);

namespace Drupal\trading_grid_test;

use Drupal\Core\State\StateInterface;
use Drupal\trading_grid\Connection\NetworkInterface;

/**
 * A network whose feed, articles and figures come from state.
 */
final class ScriptedNetwork implements NetworkInterface {

  public const EVENTS = 'trading_grid_test.events';

  public const ARTICLES = 'trading_grid_test.articles';

  public const METRICS = 'trading_grid_test.metrics';

  public const PARTNERS = 'trading_grid_test.partners';

  public const TRANSACTIONS = 'trading_grid_test.transactions';

  public const DIRECTORY = 'trading_grid_test.directory';

  public const COMPANY_USERS = 'trading_grid_test.company_users';

  public function __construct(private readonly StateInterface $state) {}

  /**
   * {@inheritdoc}
   */
  public function events(?string $after, int $limit): array {
    $events = array_values($this->state->get(self::EVENTS, []));
    $start = $after === NULL ? 0 : (int) $after;
    $page = array_slice($events, $start, $limit);
    $next = $start + count($page);
    return ['events' => $page, 'nextCursor' => (string) $next, 'hasMore' => $next < count($events)];
  }

  /**
   * {@inheritdoc}
   */
  public function knowledge(string $articleId): ?array {
    return $this->state->get(self::ARTICLES, [])[$articleId] ?? NULL;
  }

  /**
   * {@inheritdoc}
   */
  public function metrics(): array {
    return $this->state->get(self::METRICS, []);
  }

  /**
   * {@inheritdoc}
   */
  public function partners(?string $after, int $limit): array {
    return ['items' => $this->state->get(self::PARTNERS, []), 'nextCursor' => NULL, 'hasMore' => FALSE];
  }

  /**
   * {@inheritdoc}
   */
  public function transactionExceptions(?string $since, int $count, int $offset): array {
    // As Lens does for the exception search: by status date, which dates from the
    // arrival until the status changes.
    $at = static fn (array $t): string => (string) ($t['statusdate'] ?? $t['arrivaltime'] ?? '');
    $hits = array_values(array_filter(
      $this->state->get(self::TRANSACTIONS, []),
      static fn (array $t): bool => in_array($t['status'] ?? '', ['F', 'V'], TRUE)
        && ($since === NULL || strtotime($at($t)) >= strtotime($since)),
    ));
    usort($hits, static fn (array $a, array $b): int => strcmp($at($a), $at($b)));
    return ['total' => count($hits), 'transactions' => array_slice($hits, $offset, $count)];
  }

  /**
   * {@inheritdoc}
   */
  public function partnerIdByTradingAddress(string $address): ?string {
    return $this->state->get(self::DIRECTORY, [])[$address] ?? NULL;
  }

  /**
   * {@inheritdoc}
   */
  public function companyUsers(string $companyId): array {
    return $this->state->get(self::COMPANY_USERS, [])[$companyId] ?? [];
  }

  /**
   * {@inheritdoc}
   */
  public function ping(): array {
    return ['ok' => TRUE, 'latencyMs' => 1.0, 'tenant' => 'TEST'];
  }

}
