<?php

declare(strict_types=1);

namespace Drupal\trading_grid_test;

use Drupal\Core\State\StateInterface;
use Drupal\trading_grid\Delivery\SenderInterface;

/**
 * Answers every op as Trading Grid would, and records what was sent in state.
 *
 * Ops named in state "trading_grid_test.refuse" come back as validation errors
 * (not retryable), to make dead letters.
 */
final class RecordingSender implements SenderInterface {

  public const SENT = 'trading_grid_test.sent';

  public const REFUSE = 'trading_grid_test.refuse';

  public function __construct(private readonly StateInterface $state) {}

  /**
   * {@inheritdoc}
   */
  public function sendBatch(array $ops): array {
    $sent = $this->state->get(self::SENT, []);
    $refuse = $this->state->get(self::REFUSE, []);
    $results = [];
    foreach ($ops as $key => $op) {
      $sent[] = $op;
      if (in_array($op['op'], $refuse, TRUE)) {
        $results[$key] = ['id' => $op['id'], 'ok' => FALSE, 'status' => 422, 'attempts' => 1, 'result' => NULL,
          'error' => ['class' => 'validation', 'retryable' => FALSE, 'retryAfter' => NULL, 'message' => 'refused by the test']];
        continue;
      }
      $results[$key] = ['id' => $op['id'], 'ok' => TRUE, 'status' => 200, 'attempts' => 1,
        'result' => self::answer($op['op'], (array) $op['payload']), 'error' => NULL];
    }
    $this->state->set(self::SENT, $sent);
    return $results;
  }

  /**
   * What Trading Grid answers to an op.
   *
   * @param array<string, mixed> $payload
   *   The payload.
   *
   * @return array<string, mixed>
   *   The answer.
   */
  private static function answer(string $op, array $payload): array {
    return match ($op) {
      'partner.upsert' => ['partnerId' => 'GC-' . $payload['externalId'], 'applied' => TRUE],
      'access_request.create' => ['requestId' => 'AR-' . $payload['communityId'], 'status' => 'pending'],
      'issue.create' => ['issueId' => 'TI-' . $payload['externalId'], 'status' => 'open'],
      'issue.comment' => ['commentId' => 'CM-' . ($payload['externalId'] ?? 'x'), 'issueId' => $payload['issueId']],
      'issue.status' => ['issueId' => $payload['issueId'], 'status' => $payload['status']],
      'document.publish' => ['documentId' => $payload['documentId'], 'version' => $payload['version'], 'status' => 'published'],
      'document.retract' => ['documentId' => $payload['documentId'], 'status' => 'retracted'],
      'catalog.upsert', 'catalog.withdraw' => ['itemId' => $payload['itemId'], 'applied' => TRUE],
      'notification.create' => ['notificationId' => 'N-1'],
      default => ['applied' => TRUE],
    };
  }

}
