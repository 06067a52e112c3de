<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Functional;

use Drupal\Tests\BrowserTestBase;
use Drupal\trading_grid\Store\Outbox;

/**
 * The sync log lists the outbox, filters it, and replays dead letters.
 *
 * @group trading_grid
 */
final class SyncLogTest extends BrowserTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid'];

  /**
   * {@inheritdoc}
   */
  protected $defaultTheme = 'stark';

  /**
   * Makes a dead letter, as a refused delivery would.
   */
  private function deadLetter(string $externalId, string $error): int {
    $outbox = $this->container->get('trading_grid.outbox');
    $id = $outbox->enqueue('partner.upsert', ['externalId' => $externalId], 'partner:' . $externalId, 'partner', 'user', '99');
    foreach ($outbox->claim('test', 100, 60) as $row) {
      if ($row->id === $id) {
        $this->assertSame(Outbox::DEAD, $outbox->fail($row, 'validation', $error, FALSE));
      }
      else {
        $outbox->release($row);
      }
    }
    return $id;
  }

  /**
   * A dead letter is listed with its error and can be replayed.
   */
  public function testDeadLetterIsListedAndReplayed(): void {
    $id = $this->deadLetter('drupal-user-99', 'companyName: is required');
    $this->drupalLogin($this->drupalCreateUser(['administer trading grid']));

    $this->drupalGet('admin/reports/trading-grid/sync');
    $this->assertSession()->statusCodeEquals(200);
    $this->assertSession()->pageTextContains('partner.upsert');
    $this->assertSession()->pageTextContains('dead letter');
    $this->assertSession()->pageTextContains('companyName: is required');
    $this->assertSession()->linkByHrefExists("/admin/reports/trading-grid/sync/$id/replay");

    $this->drupalGet('admin/reports/trading-grid/sync', ['query' => ['state' => 'dead', 'flow' => 'partner']]);
    $this->assertSession()->pageTextContains('companyName: is required');
    $this->drupalGet('admin/reports/trading-grid/sync', ['query' => ['flow' => 'document']]);
    $this->assertSession()->pageTextNotContains('companyName: is required');

    $this->drupalGet("admin/reports/trading-grid/sync/$id/replay");
    $this->assertSession()->pageTextContains('companyName: is required');
    $this->submitForm([], 'Replay');
    $this->assertSession()->pageTextContains("Outbox row $id will be sent again.");
    $row = $this->container->get('trading_grid.outbox')->get($id);
    $this->assertSame('pending', $row['status']);
    $this->assertSame(0, $row['attempts']);
  }

  /**
   * Every dead letter can be replayed at once.
   */
  public function testBulkReplay(): void {
    $this->deadLetter('drupal-user-97', 'first');
    $this->deadLetter('drupal-user-98', 'second');
    $this->drupalLogin($this->drupalCreateUser(['administer trading grid']));
    $this->drupalGet('admin/reports/trading-grid/sync/replay-dead');
    $this->assertSession()->pageTextContains('Replay 2 dead letters?');
    $this->submitForm([], 'Replay all');
    $this->assertSession()->pageTextContains('2 dead letters will be sent again.');
    $this->assertSame(0, $this->container->get('trading_grid.outbox')->count(['state' => Outbox::DEAD]));
  }

  /**
   * The sync log, dashboard and events are for administrators only.
   */
  public function testReportsNeedPermission(): void {
    $this->drupalLogin($this->drupalCreateUser(['access content']));
    foreach (['admin/reports/trading-grid/sync', 'admin/reports/trading-grid/inbox', 'admin/reports/trading-grid', 'admin/config/services/trading-grid'] as $path) {
      $this->drupalGet($path);
      $this->assertSession()->statusCodeEquals(403);
    }
    $this->drupalLogin($this->drupalCreateUser(['view trading grid dashboard']));
    $this->drupalGet('admin/reports/trading-grid');
    $this->assertSession()->statusCodeEquals(200);
    $this->assertSession()->responseContains('<svg');
  }

}
