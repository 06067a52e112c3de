<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Unit;

use Drupal\Tests\UnitTestCase;
use Drupal\trading_grid\Delivery\SenderInterface;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Schema;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\ReferenceResolvingSender;

/**
 * Placeholders for remote ids are filled from the link table before sending; an
 * op whose id is still unknown is not sent and comes back retryable.
 *
 * @group trading_grid
 */
final class ReferenceResolvingSenderTest extends UnitTestCase {

  /**
   * Records what reaches the network.
   */
  private function inner(array &$sent): SenderInterface {
    return new class($sent) implements SenderInterface {

      public function __construct(private array &$sent) {}

      public function sendBatch(array $ops): array {
        $results = [];
        foreach ($ops as $op) {
          $this->sent[] = $op;
          $results[] = ['id' => $op['id'], 'ok' => TRUE, 'status' => 201, 'attempts' => 1, 'result' => [], 'error' => NULL];
        }
        return $results;
      }

    };
  }

  /**
   * Known ids are filled in; unknown ones hold the op back, retryable.
   */
  public function testPlaceholdersAreResolvedOrHeldBack(): void {
    $pdo = new \PDO('sqlite::memory:', NULL, NULL, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
    Schema::install($pdo);
    $links = new LinkStore($pdo);
    $links->record('node', '9', 'issue', LinkStore::SYNCED, 'TI1');
    $sent = [];
    $sender = new ReferenceResolvingSender($this->inner($sent), $links);
    $results = $sender->sendBatch([
      ['id' => 'outbox-1', 'op' => 'issue.comment', 'payload' => ['issueId' => ExternalId::pendingRemote('issue', 'node', '9'), 'author' => 'a', 'body' => 'b']],
      ['id' => 'outbox-2', 'op' => 'issue.comment', 'payload' => ['issueId' => ExternalId::pendingRemote('issue', 'node', '10'), 'author' => 'a', 'body' => 'b']],
    ]);
    $this->assertCount(1, $sent);
    $this->assertSame('TI1', $sent[0]['payload']['issueId']);
    $this->assertTrue($results[0]['ok']);
    $this->assertFalse($results[1]['ok']);
    $this->assertTrue($results[1]['error']['retryable']);
    $this->assertSame('outbox-2', $results[1]['id']);
    $this->assertSame([0, 1], array_keys($results));
  }

}
