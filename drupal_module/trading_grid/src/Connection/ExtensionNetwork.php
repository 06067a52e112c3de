<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

/**
 * The network reached through the trading_grid PHP extension.
 */
final class ExtensionNetwork implements NetworkInterface {

  public function __construct(private readonly ClientFactory $clients) {}

  /**
   * {@inheritdoc}
   */
  public function events(?string $after, int $limit): array {
    $page = $this->clients->client()->events($after, $limit);
    return [
      'events' => array_values(array_filter($page['events'] ?? [], 'is_array')),
      'nextCursor' => isset($page['nextCursor']) ? (string) $page['nextCursor'] : NULL,
      'hasMore' => (bool) ($page['hasMore'] ?? FALSE),
    ];
  }

  /**
   * {@inheritdoc}
   */
  public function knowledge(string $articleId): ?array {
    try {
      $article = $this->clients->client()->getKnowledge($articleId);
    }
    catch (\TradingGrid\Exception) {
      return NULL;
    }
    return is_array($article) ? $article : NULL;
  }

  /**
   * {@inheritdoc}
   */
  public function metrics(): array {
    $metrics = $this->clients->client()->metrics();
    return is_array($metrics) ? $metrics : [];
  }

  /**
   * {@inheritdoc}
   */
  public function partners(?string $after, int $limit): array {
    $page = $this->clients->client()->listPartners($after, $limit);
    return is_array($page) ? $page : [];
  }

  /**
   * {@inheritdoc}
   */
  public function transactionExceptions(?string $since, int $count, int $offset): array {
    $page = $this->clients->client()->transactionExceptions($since, $count, $offset);
    return [
      'total' => (int) ($page['total'] ?? 0),
      'transactions' => array_values(array_filter($page['transactions'] ?? [], 'is_array')),
    ];
  }

  /**
   * {@inheritdoc}
   */
  public function partnerIdByTradingAddress(string $address): ?string {
    $found = $this->clients->client()->partnerDirectory(['tradingAddress' => $address]);
    foreach ($found['partners'] ?? [] as $partner) {
      if (is_array($partner) && ($partner['tradingAddress'] ?? NULL) === $address && is_string($partner['partnerCompanyId'] ?? NULL)) {
        return $partner['partnerCompanyId'];
      }
    }
    return NULL;
  }

  /**
   * {@inheritdoc}
   */
  public function companyUsers(string $companyId): array {
    $users = [];
    foreach ($this->clients->client()->companyUsers($companyId)['users'] ?? [] as $user) {
      if (is_array($user) && is_string($user['userId'] ?? NULL)) {
        $users[] = [
          'userId' => $user['userId'],
          'loginId' => (string) ($user['loginId'] ?? ''),
          'email' => (string) ($user['email'] ?? ''),
        ];
      }
    }
    return $users;
  }

  /**
   * {@inheritdoc}
   */
  public function ping(): array {
    $answer = $this->clients->client()->ping();
    return is_array($answer) ? $answer : [];
  }

}
