<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\Core\Session\AccountInterface;
use Drupal\node\Entity\Node;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Access\Audience;
use Drupal\user\Entity\Role;
use Drupal\user\UserInterface;

/**
 * Listings cannot leak: the node access grants of trading issues and addressed
 * documents let an account's entity queries (what Views and search run) find
 * exactly the nodes it may open, and nothing of another organisation.
 *
 * @group trading_grid
 */
final class NodeGrantsTest extends TradingGridKernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected function setUp(): void {
    parent::setUp();
    Role::create(['id' => 'staff', 'label' => 'Staff'])
      ->grantPermission('administer trading grid')
      ->grantPermission('access content')
      ->save();
  }

  /**
   * A partner with the partner role.
   *
   * @param string[] $communities
   *   Community ids on the account.
   */
  private function member(string $organisation, string $type, array $communities, string $status = 'active'): UserInterface {
    return $this->createPartner($organisation, [
      'roles' => ['trading_partner'],
      'field_tg_partner_type' => $type,
      'field_tg_communities' => $communities,
      'field_tg_membership_status' => $status,
    ]);
  }

  /**
   * A published controlled document.
   *
   * @param array<string, mixed> $values
   *   Values overriding the defaults.
   */
  private function document(string $title, array $values = []): NodeInterface {
    $node = Node::create($values + [
      'type' => 'trading_grid_document',
      'title' => $title,
      'status' => 1,
      'field_tg_approved' => TRUE,
    ]);
    $node->save();
    return $node;
  }

  /**
   * The titles an account's access-checked entity query finds.
   *
   * @return string[]
   *   Titles, sorted.
   */
  private function listed(AccountInterface $account): array {
    $this->container->get('current_user')->setAccount($account);
    $ids = \Drupal::entityQuery('node')->accessCheck(TRUE)->execute();
    $titles = array_map(static fn (NodeInterface $node): string => (string) $node->label(), Node::loadMultiple($ids));
    sort($titles);
    return array_values($titles);
  }

  /**
   * The titles of the nodes an account may open (entity access).
   *
   * @param \Drupal\node\NodeInterface[] $nodes
   *   The nodes to try.
   *
   * @return string[]
   *   Titles, sorted.
   */
  private function openable(AccountInterface $account, array $nodes): array {
    $this->container->get('entity_type.manager')->getAccessControlHandler('node')->resetCache();
    $titles = [];
    foreach ($nodes as $node) {
      if (Node::load($node->id())->access('view', $account)) {
        $titles[] = (string) $node->label();
      }
    }
    sort($titles);
    return $titles;
  }

  /**
   * The {node_access} rows of a node.
   *
   * @return array<string, int[]>
   *   Realm => grant ids with grant_view set.
   */
  private function rows(NodeInterface $node): array {
    $rows = [];
    $result = $this->container->get('database')->select('node_access', 'na')
      ->fields('na', ['realm', 'gid'])
      ->condition('nid', $node->id())
      ->condition('grant_view', 1)
      ->execute();
    foreach ($result as $row) {
      $rows[$row->realm][] = (int) $row->gid;
    }
    ksort($rows);
    return $rows;
  }

  /**
   * The registry id of a name (which must have one).
   */
  private function id(string $name): int {
    $id = $this->container->get('trading_grid.organisation_registry')->find($name);
    $this->assertNotNull($id, "$name has an id");
    return $id;
  }

  /**
   * An issue is granted to its organisation by its registry id, and to staff.
   */
  public function testIssueGrantsUseTheOrganisationId(): void {
    $beta = $this->member('Beta Freight', 'supplier', ['retail']);
    $issue = $this->createIssue($beta);
    $this->assertSame([
      Audience::ORGANISATION => [$this->id('Beta Freight')],
      Audience::STAFF => [Audience::STAFF_GID],
    ], $this->rows($issue));

    $issue->setUnpublished()->save();
    $this->assertSame([Audience::STAFF => [Audience::STAFF_GID]], $this->rows($issue), 'an unpublished issue is for the staff only');

    $orphan = $this->createIssue($beta, ['field_tg_organisation' => '', 'title' => 'No organisation']);
    $this->assertSame([Audience::STAFF => [Audience::STAFF_GID]], $this->rows($orphan));

    $knowledge = Node::create(['type' => 'trading_grid_knowledge', 'title' => 'How to', 'status' => 1]);
    $knowledge->save();
    $this->assertSame(['all' => [0]], $this->rows($knowledge), 'other content keeps Drupal\'s default grant');
  }

  /**
   * hook_node_grants() gives an active member the ids of its keys, staff the
   * staff grant, and anybody else nothing.
   */
  public function testAccountsHoldTheIdsOfTheirKeys(): void {
    $alpha = $this->member('Alpha Logistics', 'carrier', ['logistics-eu']);
    $this->createIssue($alpha);
    $this->document('Carrier SOP', ['field_tg_partner_types' => ['carrier']]);
    $this->document('Alpha EU notice', ['field_tg_organisation' => 'Alpha Logistics', 'field_tg_communities' => ['logistics-eu']]);
    $this->document('Alpha handbook', ['field_tg_organisation' => 'Alpha Logistics']);
    $alphaId = $this->id('Alpha Logistics');

    $handler = $this->container->get('module_handler');
    $grants = static fn (AccountInterface $account, string $op = 'view'): array => $handler->invokeAll('node_grants', [$account, $op]);
    $this->assertEquals([
      Audience::COMMUNITY => [$this->id("org:$alphaId/community:logistics-eu")],
      Audience::MEMBER => [$alphaId],
      Audience::ORGANISATION => [$alphaId],
      Audience::PARTNER_TYPE => [$this->id('type:carrier')],
    ], $grants($alpha), 'names no node is addressed to have no id and give no grant');
    $this->assertSame([], $grants($alpha, 'update'), 'only viewing is granted');
    $this->assertSame([], $grants($this->member('Alpha Logistics', 'carrier', ['logistics-eu'], 'pending')));
    $this->assertSame([Audience::STAFF => [Audience::STAFF_GID]], $grants($this->createPartner('Head office', ['roles' => ['staff']])));

    // Without the permission to view its organisation's issues, a member holds
    // no issue grant (and its entity access agrees).
    $noIssues = $this->createPartner('Alpha Logistics', ['field_tg_membership_status' => 'active']);
    Role::create(['id' => 'reader', 'label' => 'Reader'])->grantPermission('access content')->save();
    $noIssues->addRole('reader');
    $noIssues->save();
    $this->assertArrayNotHasKey(Audience::ORGANISATION, $grants($noIssues));
    $this->assertSame(['Alpha EU notice', 'Alpha handbook', 'Carrier SOP'], $this->listed($noIssues));
    $this->assertSame(['Alpha EU notice', 'Alpha handbook', 'Carrier SOP'], $this->openable($noIssues, Node::loadMultiple()));
  }

  /**
   * Every account's listing holds exactly the nodes it may open.
   */
  public function testListingsHoldExactlyWhatEachAccountMayOpen(): void {
    $alpha = $this->member('Alpha Logistics', 'carrier', ['logistics-eu']);
    $beta = $this->member('Beta Freight', 'supplier', ['retail']);
    $betaCarrier = $this->member('Beta Freight', 'carrier', ['logistics-eu']);
    $pending = $this->member('Beta Freight', 'supplier', ['retail'], 'pending');
    $suspended = $this->member('Beta Freight', 'supplier', ['retail'], 'suspended');
    $staff = $this->createPartner('Head office', ['roles' => ['staff']]);

    $nodes = [
      $this->createIssue($alpha, ['title' => 'Alpha issue']),
      $this->createIssue($beta, ['title' => 'Beta issue']),
      $this->createIssue($beta, ['title' => 'Unowned issue', 'field_tg_organisation' => '']),
      $this->document('Public notice'),
      $this->document('Carrier SOP', ['field_tg_partner_types' => ['carrier']]),
      $this->document('Retail notice', ['field_tg_communities' => ['retail']]),
      $this->document('Beta handbook', ['field_tg_organisation' => 'Beta Freight']),
      $this->document('Beta supplier terms', ['field_tg_organisation' => 'Beta Freight', 'field_tg_partner_types' => ['supplier']]),
      $this->document('Beta retail rates', ['field_tg_organisation' => 'Beta Freight', 'field_tg_communities' => ['retail']]),
      $this->document('Draft carrier SOP', ['field_tg_partner_types' => ['carrier'], 'status' => 0]),
    ];
    $knowledge = Node::create(['type' => 'trading_grid_knowledge', 'title' => 'Knowledge', 'status' => 1]);
    $knowledge->save();
    $nodes[] = $knowledge;

    $expected = [
      'alpha' => [$alpha, ['Alpha issue', 'Carrier SOP', 'Knowledge', 'Public notice']],
      'beta' => [$beta, ['Beta handbook', 'Beta issue', 'Beta retail rates', 'Beta supplier terms', 'Knowledge', 'Public notice', 'Retail notice']],
      'beta carrier' => [$betaCarrier, ['Beta handbook', 'Beta issue', 'Carrier SOP', 'Knowledge', 'Public notice']],
      'pending' => [$pending, ['Knowledge', 'Public notice']],
      'suspended' => [$suspended, ['Knowledge', 'Public notice']],
      'staff' => [$staff, [
        'Alpha issue', 'Beta handbook', 'Beta issue', 'Beta retail rates', 'Beta supplier terms', 'Carrier SOP',
        'Draft carrier SOP', 'Knowledge', 'Public notice', 'Retail notice', 'Unowned issue',
      ]],
    ];
    foreach ($expected as $who => [$account, $titles]) {
      $this->assertSame($titles, $this->listed($account), "$who: listing");
      $this->assertSame($titles, $this->openable($account, $nodes), "$who: entity access");
    }
  }

  /**
   * A partner cannot spell another organisation's scoped key on its account.
   */
  public function testACommunityNamedLikeAScopedKeyReachesNothing(): void {
    $beta = $this->member('Beta Freight', 'supplier', ['retail']);
    $this->document('Beta retail rates', ['field_tg_organisation' => 'Beta Freight', 'field_tg_communities' => ['retail']]);
    $betaId = $this->id('Beta Freight');
    $this->id("org:$betaId/community:retail");
    $forger = $this->member('Alpha Logistics', 'carrier', [
      "org:$betaId/community:retail",
      "retail@org:$betaId",
      'Beta Freight',
    ]);
    $this->assertSame(['Beta retail rates'], $this->listed($beta));
    $this->assertSame([], $this->listed($forger));
  }

  /**
   * A membership or audience change applies at once, with no rebuild.
   */
  public function testChangesApplyWithoutARebuild(): void {
    $beta = $this->member('Beta Freight', 'supplier', ['retail']);
    $alpha = $this->member('Alpha Logistics', 'carrier', ['logistics-eu']);
    $handbook = $this->document('Handbook', ['field_tg_organisation' => 'Beta Freight']);
    $this->createIssue($beta, ['title' => 'Beta issue']);
    $this->assertSame(['Beta issue', 'Handbook'], $this->listed($beta));

    $beta->set('field_tg_membership_status', 'suspended')->save();
    $this->assertSame([], $this->listed($beta));
    $beta->set('field_tg_membership_status', 'active')->save();
    $this->assertSame(['Beta issue', 'Handbook'], $this->listed($beta));

    $handbook->set('field_tg_organisation', 'Alpha Logistics')->save();
    $this->assertSame(['Beta issue'], $this->listed($beta));
    $this->assertSame(['Handbook'], $this->listed($alpha));
  }

  /**
   * Content saved before the grants existed gets them from the rebuild.
   */
  public function testRebuildGivesExistingContentItsGrants(): void {
    $alpha = $this->member('Alpha Logistics', 'carrier', ['logistics-eu']);
    $beta = $this->member('Beta Freight', 'supplier', ['retail']);
    $issue = $this->createIssue($beta, ['title' => 'Beta issue']);
    $this->container->get('database')->truncate('node_access')->execute();
    $this->assertSame([], $this->listed($beta));

    node_access_rebuild();
    $this->assertFalse((bool) node_access_needs_rebuild());
    $this->assertSame(['Beta issue'], $this->listed($beta));
    $this->assertSame([], $this->listed($alpha));
    $this->assertArrayHasKey(Audience::ORGANISATION, $this->rows($issue));
  }

  /**
   * The update creates the registry table where it is missing and asks for a
   * content access rebuild.
   */
  public function testUpdateCreatesTheTableAndAsksForARebuild(): void {
    $schema = $this->container->get('database')->schema();
    $schema->dropTable('trading_grid_organisation');
    node_access_needs_rebuild(FALSE);
    $this->container->get('module_handler')->loadInclude('trading_grid', 'install');

    $message = trading_grid_update_10001();
    $this->assertTrue($schema->tableExists('trading_grid_organisation'));
    $this->assertStringContainsString('Created the trading_grid_organisation table', $message);
    $this->assertTrue((bool) node_access_needs_rebuild());
    $registry = $this->container->get('trading_grid.organisation_registry');
    $this->assertSame($registry->idFor('Alpha Logistics'), $registry->find('Alpha Logistics'));

    // Run again (the table is there): only the rebuild is asked for.
    $this->assertStringNotContainsString('Created', trading_grid_update_10001());
  }

  /**
   * Before the update ran (no registry table), no partner grant is given and a
   * restricted node's records are the staff grant only: nothing opens wider.
   */
  public function testWithoutTheTableNothingOpensWider(): void {
    $beta = $this->member('Beta Freight', 'supplier', ['retail']);
    $issue = $this->createIssue($beta, ['title' => 'Beta issue']);
    $this->container->get('database')->schema()->dropTable('trading_grid_organisation');
    $langcode = $issue->language()->getId();
    $this->assertSame([[
      'realm' => Audience::STAFF,
      'gid' => Audience::STAFF_GID,
      'grant_view' => 1,
      'grant_update' => 0,
      'grant_delete' => 0,
      'langcode' => $langcode,
    ]], $this->container->get('trading_grid.node_grants')->records($issue));
    $this->assertSame([], $this->container->get('module_handler')->invokeAll('node_grants', [$beta, 'view']));
    $this->assertSame([], $this->listed($beta));
  }

}
