<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Extension;

use PHPUnit\Framework\TestCase;
use TradingGrid\ApiException;
use TradingGrid\AuthException;
use TradingGrid\Tests\Sandbox;
use TradingGrid\ValidationException;

final class ClientErrorsTest extends TestCase
{
    private Sandbox $sandbox;

    protected function setUp(): void
    {
        $this->sandbox = Sandbox::shared();
        $this->sandbox->reset();
    }

    public function testInvalidPartnerIsRefusedLocallyNamingEveryField(): void
    {
        $before = $this->sandbox->stats()['requests'] ?? 0;
        try {
            $this->sandbox->client()->upsertPartner([
                'externalId' => 'drupal-user-1',
                'companyName' => '',
                'partnerType' => 'pirate',
                'country' => 'Germany',
                'contactEmail' => 'not-an-address',
                'revision' => -1,
            ]);
            $this->fail('an invalid partner must be refused');
        } catch (ValidationException $e) {
            $fields = array_column($e->getErrors(), 'field');
            $this->assertSame(['companyName', 'partnerType', 'country', 'contactEmail', 'revision'], $fields);
            $this->assertSame('companyName', $e->getField());
            $this->assertStringContainsString('companyName: must not be empty', $e->getMessage());
        }
        $this->assertSame($before, $this->sandbox->stats()['requests'] ?? 0, 'nothing was sent');
    }

    public function testNestedFieldPathsAreNamed(): void
    {
        $this->expectException(ValidationException::class);
        $this->expectExceptionMessage('references.invoice: is required for an invoice dispute');
        $this->sandbox->client()->createIssue([
            'externalId' => 'drupal-node-9',
            'type' => 'invoice_dispute',
            'title' => 'Short payment',
            'description' => 'Invoice paid 10% short',
            'partnerExternalId' => 'drupal-user-42',
        ]);
    }

    public function testBadOptionsNameTheOption(): void
    {
        try {
            new \TradingGrid\Client($this->sandbox->clientOptions(['concurrency' => 0, 'timeoutMs' => 'soon']));
            $this->fail('bad options must be refused');
        } catch (ValidationException $e) {
            $this->assertSame('timeoutMs', $e->getField());
        }
        try {
            new \TradingGrid\Client(['baseUrl' => 'http://partners.example.com']);
            $this->fail('plain http off loopback must be refused');
        } catch (ValidationException $e) {
            $this->assertSame('baseUrl', $e->getField());
            $fields = array_column($e->getErrors(), 'field');
            $this->assertSame(['baseUrl', 'tenant', 'clientId', 'clientSecret'], $fields);
        }
    }

    public function testWrongCredentialsThrowAuthExceptionWithoutTheSecret(): void
    {
        $client = $this->sandbox->client(['clientSecret' => 'wrong-secret-value-xyz']);
        try {
            $client->communities();
            $this->fail('wrong credentials must be refused');
        } catch (AuthException $e) {
            $this->assertStringContainsString('refused client id', $e->getMessage());
            $this->assertStringNotContainsString('wrong-secret-value-xyz', $e->getMessage());
            $this->assertStringNotContainsString('wrong-secret-value-xyz', (string) $e);
        }
    }

    public function testServerSideValidationComesBackAsValidationException(): void
    {
        // A community that does not exist passes local validation but not the network's.
        try {
            $this->sandbox->client()->upsertPartner([
                'externalId' => 'drupal-user-3', 'companyName' => 'Acme', 'partnerType' => 'supplier',
                'country' => 'FR', 'contactEmail' => 'a@acme.example', 'revision' => 1,
                'communities' => ['no-such-community'],
            ]);
            $this->fail('an unknown community must be refused by the sandbox');
        } catch (ValidationException $e) {
            $this->assertStringStartsWith('communities', $e->getField());
        }
    }

    public function testNotFoundIsAnApiExceptionWithStatusAndProblem(): void
    {
        try {
            $this->sandbox->client()->getPartner('drupal-user-missing');
            $this->fail('a missing partner must throw');
        } catch (ApiException $e) {
            $this->assertSame(404, $e->getStatus());
            $this->assertSame(404, $e->getProblem()['status']);
        }
    }
}
