<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\node\NodeInterface;
use Drupal\trading_grid\Flow\TradingIssue\TradingExceptionScanner;
use Drupal\trading_grid_test\ScriptedNetwork;

/**
 * Failed transactions Lens reports become trading issues of the right partner, once.
 *
 * @group trading_grid
 */
final class TradingExceptionTest extends TradingGridKernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid_test'];

  /**
   * Lens's transactions, as the scripted network serves them.
   *
   * @param list<array<string, mixed>> $transactions
   *   Transactions.
   */
  private function lens(array $transactions): void {
    $this->container->get('state')->set(ScriptedNetwork::TRANSACTIONS, $transactions);
  }

  /**
   * Scans Lens and handles what it found.
   *
   * @return array{seen: int, stored: int, since: string}
   *   What the scan read.
   */
  private function scan(): array {
    $counts = $this->container->get('trading_grid.trading_exception_scanner')->scan(3650);
    $this->container->get('trading_grid.delivery')->handleEvents(5.0, 'test');
    return $counts;
  }

  /**
   * The trading issues on the site, by title.
   *
   * @return array<string, \Drupal\node\NodeInterface>
   *   Issues.
   */
  private function issues(): array {
    $storage = $this->container->get('entity_type.manager')->getStorage('node');
    $storage->resetCache();
    $ids = $storage->getQuery()->accessCheck(FALSE)->condition('type', 'trading_grid_issue')->sort('nid')->execute();
    $issues = [];
    foreach ($storage->loadMultiple($ids) as $node) {
      $issues[$node->label()] = $node;
    }
    return $issues;
  }

  private static function asn(string $id, string $arrived, string $address = 'ZZ:ACMEFREIGHT'): array {
    return [
      'transactionid' => $id, 'editype' => '856', 'status' => 'F', 'arrivaltime' => $arrived,
      'errorcode' => 'DLV-0503', 'externalerrormessage' => 'The receiving mailbox did not accept the ship notice',
      'senderaddress' => $address, 'receiveraddress' => 'ZZ:HUB',
      'contentkeys' => [
        ['key' => 'purchase order number', 'value' => 'PO-000042'],
        ['key' => 'shipment identification', 'value' => 'SH-' . $id],
      ],
    ];
  }

  /**
   * A failed ship notice becomes a high-priority shipment discrepancy of the
   * partner trading under its address, owned by that partner, raised on the
   * network through the outbox, and its organisation hears of it.
   */
  public function testAFailedShipNoticeBecomesTheSendersShipmentDiscrepancy(): void {
    $partner = $this->createPartner('Acme Freight', [
      'field_tg_trading_grid_id' => 'GC000ACME',
      'field_tg_membership_status' => 'active',
    ]);
    $this->container->get('state')->set(ScriptedNetwork::DIRECTORY, ['ZZ:ACMEFREIGHT' => 'GC000ACME']);
    $this->lens([
      self::asn('LT1', '2026-11-02T08:00:00Z'),
      ['transactionid' => 'LT0', 'editype' => '850', 'status' => 'S', 'arrivaltime' => '2026-11-01T08:00:00Z'],
    ]);

    $counts = $this->scan();
    $this->assertSame(1, $counts['seen'], 'a delivered purchase order is no exception');
    $issues = $this->issues();
    $this->assertSame(['Ship notice SH-LT1 failed delivery'], array_keys($issues));
    $issue = $issues['Ship notice SH-LT1 failed delivery'];
    $this->assertSame('shipment_discrepancy', $issue->get('field_tg_issue_type')->value);
    $this->assertSame('high', $issue->get('field_tg_priority')->value);
    $this->assertSame('open', $issue->get('field_tg_issue_status')->value);
    $this->assertSame('PO-000042', $issue->get('field_tg_po_number')->value);
    $this->assertSame('SH-LT1', $issue->get('field_tg_shipment_number')->value);
    $this->assertSame('Acme Freight', $issue->get('field_tg_organisation')->value);
    $this->assertSame((int) $partner->id(), (int) $issue->getOwnerId());
    $this->assertStringContainsString('DLV-0503 The receiving mailbox did not accept the ship notice', $issue->get('field_tg_description')->value);
    $this->assertTrue($issue->isPublished());

    $this->assertSame(['issue.create'], $this->outboxOps('node', (string) $issue->id()));
    $payload = $this->outboxRows('node', (string) $issue->id())[0]['payload'];
    $this->assertSame('shipment_discrepancy', $payload['type']);
    $this->assertSame('drupal-user-' . $partner->id(), $payload['partnerExternalId']);
    $this->assertSame(['purchaseOrder' => 'PO-000042', 'shipment' => 'SH-LT1'], array_filter($payload['references']));

    $link = $this->container->get('trading_grid.link_store')->findByRemote('lens', 'LT1');
    $this->assertSame((string) $issue->id(), $link['entityId']);
    $subjects = array_column($this->container->get('trading_grid.notifier')->notices($partner), 'subject');
    $this->assertContains('Trading issue raised from Trading Grid', $subjects);
  }

  /**
   * Scanning again, handling the event again, or a transaction arriving in the
   * same second as the watermark: each transaction gives one issue, none is missed.
   */
  public function testEachTransactionGivesOneIssueWhateverIsReadAgain(): void {
    $this->lens([self::asn('LT1', '2026-11-02T08:00:00Z')]);
    $this->scan();
    $this->assertCount(1, $this->issues());
    $this->assertSame('2026-11-02T08:00:00Z', $this->container->get('trading_grid.inbox')->cursor(TradingExceptionScanner::CURSOR));

    // The inclusive watermark reads LT1 again; a transaction of the same second is new.
    $this->lens([self::asn('LT1', '2026-11-02T08:00:00Z'), self::asn('LT2', '2026-11-02T08:00:00Z')]);
    $counts = $this->scan();
    $this->assertSame(2, $counts['seen']);
    $this->assertSame(1, $counts['stored']);
    $this->assertCount(2, $this->issues());

    // Handling the event again (a worker that died before marking it handled, its
    // lease expired) makes no second issue.
    $stored = $this->container->get('trading_grid.inbox')->get('lens:LT1');
    $this->assertIsArray($stored);
    $this->container->get('trading_grid.event_processor')->handle($stored['event']);
    $this->assertCount(2, $this->issues());
  }

  /**
   * An invoice that failed validation is an invoice dispute; a transaction no
   * partner trades under stays with staff: no organisation, staff are told, and
   * (with the extension) the sync log says why it was not sent: no partner to
   * address it to.
   */
  public function testAnInvoiceWithNoKnownPartnerWaitsForStaff(): void {
    $this->lens([[
      'transactionid' => 'LT9', 'editype' => '810', 'status' => 'V', 'arrivaltime' => '2026-11-03T08:00:00Z',
      'errorcode' => 'VAL-0117', 'senderaddress' => 'ZZ:STRANGER',
      'contentkeys' => [['key' => 'invoice number', 'value' => 'INV-7']],
    ]]);
    $this->scan();
    $issues = $this->issues();
    $this->assertSame(['Invoice INV-7 failed validation'], array_keys($issues));
    $issue = reset($issues);
    $this->assertInstanceOf(NodeInterface::class, $issue);
    $this->assertSame('invoice_dispute', $issue->get('field_tg_issue_type')->value);
    $this->assertSame('normal', $issue->get('field_tg_priority')->value);
    $this->assertSame('', (string) $issue->get('field_tg_organisation')->value);
    if ($this->container->get('trading_grid.payload_builder')->validates()) {
      // With the extension the payload is validated before it is queued.
      $this->assertSame([], $this->outboxOps('node', (string) $issue->id()));
      $link = $this->container->get('trading_grid.link_store')->get('node', (string) $issue->id(), 'issue');
      $this->assertStringContainsString('partnerExternalId', (string) $link['lastError']);
    }
    else {
      // Without it the extension refuses the payload when it is sent instead.
      $this->assertSame(['issue.create'], $this->outboxOps('node', (string) $issue->id()));
      $this->assertArrayNotHasKey('partnerExternalId', array_filter($this->outboxRows('node', (string) $issue->id())[0]['payload']));
    }
    $admin = $this->container->get('entity_type.manager')->getStorage('user')->load(1);
    $subjects = array_column($this->container->get('trading_grid.notifier')->notices($admin), 'subject');
    $this->assertContains('Trading issue raised from Trading Grid', $subjects);
  }

}
