<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\trading_grid\Connection\ClientFactory;
use Drupal\trading_grid\Delivery\ExtensionSender;
use Drupal\trading_grid\Delivery\SenderInterface;
use Drupal\trading_grid\Store\LinkStore;

/**
 * Fills in remote ids that were unknown when an op was enqueued, then sends.
 *
 * A comment written right after its issue is enqueued with a placeholder issue id
 * (see ExternalId::pendingRemote()). Rows of one ordering key are sent in order, so
 * by the time the comment is sent the issue's create was answered and its id is in
 * the link table. An op whose reference is still unknown comes back as a retryable
 * failure, so it is retried and, if it never resolves, dead-lettered where a person
 * sees it.
 */
final class ReferenceResolvingSender implements SenderInterface {

  public function __construct(
    private readonly SenderInterface $inner,
    private readonly LinkStore $links,
    private readonly ?ClientFactory $clients = NULL,
  ) {}

  /**
   * What stops sending right now, in plain words; empty when it can send.
   *
   * @return string[]
   *   The problems.
   */
  public function problems(): array {
    if ($this->inner instanceof ExtensionSender && $this->clients !== NULL) {
      return $this->clients->problems();
    }
    return [];
  }

  /**
   * {@inheritdoc}
   */
  public function sendBatch(array $ops): array {
    $results = [];
    $ready = [];
    foreach ($ops as $key => $op) {
      $missing = NULL;
      if (is_array($op) && is_array($op['payload'] ?? NULL)) {
        foreach ($op['payload'] as $field => $value) {
          $ref = ExternalId::parsePendingRemote($value);
          if ($ref === NULL) {
            continue;
          }
          [$flow, $entityType, $entityId] = $ref;
          $remote = $this->links->get($entityType, $entityId, $flow)['remoteId'] ?? NULL;
          if (is_string($remote) && $remote !== '') {
            $op['payload'][$field] = $remote;
          }
          else {
            $missing = "$field: the $flow of $entityType $entityId has no Trading Grid id yet";
            break;
          }
        }
      }
      if ($missing !== NULL) {
        $results[$key] = [
          'id' => $op['id'] ?? (string) $key,
          'ok' => FALSE,
          'status' => 0,
          'attempts' => 0,
          'result' => NULL,
          'error' => ['class' => 'api', 'retryable' => TRUE, 'retryAfter' => 60, 'message' => $missing],
        ];
      }
      else {
        $ready[$key] = $op;
      }
    }
    if ($ready !== []) {
      $answers = $this->inner->sendBatch(array_values($ready));
      $byId = [];
      foreach ($answers as $answer) {
        if (is_array($answer) && isset($answer['id'])) {
          $byId[(string) $answer['id']] = $answer;
        }
      }
      $position = 0;
      foreach ($ready as $key => $op) {
        $answer = $answers[$position] ?? NULL;
        if (!is_array($answer) || ($answer['id'] ?? NULL) !== ($op['id'] ?? NULL)) {
          $answer = $byId[(string) ($op['id'] ?? '')] ?? NULL;
        }
        if ($answer !== NULL) {
          $results[$key] = $answer;
        }
        $position++;
      }
    }
    // One result per op, in the input order.
    $ordered = [];
    foreach (array_keys($ops) as $key) {
      if (isset($results[$key])) {
        $ordered[$key] = $results[$key];
      }
    }
    return $ordered;
  }

}
