<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

/**
 * The reads the module makes from Trading Grid outside the outbox.
 *
 * Writes never go through here: they go through the outbox. Tests swap this service
 * for a scripted network.
 */
interface NetworkInterface {

  /**
   * One page of the event feed.
   *
   * @return array{events: list<array<string, mixed>>, nextCursor: ?string, hasMore: bool}
   *   The page.
   */
  public function events(?string $after, int $limit): array;

  /**
   * A knowledge article or announcement, or NULL when it cannot be read now.
   *
   * @return array<string, mixed>|null
   *   The article.
   */
  public function knowledge(string $articleId): ?array;

  /**
   * Network figures (issues, response rate, participation).
   *
   * @return array<string, mixed>
   *   The figures.
   */
  public function metrics(): array;

  /**
   * One page of partners: ['items' => [...], 'nextCursor' => ?string, 'hasMore' => bool].
   *
   * @return array<string, mixed>
   *   The page.
   */
  public function partners(?string $after, int $limit): array;

  /**
   * One page of the Lens transactions that need a person — delivery failed or
   * validation error — that arrived at or after $since (RFC 3339), oldest first.
   *
   * @return array{total: int, transactions: list<array<string, mixed>>}
   *   The page.
   */
  public function transactionExceptions(?string $since, int $count, int $offset): array;

  /**
   * The Trading Grid partner id (partner directory: partnerCompanyId) of the partner
   * trading under this address (QUALIFIER:ID), or NULL when none does.
   */
  public function partnerIdByTradingAddress(string $address): ?string;

  /**
   * The users of a company (documented Community Management list): each with its
   * immutable userId, its current loginId and its e-mail.
   *
   * @return list<array{userId: string, loginId: string, email: string}>
   *   The users.
   */
  public function companyUsers(string $companyId): array;

  /**
   * Checks the connection: ['ok' => TRUE, 'latencyMs' => float, ...] or an exception.
   *
   * @return array<string, mixed>
   *   The answer of the ping.
   */
  public function ping(): array;

}
