<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\trading_grid\Flow\Partner\NetworkUsers;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid_test\ScriptedNetwork;

/**
 * Reconcile compares the link table with what Trading Grid lists and repairs drift.
 *
 * @group trading_grid
 */
final class ReconcilerTest extends TradingGridKernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid_test'];

  /**
   * An account whose partner (and, when given, network user) Trading Grid confirmed.
   */
  private function synced(string $organisation, string $partnerId, ?string $userId = NULL): string {
    $account = $this->createPartner($organisation, ['field_tg_membership_status' => 'active', 'field_tg_trading_grid_id' => $partnerId]);
    $uid = (string) $account->id();
    $links = $this->container->get('trading_grid.link_store');
    $links->record('user', $uid, 'partner', LinkStore::SYNCED, $partnerId, NULL, 'partner.upsert');
    if ($userId !== NULL) {
      $links->record('user', $uid, NetworkUsers::FLOW, LinkStore::SYNCED, $userId, NULL, 'company_user.create');
    }
    // What the account's creation queued was sent.
    $outbox = $this->container->get('trading_grid.outbox');
    foreach ($outbox->list(['entityType' => 'user', 'entityId' => $uid], 100) as $row) {
      $outbox->discard((int) $row['id']);
    }
    return $uid;
  }

  /**
   * Missing partners are queued again, a changed partner id is taken over, partners
   * listed only there are reported; a dry run changes nothing.
   */
  public function testPartnersThatDriftedAreRepaired(): void {
    $kept = $this->synced('Acme Freight', 'GC1');
    $lost = $this->synced('Borealis Shipping', 'GC2');
    $moved = $this->synced('Cargo Co', 'GC3');
    $this->container->get('state')->set(ScriptedNetwork::PARTNERS, [
      ['externalId' => 'drupal-user-' . $kept, 'partnerId' => 'GC1'],
      ['externalId' => 'drupal-user-' . $moved, 'partnerId' => 'GC33'],
      ['externalId' => 'drupal-user-999', 'partnerId' => 'GC9'],
    ]);
    $reconciler = $this->container->get('trading_grid.reconciler');

    $dry = $reconciler->reconcile(FALSE);
    $this->assertSame(['drupal-user-' . $lost], $dry['missing']);
    $this->assertSame(0, $dry['requeued']);
    $this->assertSame([], $this->outboxOps('user', $lost), 'a dry run queues nothing');

    $report = $reconciler->reconcile();
    $this->assertSame(3, $report['remote']);
    $this->assertSame(['drupal-user-' . $lost], $report['missing']);
    $this->assertSame(['drupal-user-' . $moved], $report['mismatched']);
    $this->assertSame(['drupal-user-999'], $report['unknown']);
    $this->assertContains('partner.upsert', $this->outboxOps('user', $lost));
    $this->assertSame([], $this->outboxOps('user', $kept));
    $this->assertSame('GC33', $this->container->get('trading_grid.link_store')->get('user', $moved, 'partner')['remoteId']);
  }

  /**
   * A network user gone from its partner company is created again with its role; one
   * that signs in with another loginId now is reported, not undone.
   */
  public function testNetworkUsersThatDriftedAreRepairedOrReported(): void {
    $this->config('trading_grid.settings')->set('network_user_role', 'Partner User')->save();
    $gone = $this->synced('Acme Freight', 'GC1', 'GCUS1');
    $renamed = $this->synced('Borealis Shipping', 'GC2', 'GCUS2');
    $fine = $this->synced('Cargo Co', 'GC3', 'GCUS3');
    // Already active when network users were switched on: never got one.
    $before = $this->synced('Delta Docks', 'GC4');
    $state = $this->container->get('state');
    $state->set(ScriptedNetwork::PARTNERS, [
      ['externalId' => 'drupal-user-' . $gone, 'partnerId' => 'GC1'],
      ['externalId' => 'drupal-user-' . $renamed, 'partnerId' => 'GC2'],
      ['externalId' => 'drupal-user-' . $fine, 'partnerId' => 'GC3'],
      ['externalId' => 'drupal-user-' . $before, 'partnerId' => 'GC4'],
    ]);
    $mail = fn (string $uid): string => $this->container->get('entity_type.manager')->getStorage('user')->load($uid)->getEmail();
    $state->set(ScriptedNetwork::COMPANY_USERS, [
      'GC1' => [],
      'GC2' => [['userId' => 'GCUS2', 'loginId' => 'someone.new@borealis.example', 'email' => $mail($renamed)]],
      'GC3' => [['userId' => 'GCUS3', 'loginId' => strtoupper($mail($fine)), 'email' => $mail($fine)]],
    ]);

    $dry = $this->container->get('trading_grid.reconciler')->reconcile(FALSE);
    $this->assertSame(['drupal-user-' . $gone, 'drupal-user-' . $before], $dry['usersMissing']);
    $this->assertSame([], $this->outboxOps('user', $gone), 'a dry run queues nothing');

    $report = $this->container->get('trading_grid.reconciler')->reconcile();
    $this->assertSame(['drupal-user-' . $gone, 'drupal-user-' . $before], $report['usersMissing']);
    $this->assertSame(['drupal-user-' . $renamed . ' (someone.new@borealis.example)'], $report['usersRenamed']);
    $this->assertSame(4, $report['requeued']);
    foreach (['GC1' => $gone, 'GC4' => $before] as $company => $uid) {
      $this->assertSame(['company_user.create', 'company_user.roles'], $this->outboxOps('user', $uid));
      $create = $this->outboxRows('user', $uid, 'company_user.create')[0]['payload'];
      $this->assertSame($company, $create['companyId']);
      $this->assertSame($mail($uid), $create['user']['loginId']);
    }
    $this->assertNull($this->container->get('trading_grid.link_store')->get('user', $gone, 'network_user')['remoteId'], 'the vanished user\'s id is forgotten');
    $this->assertSame([], $this->outboxOps('user', $renamed));
    $this->assertSame([], $this->outboxOps('user', $fine));
  }

}
