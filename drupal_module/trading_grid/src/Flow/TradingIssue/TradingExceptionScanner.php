<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\TradingIssue;

use Drupal\trading_grid\Connection\NetworkInterface;
use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Sync\RequestActivity;

/**
 * Flow 2, network ⇒ portal, before anyone raised anything: reads Lens for business
 * documents whose delivery failed or that failed validation, and stores each once in
 * the inbox as a `lens.transaction_exception` event; TradingExceptionHandler turns it
 * into a trading issue.
 *
 * The watermark is the status date of the newest exception seen — the status date,
 * not the arrival: a delivery fails after the document arrived, so a document that
 * arrived before the watermark can still fail after it. Lens's range is inclusive,
 * so the transactions at the watermark are read again next time; the inbox's unique
 * event id ("lens:<transactionid>") makes that harmless, and no transaction of the
 * same second is missed. A record that cannot be stored (no usable id) is counted
 * and skipped, never allowed to stop the scan.
 */
final class TradingExceptionScanner {

  public const CURSOR = 'lens';

  public const EVENT = 'lens.transaction_exception';

  public function __construct(
    private readonly NetworkInterface $network,
    private readonly Inbox $inbox,
    private readonly RequestActivity $activity,
    private readonly \Closure $clock,
  ) {}

  /**
   * The scanner as Drupal builds it: the clock is the system's.
   */
  public static function create(NetworkInterface $network, Inbox $inbox, RequestActivity $activity): self {
    return new self($network, $inbox, $activity, static fn (): int => time());
  }

  /**
   * Reads up to $maxPages pages of $count exceptions after the watermark.
   *
   * @param int $lookbackDays
   *   Where the first scan starts, in days before now.
   *
   * @return array{seen: int, stored: int, skipped: int, since: string}
   *   What was read, how much of it was new, and what could not be used.
   */
  public function scan(int $lookbackDays = 7, int $count = 100, int $maxPages = 10): array {
    $since = $this->inbox->cursor(self::CURSOR)
      ?? gmdate('Y-m-d\TH:i:s\Z', ($this->clock)() - max(0, $lookbackDays) * 86400);
    $counts = ['seen' => 0, 'stored' => 0, 'skipped' => 0, 'since' => $since];
    $newest = $since;
    $count = max(1, min(1000, $count));
    for ($page = 0; $page < $maxPages; $page++) {
      $answer = $this->network->transactionExceptions($since, $count, $page * $count);
      foreach ($answer['transactions'] as $transaction) {
        $counts['seen']++;
        $id = $transaction['transactionid'] ?? NULL;
        $at = self::timestamp($transaction['statusdate'] ?? NULL) ?? self::timestamp($transaction['arrivaltime'] ?? NULL);
        $event = [
          'id' => 'lens:' . (is_scalar($id) ? (string) $id : ''),
          'type' => self::EVENT,
          'occurredAt' => $at,
          'data' => $transaction,
        ];
        try {
          if (!is_scalar($id) || (string) $id === '') {
            throw new \InvalidArgumentException('no transactionid');
          }
          if ($this->inbox->store($event['id'], self::EVENT, $event, 'lens')) {
            $counts['stored']++;
          }
        }
        catch (\InvalidArgumentException) {
          $counts['skipped']++;
          continue;
        }
        if ($at !== NULL && strtotime($at) > strtotime($newest)) {
          $newest = $at;
        }
      }
      if (($page + 1) * $count >= $answer['total'] || $answer['transactions'] === []) {
        break;
      }
    }
    if ($newest !== $since || $this->inbox->cursor(self::CURSOR) === NULL) {
      $this->inbox->setCursor(self::CURSOR, $newest);
    }
    if ($counts['stored'] > 0) {
      $this->activity->received($counts['stored']);
    }
    return $counts;
  }

  /**
   * A Lens time as the RFC 3339 UTC form the next search may carry, or NULL.
   */
  private static function timestamp(mixed $value): ?string {
    $time = is_string($value) && $value !== '' ? strtotime($value) : FALSE;
    return $time === FALSE ? NULL : gmdate('Y-m-d\TH:i:s\Z', $time);
  }

}
