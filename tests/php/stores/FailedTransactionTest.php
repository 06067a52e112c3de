<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Flow\TradingIssue\FailedTransaction;
use PHPUnit\Framework\TestCase;

/** A Lens transaction read as the trading issue a person works on. */
final class FailedTransactionTest extends TestCase
{
    private static function lens(array $t): FailedTransaction
    {
        $failed = FailedTransaction::fromLens($t + ['transactionid' => 'LT1']);
        self::assertNotNull($failed);
        return $failed;
    }

    private static function keys(array $pairs): array
    {
        return array_map(static fn ($k, $v) => ['key' => $k, 'value' => $v], array_keys($pairs), $pairs);
    }

    public function testAFailedShipNoticeIsAHighPriorityShipmentDiscrepancy(): void
    {
        $f = self::lens(['editype' => '856', 'status' => 'F', 'arrivaltime' => '2026-11-02T08:00:00Z',
            'errorcode' => 'DLV-0503', 'externalerrormessage' => 'Mailbox refused', 'senderaddress' => 'ZZ:ACME',
            'receiveraddress' => 'ZZ:HUB', 'correlationid' => 'C-9',
            'contentkeys' => self::keys(['Purchase Order Number' => 'PO-1', 'shipment identification' => 'SH-1'])]);
        $this->assertSame('shipment_discrepancy', $f->issueType());
        $this->assertSame('high', $f->priority());
        $this->assertSame('Ship notice SH-1 failed delivery', $f->title());
        $this->assertSame(['PO-1', '', 'SH-1'], [$f->purchaseOrder(), $f->invoice(), $f->shipment()]);
        $this->assertSame(['ZZ:ACME', 'ZZ:HUB'], $f->addresses());
        $this->assertSame(
            "Trading Grid (Lens) reports that ship notice LT1 failed delivery (arrived 2026-11-02T08:00:00Z).\n"
            . "Error: DLV-0503 Mailbox refused\nFrom ZZ:ACME to ZZ:HUB.\nPurchase order: PO-1\nShipment: SH-1\nCorrelation id: C-9",
            $f->description()
        );
    }

    public function testAnInvalidInvoiceIsAnInvoiceDisputeOnlyWithItsNumber(): void
    {
        $with = self::lens(['editype' => '810', 'status' => 'V', 'contentkeys' => self::keys(['invoice number' => 'INV-7'])]);
        $this->assertSame('invoice_dispute', $with->issueType());
        $this->assertSame('normal', $with->priority());
        $this->assertSame('Invoice INV-7 failed validation', $with->title());
        // Without the number the network would refuse an invoice dispute.
        $without = self::lens(['editype' => '810', 'status' => 'V']);
        $this->assertSame('missing_documentation', $without->issueType());
        $this->assertSame('Invoice failed validation', $without->title());
    }

    public function testOtherDocumentsAreMissingDocumentation(): void
    {
        $po = self::lens(['editype' => '850', 'status' => 'F', 'contentkeys' => self::keys(['purchase order number' => 'PO-3'])]);
        $this->assertSame('missing_documentation', $po->issueType());
        $this->assertSame('Purchase order PO-3 failed delivery', $po->title());
        $unknown = self::lens(['editype' => '214', 'status' => 'H']);
        $this->assertSame('EDI 214 document needs attention', $unknown->title());
        $this->assertStringContainsString('needs attention (status H)', $unknown->description());
        $this->assertSame('Business document needs attention', self::lens([])->title());
    }

    public function testWhatCannotBeReadIsLeftOutNotGuessed(): void
    {
        $this->assertNull(FailedTransaction::fromLens(['editype' => '856']));
        $this->assertNull(FailedTransaction::fromLens(['transactionid' => ['nested']]));
        $f = self::lens(['editype' => ['x'], 'contentkeys' => [['key' => 'invoice number'], 'junk', ['key' => 'invoice number', 'value' => '  ']]]);
        $this->assertSame('', $f->invoice());
        $long = self::lens(['editype' => '810', 'status' => 'V', 'contentkeys' => self::keys(['invoice number' => str_repeat('9', 300)])]);
        $this->assertSame(64, mb_strlen($long->invoice()));
        $this->assertLessThanOrEqual(200, mb_strlen($long->title()));
    }
}
