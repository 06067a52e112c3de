<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\TradingIssue;

use Drupal\Core\Database\Connection;
use Drupal\Core\Session\AccountInterface;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\OutboundOp;
use Drupal\trading_grid\Sync\OutboxWriter;
use Drupal\trading_grid\Sync\PayloadBuilder;
use Drupal\trading_grid\Sync\Suppression;

/**
 * The timeline of a trading issue: comments from both sides and status changes.
 *
 * Entries live on the issue node (field_tg_timeline, one JSON entry per item), each
 * with a key that makes adding it twice a no-op.
 */
final class IssueTimeline {

  public const FIELD = 'field_tg_timeline';

  public function __construct(
    private readonly OutboxWriter $writer,
    private readonly TradingIssueMapper $issues,
    private readonly PayloadBuilder $payloads,
    private readonly Suppression $suppression,
    private readonly Connection $database,
  ) {}

  /**
   * The entries of an issue, oldest first.
   *
   * @return list<array<string, mixed>>
   *   Entries: key, kind (comment|status|note), origin (portal|network), author,
   *   body, from, to, resolution, at, state.
   */
  public function entries(NodeInterface $issue): array {
    if (!$issue->hasField(self::FIELD)) {
      return [];
    }
    $entries = [];
    foreach ($issue->get(self::FIELD) as $item) {
      $entry = json_decode((string) $item->value, TRUE);
      if (is_array($entry) && isset($entry['key'])) {
        $entries[] = $entry;
      }
    }
    usort($entries, static fn (array $a, array $b): int => ($a['at'] ?? 0) <=> ($b['at'] ?? 0));
    return $entries;
  }

  /**
   * Adds an entry unless one with its key exists; TRUE when added. Not saved.
   *
   * @param array<string, mixed> $entry
   *   The entry; 'key' is required.
   */
  public function add(NodeInterface $issue, array $entry): bool {
    if (!$issue->hasField(self::FIELD) || $this->find($issue, (string) $entry['key']) !== NULL) {
      return FALSE;
    }
    $entry += ['at' => time(), 'origin' => 'network', 'kind' => 'note'];
    $issue->get(self::FIELD)->appendItem(['value' => json_encode($entry, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES)]);
    return TRUE;
  }

  /**
   * Changes the entry with a key; TRUE when found. Not saved.
   *
   * @param array<string, mixed> $changes
   *   The values to set.
   */
  public function update(NodeInterface $issue, string $key, array $changes): bool {
    if (!$issue->hasField(self::FIELD)) {
      return FALSE;
    }
    foreach ($issue->get(self::FIELD) as $item) {
      $entry = json_decode((string) $item->value, TRUE);
      if (is_array($entry) && ($entry['key'] ?? NULL) === $key) {
        $item->value = json_encode($changes + $entry, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        return TRUE;
      }
    }
    return FALSE;
  }

  /**
   * The entry with a key, if any.
   *
   * @return array<string, mixed>|null
   *   The entry.
   */
  public function find(NodeInterface $issue, string $key): ?array {
    foreach ($this->entries($issue) as $entry) {
      if ($entry['key'] === $key) {
        return $entry;
      }
    }
    return NULL;
  }

  /**
   * A comment written on the portal: on the timeline now, on Trading Grid soon.
   *
   * The node save and the outbox row share one transaction.
   *
   * @return string
   *   The comment's external id.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  public function addPortalComment(NodeInterface $issue, AccountInterface $author, string $body): string {
    $external = ExternalId::of($issue) . '-c' . substr(hash('sha256', $body . microtime() . random_int(0, PHP_INT_MAX)), 0, 12);
    $name = trim((string) $author->getDisplayName()) ?: 'Portal user';
    $payload = [
      'issueId' => $this->issues->remoteId($issue),
      'externalId' => $external,
      'author' => mb_substr($name, 0, 200),
      'body' => $body,
    ];
    $this->payloads->validate('issue.comment', $payload);
    $this->add($issue, [
      'key' => 'portal:' . $external,
      'kind' => 'comment',
      'origin' => 'portal',
      'author' => $name,
      'body' => $body,
      'at' => time(),
      'state' => 'queued',
    ]);
    $transaction = $this->database->startTransaction();
    try {
      $this->suppression->run(static fn () => $issue->save());
      // A POST: a key of its own, so two comments are never coalesced into one row.
      $this->writer->write(new OutboundOp('issue.comment', $payload, 'issue-comment:' . $external, 'issue_comment', 'node', (string) $issue->id()));
    }
    catch (\Throwable $e) {
      $transaction->rollBack();
      throw $e;
    }
    unset($transaction);
    return $external;
  }

}
