<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

/**
 * One bundle mapped to one Trading Grid operation: payload path ⇐ source value.
 *
 * Stored in trading_grid.mappings; mapperSpec() gives the \TradingGrid\Mapper format.
 */
final class Mapping {

  /**
   * The operations a bundle can be mapped to, with the flow that carries each.
   */
  public const OPERATIONS = [
    'partner.upsert' => 'partner',
    'issue.create' => 'issue',
    'document.publish' => 'document',
    'catalog.upsert' => 'catalog',
  ];

  /**
   * @param list<array{target: string, source: ?string, transforms: list<string>, default: ?string}> $fields
   *   The payload fields.
   */
  public function __construct(
    public readonly string $id,
    public readonly string $entityType,
    public readonly string $bundle,
    public readonly string $operation,
    public readonly bool $status,
    public readonly array $fields,
  ) {}

  /**
   * A mapping from its configuration array.
   *
   * @param array<string, mixed> $data
   *   The stored mapping.
   */
  public static function fromConfig(array $data): self {
    $fields = [];
    foreach ((array) ($data['fields'] ?? []) as $field) {
      if (!is_array($field) || trim((string) ($field['target'] ?? '')) === '') {
        continue;
      }
      $source = isset($field['source']) && $field['source'] !== '' ? (string) $field['source'] : NULL;
      $default = isset($field['default']) && $field['default'] !== '' ? (string) $field['default'] : NULL;
      $fields[] = [
        'target' => trim((string) $field['target']),
        'source' => $source,
        'transforms' => array_values(array_map('strval', (array) ($field['transforms'] ?? []))),
        'default' => $default,
      ];
    }
    return new self(
      (string) ($data['id'] ?? ''),
      (string) ($data['entity_type'] ?? ''),
      (string) ($data['bundle'] ?? ''),
      (string) ($data['operation'] ?? ''),
      (bool) ($data['status'] ?? TRUE),
      $fields,
    );
  }

  /**
   * The configuration array of this mapping.
   *
   * @return array<string, mixed>
   *   What trading_grid.mappings stores.
   */
  public function toConfig(): array {
    return [
      'id' => $this->id,
      'entity_type' => $this->entityType,
      'bundle' => $this->bundle,
      'operation' => $this->operation,
      'status' => $this->status,
      'fields' => $this->fields,
    ];
  }

  /**
   * The flow this mapping feeds.
   */
  public function flow(): string {
    return self::OPERATIONS[$this->operation] ?? 'custom';
  }

  /**
   * The spec in \TradingGrid\Mapper's format.
   *
   * @return array<string, array<string, mixed>>
   *   Payload path => ['source' => ..., 'transforms' => [...], 'default' => ...].
   */
  public function mapperSpec(): array {
    $spec = [];
    foreach ($this->fields as $field) {
      $entry = ['transforms' => array_map([self::class, 'transform'], $field['transforms'])];
      if ($field['source'] !== NULL) {
        $entry['source'] = $field['source'];
      }
      if ($field['default'] !== NULL) {
        $entry['default'] = $field['default'];
      }
      $spec[$field['target']] = $entry;
    }
    return $spec;
  }

  /**
   * One stored transform in the Mapper format: "date:Y-m-d" ⇒ ['date' => 'Y-m-d'],
   * "enum:Carrier=carrier,Supplier=supplier" ⇒ ['enum' => [...]], names unchanged.
   *
   * @return string|array<string, mixed>
   *   The transform.
   */
  public static function transform(string $stored): string|array {
    if (str_starts_with($stored, 'date:')) {
      return ['date' => substr($stored, 5)];
    }
    if (str_starts_with($stored, 'enum:')) {
      $map = [];
      foreach (explode(',', substr($stored, 5)) as $pair) {
        if (str_contains($pair, '=')) {
          [$from, $to] = explode('=', $pair, 2);
          $map[trim($from)] = trim($to);
        }
      }
      return ['enum' => $map];
    }
    return $stored;
  }

}
