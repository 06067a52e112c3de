<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Unit;

use Drupal\Tests\UnitTestCase;
use Drupal\trading_grid\Form\MappingForm;
use Drupal\trading_grid\Sync\Mapping;
use Drupal\trading_grid\Sync\PayloadBuilder;

/**
 * Stored mappings become \TradingGrid\Mapper specs, and the PHP projection used
 * without the extension builds the same payload shape.
 *
 * @group trading_grid
 */
final class MappingTest extends UnitTestCase {

  /**
   * A partner mapping as stored.
   */
  private function mapping(): Mapping {
    return Mapping::fromConfig([
      'id' => 'user_partner',
      'entity_type' => 'user',
      'bundle' => 'user',
      'operation' => 'partner.upsert',
      'status' => TRUE,
      'fields' => [
        ['target' => 'externalId', 'source' => 'tg_external_id', 'transforms' => [], 'default' => NULL],
        ['target' => 'companyName', 'source' => 'field_company', 'transforms' => ['trim'], 'default' => NULL],
        ['target' => 'partnerType', 'source' => 'field_type', 'transforms' => ['enum:Carrier=carrier,Supplier=supplier'], 'default' => NULL],
        ['target' => 'country', 'source' => 'field_country', 'transforms' => ['uppercase'], 'default' => 'DE'],
        ['target' => 'contactEmail', 'source' => 'mail', 'transforms' => ['trim', 'lowercase'], 'default' => NULL],
        ['target' => 'attributes.since', 'source' => 'created', 'transforms' => ['date:Y-m-d'], 'default' => NULL],
        ['target' => 'revision', 'source' => 'changed', 'transforms' => ['int'], 'default' => NULL],
      ],
    ]);
  }

  /**
   * An account's values.
   *
   * @return array<string, mixed>
   *   Values as EntityValues gives them.
   */
  private function values(): array {
    return [
      'tg_external_id' => 'drupal-user-42',
      'field_company' => '  Acme Freight ',
      'field_type' => 'Carrier',
      'field_country' => NULL,
      'mail' => ' Ops@Acme.Example ',
      'created' => 1764000000,
      'changed' => '1764000100',
    ];
  }

  /**
   * The stored transforms become the Mapper's.
   */
  public function testMapperSpecFormat(): void {
    $spec = $this->mapping()->mapperSpec();
    $this->assertSame('field_company', $spec['companyName']['source']);
    $this->assertSame(['trim'], $spec['companyName']['transforms']);
    $this->assertSame([['enum' => ['Carrier' => 'carrier', 'Supplier' => 'supplier']]], $spec['partnerType']['transforms']);
    $this->assertSame([['date' => 'Y-m-d']], $spec['attributes.since']['transforms']);
    $this->assertSame('DE', $spec['country']['default']);
    $this->assertArrayNotHasKey('default', $spec['companyName']);
  }

  /**
   * Without the extension the spec is applied in PHP the same way.
   */
  public function testProjectionAppliesTransformsDefaultsAndPaths(): void {
    $payload = PayloadBuilder::project($this->mapping()->mapperSpec(), $this->values());
    $this->assertSame([
      'externalId' => 'drupal-user-42',
      'companyName' => 'Acme Freight',
      'partnerType' => 'carrier',
      'country' => 'DE',
      'contactEmail' => 'ops@acme.example',
      'attributes' => ['since' => gmdate('Y-m-d', 1764000000)],
      'revision' => 1764000100,
    ], $payload);
  }

  /**
   * With the extension, \TradingGrid\Mapper builds the same payload.
   */
  public function testExtensionMapperAgreesWithProjection(): void {
    if (!class_exists('\TradingGrid\Mapper')) {
      $this->markTestSkipped('Needs the trading_grid PHP extension.');
    }
    $values = $this->values();
    $spec = $this->mapping()->mapperSpec();
    unset($spec['attributes.since']);
    $fromExtension = (new \TradingGrid\Mapper('partner.upsert', $spec))->apply($values);
    $this->assertEquals(PayloadBuilder::project($spec, $values), $fromExtension);
  }

  /**
   * The mapping form's text round-trips, and a bad line is named.
   */
  public function testMappingTextRoundTrips(): void {
    $mapping = $this->mapping();
    $fields = MappingForm::fromText(MappingForm::toText($mapping));
    $this->assertSame($mapping->fields, $fields);
    $this->expectException(\InvalidArgumentException::class);
    $this->expectExceptionMessage('Line 2');
    MappingForm::fromText("externalId = tg_external_id\nno equals sign here");
  }

}
