<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Sync;

use Drupal\Core\Database\Connection;
use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\MetricsStore;
use Drupal\trading_grid\Store\OrganisationRegistry;
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
   * attached database and gives the prefix as "schema."; the stores accept such a
   * schema-qualified prefix as long as each part is a plain identifier.
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
   * The organisation ids (node access grant ids).
   */
  public function organisations(): OrganisationRegistry {
    return $this->make(OrganisationRegistry::class);
  }

  /**
   * Builds a store on the site's PDO and prefix.
   *
   * @template T of object
   * @param class-string<T> $class
   *   The store class.
   *
   * @return T
   *   The store.
   */
  private function make(string $class): object {
    return new $class($this->pdo(), $this->prefix());
  }

}
