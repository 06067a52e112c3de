<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

/**
 * Applies a mapping to an entity's values.
 *
 * With the extension loaded, \TradingGrid\Mapper applies and validates (errors name
 * the payload path and the source field). Without it, the same spec is applied here
 * without validation, so the portal keeps recording its changes in the outbox; the
 * extension validates them again when they are sent.
 */
final class PayloadBuilder {

  /**
   * Whether payloads are validated (the extension is loaded).
   */
  public function validates(): bool {
    return class_exists('\TradingGrid\Mapper');
  }

  /**
   * The payload of an operation for these values.
   *
   * @param array<string, mixed> $values
   *   The entity's values (see EntityValues).
   *
   * @return array<string, mixed>
   *   The payload.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  public function build(Mapping $mapping, array $values): array {
    $spec = $mapping->mapperSpec();
    if ($this->validates()) {
      try {
        $mapper = new \TradingGrid\Mapper($mapping->operation, $spec);
        $payload = $mapper->apply($values);
      }
      catch (\TradingGrid\ValidationException $e) {
        throw new InvalidPayloadException($e->getMessage(), (string) $e->getField(), $e);
      }
      return is_array($payload) ? $payload : [];
    }
    return self::project($spec, $values);
  }

  /**
   * Validates a payload built by hand (an op that no mapping describes).
   *
   * @param array<string, mixed> $payload
   *   The payload.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  public function validate(string $operation, array $payload): void {
    if (!$this->validates()) {
      return;
    }
    try {
      \TradingGrid\Mapper::validate($operation, $payload);
    }
    catch (\TradingGrid\ValidationException $e) {
      throw new InvalidPayloadException($e->getMessage(), (string) $e->getField(), $e);
    }
  }

  /**
   * Applies a Mapper spec in PHP, the way the extension does, minus validation.
   *
   * @param array<string, array<string, mixed>> $spec
   *   The spec.
   * @param array<string, mixed> $values
   *   The values.
   *
   * @return array<string, mixed>
   *   The payload.
   */
  public static function project(array $spec, array $values): array {
    $payload = [];
    foreach ($spec as $target => $field) {
      $value = isset($field['source']) ? self::lookup($values, (string) $field['source']) : NULL;
      if ($value === NULL || $value === '' || $value === []) {
        if (!array_key_exists('default', $field) || $field['default'] === NULL) {
          continue;
        }
        $value = $field['default'];
      }
      foreach ((array) ($field['transforms'] ?? []) as $transform) {
        $value = self::transform($value, $transform);
      }
      $cursor = &$payload;
      $parts = explode('.', (string) $target);
      $last = array_pop($parts);
      foreach ($parts as $part) {
        if (!isset($cursor[$part]) || !is_array($cursor[$part])) {
          $cursor[$part] = [];
        }
        $cursor = &$cursor[$part];
      }
      $cursor[$last] = $value;
      unset($cursor);
    }
    return $payload;
  }

  /**
   * Reads a dotted path, unwrapping a one-item Drupal field list.
   */
  private static function lookup(array $values, string $path): mixed {
    $cursor = $values;
    foreach (explode('.', $path) as $part) {
      if (!is_array($cursor) || !array_key_exists($part, $cursor)) {
        return NULL;
      }
      $cursor = $cursor[$part];
    }
    if (is_array($cursor) && count($cursor) === 1 && isset($cursor[0]) && is_array($cursor[0])) {
      return $cursor[0]['value'] ?? $cursor[0]['target_id'] ?? $cursor;
    }
    return $cursor;
  }

  /**
   * One transform, leniently: a value it cannot convert passes unchanged.
   */
  private static function transform(mixed $value, string|array $transform): mixed {
    if (is_array($transform)) {
      if (isset($transform['date'])) {
        $time = is_numeric($value) ? (int) $value : strtotime((string) $value);
        return $time === FALSE ? $value : gmdate(strtr((string) $transform['date'], ['c' => 'Y-m-d\TH:i:s\Z']), $time);
      }
      if (isset($transform['enum']) && is_array($transform['enum']) && is_scalar($value)) {
        return $transform['enum'][(string) $value] ?? $value;
      }
      return $value;
    }
    if (!is_scalar($value)) {
      return $value;
    }
    return match ($transform) {
      'trim' => trim((string) $value),
      'lowercase' => mb_strtolower((string) $value),
      'uppercase' => mb_strtoupper((string) $value),
      'int' => is_numeric($value) ? (int) $value : $value,
      'bool' => in_array(strtolower((string) $value), ['1', 'true', 'yes', 'on'], TRUE),
      default => $value,
    };
  }

}
