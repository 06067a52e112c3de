<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Extension;

use PHPUnit\Framework\TestCase;
use TradingGrid\ApiException;
use TradingGrid\Tests\Sandbox;
use TradingGrid\ValidationException;

/** Lens transaction search (documented GraphQL) from PHP against the sandbox. */
final class LensTest extends TestCase
{
    private Sandbox $sandbox;
    private \TradingGrid\Client $client;

    protected function setUp(): void
    {
        $this->sandbox = Sandbox::shared();
        $this->sandbox->reset();
        $this->client = $this->sandbox->client();
        $this->sandbox->admin('POST', '/_sandbox/lens/transactions', ['transactions' => [
            ['editype' => '850', 'status' => 'S', 'arrivaltime' => '2026-11-01T08:00:00Z',
             'receiveraddress' => 'ZZ:ACMEFREIGHT', 'contentkeys' => ['purchase order number' => 'PO-7']],
            ['editype' => '856', 'status' => 'F', 'arrivaltime' => '2026-11-02T08:00:00Z', 'errorcode' => 'DLV-0503',
             'externalerrormessage' => 'Mailbox unreachable', 'senderaddress' => 'ZZ:ACMEFREIGHT',
             'contentkeys' => ['purchase order number' => 'PO-7', 'shipment identification' => 'SH-3']],
            ['editype' => '810', 'status' => 'V', 'arrivaltime' => '2026-11-03T08:00:00Z', 'errorcode' => 'VAL-0117',
             'senderaddress' => 'ZZ:ACMEFREIGHT', 'contentkeys' => ['invoice number' => 'INV-3']],
        ]]);
    }

    public function testExceptionsSinceATimeComeOldestFirstWithContentKeys(): void
    {
        $page = $this->client->transactionExceptions('2026-11-01T00:00:00Z', 10);
        $this->assertSame(2, $page['total']);
        $this->assertSame(['856', '810'], array_column($page['transactions'], 'editype'));
        $asn = $page['transactions'][0];
        $this->assertSame('DLV-0503', $asn['errorcode']);
        $this->assertSame('Mailbox unreachable', $asn['externalerrormessage']);
        $keys = array_column($asn['contentkeys'], 'value', 'key');
        $this->assertSame(['purchase order number' => 'PO-7', 'shipment identification' => 'SH-3'], $keys);

        $later = $this->client->transactionExceptions('2026-11-02T09:00:00Z');
        $this->assertSame(['810'], array_column($later['transactions'], 'editype'));
    }

    public function testASearchWithLensArgumentsFiltersPagesAndSorts(): void
    {
        $page = $this->client->searchTransactions([
            'count' => 1, 'offset' => 0,
            'contentKeyFilters' => [['key' => 'purchase order number', 'value' => 'PO-*']],
            'sortby' => ['field' => 'arrivaltime', 'type' => 'DESC'],
            'contentKeys' => ['purchase order number'],
        ]);
        $this->assertSame(2, $page['total']);
        $this->assertSame(1, $page['count']);
        $this->assertSame('856', $page['transactions'][0]['editype']);
        $this->assertSame([['key' => 'purchase order number', 'value' => 'PO-7']], $page['transactions'][0]['contentkeys']);

        $notAcks = $this->client->searchTransactions([
            'filters' => [['field' => 'editype', 'values' => [['value' => '85*']]]],
            'fields' => ['should' => [['field' => 'senderaddress', 'query' => 'ZZ:ACME*'], ['field' => 'receiveraddress', 'query' => 'ZZ:ACME*']]],
        ]);
        $this->assertSame(['850', '856'], array_column($notAcks['transactions'], 'editype'));
    }

    public function testABadSearchIsRefusedByFieldBeforeSending(): void
    {
        $before = $this->sandbox->stats()['requests'];
        try {
            $this->client->searchTransactions(['count' => 5000, 'ranges' => ['field' => 'arrivaltime', 'from' => 'last week'], 'colour' => 'red']);
            $this->fail('refused');
        } catch (ValidationException $e) {
            $fields = array_column($e->getErrors(), 'field');
            $this->assertSame(['count', 'ranges.from', 'colour'], $fields);
        }
        try {
            $this->client->transactionExceptions('yesterday');
            $this->fail('refused');
        } catch (ValidationException $e) {
            $this->assertStringContainsString('ranges.from', $e->getMessage());
        }
        $this->assertSame($before, $this->sandbox->stats()['requests'], 'nothing was sent');
    }

    public function testWhatLensRefusesIsAnApiException(): void
    {
        $this->expectException(ApiException::class);
        $this->expectExceptionMessage('free-text');
        $this->client->searchTransactions(['query' => 'status:F OR deliverystatus:DeliveryFailed']);
    }

    public function testThePartnerDirectoryResolvesATransactionsTradingAddress(): void
    {
        $this->client->upsertPartner([
            'externalId' => 'drupal-user-42', 'companyName' => 'Acme Freight', 'partnerType' => 'carrier',
            'country' => 'DE', 'contactEmail' => 'ops@acme.example', 'tradingAddress' => 'ZZ:ACMEFREIGHT', 'revision' => 1,
        ]);
        $asn = $this->client->transactionExceptions()['transactions'][0];
        $found = $this->client->partnerDirectory(['tradingAddress' => $asn['senderaddress']]);
        $this->assertCount(1, $found['partners']);
        $this->assertSame('Acme Freight', $found['partners'][0]['partnerCompanyName']);
        $this->assertSame([], $this->client->partnerDirectory(['tradingAddress' => 'ZZ:NOBODY'])['partners']);
        $this->assertCount(1, $this->client->partnerDirectory()['partners']);
        try {
            $this->client->partnerDirectory(['colour' => 'red']);
            $this->fail('refused');
        } catch (ValidationException $e) {
            $this->assertSame('filters.colour', $e->getField());
        }
    }
}
