<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\KernelTests\KernelTestBase;
use Drupal\node\Entity\Node;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Store\Schema;
use Drupal\user\Entity\User;
use Drupal\user\UserInterface;

/**
 * The module installed on a real database, with its content types and tables.
 */
abstract class TradingGridKernelTestBase extends KernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = [
    'system',
    'user',
    'field',
    // Node depends on text (and text on filter): installConfig('node') creates
    // node's body field storage (field.storage.node.body, text_with_summary),
    // which fails with an unknown field type and no schema without them.
    'filter',
    'text',
    'file',
    'node',
    'options',
    'datetime',
    'taxonomy',
    'trading_grid',
  ];

  /**
   * How many partner accounts this test made (their names are unique).
   */
  private int $partners = 0;

  /**
   * {@inheritdoc}
   */
  protected function setUp(): void {
    parent::setUp();
    $this->installEntitySchema('user');
    $this->installEntitySchema('node');
    $this->installEntitySchema('file');
    $this->installEntitySchema('taxonomy_term');
    $this->installSchema('node', ['node_access']);
    $this->installSchema('file', ['file_usage']);
    $this->installSchema('user', ['users_data']);
    $this->installSchema('trading_grid', Schema::TABLES);
    $this->installConfig(['system', 'field', 'file', 'node', 'user', 'trading_grid']);
    // Notices are recorded for the next page; no mail leaves a test.
    $this->config('trading_grid.settings')->set('notify_by_mail', FALSE)->save();
    // Uid 1 is not a partner; the partners made by the tests come after it.
    User::create(['name' => 'admin', 'mail' => 'admin@example.com', 'status' => 1])->save();
  }

  /**
   * A partner account of an organisation.
   *
   * @param array<string, mixed> $values
   *   Values overriding the defaults.
   */
  protected function createPartner(string $organisation, array $values = []): UserInterface {
    // A counter, not a random suffix: user names are unique in the database
    // (users_field_data), and tests make several partners of one organisation.
    $name = (trim(strtolower(preg_replace('/\W+/', '-', $organisation)), '-') ?: 'partner') . '-' . ++$this->partners;
    $user = User::create($values + [
      'name' => $name,
      'mail' => $name . '@example.com',
      'status' => 1,
      'field_tg_organisation' => $organisation,
      'field_tg_partner_type' => 'carrier',
      'field_tg_country' => 'DE',
      'field_tg_communities' => ['logistics-eu'],
    ]);
    $user->save();
    return $user;
  }

  /**
   * A trading issue of an organisation.
   *
   * @param array<string, mixed> $values
   *   Values overriding the defaults.
   */
  protected function createIssue(UserInterface $owner, array $values = []): NodeInterface {
    $node = Node::create($values + [
      'type' => 'trading_grid_issue',
      'title' => 'Short payment on INV-88',
      'uid' => $owner->id(),
      'status' => 1,
      'field_tg_issue_type' => 'invoice_dispute',
      'field_tg_priority' => 'urgent',
      'field_tg_issue_status' => 'open',
      'field_tg_invoice_number' => 'INV-88',
      'field_tg_description' => 'Invoice INV-88 was paid 10% short.',
      'field_tg_organisation' => $owner->get('field_tg_organisation')->value,
    ]);
    $node->save();
    return $node;
  }

  /**
   * The outbox rows of an entity, oldest first.
   *
   * @return list<array<string, mixed>>
   *   Rows as Outbox::list() gives them.
   */
  protected function outboxRows(string $entityType, string $entityId, ?string $op = NULL): array {
    $filter = ['entityType' => $entityType, 'entityId' => $entityId];
    if ($op !== NULL) {
      $filter['op'] = $op;
    }
    return $this->container->get('trading_grid.outbox')->list($filter, 100);
  }

  /**
   * The ops of an entity's outbox rows, oldest first.
   *
   * @return string[]
   *   Op names.
   */
  protected function outboxOps(string $entityType, string $entityId): array {
    return array_column($this->outboxRows($entityType, $entityId), 'op');
  }

}
