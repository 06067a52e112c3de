<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Database\Connection;
use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\MetricsStore;
use Drupal\trading_grid\Store\Outbox;

/**
 * Builds the PDO stores on the site's own database connection.
 *
 * The stores get the very PDO Drupal uses, so an outbox row written from an entity
 * hook is part of the entity save's transaction: both commit, or neither does.
 */
final class StoreFactory {

  private ?string $prefix = NULL;

  public function __construct(private readonly Connection $database) {}

  /**
   * The PDO under the Drupal connection.
   */
  public function pdo(): \PDO {
    $pdo = $this->database->getClientConnection();
    if (!$pdo instanceof \PDO) {
      throw new \LogicException('The Trading Grid stores need a PDO-based database driver.');
    }
    return $pdo;
  }

  /**
   * The table prefix the stores put before their table names.
   */
  public function prefix(): string {
    if ($this->prefix === NULL) {
      $this->prefix = self::storePrefix($this->database->getPrefix(), $this->database->databaseType());
    }
    return $this->prefix;
  }

  /**
   * Turns Drupal's prefix into the stores' prefix.
   *
   * Drupal's SQLite driver keeps a prefixed site (every test site among them) in an
   * attached database and gives the prefix as "schema."; the PostgreSQL driver may do
   * the same with a schema. The stores accept a schema-qualified prefix as long as
   * each part is a plain identifier.
   */
  public static function storePrefix(string $drupalPrefix, string $databaseType): string {
    if ($drupalPrefix !== '' && !preg_match('/^[A-Za-z0-9_]+\.?[A-Za-z0-9_]*$/', $drupalPrefix)) {
      throw new \LogicException(sprintf('The table prefix "%s" cannot be used by the Trading Grid stores.', $drupalPrefix));
    }
    return $drupalPrefix;
  }

  /**
   * The outbox.
   */
  public function outbox(): Outbox {
    return $this->make(Outbox::class);
  }

  /**
   * The inbox.
   */
  public function inbox(): Inbox {
    return $this->make(Inbox::class);
  }

  /**
   * The link table.
   */
  public function links(): LinkStore {
    return $this->make(LinkStore::class);
  }

  /**
   * The metrics table.
   */
  public function metrics(): MetricsStore {
    return $this->make(MetricsStore::class);
  }

  /**
   * Builds a store; copes with stores that take only unqualified prefixes.
   *
   * @template T of object
   * @param class-string<T> $class
   *   The store class.
   *
   * @return T
   *   The store.
   */
  private function make(string $class): object {
    $prefix = $this->prefix();
    try {
      return new $class($this->pdo(), $prefix);
    }
    catch (\InvalidArgumentException $e) {
      if (!str_ends_with($prefix, '.') || $this->database->databaseType() !== 'sqlite') {
        throw $e;
      }
    }
    // SQLite finds an unqualified table in main, temp, then the attached databases:
    // with the tables in the attached one only, the bare names reach them. Refuse when
    // main has them too, rather than write to the wrong site.
    $pdo = $this->pdo();
    $clash = $pdo->query("SELECT COUNT(*) FROM main.sqlite_master WHERE type = 'table' AND name LIKE 'trading\_grid\_%' ESCAPE '\'")->fetchColumn();
    if ((int) $clash > 0) {
      throw new \LogicException(sprintf('The Trading Grid tables exist both in the main SQLite database and in the prefixed one "%s"; the stores cannot tell them apart.', $prefix));
    }
    return new $class($pdo, '');
  }

}
